import Testing
@testable import PVMonitorCLI

/// What a peer sent (a name anyone may ask, a zone or a message from Knot's or Kea's socket, a
/// dnstap sender's drop) printed by show, top and record: escaped, never a line of its own.
@Suite struct MonitorViewEscapingTests {
    static let sample = #"""
        {"sequence": 7, "start": "2026-12-07T00:00:00Z", "end": "2026-12-07T00:00:10Z",
         "dns": {"connections": 1, "problem": "no data\nforged problem", "queries": 2, "other": 0,
                 "drops": {"a reason\nforged drop": 1},
                 "records": [{"zone": "example.\nforged zone", "name": "www.example.\nforged name", "type": "A\u001b[2J",
                              "hits": 2, "rps": 0.2, "last_access": null}]},
         "push": {"broker": "amqp://broker", "problem": "refused\nforged push", "last_confirm": null, "spool_depth": 0, "dropped": 0}}
        """#

    func expectNoForgedLine(_ text: String) {
        let lines = text.split(separator: "\n", omittingEmptySubsequences: false)
        #expect(!lines.contains { $0.hasPrefix("forged") }, "\(text)")
        #expect(!text.contains("\u{1b}"), "\(text)")
        #expect(text.contains(#"\x0Aforged name"#), "\(text)")
    }

    @Test func showEscapesEveryText() {
        let text = MonitorView.table(json: Self.sample)
        expectNoForgedLine(text)
        #expect(text.split(separator: "\n").count == 7, "\(text)")
        #expect(text.contains(#"dropped 1: a reason\x0Aforged drop"#))
    }

    @Test func topEscapesEveryText() {
        let text = MonitorView.top(json: Self.sample, count: 10)
        expectNoForgedLine(text)
        #expect(text.split(separator: "\n").count == 4, "\(text)")
    }

    @Test func recordEscapesEveryText() {
        let answer = #"{"name": "www.example.\nforged name", "found": true, "intervals_searched": 1, "hits": 2,"#
            + #" "intervals": [{"sequence": 7, "end": "now", "records": [{"zone": "example.\nforged zone", "type": "A", "hits": 2, "rps": 0.2}]}]}"#
        let text = MonitorView.record(json: answer)
        expectNoForgedLine(text)
        #expect(text.split(separator: "\n").count == 3, "\(text)")
    }
}
