import PVCore

/// pv_monitor's publishing as a sample reports it: to which broker, the last confirm, what waits in
/// the spool, and why it does not deliver now (nil `broker`: `monitor_push = off`).
public struct PushStatus: Sendable, Equatable {
    /// `amqp://user@host:port/vhost`, never the password.
    public var broker: String?
    public var problem: String?
    /// When the broker last confirmed a sample (seconds since the epoch).
    public var lastConfirm: Double?
    public var spoolDepth = 0
    public var spoolBytes = 0
    /// Samples dropped from the full spool (or its full disk) since pv_monitor started.
    public var dropped: UInt64 = 0
    /// The spool's disk is full: the oldest samples make room for the newest (nil otherwise).
    public var spoolProblem: String?

    public init(broker: String? = nil, problem: String? = nil) {
        self.broker = broker
        self.problem = problem
    }

    public var json: JSONValue {
        .object([("broker", broker.map(JSONValue.string) ?? .null), ("problem", problem.map(JSONValue.string) ?? .null),
                 ("last_confirm", lastConfirm.map { .string(RFC3339.format($0)) } ?? .null),
                 ("spool_depth", .int(spoolDepth)), ("spool_bytes", .int(spoolBytes)), ("dropped", .int(Int(clamping: dropped))),
                 ("spool_problem", spoolProblem.map(JSONValue.string) ?? .null)])
    }
}
