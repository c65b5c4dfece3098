import Foundation
import Testing

/// pv_monitor against the peers production may bring (issue 27, section 4): Knot and Kea control
/// sockets that answer too slowly or not at all. Every legitimate frame is still counted, each
/// interval ends on time, and a stop takes under 5 s.
extension LabIntegration.MonitorIntegrationTests {
    static let slowControlSockets = Lab.repo.path + "/Tests/Fixtures/slow_control_sockets.py"
    static let dnstapSender = Lab.repo.path + "/Scripts/dnstap_sender.py"

    /// SIGTERM, then the seconds until the process is gone (waited for at most `bound` s, then SIGKILL).
    func secondsToStop(_ server: Server, bound: Double = 15) -> Double {
        let began = Date()
        server.process.terminate()
        while server.process.isRunning && Date().timeIntervalSince(began) < bound { usleep(10_000) }
        let took = Date().timeIntervalSince(began)
        if server.process.isRunning { kill(server.process.processIdentifier, SIGKILL); server.process.waitUntilExit() }
        return took
    }

    /// The last sample as JSON, when there is one that parses.
    func lastSample(_ root: String) -> [String: Any]? {
        FileManager.default.contents(atPath: root + "/state/monitor/last.json")
            .flatMap { try? JSONSerialization.jsonObject(with: $0) as? [String: Any] }
    }

    /// One JSON line a fixture printed (waited for, bounded).
    func jsonLine(_ server: Server, timeout: Double = 10) throws -> [String: Any] {
        try server.waitForLine("{", timeout: timeout)
        return try JSONSerialization.jsonObject(with: Data(server.lastLine.utf8)) as? [String: Any] ?? [:]
    }

    /// A Knot control socket that sends a valid row every 1.5 s and a Kea one that sends a byte every
    /// 1.5 s (each read within its own timeout, the whole answer never): the intervals still end on
    /// time, naming the slow socket; a hung Kea is a timeout; a stream sent meanwhile is counted
    /// whole; and a stop in the middle of it takes under 5 s.
    @Test func slowControlSocketsNeverStallTheInterval() throws {
        try Lab.requireUp()
        let root = try Lab.scratchRoot("monitor-control", overriding: ["monitor_interval": "1", "monitor_listen": "off", "monitor_push": "off"])
        defer { try? FileManager.default.removeItem(atPath: root) }
        try FileManager.default.createDirectory(atPath: root + "/run/monitor/knot", withIntermediateDirectories: true)
        let knotSocket = root + "/run/monitor/knot/knot.sock", keaSocket = root + "/run/monitor/kea4-ctrl.sock"
        var knot = try Server("slow knot", "/usr/bin/python3", [Self.slowControlSockets, "knot", knotSocket, "rows"])
        defer { knot.stop() }
        var kea = try Server("slow kea", "/usr/bin/python3", [Self.slowControlSockets, "kea", keaSocket, "drip"])
        defer { kea.stop() }
        try knot.waitForLine("ready")
        try kea.waitForLine("ready")
        let monitor = try Server("pv_monitor", Lab.binDir + "/pv_monitor", ["run", "--root", root])
        defer { monitor.stop() }
        try monitor.waitForLine("listening for dnstap")
        let sender = try Server("dnstap sender", "/usr/bin/python3", [Self.dnstapSender, root + "/run/monitor/dnstap.sock", "3000", "100", "1000"])
        defer { sender.stop() }
        // Each new sample as it is seen: when, and what it says of Knot and Kea.
        var seen: [(sequence: Int, at: Date, knot: String, kea: String)] = []
        func watch(until done: () -> Bool, timeout: Double) {
            let deadline = Date().addingTimeInterval(timeout)
            while !done() && Date() < deadline {
                if let doc = lastSample(root), let sequence = doc["sequence"] as? Int, sequence != seen.last?.sequence {
                    seen.append((sequence, Date(), (doc["dns_aggregate"] as? [String: Any])?["problem"] as? String ?? "",
                                 (doc["dhcp"] as? [String: Any])?["problem"] as? String ?? ""))
                }
                usleep(20_000)
            }
        }
        watch(until: { seen.count >= 5 }, timeout: 12)
        let gaps = zip(seen.dropFirst(), seen).map { $0.at.timeIntervalSince($1.at) }
        #expect(seen.count >= 5, "samples within 12 s: \(seen.map(\.sequence))")
        #expect(gaps.allSatisfy { $0 < 1.8 }, "between samples: \(gaps.map { ($0 * 100).rounded() / 100 })")
        #expect(seen.last?.knot.contains(knotSocket) == true && seen.last?.knot.contains("within") == true, "\(seen.last?.knot ?? "no sample")")
        #expect(seen.last?.kea.contains(keaSocket) == true && seen.last?.kea.contains("within") == true, "\(seen.last?.kea ?? "no sample")")
        knot.process.terminate()
        let rowsSide = try jsonLine(knot)
        #expect((rowsSide["longest"] as? Double ?? 99) < 2, "the longest request to the Knot that sends rows: \(rowsSide)")
        // A Knot whose one unit never ends (libknot reads it in a single call: only the whole
        // request's bound ends it) and a Kea that never answers: a timeout, not "not its JSON (0 bytes)".
        kea.stop()
        kea = try Server("hung kea", "/usr/bin/python3", [Self.slowControlSockets, "kea", keaSocket, "hang"])
        knot = try Server("endless knot", "/usr/bin/python3", [Self.slowControlSockets, "knot", knotSocket, "items"])
        try kea.waitForLine("ready")
        try knot.waitForLine("ready")
        let marker = seen.count
        watch(until: { seen.count >= marker + 4 }, timeout: 8)
        let laterGaps = zip(seen.dropFirst(marker + 1), seen.dropFirst(marker)).map { $0.at.timeIntervalSince($1.at) }
        #expect(seen.count >= marker + 4 && laterGaps.allSatisfy { $0 < 1.8 }, "between samples: \(laterGaps)")
        #expect(seen.last?.knot.contains("did not answer stats within") == true, "\(seen.last?.knot ?? "no sample")")
        #expect(seen.last?.kea.contains("did not answer") == true && seen.last?.kea.contains("not its JSON") == false, "\(seen.last?.kea ?? "no sample")")
        // The stream sent meanwhile, every frame.
        let sent = try jsonLine(sender, timeout: 40)
        #expect(sent["sent"] as? Int == 3000, "\(sent)")
        var kept = try keptQueries(root)
        let deadline = Date().addingTimeInterval(10)
        while kept.values.reduce(0, +) < 3000 && Date() < deadline { usleep(200_000); kept = try keptQueries(root) }
        #expect(kept.values.reduce(0, +) == 3000, "per interval: \(kept.sorted { $0.key < $1.key })")
        let stop = secondsToStop(monitor)
        #expect(stop < 5, "pv_monitor stopped in \(stop) s")
        knot.process.terminate()
        let itemsSide = try jsonLine(knot)
        // Cut at 0.2 s (the budget at a 1 s interval), seen by the fixture at its next item.
        #expect((itemsSide["longest"] as? Double ?? 99) < 1, "the longest request to the Knot whose unit never ends: \(itemsSide)")
        print("control sockets: \(seen.count) samples, gaps \(gaps.map { ($0 * 100).rounded() / 100 }) then \(laterGaps.map { ($0 * 100).rounded() / 100 }), "
              + "knot: \(seen.last?.knot ?? ""), kea: \(seen.last?.kea ?? ""), rows \(rowsSide), items \(itemsSide), stop \(stop) s")
    }
}
