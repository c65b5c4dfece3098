import Testing
@testable import PVMonitor

/// Kea's answer to statistic-get-all, as its control socket gives it.
@Suite struct KeaControlTests {
    @Test func theNewestSampleOfEachStatisticIsTaken() throws {
        let answer = #"{ "result": 0, "arguments": { "pkt4-received": [ [ 12, "2026-12-03 10:00:02" ], [ 10, "2026-12-03 10:00:01" ] ], "subnet[1].assigned-addresses": [ [ 3, "2026-12-03 10:00:02" ] ], "reclaimed-leases": [] } }"#
        let figures = try KeaControl.parse(Array(answer.utf8)).get()
        #expect(figures == ["pkt4-received": 12, "subnet[1].assigned-addresses": 3])
    }

    @Test func aRefusalAndGarbageAreSaid() {
        let refused = KeaControl.parse(Array(#"{ "result": 1, "text": "unknown command" }"#.utf8))
        #expect((try? refused.get()) == nil)
        if case .failure(let e) = refused { #expect(e.message.contains("result 1: unknown command")) }
        if case .failure(let e) = KeaControl.parse(Array("<html>".utf8)) { #expect(e.message.contains("not its JSON")) } else { Issue.record("garbage parsed") }
    }

    /// Kea's refusal text ends up in pv_status and pv_diagnostics lines: escaped, never a line of its own.
    @Test func aRefusalsTextIsEscaped() {
        guard case .failure(let e) = KeaControl.parse(Array(#"{ "result": 1, "text": "no\nforged line" }"#.utf8)) else { Issue.record("parsed"); return }
        #expect(!e.message.contains("\n") && e.message.contains(#"no\x0Aforged line"#), "\(e.message)")
    }

    @Test func aNameThatIsNotPrintableIsLeftOut() throws {
        let answer = #"{ "result": 0, "arguments": { "pkt4-sent": [ [ 4, "t" ] ], "bad\nname": [ [ 1, "t" ] ], "caf\u00e9": [ [ 2, "t" ] ] } }"#
        #expect(try KeaControl.parse(Array(answer.utf8)).get() == ["pkt4-sent": 4])
    }
}
