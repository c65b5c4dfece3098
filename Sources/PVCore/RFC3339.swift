#if canImport(Glibc)
import Glibc
#endif

/// Timestamps as Docker prints them and as the heartbeat sends them.
public enum RFC3339 {
    /// `2026-11-26T02:00:30.123Z`: UTC with milliseconds, the profile of RFC 3339 that every JSON
    /// schema validator accepts as `date-time`.
    public static func format(_ secondsSinceEpoch: Double) -> String {
        let whole = secondsSinceEpoch.rounded(.down)
        var t = time_t(whole)
        var tm = Glibc.tm()
        gmtime_r(&t, &tm)
        let millis = min(999, Int(((secondsSinceEpoch - whole) * 1000).rounded(.down)))
        func pad(_ v: Int32, _ width: Int) -> String {
            let s = String(v)
            return String(repeating: "0", count: max(0, width - s.count)) + s
        }
        return "\(pad(tm.tm_year + 1900, 4))-\(pad(tm.tm_mon + 1, 2))-\(pad(tm.tm_mday, 2))T"
            + "\(pad(tm.tm_hour, 2)):\(pad(tm.tm_min, 2)):\(pad(tm.tm_sec, 2)).\(pad(Int32(millis), 3))Z"
    }

    /// `2026-11-26T02:20:47.764470653Z` or with a `+01:00` offset; nil if malformed.
    public static func parse(_ s: String) -> Double? {
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

    /// Whole epoch seconds of a timestamp after 1970 (a container's start; Docker's zero time
    /// `0001-01-01T00:00:00Z` and anything malformed are nil).
    public static func epochSeconds(_ s: String) -> Int? {
        guard let t = parse(s), t >= 86_400 * 365 else { return nil }
        return Int(t.rounded(.down))
    }
}
