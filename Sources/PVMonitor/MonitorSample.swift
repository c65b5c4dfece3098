import PVCore
import PVSystem

/// One interval of monitoring data, as `pv_monitor show` prints it and as it is kept:
/// `<root>/state/monitor/last.json`.
public struct MonitorSample: Sendable, Equatable {
    public struct Record: Sendable, Equatable {
        public var zone: String
        public var name: String
        public var type: String
        public var hits: UInt64
        /// The most `hits` may exceed the true count by (Space-Saving's error): 0 while names fit.
        public var overestimate: UInt64
        public var rps: Double
        public var lastAccess: Double?
    }

    public struct DNS: Sendable, Equatable {
        public var queries: UInt64
        public var responses: UInt64
        public var records: [Record]
        /// Queries not attributed with certainty to a listed record (beyond monitor_max_names).
        public var other: UInt64
        public var distinctKept: Int
        public var drops: [String: UInt64]
    }

    public var resourceID: String
    /// Where this sample can be pulled from (`/metrics`), or why it cannot.
    public var pull = PullStatus()
    /// Where this sample is published to (RabbitMQ), and how that goes.
    public var push = PushStatus()
    public var sequence: UInt64
    public var start: Double
    public var end: Double
    public var dns: DNS
    /// Senders connected to the dnstap socket when the interval ended; nil: why there is no DNS data.
    public var dnstapConnections: Int
    public var dnsProblem: String?
    /// Knot's `stats` counters (server and mod-stats), nil when not asked or unanswered.
    public var dnsAggregate: [String: Int64]?
    public var dnsAggregateProblem: String?
    /// Each zone's mod-stats counters (`zone-stats`), nil when not asked or unanswered.
    public var zoneAggregates: [String: [String: Int64]]?
    /// Kea's statistics (`statistic-get-all`), nil when not asked (no DHCP) or unanswered.
    public var dhcp: [String: Int64]?
    public var dhcpProblem: String?
    /// The host's figures (the heartbeat's reader): load, CPU, memory, swap, disks, TCP connections.
    public var system: SystemFigures?
    /// Why this interval is not in the kept history (`history.sqlite3`), nil when it is.
    public var historyProblem: String?

    public var json: JSONValue {
        let records: JSONValue = .array(dns.records.map { r in
            .object([("zone", .string(r.zone)), ("name", .string(r.name)), ("type", .string(r.type)),
                     ("hits", .int(Int(clamping: r.hits))), ("overestimate", .int(Int(clamping: r.overestimate))),
                     ("rps", .number((r.rps * 1000).rounded() / 1000)),
                     ("last_access", r.lastAccess.map { .string(RFC3339.format($0)) } ?? .null)])
        })
        let drops: JSONValue = .object(dns.drops.sorted { $0.key < $1.key }.map { ($0.key, .int(Int(clamping: $0.value))) })
        let dnsPart: JSONValue = .object([
            ("source", .string("dnstap")), ("connections", .int(dnstapConnections)),
            ("problem", dnsProblem.map(JSONValue.string) ?? .null),
            ("queries", .int(Int(clamping: dns.queries))), ("responses", .int(Int(clamping: dns.responses))),
            ("other", .int(Int(clamping: dns.other))), ("distinct_kept", .int(dns.distinctKept)),
            ("drops", drops), ("records", records),
        ])
        let zones: JSONValue = zoneAggregates.map { zones in .object(zones.sorted { $0.key < $1.key }.map { ($0.key, Self.counters($0.value)) }) } ?? .null
        let aggregate: JSONValue = .object([
            ("source", .string("knot")), ("problem", dnsAggregateProblem.map(JSONValue.string) ?? .null),
            ("counters", dnsAggregate.map(Self.counters) ?? .null), ("zones", zones),
        ])
        let pullPart: JSONValue = .object([("listen", pull.listen.map(JSONValue.string) ?? .null),
                                           ("problem", pull.problem.map(JSONValue.string) ?? .null)])
        let dhcpPart: JSONValue = .object([
            ("source", .string("kea")), ("problem", dhcpProblem.map(JSONValue.string) ?? .null),
            ("statistics", dhcp.map(Self.counters) ?? .null),
        ])
        return .object([
            ("resource_id", .string(resourceID)), ("sequence", .int(Int(clamping: sequence))),
            ("start", .string(RFC3339.format(start))), ("end", .string(RFC3339.format(end))),
            ("dns", dnsPart), ("dns_aggregate", aggregate), ("system", system?.json ?? .null),
            ("history", .object([("problem", historyProblem.map(JSONValue.string) ?? .null)])),
            ("pull", pullPart), ("push", push.json), ("dhcp", dhcpPart),
        ])
    }

    /// Named counters as one JSON object, by name.
    static func counters(_ values: [String: Int64]) -> JSONValue {
        .object(values.sorted { $0.key < $1.key }.map { ($0.key, .int(Int(clamping: $0.value))) })
    }
}
