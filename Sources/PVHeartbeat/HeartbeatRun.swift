import PVCore
import PVSystem
import PVHTTP
import PVState
#if canImport(Glibc)
import Glibc
#endif

/// One pv_heartbeat run with its options resolved.
public struct HeartbeatRun: Sendable {
    public var environment: AgentEnvironment
    public var root: InstallRoot { environment.root }
    public var json = false
    public var dryRun = false
    public var timeout: Double = 10
    public var connectTimeout: Double = 3

    public init(environment: AgentEnvironment, json: Bool = false, dryRun: Bool = false, timeout: Double = 10, connectTimeout: Double = 3) {
        self.environment = environment
        self.json = json
        self.dryRun = dryRun
        self.timeout = timeout
        self.connectTimeout = connectTimeout
    }

    /// `[]` or `["--root", DIR]` (also `--root=DIR`): the invocations of the
    /// systemd unit and of an operator checking by hand. Nil for anything else.
    public static func timerInvocationRoot(_ arguments: [String], environment: [String: String]) -> InstallRoot? {
        switch arguments.count {
        case 0:
            return InstallRoot.resolve(option: nil, environment: environment)
        case 1 where arguments[0].hasPrefix("--root=") && arguments[0].count > 7:
            return InstallRoot(path: String(arguments[0].dropFirst(7)))
        case 2 where arguments[0] == "--root" && !arguments[1].isEmpty && !arguments[1].hasPrefix("-"):
            return InstallRoot(path: arguments[1])
        default:
            return nil
        }
    }

    /// Sends the beat (or prints it, with dryRun) and returns the exit status that says how it ended.
    public func execute() throws(PVError) -> ExitStatus {
        let config = try ConfigParser.load(root: root, requirePrivate: true)

        let lockPath = root.join("state", "heartbeat.lock")
        var lock: FileLock?
        switch FileLock.acquire(lockPath) {
        case .acquired(let l): lock = l
        case .busy:
            throw PVError(.tempFail, "another pv_heartbeat is running (lock \(lockPath) is held)",
                          hint: "let it finish; it gives up within its --timeout")
        case .unavailable(let why):
            if !dryRun { environment.output.error("warning: no lock, beating anyway: \(why)") }
        }
        defer { withExtendedLifetime(lock) {} }

        let engine: DockerEngine
        do { engine = try DockerEngine(dockerHost: config.dockerHost, transport: environment.http) } catch {
            throw PVError(.config, "docker_host: \(error)")
        }
        let context = HeartbeatContext(
            environment: environment,
            system: LiveSystemSource(),
            probe: LiveComponentProbe(engine: engine, stateStore: StateStore(root: root), prefix: config.containerPrefix),
            stateStore: LiveHeartbeatStateStore(root: root))

        let outcome = Heartbeat(config: config, totalTimeout: timeout, connectTimeout: connectTimeout)
            .beat(context, send: !dryRun)
        if dryRun {
            environment.output.line(outcome.payload.json.rendered)
            return .ok
        }
        let report = BeatReport(outcome: outcome, secrets: config.secrets, configFile: root.configFile)
        if json {
            environment.output.line(report.json.rendered)
        } else {
            for line in report.lines { environment.output.line(line) }
            for warning in outcome.warnings { environment.output.error("warning: \(warning)") }
            if let error = report.error { environment.output.error("Error: \(error)") }
        }
        return outcome.exitStatus
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

    func redacted(_ text: String) -> String { Redactor(secrets: secrets).apply(text) }

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
