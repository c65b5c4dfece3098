import PVArchive
import PVCore
import PVState
#if canImport(Glibc)
import Glibc
#endif

/// What an install reports as it goes; the text and --json renderers consume it.
public enum InstallEvent: Sendable {
    /// About the bundle itself: its signature, the key pinned, or a warning that it is unverified.
    case bundle(String)
    /// --prepare-only's one line.
    case prepared(String)
    case stepStarted(index: Int, total: Int, step: String)
    case stepProgress(step: String, ProgressEvent)
    case stepFinished(index: Int, total: Int, step: String, ok: Bool, seconds: Double, detail: String)
    /// The step is not for this server (a component it does not run).
    case stepSkipped(index: Int, total: Int, step: String, reason: String)
}

/// `pv_install`'s work: the bundle checked (and its tools unpacked), the root-only parts checked
/// when not root, then the steps in order under the update lock, each with its own log.
public struct InstallRun: Sendable {
    public var environment: AgentEnvironment
    public var execOnly: String?
    public var bundle: String?
    public var fromArchive: String?
    public var trustKey: String?
    public var user: String?
    public var prepareOnly: Bool
    /// May hand over to the bundle's own pv_install (the command sets it; see handOverTarget).
    public var handOver = false

    public init(environment: AgentEnvironment, execOnly: String? = nil, bundle: String? = nil, fromArchive: String? = nil,
                trustKey: String? = nil, user: String? = nil, prepareOnly: Bool = false) {
        self.environment = environment
        self.execOnly = execOnly
        self.bundle = bundle
        self.fromArchive = fromArchive
        self.trustKey = trustKey
        self.user = user
        self.prepareOnly = prepareOnly
    }

    /// How an install ended: done, only prepared, or to be carried on by the bundle's own pv_install.
    public enum Outcome: Equatable, Sendable {
        case installed
        case prepared
        /// The bundle, checked, is newer than this program: exec `executable --bundle bundle`.
        case handOver(executable: String, bundle: String)
    }

