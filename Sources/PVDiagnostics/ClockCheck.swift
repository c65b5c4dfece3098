import PVCore
import PVHTTP
#if canImport(Glibc)
import Glibc
#endif

/// `clock`: a wrong clock breaks TLS to the management application and makes
/// heartbeats and logs lie. Three questions: is the clock set at all, does the
/// kernel consider it synchronised (adjtimex: is NTP, chrony or timesyncd
/// disciplining it), and does the Docker engine's clock (`/info` SystemTime)
/// agree? The last matters for a remote engine (tcp://); a local one shares
/// our clock, which makes it a sanity check there.
public enum ClockCheck {
    public static let name = "clock"
    /// 2024-01-01T00:00:00Z: a clock before this was never set (a reset RTC says 1970 or 2000).
    public static let earliestPlausible = 1_704_067_200.0
    public static let warnOffsetSeconds = 1.0
    public static let failOffsetSeconds = 5.0

    public static func evaluate(kernel: KernelClock, engine: Result<EngineInfoSample, DockerEngineError>) -> CheckResult {
        let now = formatUTC(kernel.now)
        if kernel.now < earliestPlausible {
            return CheckResult(name: name, status: .fail, detail: "the clock says \(now): it was never set",
                               hint: "set it (date -s, or start NTP: systemctl enable --now systemd-timesyncd)")
        }
        var status = CheckResult.Status.ok
        var parts = [now]
        var hints: [String] = []
        switch kernel.synchronised {
        case true?:
            parts.append("synchronised" + (kernel.maxErrorMicroseconds.map { " (max error \(milliseconds(Double($0) / 1000)) ms)" } ?? ""))
        case false?:
            status = .warn
            parts.append("not synchronised: the kernel says no time service disciplines it")
            hints.append("start a time service (systemctl enable --now systemd-timesyncd, or chrony)")
        case nil:
            parts.append("synchronisation unknown")
        }
        switch engine {
        case .success(let sample):
            if let text = sample.info.systemTime, let engineTime = RFC3339.parse(text) {
                let offset = engineTime - sample.localTime
                let uncertainty = sample.roundTripMilliseconds / 2000
                let beyond = max(0, abs(offset) - uncertainty)
                if abs(offset) <= uncertainty {
                    parts.append("the Docker engine's clock agrees within \(milliseconds(uncertainty * 1000)) ms")
                } else {
                    parts.append("the Docker engine's clock differs by \(milliseconds(offset * 1000)) ms (measured within \(milliseconds(uncertainty * 1000)) ms)")
                }
                if beyond > failOffsetSeconds {
                    status = .fail
                    hints.append("synchronise this server and the Docker engine's host")
                } else if beyond > warnOffsetSeconds {
                    if status == .ok { status = .warn }
                    hints.append("synchronise this server and the Docker engine's host")
                }
            } else {
                parts.append("the Docker engine sent no usable SystemTime")
            }
        case .failure:
            parts.append("the Docker engine's clock is not available")
        }
        return CheckResult(name: name, status: status, detail: parts.joined(separator: "; "),
                           hint: hints.isEmpty ? nil : hints.joined(separator: "; "))
    }

    /// `2026-11-26 02:20:47 UTC`.
    public static func formatUTC(_ seconds: Double) -> String {
        var t = time_t(seconds.rounded(.down))
        var parts = tm()
        gmtime_r(&t, &parts)
        func two(_ n: Int32) -> String { n < 10 ? "0\(n)" : "\(n)" }
        return "\(parts.tm_year + 1900)-\(two(parts.tm_mon + 1))-\(two(parts.tm_mday)) \(two(parts.tm_hour)):\(two(parts.tm_min)):\(two(parts.tm_sec)) UTC"
    }

    /// `2026-11-26T02:20:47Z`, for JSON and file names.
    public static func formatISO(_ seconds: Double) -> String {
        var t = time_t(seconds.rounded(.down))
        var parts = tm()
        gmtime_r(&t, &parts)
        func two(_ n: Int32) -> String { n < 10 ? "0\(n)" : "\(n)" }
        return "\(parts.tm_year + 1900)-\(two(parts.tm_mon + 1))-\(two(parts.tm_mday))T\(two(parts.tm_hour)):\(two(parts.tm_min)):\(two(parts.tm_sec))Z"
    }

    static func milliseconds(_ ms: Double) -> String {
        let r = (ms * 10).rounded() / 10
        return r == r.rounded() ? String(Int(r)) : String(r)
    }
}
