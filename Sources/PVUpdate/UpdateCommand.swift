import ArgumentParser
import Dispatch
import PVCLI
import PVCore
import PVLifecycle
import PVProbes
import PVRegistry
#if canImport(Glibc)
import Glibc
#endif

/// `pv_update [component]`: what "Push Update" runs (through pv_update.py).
public struct UpdateCommand: ParsableCommand {
    public static let configuration = CommandConfiguration(
        commandName: "pv_update",
        abstract: "Update the components to the newest version in the registry, safely.",
        discussion: """
            For each component: find the newest version in the registry (semantic-version order;
            tags that are not versions are ignored; pre-releases only with --pre; versions that failed
            before only with --force), download it while the running version keeps serving, then swap,
            verify, and keep it, or restore the last verified version and record the failure.
            An update interrupted by a crash is finished or undone by the next pv_update or start.
            SIGTERM, SIGINT or SIGHUP stop it at a safe point: a download is cut (nothing changed), a
            component being swapped is verified, then kept or rolled back, and the rest are left as
            they are; the tool says so and exits 128 + the signal number (a second signal ends it at
            once; the next run recovers). Only one update runs at a time.
            --check changes nothing, so it takes no lock (unless an interrupted update must be finished
            first): it asks the registry about every component at once, and ends within --timeout
            (default 30 s) even when the registry never answers.
            Exit status: 0 every component up to date or updated, 1 an update failed verification and
            was rolled back, 65 bad version, 66 version not in the registry, 69 Docker or the registry
            unavailable, 75 another update is running, 78 bad configuration, 129/130/143 stopped by
            SIGHUP/SIGINT/SIGTERM at a safe point.
            """)

    @Argument(help: "dns, dhcp, monitoring or all.")
    public var component: String = "all"

    @Option(name: [.short, .long], help: "Update to this version (needs one component).")
    public var version: String?

    @Flag(name: .long, help: "Only report what would change (no lock; every component at once; within --timeout).")
    public var check = false

    @Option(name: .long, help: ArgumentHelp("With --check: the bound on the whole check, in seconds.", valueName: "SECONDS"))
    public var timeout: Double = 30

    @Flag(name: .long, help: "Also consider versions that failed verification before.")
    public var force = false

    @Flag(name: .long, help: "Also consider pre-release versions (1.3.0-rc.1).")
    public var pre = false

    @OptionGroup public var rootOptions: RootOptions

    public init() {}

    public func run() throws {
        do { try execute() } catch let failed as UpdateFailed {
            throw ExitCode(failed.code.rawValue)  // each failure was already printed
        } catch let error as PVError {
            throw ErrorReporting.exit(error)
        }
    }

    struct UpdateFailed: Error { var code: ExitStatus }

    public func validate() throws {
        guard timeout >= 1, timeout <= 600 else { throw ValidationError("--timeout must be 1 to 600 seconds") }
    }

    func execute() throws {
        let components: [Component] = component == "all" ? Component.allCases : [try parseComponent(component)]
        var requested: Version? = nil
        if let version {
            guard components.count == 1 else { throw PVError(.usage, "-v/--version needs one component", hint: "for example: pv_update dns -v \(version)") }
            requested = try Version.parse(version)
        }
        let root = rootOptions.resolve()
        let context = try LifecycleContext.live(root: root, readiness: LiveReadinessProbe())
        // A check changes nothing and takes no lock, unless an interrupted update must first be
        // finished or undone (that changes the components: under the lock, as always).
        let interrupted = components.contains { FileIO.exists(UpdateJournal.path(root: root, component: $0)) }
        if check && !interrupted { return try checkAll(components, requested: requested, context: context) }
        let lock = try UpdateLock(root: root, purpose: "pv_update \(component)")
        defer { withExtendedLifetime(lock) {} }
        Interruption.handleSignals()
        let updater = ComponentUpdate(context: context, registry: RegistryClient(registry: context.config.registry),
                                      verify: { ComponentVerification(context: context).check($0) },
                                      afterJournalWrite: CrashInjection.fromEnvironment())
        var failures: [PVError] = []
        for (i, c) in components.enumerated() {
            if let signal = Interruption.signal {
                let rest = components[i...].map(\.rawValue).joined(separator: ", ")
                Output.error("Error: interrupted by \(Interruption.name(signal)): stopped at a safe point; not updated: \(rest) (left as they were)")
                throw UpdateFailed(code: ExitStatus(rawValue: 128 + signal))
            }
            do {
                if let recovered = try updater.recover(c) { Output.line(recovered) }
                let options = ComponentUpdate.Options(requested: requested, checkOnly: check, force: force, prereleases: pre)
                switch try updater.update(c, options: options) {
                case .upToDate(let v):
                    Output.line("\(c.rawValue): \(v.map { "\($0) is" } ?? "nothing is running, and nothing newer is") up to date; left untouched")
                case .wouldUpdate(let from, let to, let digest):
                    Output.line("\(c.rawValue): would update \(from?.description ?? "(not running)") -> \(to) (\(digest))")
                case .updated(let from, let to):
                    Output.line("\(c.rawValue): updated \(from?.description ?? "(not running)") -> \(to), verified")
                }
            } catch {
                Output.error("Error: \(error)")
                if error.isInterruption { throw UpdateFailed(code: error.code) }
                failures.append(error)
            }
        }
        if let signal = Interruption.signal {
            Output.error("Error: interrupted by \(Interruption.name(signal)) after the last component had been finished")
            throw UpdateFailed(code: ExitStatus(rawValue: 128 + signal))
        }
        guard let first = failures.first else { return }
        if components.count > 1 { Output.error("\(failures.count) of \(components.count) components failed to update") }
        throw UpdateFailed(code: first.code)
    }
}

