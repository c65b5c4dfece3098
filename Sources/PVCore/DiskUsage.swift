#if canImport(Glibc)
import Glibc
#endif

/// Space and inodes of the file system holding a path, as an unprivileged writer sees them
/// (f_bavail, f_favail: the root-reserved blocks do not count). The heartbeat, the diagnostics
/// and the install's free-space check all read it here.
public struct DiskUsage: Sendable, Equatable {
    public var totalBytes: UInt64
    /// Free space an unprivileged process may use (what `df` calls Avail).
    public var availableBytes: UInt64
    /// Blocks in use (total minus free, the reserved ones included: `df`'s Used).
    public var usedBytes: UInt64
    public var totalInodes: UInt64
    public var availableInodes: UInt64

    /// `usedBytes` defaults to what is not available.
    public init(totalBytes: UInt64, availableBytes: UInt64, usedBytes: UInt64? = nil, totalInodes: UInt64 = 0, availableInodes: UInt64 = 0) {
        self.totalBytes = totalBytes
        self.availableBytes = availableBytes
        self.usedBytes = usedBytes ?? (totalBytes >= availableBytes ? totalBytes - availableBytes : 0)
        self.totalInodes = totalInodes
        self.availableInodes = availableInodes
    }

    /// `df`'s Use%: used over what is usable by processes (reserved blocks excluded).
    public var usedPercent: Double {
        let usable = usedBytes + availableBytes
        return usable == 0 ? 0 : Double(usedBytes) / Double(usable) * 100
    }

    @Sendable public static func measure(_ path: String) -> Result<DiskUsage, DiskUsageError> {
        var s = statvfs()
        guard statvfs(path, &s) == 0 else { return .failure(DiskUsageError(path: path, errno: errno)) }
        let unit = UInt64(s.f_frsize == 0 ? s.f_bsize : s.f_frsize)
        let total = UInt64(s.f_blocks) &* unit
        let free = UInt64(s.f_bfree) &* unit
        return .success(DiskUsage(totalBytes: total, availableBytes: UInt64(s.f_bavail) &* unit, usedBytes: total >= free ? total - free : 0,
                                  totalInodes: UInt64(s.f_files), availableInodes: UInt64(s.f_favail)))
    }
}

public struct DiskUsageError: Error, Sendable, Equatable {
    public var path: String
    public var errno: Int32
    public var message: String { "statvfs \(path): \(String(cString: strerror(errno)))" }
}
