import Testing
@testable import PVMonitorCLI

/// `pv_monitor show` on the push: why samples are not delivered (a broker that blocks publishers)
/// and a spool whose disk is full, each on a line of its own.
@Suite struct MonitorViewPushTests {
    @Test func showSaysTheBrokerBlocksAndTheSpoolsDiskIsFull() {
        let sample = #"""
            {"sequence": 7, "start": "2026-12-07T00:00:00Z", "end": "2026-12-07T00:00:10Z",
             "dns": {"connections": 1, "problem": null, "queries": 0, "other": 0, "drops": {}, "records": []},
             "push": {"broker": "amqp://u@b:5672/%2F", "last_confirm": null, "spool_depth": 9, "dropped": 3,
                      "problem": "samples are not delivered to amqp://u@b:5672/%2F: the broker blocks publishers (its alarm: memory) (9 waiting in /s)",
                      "spool_problem": "the spool's disk is full (/s: No space left on device): the oldest samples make room for the newest, 3 dropped so far and counted in the next message"}}
            """#
        let lines = MonitorView.table(json: sample).split(separator: "\n").map(String.init)
        #expect(lines.contains { $0.contains("9 waiting in the spool, 3 dropped") }, "\(lines)")
        #expect(lines.contains { $0.hasPrefix("samples are not delivered") && $0.contains("the broker blocks publishers (its alarm: memory)") }, "\(lines)")
        #expect(lines.contains { $0.hasPrefix("the spool's disk is full (/s: No space left on device)") }, "\(lines)")
    }
}
