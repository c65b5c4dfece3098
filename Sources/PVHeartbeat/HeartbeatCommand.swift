import ArgumentParser
import PVCLI
import PVCore
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
        discussion: """
            POSTs a JSON document (Bundle/heartbeat.schema.json) to <management_url>/api/v1/heartbeat with the
            management_token as a bearer token: resource ID, hostname, agent version, sequence number, time,
            overall state, each component's state and version (asked from the Docker engine's socket; with
            Docker down the beat is still sent and says so), and load, CPU, memory, swap, disks, uptime and TCP
            connections. TLS certificates are always verified (management_ca_file for a private CA). One retry
            on a transient failure; sending stays within --timeout (asking Docker has its own 3 s bound). The
            configuration holds the token and must not be readable by group or others (chmod 600).

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
        try HeartbeatRun(root: rootOptions.resolve(), json: json, dryRun: dryRun, timeout: timeout,
                         connectTimeout: connectTimeout).execute()
    }

    /// The executable's entry point. systemd starts `pv_heartbeat --root DIR`
    /// 2880 times a day; ArgumentParser's reflection-based parse was about a
    /// quarter of such a run's CPU time (perf: 16 ms with it, 11.7 ms without). That exact invocation (or none at all)
    /// runs directly with the defaults; anything else, `-h` included, goes
    /// through ArgumentParser as usual.
    public static func entry(_ arguments: [String] = Array(CommandLine.arguments.dropFirst()),
                             environment: [String: String] = ProcessEnvironmentBlock.current) {
        guard let run = HeartbeatRun.timerInvocation(arguments, environment: environment) else {
            main(arguments)
            return
        }
        do { try run.execute() } catch { exit(withError: error) }
    }
}

/// One pv_heartbeat run with its options resolved.
public struct HeartbeatRun: Equatable, Sendable {
    public var root: InstallRoot
    public var json = false
    public var dryRun = false
    public var timeout: Double = 10
    public var connectTimeout: Double = 3

    /// `[]` or `["--root", DIR]` (also `--root=DIR`): the invocations of the
    /// systemd unit and of an operator checking by hand. Nil for anything else.
    public static func timerInvocation(_ arguments: [String], environment: [String: String]) -> HeartbeatRun? {
        switch arguments.count {
        case 0:
            return HeartbeatRun(root: InstallRoot.resolve(option: nil, environment: environment))
        case 1 where arguments[0].hasPrefix("--root=") && arguments[0].count > 7:
            return HeartbeatRun(root: InstallRoot(path: String(arguments[0].dropFirst(7))))
        case 2 where arguments[0] == "--root" && !arguments[1].isEmpty && !arguments[1].hasPrefix("-"):
            return HeartbeatRun(root: InstallRoot(path: arguments[1]))
        default:
            return nil
        }
    }

    public func execute() throws {
        let config: ServerConfig
        do {
            try ConfigPermissions.requirePrivate(root.configFile)
            config = try ConfigParser.load(root: root)
        } catch { throw ErrorReporting.exit(error) }

        let lockPath = root.join("state", "heartbeat.lock")
        var lock: HeartbeatLock?
        switch HeartbeatLock.acquire(path: lockPath) {
        case .acquired(let l): lock = l
        case .busy:
            throw ErrorReporting.exit(PVError(.tempFail, "another pv_heartbeat is running (lock \(lockPath) is held)",
                                              hint: "let it finish; it gives up within its --timeout"))
        case .unavailable(let why):
            if !dryRun { Output.error("warning: no lock, beating anyway: \(why)") }
        }
        defer { withExtendedLifetime(lock) {} }

        let engine: DockerEngine
        do { engine = try DockerEngine(dockerHost: config.dockerHost, transport: CurlHTTPClient(userAgent: "pv_heartbeat/\(AgentInfo.version)")) } catch {
            throw ErrorReporting.exit(PVError(.config, "docker_host: \(error)"))
        }
        let context = HeartbeatContext(
            system: LinuxSystem(),
            probe: DockerComponentProbe(engine: engine, stateStore: StateStore(root: root)),
            transport: CurlHTTPClient(userAgent: "pv_heartbeat/\(AgentInfo.version)"),
            stateStore: FileHeartbeatStateStore(root: root),
            wallClock: { WallClock.seconds() },
            monotonic: { Double(Monotonic.nanoseconds()) / 1e9 },
            sleep: { seconds in usleep(useconds_t(max(0, seconds) * 1e6)) })

        let outcome = Heartbeat(config: config, totalTimeout: timeout, connectTimeout: connectTimeout)
            .beat(context, send: !dryRun)
        if dryRun {
            Output.line(outcome.payload.json.rendered)
            return
        }
        let report = BeatReport(outcome: outcome, secrets: config.secrets, configFile: root.configFile)
        if json {
            Output.line(report.json.rendered)
        } else {
            for line in report.lines { Output.line(line) }
            for warning in outcome.warnings { Output.error("warning: \(warning)") }
            if let error = report.error { Output.error("Error: \(error)") }
        }
        if outcome.exitStatus != .ok { throw ExitCode(outcome.exitStatus.rawValue) }
    }
}

/// The configuration holds the management token: refuse to use a file that
/// group or others can read (or write), before reading it.
public enum ConfigPermissions {
    public static func problem(mode: mode_t) -> String? {
        guard mode & 0o077 != 0 else { return nil }
        return "mode \(String(mode & 0o777, radix: 8, uppercase: false)) lets group or others \(mode & 0o022 != 0 ? "read or change" : "read") it"
    }

    public static func requirePrivate(_ path: String) throws(PVError) {
        guard let (mode, _) = FileIO.modeAndOwner(path) else { return }  // a missing file is the parser's to report
        if let why = problem(mode: mode) {
            throw PVError(.noPermission, "\(path) holds the management token, but its \(why)",
                          hint: "chmod 600 \(path)")
        }
    }
}

/// Seconds since the epoch from the real-time clock.
public enum WallClock {
    public static func seconds() -> Double {
        var ts = timespec()
        clock_gettime(CLOCK_REALTIME, &ts)
        return Double(ts.tv_sec) + Double(ts.tv_nsec) / 1e9
    }
}

/// What pv_heartbeat prints about a beat: one line for the journal on success,
/// the error and its next step otherwise. Secrets never reach it.
public struct BeatReport {
    public var outcome: BeatOutcome
    public var secrets: [String]
    public var configFile: String

    public init(outcome: BeatOutcome, secrets: [String], configFile: String) {
        self.outcome = outcome
        self.secrets = secrets
        self.configFile = configFile
    }

    var sequence: UInt64 { outcome.payload.sequence }
    var attempts: [DeliveryAttempt] { outcome.delivery?.attempts ?? [] }

    func redacted(_ text: String) -> String {
        var t = text
        // Very short secrets are left alone: masking every "p" would garble the message and hide little.
        for secret in secrets where secret.count >= 4 {
            while let r = t.firstRange(of: secret) { t.replaceSubrange(r, with: "***") }
        }
        return t
    }

    /// Empty for one attempt; the attempts' outcomes when they differ (a 500, then a reset).
    var attemptsText: String {
        guard attempts.count > 1 else { return "" }
        let outcomes = attempts.map { redacted($0.outcome) }
        if Set(outcomes).count == 1 { return " (\(attempts.count) attempts)" }
        return " after \(attempts.count) attempts (" + outcomes.joined(separator: "; ") + ")"
    }

    public var lines: [String] {
        var lines: [String] = []
        if case .accepted(let response)? = outcome.delivery?.result {
            lines.append("beat \(sequence) sent to \(outcome.url): \(response.statusLine) in \(Self.ms(attempts.last?.milliseconds ?? 0)) ms\(attemptsText)")
        }
        lines.append("state \(outcome.payload.report.overallState): \(outcome.payload.report.summary)")
        return lines
    }

    /// The error message with its next step, or nil when the beat was sent.
    public var error: String? {
        guard let delivery = outcome.delivery else { return nil }
        let what = "beat \(sequence) to \(outcome.url)"
        switch delivery.result {
        case .accepted: return nil
        case .rejected(let r):
            let body = redacted(String(r.bodyText.prefix(200)).filter { $0 != "\n" && $0 != "\r" })
            let hint = r.status == 401 || r.status == 403
                ? "check management_token in \(configFile) against the token ProVision shows for resource \(outcome.payload.resourceID)"
                : "check management_url and resource_id in \(configFile)"
            return "\(what) was rejected: \(r.statusLine)\(body.isEmpty ? "" : " (\(body))")\nNext step: \(hint)"
        case .serverError(let r):
            return "\(what) got \(r.statusLine) from the server\(attemptsText)\nNext step: the management application has a problem; check its logs"
        case .failed(let e):
            let detail = redacted(e.detail)
            switch e.kind {
            case .tlsFailed:
                return "\(what) failed TLS verification (\(detail))\nNext step: if ProVision uses a private CA, set management_ca_file in \(configFile) to its CA certificate (PEM)"
            case .invalidRequest:
                return "\(what) could not be made (\(detail))\nNext step: check management_url and management_ca_file in \(configFile)"
            default:
                return "\(what) was not delivered: \(e.kind.rawValue) (\(detail))\(attemptsText)\nNext step: check that this server reaches \(outcome.url) (network, firewall, DNS) and that ProVision is up"
            }
        }
    }

    public var json: JSONValue {
        var status: JSONValue = .null
        switch outcome.delivery?.result {
        case .accepted(let r)?, .rejected(let r)?, .serverError(let r)?: status = .int(r.status)
        default: break
        }
        return .object([
            ("result", .string(outcome.resultName)),
            ("exit_code", .int(Int(outcome.exitStatus.rawValue))),
            ("sequence", .int(Int(clamping: sequence))),
            ("url", .string(outcome.url)),
            ("status", status),
            ("attempts", .array(attempts.map { .object([("ms", .number(Self.ms($0.milliseconds))), ("outcome", .string(redacted($0.outcome)))]) })),
            ("state", .string(outcome.payload.report.overallState)),
            ("components", .string(outcome.payload.report.summary)),
            ("warnings", .array(outcome.warnings.map { .string(redacted($0)) })),
            ("error", error.map { .string($0) } ?? .null),
        ])
    }

    static func ms(_ v: Double) -> Double { (v * 10).rounded() / 10 }
}
