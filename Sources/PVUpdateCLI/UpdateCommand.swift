import ArgumentParser
import PVCLI
import PVCore
import PVRegistry
import PVHTTP
import PVComponents
import PVVerification
import PVState
#if canImport(Glibc)
import Glibc
#endif

/// `pv_update [component]`: what "Push Update" runs (through pv_update.py).
public struct UpdateCommand: ParsableCommand {
    public static let configuration = CommandConfiguration(
        commandName: "pv_update",
        abstract: "Update the components to the newest version in the registry, safely.",
        usage: """
            pv_update [<component>] [--version <version>] [--check]
                      [--timeout <SECONDS>] [--force] [--pre] [--root <DIR>]
            """,
        discussion: """
            For each component: find the newest version in the registry, in semantic-version order. Tags that are not versions are ignored, pre-releases are considered only with --pre, and versions that failed before only with --force. Download it while the running version keeps serving, then swap, verify, and keep it, or restore the last verified version and record the failure.

            An update interrupted by a crash is finished or undone by the next pv_update or start. Only one update runs at a time.

            SIGTERM, SIGINT or SIGHUP stop it at a safe point: a download is cut (nothing changed), a component being swapped is verified, then kept or rolled back, and the rest are left as they are. The tool says so and exits 128 + the signal number. A second signal ends it at once; the next run recovers.

            --check changes nothing, so it takes no lock (unless an interrupted update must be finished first). It asks the registry about every component at once, and ends within --timeout (default 30 s) even when the registry never answers.

            Exit status:
              0        every component up to date or updated
              1        an update failed verification and was rolled back
              65       bad version
              66       version not in the registry
              69       Docker or the registry unavailable
              75       another update is running
              78       bad configuration
              129/130/143  stopped by SIGHUP/SIGINT/SIGTERM at a safe point
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

    @Flag(name: .long, help: "One JSON object a line for the Push Update popup: the same events as pv_install --json, ending with the result.")
    public var json = false

    @OptionGroup public var rootOptions: RootOptions

    public init() {}

    public func validate() throws {
        guard timeout >= 1, timeout <= 600 else { throw ValidationError("--timeout must be 1 to 600 seconds") }
    }

    public func run() throws {
        let status: ExitStatus
        do { status = try execute(in: .live(root: rootOptions.resolve(), http: LiveHTTPTransport(userAgent: "pv_update"))) } catch { throw ErrorReporting.exit(error) }
        if status != .ok { throw ExitCode(status.rawValue) }  // each failure was already printed
    }

    func execute(in environment: AgentEnvironment) throws(PVError) -> ExitStatus {
        let output = environment.output
        let named: Component? = component == "all" ? nil : try Component.parse(component)
        var requested: Version? = nil
        if let version {
            guard named != nil else { throw PVError(.usage, "-v/--version needs one component", hint: "for example: pv_update dns -v \(version)") }
            requested = try Version.parse(version)
        }
        let root = environment.root
        var live = try ComponentContext.live(environment, readiness: LiveReadinessProbe())
        let feed = json ? UpdateFeed(output: output, clock: environment.clock) : nil
        if let feed { live.progress = feed.progress }
        let context = live
        // `all` is what this server runs; a component it does not run is refused by name.
        if let named { try context.config.requireEnabled(named) }
        let components = named.map { [$0] } ?? context.config.enabledComponents
        let options = ComponentUpdate.Options(requested: requested, checkOnly: check, force: force, prereleases: pre)
        // A check changes nothing and takes no lock, unless an interrupted update must first be
        // finished or undone (that changes the components: under the lock, as always).
        let interrupted = components.contains { FileIO.exists(UpdateJournal.path(root: root, component: $0)) }
        if check && !interrupted {
            // Each registry request is bounded so that the tags and the digest (two requests one
            // after the other) fit in --timeout together.
            let perRequest = max(0.5, timeout / 2 - 0.25)
            let client = RegistryClient.forServer(context.config, environment: environment, connectTimeout: min(3, perRequest), totalTimeout: perRequest)
            let updater = ComponentUpdate(context: context, registry: LiveRegistryCatalog(client: client, config: context.config),
                                          verify: { _ in fatalError("a check verifies nothing") })
            var status = ExitStatus.ok
            for (i, (c, result)) in UpdateRun(components: components, options: options, updater: updater).check().enumerated() {
                feed?.handle(.began(c, index: i + 1, total: components.count), line: { _, _ in "" })
                switch result {
                case .success(let outcome):
                    if let feed { feed.finish(c, ok: true, detail: Self.line(c, outcome, checking: true)) } else { output.line(Self.line(c, outcome, checking: true)) }
                case .failure(let error):
                    feed?.finish(c, ok: false, detail: error.message)
                    output.error("Error: \(c.rawValue): \(error)")
                    if status == .ok { status = error.code }
                }
            }
            feed?.emit(.result(ok: status == .ok, exitStatus: status.rawValue, detail: status == .ok ? "checked" : "a check failed"))
            return status
        }
        let lock = try UpdateLock(root: root, purpose: "pv_update \(component)")
        defer { withExtendedLifetime(lock) {} }
        environment.handleSignals()
        let registry = LiveRegistryCatalog(config: context.config, environment: environment)
        var updater = ComponentUpdate(context: context, registry: registry,
                                      verify: { ComponentVerification(context: context).check($0) },
                                      afterJournalWrite: CrashInjection.fromEnvironment())
        updater.verifyDNSAt = { ComponentVerification(context: context).dns(at: $0) }
        var failures = 0
        var lastError: String? = nil
        let status = UpdateRun(components: components, options: options, updater: updater).run { event in
            feed?.handle(event) { Self.line($0, $1, checking: false) }
            switch event {
            case .began: break
            case .recovered(_, let text): if feed == nil { output.line(text) }
            case .outcome(let c, let outcome): if feed == nil { output.line(Self.line(c, outcome, checking: false)) }
            case .failed(_, let error):
                lastError = error.message
                output.error("Error: \(error)")
                failures += 1
            case .interrupted(let signal, let rest):
                output.error("Error: interrupted by \(Interruption.name(signal)): stopped at a safe point; not updated: \(rest.map(\.rawValue).joined(separator: ", ")) (left as they were)")
            case .interruptedAfterTheLast(let signal):
                output.error("Error: interrupted by \(Interruption.name(signal)) after the last component had been finished")
            }
        }
        if failures > 0 && components.count > 1 && status.rawValue <= 128 {
            output.error("\(failures) of \(components.count) components failed to update")
        }
        let stoppedBy = status.rawValue > 128 ? "interrupted by \(Interruption.name(status.rawValue - 128)) at a safe point" : nil
        feed?.emit(.result(ok: status == .ok, exitStatus: status.rawValue,
                           detail: stoppedBy ?? (failures == 0 ? "updated" : "\(failures) of \(components.count) failed: \(lastError ?? "")")))
        return status
    }

    static func line(_ c: Component, _ outcome: ComponentUpdate.Outcome, checking: Bool) -> String {
        switch outcome {
        case .upToDate(let v):
            return "\(c.rawValue): \(v.map { "\($0) is" } ?? "nothing is running, and nothing newer is") up to date\(checking ? "" : "; left untouched")"
        case .wouldUpdate(let from, let to, let digest):
            return "\(c.rawValue): would update \(from?.description ?? "(not running)") -> \(to) (\(digest))"
        case .updated(let from, let to):
            return "\(c.rawValue): updated \(from?.description ?? "(not running)") -> \(to), verified"
        }
    }
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
