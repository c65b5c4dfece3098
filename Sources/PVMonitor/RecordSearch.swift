import PVCore

/// The RPS tab's search: one record name's hits and RPS in each kept interval, by type.
/// Names are compared as pv_monitor keeps them: lowercase, ending with the root label, so
/// `WWW.Example.com` finds `www.example.com.`.
public enum RecordSearch {
    /// The name as it is kept; nil when it is empty or longer than a DNS name can be.
    public static func normalized(_ name: String) -> String? {
        let trimmed = name.trimmingWhitespace().lowercased()
        guard !trimmed.isEmpty, trimmed.utf8.count <= 254 else { return nil }
        return trimmed.hasSuffix(".") ? trimmed : trimmed + "."
    }

    /// Every interval of `samples` (oldest first) with the name's records; `found` says whether any
    /// interval counted it. A name beyond monitor_max_names in a busy interval is not listed there
    /// (its queries are in that interval's `other`).
    public static func answer(name: String, samples: [MonitorSample], searched: Int? = nil) -> JSONValue {
        let wanted = normalized(name) ?? name
        var intervals: [JSONValue] = []
        var total: UInt64 = 0
        for sample in samples.sorted(by: { $0.start < $1.start }) {
            let records = sample.dns.records.filter { $0.name == wanted }
            guard !records.isEmpty else { continue }
            total += records.reduce(0) { $0 + $1.hits }
            intervals.append(.object([
                ("sequence", .int(Int(clamping: sample.sequence))),
                ("start", .string(RFC3339.format(sample.start))), ("end", .string(RFC3339.format(sample.end))),
                ("records", .array(records.sorted { $0.type < $1.type }.map { r in
                    .object([("zone", .string(r.zone)), ("type", .string(r.type)), ("hits", .int(Int(clamping: r.hits))),
                             ("rps", .number((r.rps * 1000).rounded() / 1000)),
                             ("last_access", r.lastAccess.map { .string(RFC3339.format($0)) } ?? .null)])
                })),
            ]))
        }
        return .object([
            ("name", .string(wanted)), ("found", .bool(!intervals.isEmpty)),
            ("intervals_searched", .int(searched ?? samples.count)), ("hits", .int(Int(clamping: total))),
            ("intervals", .array(intervals)),
        ])
    }
}
