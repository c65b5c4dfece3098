#if canImport(Glibc)
import Glibc
#endif
import PVCore
import PVState

/// Where the system figures come from. The live source reads /proc and calls
/// statvfs; unit tests hand in fixed text, so no test depends on the host.
public protocol SystemSource: Sendable {
    /// The text of a small kernel file (`/proc/loadavg`), or nil when unreadable.
    func read(_ path: String) -> String?
    /// Capacity of the file system holding `path`, or nil when it cannot be asked.
    func disk(_ path: String) -> DiskUsage?
    func processorCount() -> Int
    /// Established TCP connections from the kernel's socket diagnostics, or
    /// nil to fall back to parsing /proc/net/tcp and tcp6.
    func establishedTCPConnections() -> Int?
}

public struct CPUFigures: Sendable, Equatable {
    public var count: Int
    public var busyPercent: Double
    /// The seconds the figure averages over: since the previous beat, or since boot on the first.
    public var windowSeconds: Double
}

public struct NamedDisk: Sendable, Equatable {
    public var name: String
    public var path: String
    public var usage: DiskUsage
}

/// The host figures a heartbeat carries. Each is optional: a figure the
/// kernel does not give is sent as null, never as a made-up zero.
public struct SystemFigures: Sendable, Equatable {
    public var load: [Double]?
    public var cpu: CPUFigures?
    public var memoryTotalBytes: UInt64?
    public var memoryAvailableBytes: UInt64?
    public var swapTotalBytes: UInt64?
    public var swapFreeBytes: UInt64?
    public var disks: [NamedDisk] = []
    public var uptimeSeconds: Double?
    public var tcpConnections: Int?

    /// Reads every figure. `previousCPU` is the sample the last beat kept; the
    /// returned sample is the one to keep for the next beat.
    public static func collect(from source: any SystemSource, previousCPU: CPUSample?,
                               disks diskPaths: [(name: String, path: String)]) -> (SystemFigures, CPUSample?) {
        var figures = SystemFigures()
        figures.load = source.read("/proc/loadavg").flatMap(ProcText.loadAverage)
        let uptime = source.read("/proc/uptime").flatMap(ProcText.uptime)
        figures.uptimeSeconds = uptime
        var sample: CPUSample?
        if let stat = source.read("/proc/stat"), let ticks = ProcText.cpuTicks(stat) {
            let now = CPUSample(totalTicks: ticks.total, idleTicks: ticks.idle, uptime: uptime ?? 0)
            sample = now
            figures.cpu = cpuFigures(now: now, previous: previousCPU, count: source.processorCount())
        }
        if let meminfo = source.read("/proc/meminfo") {
            let m = ProcText.meminfo(meminfo)
            figures.memoryTotalBytes = m["MemTotal"]
            figures.memoryAvailableBytes = m["MemAvailable"]
            figures.swapTotalBytes = m["SwapTotal"]
            figures.swapFreeBytes = m["SwapFree"]
        }
        for (name, path) in diskPaths {
            if let usage = source.disk(path) { figures.disks.append(NamedDisk(name: name, path: path, usage: usage)) }
        }
        if let count = source.establishedTCPConnections() {
            figures.tcpConnections = count
        } else {
            let v4 = source.read("/proc/net/tcp").map(ProcText.establishedCount)
            let v6 = source.read("/proc/net/tcp6").map(ProcText.establishedCount)
            if v4 != nil || v6 != nil { figures.tcpConnections = (v4 ?? 0) + (v6 ?? 0) }
        }
        return (figures, sample)
    }

    /// Busy share of CPU time since `previous`, or since boot when there is no
    /// usable previous sample (first beat, or the counters restarted with a reboot).
    static func cpuFigures(now: CPUSample, previous: CPUSample?, count: Int) -> CPUFigures {
        if let previous, now.totalTicks > previous.totalTicks, now.idleTicks >= previous.idleTicks, now.uptime > previous.uptime {
            let total = Double(now.totalTicks - previous.totalTicks)
            let idle = Double(now.idleTicks - previous.idleTicks)
            return CPUFigures(count: count, busyPercent: max(0, min(100, (total - idle) / total * 100)),
                              windowSeconds: now.uptime - previous.uptime)
        }
        let busy = now.totalTicks == 0 ? 0 : Double(now.totalTicks - min(now.idleTicks, now.totalTicks)) / Double(now.totalTicks) * 100
        return CPUFigures(count: count, busyPercent: busy, windowSeconds: now.uptime)
    }