extension UpdateCommand {
    /// `--check`: nothing changes, so no lock and no recovery; each component is asked on its own
    /// thread, and each registry request is bounded so that the tags and the digest (two requests
    /// one after the other) fit in `timeout` together.
    func checkAll(_ components: [Component], requested: Version?, context: LifecycleContext) throws {
        let perRequest = max(0.5, timeout / 2 - 0.25)
        let registry = RegistryClient(registry: context.config.registry, connectTimeout: min(3, perRequest), totalTimeout: perRequest)
        // (verify is never called with checkOnly.)
        let updater = ComponentUpdate(context: context, registry: registry, verify: { ComponentVerification(context: context).check($0) })
        let options = ComponentUpdate.Options(requested: requested, checkOnly: true, force: force, prereleases: pre)
        let results = CheckResults(count: components.count)
        DispatchQueue.concurrentPerform(iterations: components.count) { i in
            let outcome: Result<ComponentUpdate.Outcome, PVError>
            do throws(PVError) { outcome = .success(try updater.update(components[i], options: options)) } catch { outcome = .failure(error) }
            results.set(i, outcome)
        }
        var failures: [PVError] = []
        for (c, outcome) in zip(components, results.all) {
            switch outcome {
            case .success(.upToDate(let v)):
                Output.line("\(c.rawValue): \(v.map { "\($0) is" } ?? "nothing is running, and nothing newer is") up to date")
            case .success(.wouldUpdate(let from, let to, let digest)):
                Output.line("\(c.rawValue): would update \(from?.description ?? "(not running)") -> \(to) (\(digest))")
            case .success(.updated):
                break  // not with checkOnly
            case .failure(let error):
                Output.error("Error: \(c.rawValue): \(error)")
                failures.append(error)
            case nil:
                break
            }
        }
        guard let first = failures.first else { return }
        throw UpdateFailed(code: first.code)
    }
}

/// One slot per component, filled from the checking threads.
final class CheckResults: @unchecked Sendable {
    private var slots: [Result<ComponentUpdate.Outcome, PVError>?]
    private let queue = DispatchQueue(label: "pv_update.check")
    init(count: Int) { slots = Array(repeating: nil, count: count) }
    func set(_ i: Int, _ r: Result<ComponentUpdate.Outcome, PVError>) { queue.sync { slots[i] = r } }
    var all: [Result<ComponentUpdate.Outcome, PVError>?] { queue.sync { slots } }
}

/// Fault injection for the crash-safety tests: `PV_UPDATE_CRASH_AT=<step>`
/// makes the updater kill itself with SIGKILL right after writing that step
/// to the journal, exactly as a power cut or an OOM kill would. Debug builds
/// only (the tests run those): the shipped pv_update has no such switch.
enum CrashInjection {
    static func fromEnvironment() -> @Sendable (UpdateJournal.Step) -> Void {
        #if DEBUG
        guard let at = ProcessEnvironmentBlock.current["PV_UPDATE_CRASH_AT"], let step = UpdateJournal.Step(rawValue: at) else {
            return { _ in }
        }
        return { if $0 == step { kill(getpid(), SIGKILL) } }
        #else
        return { _ in }
        #endif
    }
}
