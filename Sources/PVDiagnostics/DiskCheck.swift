import PVCore
#if canImport(Glibc)
import Glibc
#endif

/// When free space is a warning and when it is a failure. A check fails (or
/// warns) when either the share or the absolute amount is below its limit:
/// the share catches a small disk filling up, the amount a big disk that is
/// "only" 97 % full but has too little left to pull one image.
public struct DiskThresholds: Sendable, Equatable {
    public var warnFreeFraction = 0.10
    public var failFreeFraction = 0.05
    public var warnFreeBytes: UInt64 = 2 << 30
    public var failFreeBytes: UInt64 = 512 << 20
    /// Inodes run out on their own (millions of small log files).
    public var warnFreeInodeFraction = 0.10
    public var failFreeInodeFraction = 0.05

    public init() {}

    public static let standard = DiskThresholds()

    public var helpText: String {
        "fail below \(Int(failFreeFraction * 100)) % or \(DiskCheck.bytes(failFreeBytes)) free, warn below "
            + "\(Int(warnFreeFraction * 100)) % or \(DiskCheck.bytes(warnFreeBytes)); inodes: fail below "
            + "\(Int(failFreeInodeFraction * 100)) %, warn below \(Int(warnFreeInodeFraction * 100)) %"
    }
}

public enum DiskCheck {
    /// `disk root` / `disk docker`: the file system holding `path`.
    public static func evaluate(name: String, what: String, path: String, usage: Result<DiskUsage, DiskUsageError>,
                                thresholds: DiskThresholds = .standard) -> CheckResult {
        let u: DiskUsage
        switch usage {
        case .failure(let e):
            return CheckResult(name: name, status: .fail, detail: "cannot read the free space of \(what) (\(e.message))",
                               hint: "check that \(path) exists and is mounted")
        case .success(let value): u = value
        }
        guard u.totalBytes > 0 else {
            return CheckResult(name: name, status: .warn, detail: "\(path): the file system reports no size", hint: nil)
        }
        let free = Double(u.availableBytes) / Double(u.totalBytes)
        let inodes = u.totalInodes > 0 ? Double(u.availableInodes) / Double(u.totalInodes) : nil
        var detail = "\(bytes(u.availableBytes)) free of \(bytes(u.totalBytes)) (\(percent(free)) free)"
        if let inodes { detail += ", \(percent(inodes)) inodes free" }
        detail += " on \(path)"

        let cleanup = "free space on the file system holding \(path) (old images: docker image prune; logs under \(what))"
        if u.availableBytes < thresholds.failFreeBytes || free < thresholds.failFreeFraction {
            return CheckResult(name: name, status: .fail, detail: detail, hint: cleanup)
        }
        if let inodes, inodes < thresholds.failFreeInodeFraction {
            return CheckResult(name: name, status: .fail, detail: detail, hint: "too few inodes: remove many small files under \(path)")
        }
        if u.availableBytes < thresholds.warnFreeBytes || free < thresholds.warnFreeFraction {
            return CheckResult(name: name, status: .warn, detail: detail, hint: cleanup)
        }
        if let inodes, inodes < thresholds.warnFreeInodeFraction {
            return CheckResult(name: name, status: .warn, detail: detail, hint: "few inodes left: remove small files under \(path)")
        }
        return CheckResult(name: name, status: .ok, detail: detail)
    }

    /// `512 MiB`, `2.0 GiB`, `79.3 GiB`.
    public static func bytes(_ n: UInt64) -> String {
        let units = ["B", "KiB", "MiB", "GiB", "TiB", "PiB"]
        var value = Double(n)
        var unit = 0
        while value >= 1024 && unit < units.count - 1 { value /= 1024; unit += 1 }
        if unit == 0 { return "\(n) B" }
        let tenths = Int((value * 10).rounded())
        return tenths % 10 == 0 && value >= 100 ? "\(tenths / 10) \(units[unit])" : "\(tenths / 10).\(tenths % 10) \(units[unit])"
    }

    static func percent(_ fraction: Double) -> String {
        let tenths = Int((fraction * 1000).rounded())
        return "\(tenths / 10).\(tenths % 10) %"
    }
}
