import ArgumentParser
import PVCLI
import PVCore
import PVHeartbeat
import PVHTTP
#if canImport(Glibc)
import Glibc
#endif

/// `pv_heartbeat`: one heartbeat to the management application, then exit.
/// systemd's pv_heartbeat.timer runs it every 30 s.
public struct HeartbeatCommand: ParsableCommand {
    public static let configuration = CommandConfiguration(
        commandName: "pv_heartbeat",
        abstract: "Send one heartbeat to the ProVision management application.",
        usage: """
            pv_heartbeat [--json] [--dry-run] [--timeout <timeout>]
                         [--connect-timeout <connect-timeout>] [--root <DIR>]
            """,
        discussion: """
            POSTs a JSON document (Bundle/heartbeat.schema.json) to <management_url>/api/v1/heartbeat with the management_token as a bearer token: resource ID, hostname, agent version, sequence number, time, overall state, each component's state and version, and load, CPU, memory, swap, disks, uptime and TCP connections. The components are asked from the Docker engine's socket; with Docker down the beat is still sent and says so.

            TLS certificates are always verified (management_ca_file for a private CA). One retry on a transient failure; sending stays within --timeout, and asking Docker has its own 3 s bound. The configuration holds the token and must not be readable by group or others (chmod 600).

            Exit status:
              0   sent: the server accepted the beat (2xx)
              2   rejected by the server (4xx): check management_token and resource_id
              3   unreachable: refused, timed out, connection reset, name not resolved
              4   server error (5xx after the retry) or an unexpected answer
              5   TLS failed: certificate not trusted or for another host
              75  another pv_heartbeat is running
              77  the configuration file is readable by group or others
              78  the configuration is invalid
            """)

    @Flag(name: .long, help: "Print one JSON object describing the beat instead of text.")
    public var json = false

    @Flag(name: .long, help: "Print the payload that would be sent; send nothing and keep the sequence.")
    public var dryRun = false

    @Option(name: .long, help: "Seconds the whole beat may take, retry included (1-25).")
    public var timeout: Double = 10

    @Option(name: .long, help: "Seconds each attempt may take to connect (TCP and TLS).")
    public var connectTimeout: Double = 3

    @OptionGroup public var rootOptions: RootOptions

    public init() {}

    public func validate() throws {
        guard timeout >= 1, timeout <= 25 else { throw ValidationError("--timeout must be between 1 and 25 seconds") }
        // Each attempt's connect timeout is also capped by what is left of --timeout.
        guard connectTimeout > 0, connectTimeout <= 25 else { throw ValidationError("--connect-timeout must be between 0 and 25 seconds") }
    }

    public func run() throws {
        try Self.perform(HeartbeatRun(environment: Self.environment(rootOptions.resolve()), json: json, dryRun: dryRun, timeout: timeout,
                                      connectTimeout: connectTimeout))
    }

    /// The beat's own exit status (2 rejected, 3 unreachable ...) passes through as it is.
    /// This host, with libcurl for the management server and the Docker Engine API.
    static func environment(_ root: InstallRoot) -> AgentEnvironment {
        .live(root: root, http: LiveHTTPTransport(userAgent: "pv_heartbeat/\(AgentInfo.version)"))
    }

    static func perform(_ run: HeartbeatRun) throws {
        let status: ExitStatus
        do { status = try run.execute() } catch { throw ErrorReporting.exit(error) }
        if status != .ok { throw ExitCode(status.rawValue) }
    }

    /// The executable's entry point. systemd starts `pv_heartbeat --root DIR`
    /// 2880 times a day; ArgumentParser's reflection-based parse was about a
    /// quarter of such a run's CPU time (perf: 16 ms with it, 11.7 ms without). That exact invocation (or none at all)
    /// runs directly with the defaults; anything else, `-h` included, goes
    /// through ArgumentParser as usual (PVCLI's `runAsTool`: its messages escaped).
    public static func entry(_ arguments: [String] = Array(CommandLine.arguments.dropFirst()),
                             environment: [String: String] = ProcessEnvironmentBlock.current) {
        guard let root = HeartbeatRun.timerInvocationRoot(arguments, environment: environment) else {
            runAsTool(arguments)
        }
        do { try perform(HeartbeatRun(environment: Self.environment(root))) } catch { exitAsTool(error) }
    }
}
