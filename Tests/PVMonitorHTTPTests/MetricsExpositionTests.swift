import Testing
@testable import PVMonitor
@testable import PVMonitorHTTP

/// What a Prometheus server scrapes from `/metrics`: Knot's and Kea's counters under their
/// exporters' names, the top records, and never a crash on names that fold together.
@Suite struct MetricsExpositionTests {
    static func sample() -> MonitorSample {
        var s = MonitorSample(resourceID: "srv-1", sequence: 7, start: 1_000, end: 1_010,
                              dns: .init(queries: 30, responses: 30, records: [
                                  .init(zone: "example.com.", name: "www.example.com.", type: "A", hits: 20, overestimate: 0, rps: 2, lastAccess: 1_009),
                                  .init(zone: "example.com.", name: "mail.example.com.", type: "MX", hits: 10, overestimate: 0, rps: 1, lastAccess: nil),
                              ], other: 0, distinctKept: 2, drops: ["truncated frame": 3]),
                              dnstapConnections: 1)
        s.dnsAggregate = ["mod-stats.request-protocol[udp4]": 25, "mod-stats.request-protocol[tcp4]": 5, "server.zone-count": 2]
        s.zoneAggregates = ["example.com.": ["mod-stats.query-type[A]": 20, "mod-stats.query-type[MX]": 10]]
        s.dhcp = ["pkt4-received": 12, "subnet[1].assigned-addresses": 3, "subnet[1].pool[0].total-addresses": 100]
        return s
    }

    /// The value of one series line, by its name and labels as written.
    static func value(_ text: String, _ series: String) -> String? {
        text.split(separator: "\n").first { $0.hasPrefix(series + " ") }.map { String($0.dropFirst(series.count + 1)) }
    }

    @Test func knotAndKeaCountersUnderTheirExportersNames() {
        let text = MetricsExposition(sample: Self.sample()).text()
        #expect(Self.value(text, #"knot_stats_mod_stats_request_protocol_total{type="udp4"}"#) == "25")
        #expect(Self.value(text, #"knot_stats_mod_stats_request_protocol_total{type="tcp4"}"#) == "5")
        #expect(Self.value(text, #"knot_zone_stats_mod_stats_query_type_total{zone="example.com.",type="MX"}"#) == "10")
        #expect(Self.value(text, "kea_dhcp4_pkt4_received") == "12.0")
        #expect(Self.value(text, #"kea_dhcp4_subnet_assigned_addresses{subnet="1"}"#) == "3.0")
        #expect(Self.value(text, #"kea_dhcp4_pool_total_addresses{subnet="1",pool="0"}"#) == "100.0")
        #expect(text.contains("# TYPE knot_stats_mod_stats_request_protocol_total counter"))
        #expect(text.contains("# TYPE kea_dhcp4_pkt4_received gauge"))
    }

    /// What Knot's control socket names (a counter, a zone, a type) never starts a line of its own.
    @Test func aKnotNameWithALineFeedForgesNoLine() {
        var sample = Self.sample()
        sample.dnsAggregate = ["mod-stats.forged\npv_monitor_forged 1\n.x[udp4\nforged 1]": 1]
        sample.zoneAggregates = ["example.\nforged 1": ["mod-stats.query-type[A]": 1]]
        let text = MetricsExposition(sample: sample).text()
        #expect(!text.split(separator: "\n").contains { $0.hasPrefix("pv_monitor_forged") || $0.hasPrefix("forged") }, "\(text)")
    }

    @Test func theTopRecordsAndTheDropsAreThere() {
        let text = MetricsExposition(sample: Self.sample()).text()
        #expect(Self.value(text, #"pv_monitor_record_hits{zone="example.com.",name="www.example.com.",type="A"}"#) == "20.0")
        #expect(Self.value(text, #"pv_monitor_record_rps{zone="example.com.",name="mail.example.com.",type="MX"}"#) == "1.0")
        #expect(Self.value(text, #"pv_monitor_dns_dropped_frames{reason="truncated frame"}"#) == "3.0")
        #expect(Self.value(text, "pv_monitor_sequence") == "7.0")
    }

    @Test func namesThatFoldOntoAnotherFamilyAreSkippedNotFatal() {
        var s = Self.sample()
        // `a-b.c` and `a.b-c` both become knot_stats_a_b_c_total; with and without an id they differ in labels.
        s.dnsAggregate = ["a-b.c": 1, "a.b-c[x]": 2]
        let exposition = MetricsExposition(sample: s)
        #expect(exposition.skipped == 1)
        #expect(Self.value(exposition.text(), "knot_stats_a_b_c_total") == "1")
    }

    @Test func metricNamesAreWhatPrometheusAccepts() {
        #expect(MetricsExposition.metricName("mod-stats.query-type") == "mod_stats_query_type")
        #expect(MetricsExposition.metricName("9lives") == "_9lives")
        #expect(MetricsExposition.metricName("a--b..c") == "a_b_c")
        #expect(MetricsExposition.keaSeries("subnet[2].pool[1].assigned-addresses").0 == "pool_assigned_addresses")
    }
}

/// The RPS tab's search over kept intervals.
@Suite struct RecordSearchTests {
    @Test func aNameIsFoundWhateverItsCaseAndFinalDot() {
        let answer = RecordSearch.answer(name: "WWW.Example.COM", samples: [MetricsExpositionTests.sample()]).rendered
        #expect(answer.contains(#""name":"www.example.com.","found":true"#), "\(answer)")
        #expect(answer.contains(#""hits":20"#))
        #expect(answer.contains(#""type":"A""#))
    }

    @Test func aNameNotCountedIsNotFound() {
        let answer = RecordSearch.answer(name: "nope.example.com.", samples: [MetricsExpositionTests.sample()]).rendered
        #expect(answer.contains(#""found":false"#))
        #expect(answer.contains(#""intervals_searched":1,"hits":0,"intervals":[]"#), "\(answer)")
        #expect(RecordSearch.normalized("") == nil)
        #expect(RecordSearch.normalized(String(repeating: "a", count: 300)) == nil)
    }
}
