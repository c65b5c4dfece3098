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
            if let text = sample.info.systemTime, let engineTime = parseRFC3339(text) {
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

    /// `2026-11-26T02:20:47.764470653Z` or with a `+01:00` offset; nil if malformed.
    public static func parseRFC3339(_ s: String) -> Double? {
        let b = Array(s.utf8)
        func number(_ from: Int, _ count: Int) -> Int? {
            guard from + count <= b.count else { return nil }
            var n = 0
            for c in b[from..<from + count] {
                guard c >= 48 && c <= 57 else { return nil }
                n = n * 10 + Int(c - 48)
            }
            return n
        }
        guard b.count >= 20, let year = number(0, 4), b[4] == 45, let month = number(5, 2), b[7] == 45, let day = number(8, 2),
              b[10] == 84 || b[10] == 116 || b[10] == 32, let hour = number(11, 2), b[13] == 58, let minute = number(14, 2),
              b[16] == 58, let second = number(17, 2),
              (1...12).contains(month), (1...31).contains(day), hour < 24, minute < 60, second <= 60 else { return nil }
        var i = 19
        var fraction = 0.0
        if i < b.count, b[i] == 46 {
            i += 1
            var scale = 0.1
            let start = i
            while i < b.count, b[i] >= 48, b[i] <= 57 {
                fraction += Double(b[i] - 48) * scale
                scale /= 10
                i += 1
            }
            guard i > start else { return nil }
        }
        guard i < b.count else { return nil }
        var offset = 0
        if b[i] == 90 || b[i] == 122 {
            guard i + 1 == b.count else { return nil }
        } else if b[i] == 43 || b[i] == 45 {
            guard i + 6 == b.count, let oh = number(i + 1, 2), b[i + 3] == 58, let om = number(i + 4, 2) else { return nil }
            offset = (oh * 3600 + om * 60) * (b[i] == 43 ? 1 : -1)
        } else {
            return nil
        }
        var t = tm()
        t.tm_year = Int32(year - 1900)
        t.tm_mon = Int32(month - 1)
        t.tm_mday = Int32(day)
        t.tm_hour = Int32(hour)
        t.tm_min = Int32(minute)
        t.tm_sec = Int32(second)
        let epoch = timegm(&t)
        return Double(epoch - offset) + fraction
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
