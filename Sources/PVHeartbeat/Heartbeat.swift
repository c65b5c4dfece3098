import PVCore
import PVSystem
import PVState
import PVHTTP

/// Everything a beat touches outside itself. The live context reads /proc,
/// asks the Docker socket and posts with libcurl; unit tests pass fakes.
public struct HeartbeatContext: Sendable {
    /// The clocks (the payload's timestamp; timeouts, durations, sleep), HTTP to the management
    /// server and the host's name.
    public var environment: AgentEnvironment
    public var system: any SystemSource
    public var probe: any ComponentProbe
    public var stateStore: any HeartbeatStateStore

    public init(environment: AgentEnvironment, system: any SystemSource, probe: any ComponentProbe,
                stateStore: any HeartbeatStateStore) {
        self.environment = environment
        self.system = system
        self.probe = probe
        self.stateStore = stateStore
    }

    public var clock: AgentClock { environment.clock }
}

/// The exit codes of pv_heartbeat: each says what an operator (or a
/// monitoring script) should look at.
public enum HeartbeatExit {
    public static let sent = ExitStatus.ok
    /// The server answered 4xx: fix the token or the resource ID.
    public static let rejected = ExitStatus(rawValue: 2)
    /// No answer: connection refused, timed out, reset, name not resolved.
    public static let unreachable = ExitStatus(rawValue: 3)
    /// The server answered 5xx (after the retry) or something unexpected.
    public static let serverError = ExitStatus(rawValue: 4)
    /// TLS failed: the certificate is not trusted (management_ca_file?) or names another host.
    public static let tlsFailed = ExitStatus(rawValue: 5)
}

/// The outcome of one beat, for output and exit code.
public struct BeatOutcome: Sendable {
    public var payload: HeartbeatPayload
    public var url: String
    public var delivery: Delivery?
    public var warnings: [String] { payload.warnings }

    public var exitStatus: ExitStatus {
        guard let delivery else { return .ok }
        switch delivery.result {
        case .accepted: return HeartbeatExit.sent
        case .rejected: return HeartbeatExit.rejected
        case .serverError: return HeartbeatExit.serverError
        case .failed(let e):
            switch e.kind {
            case .tlsFailed: return HeartbeatExit.tlsFailed
            case .invalidRequest: return .config
            case .responseTooLarge: return HeartbeatExit.serverError
            default: return HeartbeatExit.unreachable
            }
        }
    }

    /// `sent`, `rejected`, `server-error`, `unreachable`, `tls-failed`, `invalid`, `dry-run`.
    public var resultName: String {
        guard delivery != nil else { return "dry-run" }
        switch exitStatus {
        case HeartbeatExit.sent: return "sent"
        case HeartbeatExit.rejected: return "rejected"
        case HeartbeatExit.serverError: return "server-error"
        case HeartbeatExit.tlsFailed: return "tls-failed"
        case .config: return "invalid"
        default: return "unreachable"
        }
    }
}

public struct Heartbeat: Sendable {
    public var config: ServerConfig
    public var totalTimeout: Double
    public var connectTimeout: Double

    public init(config: ServerConfig, totalTimeout: Double = 10, connectTimeout: Double = 3) {
        self.config = config
        self.totalTimeout = totalTimeout
        self.connectTimeout = connectTimeout
    }

    /// `<management_url>/api/v1/heartbeat`.
    public static func endpoint(managementURL: String) -> String {
        var base = managementURL
        while base.hasSuffix("/") { base.removeLast() }
        return base + "/api/v1/heartbeat"
    }

    public var url: String { Self.endpoint(managementURL: config.managementURL) }

    /// Builds the payload, persists the new sequence number, then sends
    /// (unless `send` is false: `--dry-run` changes nothing).
    public func beat(_ ctx: HeartbeatContext, send: Bool = true) -> BeatOutcome {
        var warnings: [String] = []
        var state: HeartbeatState
        do { state = try ctx.stateStore.load() } catch {
            warnings.append("\(error.message); the sequence restarts at 1")
            state = HeartbeatState()
        }
        let sequence = state.sequence &+ 1

        let report = ctx.probe.probe(wantRootDir: state.dockerRootDir == nil).restricted(to: config.enabledComponents)
        if !report.dockerReachable, let why = report.dockerError {
            warnings.append("\(why); components are reported as unknown")
        }
        warnings += report.warnings

        var disks: [(name: String, path: String)] = [("root", "/")]
        let dockerRoot = report.dockerRootDir ?? state.dockerRootDir
        if let dockerRoot { disks.append(("docker", dockerRoot)) }
        let (system, cpuSample) = SystemFigures.collect(from: ctx.system, previousCPU: state.cpu, disks: disks)
        // A data directory that no longer answers is asked for again next beat.
        let dockerRootStillValid = dockerRoot.map { root in system.disks.contains { $0.path == root } } ?? false

        let payloadWarnings = warnings
        var payload = HeartbeatPayload(resourceID: config.resourceID, hostname: ctx.environment.host.name(),
                                       agentVersion: AgentInfo.version, sequence: sequence, timestamp: ctx.clock.now(),
                                       report: report, system: system, warnings: payloadWarnings)
        // pv_monitor's health rides along (its last sample, its spool), once it has written one.
        let monitor = MonitorHealth.read(ctx.environment.root, files: ctx.environment.files)
        if monitor.running || monitor.lastSampleEnd != nil || monitor.unreadable != nil { payload.monitor = monitor }
        guard send else { return BeatOutcome(payload: payload, url: url, delivery: nil) }

        // Saved before sending: a beat that dies mid-send never reuses its number.
        var next = HeartbeatState(sequence: sequence, cpu: cpuSample ?? state.cpu,
                                  dockerRootDir: dockerRootStillValid ? dockerRoot : nil)
        next.lastResult = state.lastResult
        do { try ctx.stateStore.save(next) } catch {
            payload.warnings.append("\(error.message) (\(error.cause ?? "")): the next beat may repeat sequence \(sequence)")
        }

        let sender = HeartbeatSender(transport: ctx.environment.http, url: url, token: config.managementToken,
                                     caFile: config.managementCAFile, totalTimeout: totalTimeout,
                                     connectTimeout: connectTimeout, now: ctx.clock.monotonic, sleep: ctx.clock.sleep)
        let delivery = sender.send(body: payload.bytes)
        let outcome = BeatOutcome(payload: payload, url: url, delivery: delivery)
        // How this beat ended, for pv_diagnostics ("the last beat's result").
        next.lastResult = outcome.resultName
        try? ctx.stateStore.save(next)
        return outcome
    }
}
