import PVCore
import PVMonitor
import PVSystem
import Prometheus

/// One sample in the Prometheus text format (swift-prometheus writes it), with names in the style
/// of Knot's and Kea's exporters:
/// - `knot_stats_<section>_<item>_total{type}`: Knot's `stats` (server counters and mod-stats);
/// - `knot_zone_stats_<section>_<item>_total{zone,type}`: each zone's mod-stats;
/// - `kea_dhcp4_<statistic>`, `kea_dhcp4_subnet_<statistic>{subnet}`, `kea_dhcp4_pool_<statistic>{subnet,pool}`;
/// - `pv_monitor_*`: the interval, the records' hits and RPS, the drops, the host's figures.
/// A fresh registry per sample: a record or zone that left the top list leaves the output too.
public struct MetricsExposition {
    enum Kind: Equatable { case counter, gauge }
    struct Family: Equatable {
        var kind: Kind
        var labelNames: [String]
        var help: String
    }

    let registry = PrometheusCollectorRegistry()
    var families: [String: Family] = [:]
    /// Series left out because their name met a family of another kind or labels (a Knot or Kea
    /// counter whose name folds onto another's): the library would stop the process on them.
    public private(set) var skipped = 0

    public init(sample: MonitorSample) {
        for (key, value) in (sample.dnsAggregate ?? [:]).sorted(by: { $0.key < $1.key }) {
            let (name, id) = Self.split(key)
            counter("knot_stats_" + name + "_total", id.map { [("type", $0)] } ?? [], value, help: "Knot's stats counter \(Self.unbracketed(key))")
        }
        for (zone, counters) in (sample.zoneAggregates ?? [:]).sorted(by: { $0.key < $1.key }) {
            for (key, value) in counters.sorted(by: { $0.key < $1.key }) {
                let (name, id) = Self.split(key)
                counter("knot_zone_stats_" + name + "_total", [("zone", zone)] + (id.map { [("type", $0)] } ?? []), value,
                        help: "Knot's zone-stats counter \(Self.unbracketed(key)) per zone")
            }
        }
        for (key, value) in (sample.dhcp ?? [:]).sorted(by: { $0.key < $1.key }) {
            let (name, labels) = Self.keaSeries(key)
            gauge("kea_dhcp4_" + name, labels, Double(value), help: "Kea's statistic \(Self.keaHelpName(key))")
        }
        gauge("pv_monitor_sequence", [], Double(sample.sequence), help: "The interval's number since pv_monitor started")
        gauge("pv_monitor_interval_end_seconds", [], sample.end, help: "When the interval ended (Unix time)")
        gauge("pv_monitor_interval_seconds", [], sample.end - sample.start, help: "The interval's length")
        gauge("pv_monitor_dnstap_connections", [], Double(sample.dnstapConnections), help: "dnstap senders connected")
        gauge("pv_monitor_dns_queries", [], Double(sample.dns.queries), help: "Queries seen by dnstap in the interval")
        gauge("pv_monitor_dns_other_queries", [], Double(sample.dns.other), help: "Queries beyond the kept names in the interval")
        for (reason, count) in sample.dns.drops.sorted(by: { $0.key < $1.key }) {
            gauge("pv_monitor_dns_dropped_frames", [("reason", reason)], Double(count), help: "dnstap frames dropped in the interval, by reason")
        }
        for record in sample.dns.records {
            let labels = [("zone", record.zone), ("name", record.name), ("type", record.type)]
            gauge("pv_monitor_record_hits", labels, Double(record.hits), help: "The interval's queries for a top record")
            gauge("pv_monitor_record_rps", labels, record.rps, help: "The interval's queries per second for a top record")
        }
        if let system = sample.system { addSystem(system) }
    }

    mutating func addSystem(_ system: SystemFigures) {
        for (index, window) in ["1m", "5m", "15m"].enumerated() where (system.load?.count ?? 0) > index {
            gauge("pv_monitor_system_load", [("window", window)], system.load![index], help: "Load average")
        }
        if let cpu = system.cpu {
            gauge("pv_monitor_system_cpu_count", [], Double(cpu.count), help: "CPUs")
            gauge("pv_monitor_system_cpu_busy_percent", [], cpu.busyPercent, help: "CPU busy over the interval")
        }
        if let v = system.memoryTotalBytes { gauge("pv_monitor_system_memory_total_bytes", [], Double(v), help: "Memory") }
        if let v = system.memoryAvailableBytes { gauge("pv_monitor_system_memory_available_bytes", [], Double(v), help: "Memory available") }
        if let v = system.swapTotalBytes { gauge("pv_monitor_system_swap_total_bytes", [], Double(v), help: "Swap") }
        if let v = system.swapFreeBytes { gauge("pv_monitor_system_swap_free_bytes", [], Double(v), help: "Swap free") }
        if let v = system.tcpConnections { gauge("pv_monitor_system_tcp_connections", [], Double(v), help: "Established TCP connections") }
        for disk in system.disks {
            gauge("pv_monitor_system_disk_total_bytes", [("disk", disk.name), ("path", disk.path)], Double(disk.usage.totalBytes), help: "Disk size")
            gauge("pv_monitor_system_disk_available_bytes", [("disk", disk.name), ("path", disk.path)], Double(disk.usage.availableBytes),
                  help: "Disk space available")
        }
    }

