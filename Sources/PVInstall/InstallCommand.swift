import ArgumentParser
import PVArchive
import PVCLI
import PVCore
#if canImport(Glibc)
import Glibc
#endif

/// `pv_install`: the whole setup of a managed server as named steps.
public struct InstallCommand: ParsableCommand {
    public static let configuration = CommandConfiguration(
        commandName: "pv_install",
        abstract: "Install or reinstall the ProVision agent and its components on this server.",
        discussion: "Steps, in order:\n" + Steps.all.enumerated().map { "  \(String($0.offset + 1).padding(3)) \($0.element.name.padding(17)) \($0.element.summary)" }.joined(separator: "\n")
            + """


            -e/--exec-only STEP[,STEP] runs only those steps (for debugging one step).
            With --root other than /provision the install is a sandbox: system files (units, sudoers)
            go under <root>/system, users and the network link are checked, never created.
            Without root, the root-only parts are checked and each missing one is listed with the
            bundle script that does it. Each step's log is <root>/logs/install/<step>.log.
            SIGTERM, SIGINT or SIGHUP stop the install at a safe point: a download is cut, a component
            being swapped is finished, and no further step starts; rerunning the install goes on.
            Exit status: 0 installed (the entry script then prints PVOK); otherwise the failed step's
            code (129/130/143: stopped by SIGHUP/SIGINT/SIGTERM).
            """)

    @Option(name: [.short, .customLong("exec-only")], help: "Run only these steps (comma-separated).")
    public var execOnly: String?

    @Option(name: .long, help: "The extracted bundle (default: the directory above this tool's bin/).")
    public var bundle: String?

    @Option(name: .long, help: "Extract and check this setup-<ID>.tar first, then install from it.")
    public var fromArchive: String?

    @Option(name: .long, help: ArgumentHelp("Trust bundles signed by this Ed25519 public key (PEM), and pin it in /etc/provision (a sandbox: <root>/system/etc/provision).", valueName: "FILE"))
    public var trustKey: String?

    @Option(name: .long, help: "The agent's system user (default: provision; in a sandbox, the current user).")
    public var user: String?

    @Flag(name: .long, help: "One JSON object per line per step event (for the management application's progress popup).")
    public var json = false

    @Flag(name: .long, help: "Only unpack and check the bundle's tools into its bin/, then exit (install_python3.sh --prepare-only).")
    public var prepareOnly = false

    @OptionGroup public var rootOptions: RootOptions

    public init() {}

    public func run() throws {
        do { try execute() } catch { throw ErrorReporting.exit(error) }
    }

    func execute() throws(PVError) {
        let root = rootOptions.resolve()
        let steps = try selectedSteps()
        let trust = try BundleTrust(root: root, isRoot: geteuid() == 0, trustKey: trustKey)
        let bundleDir = try resolveBundle(root: root, trust: trust)
        let unpacked = try BundleTools.prepare(bundle: bundleDir)
        if prepareOnly {
            Output.line(unpacked > 0 ? "unpacked \(unpacked) tools into \(bundleDir)/bin, each checked against \(BundleTools.manifestName)"
                                     : "\(bundleDir)/bin already holds the bundle's tools")
            return
        }
        let sandbox = root.path != InstallRoot.defaultPath
        let isRoot = geteuid() == 0
        let userName = user ?? (sandbox ? currentUser() : "provision")
        if !isRoot && execOnly == nil {
            try RootOnlyChecks(root: root, user: userName, bundle: bundleDir, systemPrefix: sandbox ? root.join("system") : "").requireDone()
        }
        // No update, start or stop may swap components under the install.
        try? FileIO.makeDirectories(root.join("state"))
        let lock = try UpdateLock(root: root, purpose: "pv_install")
        defer { withExtendedLifetime(lock) {} }
        Interruption.handleSignals()
        let reporter = ProgressReporter(json: json, total: Steps.all.count)
        let logDir = root.join("logs", "install")
        for step in steps {
            // Between steps is a safe point: every step is rerunnable on its own.
            try Interruption.checkpoint("stopped before step \(step.name); the steps before it are done")
            let index = Steps.all.firstIndex { $0.name == step.name }! + 1
            let log = StepLog(directory: logDir, step: step.name)
            let context = InstallContext(bundle: bundleDir, root: root, sandbox: sandbox, isRoot: isRoot, user: userName,
                                         runner: SystemProcessRunner(), log: { [reporter] line in
                                             log.write(line)
                                             reporter.detail(step.name, line)
                                         })
            reporter.begin(index, step.name)
            let started = Monotonic.nanoseconds()
            do {
                let detail = try step.run(context)
                log.write("ok: \(detail)")
                reporter.end(index, step.name, ok: true, seconds: Monotonic.milliseconds(since: started) / 1000, detail: detail)
            } catch {
                log.write("FAILED: \(error)")
                reporter.end(index, step.name, ok: false, seconds: Monotonic.milliseconds(since: started) / 1000, detail: error.message)
                var rerun = "pv_install -e \(step.name)"
                if root.path != InstallRoot.defaultPath { rerun += " --root \(root.path)" }
                if bundle != nil || fromArchive != nil { rerun += " --bundle \(bundleDir)" }
                throw PVError(error.code, "install failed at step \(step.name): \(error.message)",
                              hint: "\(error.hint.map { $0 + "; " } ?? "")read \(log.path), then rerun only this step: \(rerun)",
                              cause: error.cause)
            }
        }
        try Interruption.checkpoint("the last step was finished first; the install is complete")
    }

