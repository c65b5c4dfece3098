#if canImport(Glibc)
import Glibc
#endif

/// Everything outside its own process that a tool reaches through seams: the install root, the
/// clocks and sleep, the programs it starts (the Docker CLI among them), HTTP (the management
/// server, the registry, the Docker Engine API), the files it does not own, the host's name and
/// interfaces, where its lines go, and who it runs as. A command
/// makes one (`live`) and hands it down; each operation's context carries it. Tests make one
/// with `failing(root:)`, where every seam a test did not replace stops the test at once, so no
/// unit test can reach the host by accident (swiftly's `runWithMockedIO`).
public struct AgentEnvironment: Sendable {
    public var root: InstallRoot
    public var clock: AgentClock
    public var processes: any ProcessRunner
    public var http: any HTTPTransport
    public var files: any FileSystem
    public var host: HostFacts
    public var output: OutputSink
    /// The effective user: root (uid 0) may do the root-only parts of an install.
    public var effectiveUserID: UInt32
    public var userName: String
    /// From here on SIGTERM, SIGINT and SIGHUP stop the tool at its next safe point (`Interruption`)
    /// instead of killing it. A unit test's process keeps its own handlers.
    public var handleSignals: @Sendable () -> Void

    public init(root: InstallRoot, clock: AgentClock, processes: any ProcessRunner, http: any HTTPTransport,
                files: any FileSystem, host: HostFacts, output: OutputSink,
                effectiveUserID: UInt32, userName: String, handleSignals: @escaping @Sendable () -> Void) {
        self.handleSignals = handleSignals
        self.root = root
        self.clock = clock
        self.processes = processes
        self.http = http
        self.files = files
        self.host = host
        self.output = output
        self.effectiveUserID = effectiveUserID
        self.userName = userName
    }

    public var isRoot: Bool { effectiveUserID == 0 }

    /// This process on this host. HTTP is the one seam a tool chooses: the tools that speak it
    /// hand in PVHTTP's libcurl transport, and the others hand in none (NoHTTPTransport).
    public static func live(root: InstallRoot, http: any HTTPTransport = NoHTTPTransport()) -> AgentEnvironment {
        let uid = geteuid()
        let name = getpwuid(uid).map { String(cString: $0.pointee.pw_name) } ?? (uid == 0 ? "root" : String(uid))
        return AgentEnvironment(root: root, clock: .system, processes: LiveProcessRunner(), http: http,
                                files: LiveFileSystem(), host: .live, output: .standard,
                                effectiveUserID: uid, userName: name, handleSignals: { Interruption.handleSignals() })
    }

    /// For unit tests: every seam fails loudly until the test replaces it.
    public static func failing(root: InstallRoot) -> AgentEnvironment {
        AgentEnvironment(root: root, clock: .failing, processes: FailingProcessRunner(), http: FailingHTTPTransport(),
                         files: FailingFileSystem(), host: .failing, output: .failing, effectiveUserID: 65534, userName: "nobody", handleSignals: {})
    }

    /// The server's configuration, `<root>/etc/provision.conf`.
    public func configuration() throws(PVError) -> ServerConfig { try ConfigParser.load(root: root) }
}

/// Time as the tools see it: the wall clock for what is shown and sent, the monotonic clock for
/// deadlines and durations, and sleep.
public struct AgentClock: Sendable {
    /// Seconds since the epoch.
    public var now: @Sendable () -> Double
    /// Monotonic seconds (only differences mean anything).
    public var monotonic: @Sendable () -> Double
    public var sleep: @Sendable (Double) -> Void

    public init(now: @escaping @Sendable () -> Double, monotonic: @escaping @Sendable () -> Double,
                sleep: @escaping @Sendable (Double) -> Void) {
        self.now = now
        self.monotonic = monotonic
        self.sleep = sleep
    }

    public static let system = AgentClock(
        now: {
            var ts = timespec()
            clock_gettime(CLOCK_REALTIME, &ts)
            return Double(ts.tv_sec) + Double(ts.tv_nsec) / 1e9
        },
        monotonic: { Double(Monotonic.nanoseconds()) / 1e9 },
        sleep: { seconds in usleep(useconds_t(max(0, min(seconds, 3600)) * 1e6)) })

    static let failing = AgentClock(now: { fatalError("unit test read the wall clock without a fake") },
                                    monotonic: { fatalError("unit test read the monotonic clock without a fake") },
                                    sleep: { _ in fatalError("unit test slept without a fake clock") })
}

/// Where a tool's lines go: stdout for results and progress, stderr for errors and warnings (so
/// that `--json` on stdout stays machine-readable).
public struct OutputSink: Sendable {
    public var line: @Sendable (String) -> Void
    public var error: @Sendable (String) -> Void
    /// Without a newline: the start of a line that a later `line` completes.
    public var partial: @Sendable (String) -> Void

    public init(line: @escaping @Sendable (String) -> Void, error: @escaping @Sendable (String) -> Void,
                partial: @escaping @Sendable (String) -> Void) {
        self.line = line
        self.error = error
        self.partial = partial
    }

    public static let standard = OutputSink(line: { Output.line($0) }, error: { Output.error($0) }, partial: { Output.partial($0) })

    static let failing = OutputSink(line: { fatalError("unit test printed without a fake output: \($0)") },
                                    error: { fatalError("unit test printed an error without a fake output: \($0)") },
                                    partial: { fatalError("unit test printed without a fake output: \($0)") })
}

/// Fails every run: a unit test that starts a program must say which answers it expects.
struct FailingProcessRunner: ProcessRunner {
    func run(_ command: Command, timeout: Double) throws(PVError) -> ProcessOutput {
        fatalError("unit test ran \(command) without a fake process runner")
    }
    func run(_ command: Command, timeout: Double, onLine: @escaping (String) -> Void) throws(PVError) -> ProcessOutput {
        fatalError("unit test ran \(command) without a fake process runner")
    }
    func exec(_ command: Command) throws(PVError) -> Never {
        fatalError("unit test exec'd \(command) without a fake process runner")
    }
}