    public var json: JSONValue {
        func bytes(_ v: UInt64?) -> JSONValue { v.map { .int(Int(clamping: $0)) } ?? .null }
        func percent(_ used: UInt64?, of total: UInt64?) -> JSONValue {
            guard let used, let total, total > 0 else { return .null }
            return .number(Self.round1(Double(used) / Double(total) * 100))
        }
        let memUsed = memoryTotalBytes.flatMap { t in memoryAvailableBytes.map { t >= $0 ? t - $0 : 0 } }
        let swapUsed = swapTotalBytes.flatMap { t in swapFreeBytes.map { t >= $0 ? t - $0 : 0 } }
        return .object([
            ("load", load.map { .array($0.map { .number(Self.round2($0)) }) } ?? .null),
            ("cpu", cpu.map { .object([
                ("count", .int($0.count)), ("busy_percent", .number(Self.round1($0.busyPercent))),
                ("window_seconds", .number(Self.round1($0.windowSeconds))),
            ]) } ?? .null),
            ("memory", .object([("total_bytes", bytes(memoryTotalBytes)), ("available_bytes", bytes(memoryAvailableBytes)),
                                ("used_percent", percent(memUsed, of: memoryTotalBytes))])),
            ("swap", .object([("total_bytes", bytes(swapTotalBytes)), ("free_bytes", bytes(swapFreeBytes)),
                              ("used_percent", percent(swapUsed, of: swapTotalBytes))])),
            ("disks", .array(disks.map { d in .object([
                ("name", .string(d.name)), ("path", .string(d.path)), ("total_bytes", bytes(d.usage.totalBytes)),
                ("available_bytes", bytes(d.usage.availableBytes)), ("used_percent", .number(Self.round1(d.usage.usedPercent))),
            ]) })),
            ("uptime_seconds", uptimeSeconds.map { .number(Self.round1($0)) } ?? .null),
            ("tcp_connections", tcpConnections.map { .int($0) } ?? .null),
        ])
    }

    static func round1(_ v: Double) -> Double { (v * 10).rounded() / 10 }
    static func round2(_ v: Double) -> Double { (v * 100).rounded() / 100 }
}

/// Parsers for the kernel's text files: pure functions of the text.
public enum ProcText {
    /// `/proc/loadavg`: "0.52 0.58 0.59 2/612 12345".
    public static func loadAverage(_ text: String) -> [Double]? {
        let fields = text.split(whereSeparator: { $0 == " " || $0 == "\n" })
        guard fields.count >= 3 else { return nil }
        let values = fields.prefix(3).compactMap { Double($0) }
        return values.count == 3 && values.allSatisfy({ $0 >= 0 && $0.isFinite }) ? values : nil
    }

    /// `/proc/uptime`: "12345.67 23456.78" (seconds up, seconds idle summed over CPUs).
    public static func uptime(_ text: String) -> Double? {
        guard let first = text.split(whereSeparator: { $0 == " " || $0 == "\n" }).first, let v = Double(first),
              v >= 0, v.isFinite else { return nil }
        return v
    }

    /// The aggregate `cpu` line of `/proc/stat`: user nice system idle iowait
    /// irq softirq steal [guest guest_nice]. Guest time is already counted in
    /// user and nice, so only the first eight fields make the total; idle and
    /// iowait are the idle part.
    public static func cpuTicks(_ text: String) -> (total: UInt64, idle: UInt64)? {
        guard let line = text.split(separator: "\n").first(where: { $0.hasPrefix("cpu ") }) else { return nil }
        let numbers = line.split(separator: " ").dropFirst().compactMap { UInt64($0) }
        guard numbers.count >= 4 else { return nil }
        let counted = numbers.prefix(8)
        let total = counted.reduce(0, &+)
        let idle = numbers[3] &+ (numbers.count > 4 ? numbers[4] : 0)
        return (total, idle)
    }

    /// `/proc/meminfo` in bytes: "MemTotal:  16318412 kB".
    public static func meminfo(_ text: String) -> [String: UInt64] {
        var result: [String: UInt64] = [:]
        for line in text.split(separator: "\n") {
            guard let colon = line.firstIndex(of: ":") else { continue }
            let parts = line[line.index(after: colon)...].split(separator: " ")
            guard let first = parts.first, let value = UInt64(first) else { continue }
            let unit = parts.count > 1 ? parts[1] : ""
            let (bytes, overflow) = value.multipliedReportingOverflow(by: unit == "kB" ? 1024 : 1)
            if !overflow { result[String(line[..<colon])] = bytes }
        }
        return result
    }

    /// Sockets in state 01 (ESTABLISHED) in `/proc/net/tcp` or `/proc/net/tcp6`.
    public static func establishedCount(_ text: String) -> Int {
        var count = 0
        for line in text.split(separator: "\n").dropFirst() {
            let fields = line.split(separator: " ", maxSplits: 4, omittingEmptySubsequences: true)
            if fields.count >= 4 && fields[3] == "01" { count += 1 }
        }
        return count
    }
}

/// The live source: the kernel's files, statvfs, sysconf, sock_diag.
public struct LiveSystemSource: SystemSource {
    public init() {}

    public func read(_ path: String) -> String? {
        // /proc/net/tcp grows with the number of sockets; 64 MiB is far beyond
        // any DNS/DHCP server and still bounded.
        try? FileIO.readText(path, limit: 64 << 20)
    }

    public func disk(_ path: String) -> DiskUsage? { try? DiskUsage.measure(path).get() }

    public func processorCount() -> Int { max(1, Int(sysconf(Int32(_SC_NPROCESSORS_ONLN)))) }

    public func establishedTCPConnections() -> Int? { SockDiag.establishedTCPCount() }
}
