import CTimex
import PVAMQP
import PVCore
import PVDocker
import PVState
import PVVerification
#if canImport(Glibc)
import Glibc
#endif

/// What diagnostics reach beyond the agent's environment (root, HTTP to the Engine API, files,
/// host name): the unit directory, an AMQP login, the two verifications, statvfs and adjtimex.
/// Injected so unit tests run every check against fakes and never reach the host by accident.
public struct DiagnosticsContext: Sendable {
    public var environment: AgentEnvironment
    /// Where pv_heartbeat.service and pv_heartbeat.timer are expected.
    public var systemdDirectory: String
    /// One AMQP login and channel within the given seconds.
    public var amqpLogin: @Sendable (AMQPEndpoint, _ caFile: String?, Double) -> Result<AMQPSession, AMQPError>
    public var verifyDNS: @Sendable (ServerConfig) -> CheckResult
    public var verifyDHCP: @Sendable (ServerConfig) -> CheckResult
    public var diskUsage: @Sendable (String) -> Result<DiskUsage, DiskUsageError>
    public var kernelClock: @Sendable () -> KernelClock
    /// Which of the monitoring tools a running container has (`docker exec ... sh -c`), within
    /// the given seconds (the docker CLI is ended by then: no child outlives the run).
    public var programsIn: @Sendable (ServerConfig, String, Double) -> Result<Set<String>, PVError>
    /// The pid holding pv_monitor's lock file, if any (/proc/locks).
    public var monitorLockHolder: @Sendable (String) -> Int32? = { MonitorHealth.lockHolder($0) }

    public init(environment: AgentEnvironment, systemdDirectory: String,
                amqpLogin: @escaping @Sendable (AMQPEndpoint, _ caFile: String?, Double) -> Result<AMQPSession, AMQPError>,
                verifyDNS: @escaping @Sendable (ServerConfig) -> CheckResult,
                verifyDHCP: @escaping @Sendable (ServerConfig) -> CheckResult,
                diskUsage: @escaping @Sendable (String) -> Result<DiskUsage, DiskUsageError>,
                kernelClock: @escaping @Sendable () -> KernelClock,
                programsIn: @escaping @Sendable (ServerConfig, String, Double) -> Result<Set<String>, PVError>) {
        self.environment = environment
        self.systemdDirectory = systemdDirectory
        self.amqpLogin = amqpLogin
        self.verifyDNS = verifyDNS
        self.verifyDHCP = verifyDHCP
        self.diskUsage = diskUsage
        self.kernelClock = kernelClock
        self.programsIn = programsIn
    }

    public var root: InstallRoot { environment.root }
    public var files: any FileSystem {
        get { environment.files }
        set { environment.files = newValue }
    }

    /// The real machine: rabbitmq-c, ldns, a packet socket, statvfs, adjtimex.
    public static func live(_ environment: AgentEnvironment, systemdDirectory: String, verifyTimeout: Double) -> DiagnosticsContext {
        let root = environment.root
        return DiagnosticsContext(
            environment: environment, systemdDirectory: systemdDirectory,
            amqpLogin: { endpoint, caFile, seconds in
                AMQPLogin(connectTimeout: min(2, seconds), totalTimeout: seconds, caFile: caFile).check(endpoint)
            },
            verifyDNS: { Verifier(config: $0, timeoutSeconds: verifyTimeout).dns() },
            verifyDHCP: { Verifier(config: $0, timeoutSeconds: verifyTimeout, root: root).dhcp() },
            diskUsage: DiskUsage.measure,
            kernelClock: KernelClock.read,
            programsIn: { config, container, seconds in
                let docker = DockerCLI(host: config.dockerHost, runner: environment.processes)
                do throws(PVError) {
                    let out = try docker.run(["exec", container, "/bin/sh", "-c", MonitoringToolsCheck.probeScript],
                                             timeout: seconds, whenInterrupted: .cut)
                    if let failure = DockerFailure(out) {
                        return .failure(PVError(.unavailable, failure == .noSuchContainer ? "\(container) does not exist" : failure.text))
                    }
                    return .success(Set(out.stdout.split(separator: "\n").map { String($0).trimmingWhitespace() }))
                } catch {
                    return .failure(error)
                }
            })
    }
}

/// The wall clock and what the kernel knows about its synchronisation (adjtimex).
public struct KernelClock: Sendable, Equatable {
    /// Seconds since the epoch.
    public var now: Double
    /// False when the kernel says the clock is not synchronised (STA_UNSYNC,
    /// TIME_ERROR): nothing (NTP, chrony, timesyncd) disciplines it. Nil when unknown.
    public var synchronised: Bool?
    /// The kernel's maximum error estimate in microseconds.
    public var maxErrorMicroseconds: Int?

    public init(now: Double, synchronised: Bool?, maxErrorMicroseconds: Int?) {
        self.now = now
        self.synchronised = synchronised
        self.maxErrorMicroseconds = maxErrorMicroseconds
    }

    @Sendable public static func read() -> KernelClock {
        var unsynchronised: Int32 = 0
        var maxError = 0
        let state = pv_clock_sync_state(&unsynchronised, &maxError)
        var ts = timespec()
        clock_gettime(CLOCK_REALTIME, &ts)
        let now = Double(ts.tv_sec) + Double(ts.tv_nsec) / 1e9
        guard state >= 0 else { return KernelClock(now: now, synchronised: nil, maxErrorMicroseconds: nil) }
        return KernelClock(now: now, synchronised: unsynchronised == 0, maxErrorMicroseconds: maxError)
    }
}
