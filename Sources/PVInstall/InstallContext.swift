import PVCore
import PVDocker
import PVComponents
#if canImport(Glibc)
import Glibc
#endif

/// What every install step may touch, decided once: where the bundle is,
/// where the agent goes, whether this is a sandbox (then nothing outside the
/// root changes), and whether we are root.
public struct InstallContext: Sendable {
    /// The root, the processes, the clock and who this runs as.
    public var environment: AgentEnvironment
    /// The extracted bundle (holds bin/, libs/, systemd/, sudoers/, scripts, provision.conf).
    public var bundle: String
    /// True when --root points elsewhere than /provision: system files go under
    /// the root, users are checked but never created, links are checked only.
    public var sandbox: Bool
    /// The agent's system user.
    public var user: String
    /// What the current step does, for its log and the progress renderer.
    public var progress: @Sendable (ProgressEvent) -> Void

    public init(environment: AgentEnvironment, bundle: String, sandbox: Bool, user: String,
                progress: @escaping @Sendable (ProgressEvent) -> Void) {
        self.environment = environment
        self.bundle = bundle
        self.sandbox = sandbox
        self.user = user
        self.progress = progress
    }

    public var root: InstallRoot { environment.root }
    public var isRoot: Bool { environment.isRoot }
    public var runner: any ProcessRunner { environment.processes }

    /// Where a system file goes: its real place, or under the root in a sandbox.
    public func systemPath(_ path: String) -> String { sandbox ? root.systemPath(path) : path }

    /// The bundle's configuration (the one ProVision generated for this
    /// server) until create_dirs has installed it, then the installed one.
    public func config() throws(PVError) -> ServerConfig {
        let fromBundle = bundle + "/provision.conf"
        if !FileIO.exists(root.configFile) && FileIO.exists(fromBundle) {
            do { return try ConfigParser.parse(try FileIO.readText(fromBundle, limit: 1 << 20, followLinks: false), file: fromBundle) } catch let error as ConfigError {
                throw error.asPVError
            } catch {
                throw PVError(.config, "cannot read \(fromBundle)")
            }
        }
        return try ConfigParser.load(root: root)
    }

    public func lifecycle() throws(PVError) -> ComponentContext {
        let config = try config()
        return ComponentContext(environment: environment, config: config, readiness: RunningOnlyProbe(), ports: LivePortChecker(),
                                registry: nil, progress: progress)
    }

    /// Runs a command, logging it and its output; fails the step when it fails.
    @discardableResult
    public func run(_ command: Command, timeout: Double = 120, what: String) throws(PVError) -> ProcessOutput {
        progress(.note("$ \(command)"))
        let out = try runner.run(command, timeout: timeout) { [progress] in progress(.note("  " + $0)) }
        for line in out.stderr.split(separator: "\n") { progress(.note("  " + line)) }
        guard out.succeeded else {
            throw PVError(.osError, "\(what) failed", cause: out.timedOut ? "timed out after \(Int(timeout)) s" : out.stderr.split(separator: "\n").last.map(String.init))
        }
        return out
    }
}