    /// The text format, as `/metrics` serves it.
    public func text() -> String { registry.emitToString() }

    mutating func counter(_ name: String, _ labels: [(String, String)], _ value: Int64, help: String) {
        guard admit(name, labels, Family(kind: .counter, labelNames: labels.map(\.0), help: help)) else { return }
        registry.makeCounter(descriptor: Self.descriptor(name, help), labels: labels).increment(by: max(0, value))
    }

    mutating func gauge(_ name: String, _ labels: [(String, String)], _ value: Double, help: String) {
        guard admit(name, labels, Family(kind: .gauge, labelNames: labels.map(\.0), help: help)) else { return }
        registry.makeGauge(descriptor: Self.descriptor(name, help), labels: labels).set(to: value)
    }

    /// The help text escaped inline: it may carry what Knot's socket named a counter, and the
    /// library escapes a backslash in it but not a line feed (a forged series).
    static func descriptor(_ name: String, _ help: String) -> MetricNameDescriptor {
        MetricNameDescriptor(metricName: metricName(name), unitName: "", helpText: help.escapingControlsInline)
    }

    /// Whether a series may join its family: the same kind, label names and help as the family's
    /// first series (swift-prometheus ends the process otherwise).
    mutating func admit(_ name: String, _ labels: [(String, String)], _ family: Family) -> Bool {
        let key = Self.metricName(name)
        if let known = families[key] {
            guard known == family else { skipped += 1; return false }
            return true
        }
        families[key] = family
        return true
    }

    /// A metric name as Prometheus allows it: `[a-zA-Z_:][a-zA-Z0-9_:]*`, other characters as `_`.
    static func metricName(_ raw: String) -> String {
        var out = ""
        var previousUnderscore = false
        for scalar in raw.unicodeScalars {
            let ok = scalar.isASCII && (("a"..."z").contains(scalar) || ("A"..."Z").contains(scalar) || ("0"..."9").contains(scalar))
            if ok { out.unicodeScalars.append(scalar); previousUnderscore = false } else if !previousUnderscore { out += "_"; previousUnderscore = true }
        }
        if let first = out.unicodeScalars.first, ("0"..."9").contains(first) { out = "_" + out }
        return out.lowercased()
    }

    /// `mod-stats.request-protocol[udp4]` → (`mod_stats_request_protocol`, `udp4`).
    static func split(_ key: String) -> (String, String?) {
        guard let open = key.firstIndex(of: "["), key.hasSuffix("]") else { return (metricName(key), nil) }
        let id = String(key[key.index(after: open)..<key.index(before: key.endIndex)])
        return (metricName(String(key[..<open])), id)
    }

    static func unbracketed(_ key: String) -> String { key.firstIndex(of: "[").map { String(key[..<$0]) } ?? key }

    /// `subnet[1].pool[0].assigned-addresses` → (`pool_assigned_addresses`, subnet 1, pool 0);
    /// `subnet[1].total-addresses` → (`subnet_total_addresses`, subnet 1); `pkt4-received` → `pkt4_received`.
    static func keaSeries(_ key: String) -> (String, [(String, String)]) {
        let parts = key.split(separator: ".").map(String.init)
        var labels: [(String, String)] = []
        var scope = ""
        for part in parts.dropLast() {
            guard let open = part.firstIndex(of: "["), part.hasSuffix("]") else { continue }
            let kind = String(part[..<open])
            labels.append((kind, String(part[part.index(after: open)..<part.index(before: part.endIndex)])))
            scope = kind + "_"
        }
        return (metricName(scope + (parts.last ?? key)), labels)
    }

    static func keaHelpName(_ key: String) -> String {
        let (name, labels) = keaSeries(key)
        return labels.isEmpty ? key : "\(name) per \(labels.map(\.0).joined(separator: " and "))"
    }
}
