#if canImport(Glibc)
import Glibc
#endif
import PVCore
import PVState
import PVSystem

/// The document one heartbeat sends. Its shape is fixed by
/// `Bundle/heartbeat.schema.json`; keys keep this order so payloads diff well.
public struct HeartbeatPayload: Sendable, Equatable {
    public static let schemaVersion = 1

    public var resourceID: String
    public var hostname: String
    public var agentVersion: String
    public var sequence: UInt64
    /// Seconds since the epoch, UTC.
    public var timestamp: Double
    public var report: ComponentReport
    public var system: SystemFigures
    public var warnings: [String]
    /// pv_monitor's health (running, last sample, spool), read from its files; nil: none installed.
    public var monitor: MonitorHealth? = nil

    public var json: JSONValue {
        .object([
            ("schema_version", .int(Self.schemaVersion)),
            ("resource_id", .string(resourceID)),
            ("hostname", .string(hostname)),
            ("agent_version", .string(agentVersion)),
            ("sequence", .int(Int(clamping: sequence))),
            ("timestamp", .string(RFC3339.format(timestamp))),
            ("state", .string(report.overallState)),
            ("enabled_components", .array(report.enabledComponents.map { .string($0.rawValue) })),
            ("docker", .object([("reachable", .bool(report.dockerReachable)), ("error", report.dockerError.map(JSONValue.string) ?? .null)])),
            ("components", .object(Component.allCases.map { c in
                let s = report.components[c] ?? ReportedComponent(state: .unknown, source: "none")
                return (c.rawValue, .object([
                    ("state", .string(s.state.rawValue)), ("version", s.version.map(JSONValue.string) ?? .null),
                    ("container", s.container.map(JSONValue.string) ?? .null), ("source", .string(s.source)),
                ]))
            })),
            ("system", system.json),
            ("monitor", monitor.map { $0.json(now: timestamp) } ?? .null),
            ("warnings", .array(warnings.map(JSONValue.string))),
        ])
    }

    public var bytes: [UInt8] { Array(json.rendered.utf8) }
}

/// The agent's version, sent in every beat.
public enum AgentInfo {
    public static let version = "0.1.0"
}
