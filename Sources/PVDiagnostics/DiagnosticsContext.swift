import CTimex
import PVAMQP
import PVCore
import PVHTTP
import PVVerification
#if canImport(Glibc)
import Glibc
#endif

/// Everything diagnostics touch outside the process, injected so unit tests
/// run every check against fakes and never reach the host by accident.
public struct DiagnosticsContext: Sendable {
    public var root: InstallRoot
    /// Where pv_heartbeat.service and pv_heartbeat.timer are expected.
    public var systemdDirectory: String
    /// Carries the Docker Engine API requests (libcurl over the socket when live).
    public var engineTransport: any HTTPTransport
    /// One AMQP login and channel within the given seconds.
    public var amqpLogin: @Sendable (AMQPEndpoint, Double) -> Result<AMQPSession, AMQPError>
    public var verifyDNS: @Sendable (ServerConfig) -> CheckResult
    public var verifyDHCP: @Sendable (ServerConfig) -> CheckResult
    public var diskUsage: @Sendable (String) -> Result<DiskUsage, DiskUsageError>
    public var files: any FileSource
    public var kernelClock: @Sendable () -> KernelClock
    public var hostname: @Sendable () -> String

    public init(root: InstallRoot, systemdDirectory: String, engineTransport: any HTTPTransport,
                amqpLogin: @escaping @Sendable (AMQPEndpoint, Double) -> Result<AMQPSession, AMQPError>,
                verifyDNS: @escaping @Sendable (ServerConfig) -> CheckResult,
                verifyDHCP: @escaping @Sendable (ServerConfig) -> CheckResult,
                diskUsage: @escaping @Sendable (String) -> Result<DiskUsage, DiskUsageError>,
                files: any FileSource, kernelClock: @escaping @Sendable () -> KernelClock,
                hostname: @escaping @Sendable () -> String) {
        self.root = root
        self.systemdDirectory = systemdDirectory
        self.engineTransport = engineTransport
        self.amqpLogin = amqpLogin
        self.verifyDNS = verifyDNS
        self.verifyDHCP = verifyDHCP
        self.diskUsage = diskUsage
        self.files = files
        self.kernelClock = kernelClock
        self.hostname = hostname
    }

    /// The real machine: libcurl, rabbitmq-c, ldns, a packet socket, statvfs, adjtimex.
    public static func live(root: InstallRoot, systemdDirectory: String, verifyTimeout: Double) -> DiagnosticsContext {
        DiagnosticsContext(
            root: root, systemdDirectory: systemdDirectory,
            engineTransport: LiveHTTPTransport(userAgent: "pv_diagnostics"),
            amqpLogin: { endpoint, seconds in
                AMQPLogin(connectTimeout: min(2, seconds), totalTimeout: seconds).check(endpoint)
            },
            verifyDNS: { Verifier(config: $0, timeoutSeconds: verifyTimeout).dns() },
            verifyDHCP: { Verifier(config: $0, timeoutSeconds: verifyTimeout, root: root).dhcp() },
            diskUsage: DiskUsage.measure,
            files: LiveFileSource(),
            kernelClock: KernelClock.read,
            hostname: {
                var buffer = [CChar](repeating: 0, count: 256)
                guard gethostname(&buffer, buffer.count - 1) == 0 else { return "unknown" }
                return String(decoding: buffer.prefix { $0 != 0 }.map { UInt8(bitPattern: $0) }, as: UTF8.self)
            })
    }
}

/// The few file questions diagnostics ask.
public protocol FileSource: Sendable {
    func readText(_ path: String, limit: Int) -> Result<String, FileIOError>
    /// Seconds since the epoch of the last change, nil when the file does not exist.
    func modificationTime(_ path: String) -> Double?
    func exists(_ path: String) -> Bool
    /// Permission bits, nil when the file does not exist.
    func mode(_ path: String) -> mode_t?
    /// Whether this process may connect to (write) a socket or file.
    func isWritable(_ path: String) -> Bool
    /// Names of the regular files in a directory (empty when there is none).
    func list(_ directory: String) -> [String]
}

public struct LiveFileSource: FileSource {
    public init() {}
    public func readText(_ path: String, limit: Int) -> Result<String, FileIOError> {
        do { return .success(try FileIO.readText(path, limit: limit)) } catch { return .failure(error) }
    }
    public func modificationTime(_ path: String) -> Double? {
        var st = stat()
        guard stat(path, &st) == 0 else { return nil }
        return Double(st.st_mtim.tv_sec) + Double(st.st_mtim.tv_nsec) / 1e9
    }
    public func exists(_ path: String) -> Bool { FileIO.exists(path) }
    public func mode(_ path: String) -> mode_t? { FileIO.modeAndOwner(path)?.mode }
    public func isWritable(_ path: String) -> Bool { access(path, W_OK) == 0 }
    public func list(_ directory: String) -> [String] {
        (FileIO.listDirectory(directory) ?? []).filter { name in
            var st = stat()
            return lstat(directory + "/" + name, &st) == 0 && st.st_mode & S_IFMT == S_IFREG
        }
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