    @discardableResult
    public func execute(_ report: @escaping @Sendable (InstallEvent) -> Void) throws(PVError) -> Outcome {
        let root = environment.root
        let steps = try selectedSteps()
        let trust = try BundleTrust(root: root, isRoot: environment.isRoot, trustKey: trustKey)
        let bundleDir = try resolveBundle(root: root, trust: trust, report: report)
        let unpacked = try BundleTools.prepare(bundle: bundleDir)
        if handOver, let target = handOverTarget(bundle: bundleDir) { return .handOver(executable: target, bundle: bundleDir) }
        if prepareOnly {
            report(.prepared(unpacked > 0 ? "unpacked \(unpacked) tools into \(bundleDir)/bin, each checked against \(BundleTools.manifestName)"
                                          : "\(bundleDir)/bin already holds the bundle's tools"))
            return .prepared
        }
        let sandbox = root.path != InstallRoot.defaultPath
        let isRoot = environment.isRoot
        // Without root the agent's user is whoever runs the install; root installs for "provision".
        let userName = user ?? (sandbox || !isRoot ? environment.userName : "provision")
        if !isRoot && execOnly == nil {
            try RootOnlyChecks(environment: environment, user: userName, bundle: bundleDir, systemPrefix: sandbox ? root.join("system") : "").requireDone()
        }
        // No update, start or stop may swap components under the install.
        let lock = try UpdateLock(root: root, purpose: "pv_install")
        defer { withExtendedLifetime(lock) {} }
        environment.handleSignals()
        let logDir = root.join("logs", "install")
        for step in steps {
            // Between steps is a safe point: every step is rerunnable on its own.
            try Interruption.checkpoint("stopped before step \(step.name); the steps before it are done")
            let index = Steps.all.firstIndex { $0.name == step.name }! + 1
            let log = StepLog(directory: logDir, step: step.name, owner: AgentTree.ownerForRoot(root))
            let total = Steps.all.count
            let context = InstallContext(environment: environment, bundle: bundleDir, sandbox: sandbox, user: userName,
                                         progress: { event in
                                             log.write(event.text)
                                             report(.stepProgress(step: step.name, event))
                                         })
            if let config = try? context.config(), let reason = step.skipReason(config) {
                log.write("skipped: \(reason)")
                report(.stepSkipped(index: index, total: total, step: step.name, reason: reason))
                continue
            }
            report(.stepStarted(index: index, total: total, step: step.name))
            let started = environment.clock.monotonic()
            do {
                let detail = try step.run(context)
                log.write("ok: \(detail)")
                report(.stepFinished(index: index, total: total, step: step.name, ok: true,
                                     seconds: environment.clock.monotonic() - started, detail: detail))
            } catch {
                log.write("FAILED: \(error)")
                report(.stepFinished(index: index, total: total, step: step.name, ok: false,
                                     seconds: environment.clock.monotonic() - started, detail: error.message))
                var rerun = "pv_install -e \(step.name)"
                if root.path != InstallRoot.defaultPath { rerun += " --root \(root.path)" }
                if bundle != nil || fromArchive != nil { rerun += " --bundle \(bundleDir)" }
                throw PVError(error.code, "install failed at step \(step.name): \(error.message)",
                              hint: "\(error.hint.map { $0 + "; " } ?? "")read \(log.path), then rerun only this step: \(rerun)",
                              cause: error.cause)
            }
        }
        try Interruption.checkpoint("the last step was finished first; the install is complete")
        return .installed
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

    /// The bundle's directory, its manifest and signature checked (an archive: its signature before
    /// any of it is extracted, its files before they move into place), and the --trust-key key
    /// pinned once the signature verifies.
    func resolveBundle(root: InstallRoot, trust: BundleTrust, report: (InstallEvent) -> Void) throws(PVError) -> String {
        var verdict: BundleTrust.Verdict? = nil
        let dir: String
        if let fromArchive {
            let head = try SafeExtractor().readFiles(fromArchive, named: [Manifest.fileName, ManifestSignature.fileName], limit: 1 << 20)
            guard let manifest = head[Manifest.fileName] else {
                throw PVError(.dataError, "refusing the archive \(fromArchive): it holds no \(Manifest.fileName)",
                              hint: "nothing was installed; download the bundle again from ProVision")
            }
            verdict = try trust.check(manifest: manifest, signature: head[ManifestSignature.fileName])
            dir = try BundleArchive.extractAndCheck(fromArchive, into: try extractionDirectory(root: root))
        } else {
            dir = try checkedBundleDirectory()
            if FileIO.exists(dir + "/" + Manifest.fileName) { verdict = try trust.check(bundle: dir) }
        }
        switch verdict {
        case .verified(let fingerprint)?:
            report(.bundle("bundle: signature verified (Ed25519 key \(fingerprint))"))
            if let pinned = try trust.pinGivenKey() { report(.bundle("bundle: " + pinned)) }
        case .unverified(let reason)?:
            report(.bundle("warning: the bundle is unverified: \(reason); to pin a key, install with --trust-key FILE"))
        case nil:
            break  // a development tree without a manifest (swift build output)
        }
        return dir
    }

    /// Where --from-archive extracts. Root runs what it extracts, so never into the agent's tree
    /// (the agent's user could swap a checked file before root runs it): into a directory chain
    /// only root can change, /var/lib/provision/bundle (a sandbox: under <root>/system).
    func extractionDirectory(root: InstallRoot) throws(PVError) -> String {
        guard environment.isRoot else { return root.join("bundle") }
        let parent = root.systemPath(RootOwnedPaths.extractedBundleParent)
        let fd = try PrivilegedInstall.openRootOwnedDirectory(parent)
        // Root's alone to read too: a bundle holds the server's configuration.
        fchmod(fd, 0o700)
        close(fd)
        return root.systemPath(RootOwnedPaths.extractedBundle)
    }

    /// The extracted bundle this install runs from: only what its manifest lists counts (whatever
    /// else shares the directory, a home directory's files, is never read, run or installed), each
    /// listed file and every directory above it owned by root or the installing user and writable
    /// by no one else, and each listed file as the manifest says.
    func checkedBundleDirectory() throws(PVError) -> String {
        let dir = bundle ?? FileIO.directoryName(FileIO.directoryName(Self.executablePath()))
        if FileIO.exists(dir + "/" + Manifest.fileName) {
            let listed = try BundleArchive.listedPaths(bundle: dir)
            try BundleOwnership.forThisProcess().check(bundle: dir, paths: listed + [Manifest.fileName, ManifestSignature.fileName]
                                                       + BundleTools.listedTools(bundle: dir))
            try BundleArchive.checkManifest(directory: dir)
        } else if bundle != nil {
            throw PVError(.dataError, "\(dir) has no \(Manifest.fileName)", hint: "pass the directory setup-<ID>.tar was extracted into")
        }
        return dir
    }

    /// The verified bundle's own pv_install when this one is another program (the root-owned
    /// verifier in /usr/libexec/provision, run on a newer bundle): the install's steps are the
    /// bundle's version's, not the verifier's. Nil when this process is that pv_install, or the same build.
    func handOverTarget(bundle dir: String) -> String? {
        let target = dir + "/bin/pv_install"
        let own = Self.executablePath()
        guard FileIO.exists(target), !BundleArchive.sameFile(own, target),
              let mine = try? SHA256.hex(file: own), let theirs = try? SHA256.hex(file: target), mine != theirs else { return nil }
        return target
    }

    static func executablePath() -> String {
        var buf = [CChar](repeating: 0, count: 4096)
        let n = readlink("/proc/self/exe", &buf, buf.count - 1)
        return n > 0 ? String(decoding: buf[0..<n].map { UInt8(bitPattern: $0) }, as: UTF8.self) : "."
    }
}
