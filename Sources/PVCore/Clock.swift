#if canImport(Glibc)
import Glibc
#endif

/// Monotonic time for deadlines and latency figures (never the wall clock,
/// which an NTP step can move).
public struct Monotonic: Sendable {
    public static func nanoseconds() -> UInt64 {
        var ts = timespec()
        clock_gettime(CLOCK_MONOTONIC, &ts)
        return UInt64(ts.tv_sec) * 1_000_000_000 + UInt64(ts.tv_nsec)
    }

    public static func milliseconds(since start: UInt64) -> Double {
        Double(nanoseconds() &- start) / 1_000_000
    }
}

/// A point in monotonic time after which an operation must give up.
public struct Deadline: Sendable {
    public let at: UInt64
    public init(secondsFromNow seconds: Double) {
        at = Monotonic.nanoseconds() + UInt64(max(0, seconds) * 1e9)
    }
    public var remainingMilliseconds: Int {
        let now = Monotonic.nanoseconds()
        return now >= at ? 0 : Int((at - now) / 1_000_000)
    }
    public var hasPassed: Bool { Monotonic.nanoseconds() >= at }
}
