import PVCore

/// One interval as ProVision receives it from the broker (`Bundle/monitoring.schema.json`): the
/// sample's figures (DNS traffic per record with hits, RPS and last access, the DNS aggregate, DHCP,
/// the host's figures), who sent it, and how many samples before it were dropped from a full spool.
/// The sequence lets the consumer drop a duplicate (delivery is at least once).
public enum MonitorMessage {
    public static let schema = "provision.monitoring/1"
    /// The sample's parts that travel; what the daemon says about itself (pull, push, history) stays local.
    static let carriedParts: Set<String> = ["resource_id", "sequence", "start", "end", "dns", "dns_aggregate", "system", "dhcp"]

    public static func json(_ sample: MonitorSample, host: String, droppedSamples: UInt64) -> JSONValue {
        guard case .object(let parts) = sample.json else { return sample.json }
        return .object([("schema", .string(schema)), ("host", .string(host))]
                       + parts.filter { carriedParts.contains($0.0) }
                       + [("dropped_samples", .int(Int(clamping: droppedSamples)))])
    }

    public static func body(_ sample: MonitorSample, host: String, droppedSamples: UInt64) -> [UInt8] {
        Array(json(sample, host: host, droppedSamples: droppedSamples).rendered.utf8)
    }

    /// The message id the broker carries: `<resource_id>-<sequence>`.
    public static func id(resourceID: String, sequence: UInt64) -> String { "\(resourceID)-\(sequence)" }
}