    func selectedSteps() throws(PVError) -> [InstallStep] {
        guard let execOnly else { return Steps.all }
        var chosen: [InstallStep] = []
        for name in execOnly.split(separator: ",").map({ String($0).trimmingWhitespace() }) where !name.isEmpty {
            guard let step = Steps.named(name) else {
                throw PVError(.usage, "unknown step '\(name.prefix(40))'", hint: "steps: \(Steps.all.map(\.name).joined(separator: ", "))")
            }
            chosen.append(step)
        }
        guard !chosen.isEmpty else { throw PVError(.usage, "--exec-only needs at least one step") }
        // Keep the install's order whatever order they were given in.
        return Steps.all.filter { s in chosen.contains { $0.name == s.name } }
    }

    /// The bundle's directory, its manifest and signature checked (an archive: before its files
    /// move into place), and the --trust-key key pinned once the signature verifies.
    func resolveBundle(root: InstallRoot, trust: BundleTrust) throws(PVError) -> String {
        var verdict: BundleTrust.Verdict? = nil
        let dir: String
        if let fromArchive {
            dir = try BundleArchive.extractAndCheck(fromArchive, into: root.join("bundle")) { (incoming) throws(PVError) in
                verdict = try trust.check(bundle: incoming)
            }
        } else {
            dir = try checkedBundleDirectory()
            if FileIO.exists(dir + "/" + Manifest.fileName) { verdict = try trust.check(bundle: dir) }
        }
        let say: (String) -> Void = json ? { Output.error($0) } : { Output.line($0) }
        switch verdict {
        case .verified(let fingerprint)?:
            say("bundle: signature verified (Ed25519 key \(fingerprint))")
            if let pinned = try trust.pinGivenKey() { say("bundle: " + pinned) }
        case .unverified(let reason)?:
            say("warning: the bundle is unverified: \(reason); to pin a key, install with --trust-key FILE")
        case nil:
            break  // a development tree without a manifest (swift build output)
        }
        return dir
    }

    func checkedBundleDirectory() throws(PVError) -> String {
        let dir = bundle ?? FileIO.directoryName(FileIO.directoryName(Self.executablePath()))
        if FileIO.exists(dir + "/" + Manifest.fileName) {
            // Every file must be listed (sha256sum -c in the entry script ignores extra ones): an
            // unlisted file is refused, naming it, so nothing unlisted can reach <root>/libs.
            // The tools unpacked from lib/tools.tar.xz are listed in TOOLS.SHA256SUMS instead.
            let unpacked = Set(BundleTools.listedTools(bundle: dir))
            try BundleArchive.checkManifest(directory: dir, files: BundleArchive.allFiles(dir).filter { !unpacked.contains($0) })
        } else if bundle != nil {
            throw PVError(.dataError, "\(dir) has no \(Manifest.fileName)", hint: "pass the directory setup-<ID>.tar was extracted into")
        }
        return dir
    }

    static func executablePath() -> String {
        var buf = [CChar](repeating: 0, count: 4096)
        let n = readlink("/proc/self/exe", &buf, buf.count - 1)
        return n > 0 ? String(decoding: buf[0..<n].map { UInt8(bitPattern: $0) }, as: UTF8.self) : "."
    }

    func currentUser() -> String {
        getpwuid(geteuid()).map { String(cString: $0.pointee.pw_name) } ?? "root"
    }
}
