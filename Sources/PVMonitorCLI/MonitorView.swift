#if canImport(FoundationEssentials)
import FoundationEssentials
#else
import Foundation
#endif
import PVCore

/// The last sample as a developer reads it on a terminal: the interval, then records by hits.
/// Every text in it may have come from a peer (a name asked by anyone, a zone or a message from
/// Knot's or Kea's socket, a dnstap sender's drop): each is shown escaped on its own line's part,
/// control characters and line feeds as `\x0A`, so that none can forge a line.
enum MonitorView {
    static func inline(_ text: String) -> String { text.escapingControlsInline }

    /// `pv_monitor top`: the last interval's records by RPS, the busiest first, at most `count`.
    static func top(json: String, count: Int) -> String {
        struct Sample: Decodable {
            struct Record: Decodable { var zone: String; var name: String; var type: String; var hits: Int; var rps: Double; var last_access: String? }
            struct DNS: Decodable { var queries: Int; var problem: String?; var records: [Record] }
            var sequence: Int; var end: String; var dns: DNS
        }
        guard let s = try? JSONDecoder().decode(Sample.self, from: Data(json.utf8)) else { return "the sample does not parse" }
        let rows = s.dns.records.sorted { ($0.rps, $1.name) > ($1.rps, $0.name) }.prefix(max(1, count))
        var lines = ["pv_monitor top: interval #\(s.sequence) ended \(inline(s.end)), \(s.dns.queries) queries"]
        if let problem = s.dns.problem { lines.append(inline(problem)) }
        lines.append("RPS       HITS      TYPE    NAME (ZONE)  LAST ACCESS")
        for r in rows {
            lines.append([fixed2(r.rps, width: 9), String(r.hits).padded(9),
                          inline(r.type).padded(7),
                          "\(inline(r.name)) (\(r.zone.isEmpty ? "-" : inline(r.zone)))  \(inline(r.last_access ?? "-"))"].joined(separator: " "))
        }
        if rows.isEmpty { lines.append("(no queries in this interval)") }
        return lines.joined(separator: "\n")
    }

    /// `pv_monitor record NAME`: the record's intervals, oldest first.
    static func record(json: String) -> String {
        struct Answer: Decodable {
            struct Record: Decodable { var zone: String; var type: String; var hits: Int; var rps: Double }
            struct Interval: Decodable { var sequence: Int; var end: String; var records: [Record] }
            var name: String; var found: Bool; var intervals_searched: Int; var hits: Int; var intervals: [Interval]
        }
        guard let a = try? JSONDecoder().decode(Answer.self, from: Data(json.utf8)) else { return "the answer does not parse" }
        guard a.found else { return "\(inline(a.name)): not among the top records in any of the \(a.intervals_searched) kept intervals" }
        var lines = ["\(inline(a.name)): \(a.hits) hits in \(a.intervals.count) of the \(a.intervals_searched) kept intervals",
                     "INTERVAL  ENDED                     TYPE    HITS      RPS       ZONE"]
        for interval in a.intervals {
            for r in interval.records {
                lines.append([("#" + String(interval.sequence)).padded(9),
                              inline(interval.end).padded(25), inline(r.type).padded(7),
                              String(r.hits).padded(9), fixed2(r.rps, width: 9),
                              r.zone.isEmpty ? "-" : inline(r.zone)].joined(separator: " "))
            }
        }
        return lines.joined(separator: "\n")
    }

    static func table(json: String) -> String {
        struct Sample: Decodable {
            struct Record: Decodable { var zone: String; var name: String; var type: String; var hits: Int; var rps: Double }
            struct DNS: Decodable {
                var connections: Int; var problem: String?; var queries: Int; var other: Int
                var drops: [String: Int]; var records: [Record]
            }
            struct Push: Decodable {
                var broker: String?; var problem: String?; var last_confirm: String?; var spool_depth: Int; var dropped: Int
                var spool_problem: String?
            }
            var start: String; var end: String; var dns: DNS; var push: Push?
        }
        guard let s = try? JSONDecoder().decode(Sample.self, from: Data(json.utf8)) else { return "the sample does not parse" }
        var lines = ["interval \(inline(s.start)) .. \(inline(s.end)): \(s.dns.queries) queries, \(s.dns.connections) dnstap sender(s)"]
        if let problem = s.dns.problem { lines.append(inline(problem)) }
        if let push = s.push, let broker = push.broker {
            lines.append("published to \(inline(broker)): last confirm \(inline(push.last_confirm ?? "never")), \(push.spool_depth) waiting in the spool"
                         + (push.dropped > 0 ? ", \(push.dropped) dropped (spool full)" : ""))
        }
        if let problem = s.push?.problem { lines.append(inline(problem)) }
        if let problem = s.push?.spool_problem { lines.append(inline(problem)) }
        lines.append("HITS      RPS      TYPE    NAME (ZONE)")
        for r in s.dns.records {
            lines.append([String(r.hits).padded(9),
                          fixed2(r.rps, width: 8), inline(r.type).padded(7),
                          "\(inline(r.name)) (\(r.zone.isEmpty ? "-" : inline(r.zone)))"].joined(separator: " "))
        }
        if s.dns.other > 0 { lines.append("\(s.dns.other) more queries beyond the kept names") }
        for (reason, n) in s.dns.drops.sorted(by: { $0.key < $1.key }) { lines.append("dropped \(n): \(inline(reason))") }
        return lines.joined(separator: "\n")
    }
}

extension String {
    /// Cut or padded with spaces to `length` characters (Foundation's `padding(toLength:withPad:startingAt:)`,
    /// which needs full Foundation, and with it ICU in the static pv_monitor: issue 28).
    func padded(_ length: Int) -> String {
        count >= length ? String(prefix(length)) : self + String(repeating: " ", count: length - count)
    }
}

/// `String(format: "%-W.2f", value)` without Foundation: two decimals, left-aligned in `width`.
func fixed2(_ value: Double, width: Int) -> String {
    let scaled = (value * 100).rounded()
    guard scaled.isFinite, scaled.magnitude < 9e18 else { return "\(value)".padded(max(width, "\(value)".count)) }
    let cents = Int(scaled)
    let digits = String(cents.magnitude % 100)
    let text = (cents < 0 ? "-" : "") + String(cents.magnitude / 100) + "." + (digits.count == 1 ? "0" + digits : digits)
    return text.count >= width ? text : text.padded(width)
}
