/// One interval's DNS traffic from dnstap: queries per (zone, name, type) in bounded memory
/// (`HeavyHitters`), each kept name's last access, and the frames dropped by reason.
public struct IntervalCounter: Sendable {
    public struct RecordKey: Hashable, Sendable, Comparable {
        public var zone: String
        public var name: String
        public var type: String
        public static func < (a: RecordKey, b: RecordKey) -> Bool { (a.zone, a.name, a.type) < (b.zone, b.name, b.type) }
    }

    public var started: Double
    /// Each kept key's last access rides with its count: an evicted key's goes with it (bounded memory).
    var records: HeavyHitters<RecordKey>
    public private(set) var drops: [String: UInt64] = [:]
    public private(set) var responses: UInt64 = 0

    public init(started: Double, maxNames: Int) {
        self.started = started
        records = HeavyHitters(capacity: maxNames)
    }

    public mutating func add(_ record: DnstapRecord, receivedAt now: Double) {
        guard record.direction == .query else { responses += 1; return }
        let key = RecordKey(zone: record.zone ?? "", name: record.question.name, type: record.question.type)
        records.add(key, at: record.time ?? now)
    }

    public mutating func drop(_ reason: String) { drops[reason, default: 0] += 1 }

    /// The interval as it ends: the `top` records by hits, with hits per second.
    public func sample(ended: Double, top: Int) -> MonitorSample.DNS {
        let seconds = max(0.001, ended - started)
        let rows = records.top(top).map { entry in
            MonitorSample.Record(zone: entry.key.zone, name: entry.key.name, type: entry.key.type, hits: entry.count,
                                 overestimate: entry.error, rps: Double(entry.count) / seconds, lastAccess: entry.lastSeen)
        }
        return MonitorSample.DNS(queries: records.total, responses: responses, records: rows, other: records.other,
                                 distinctKept: records.count, drops: drops)
    }
}
