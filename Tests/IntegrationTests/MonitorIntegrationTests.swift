import Foundation
import Testing

extension LabIntegration {
    /// pv_monitor on the lab: the DNS component's real Knot sends dnstap to pv_monitor's socket
    /// (the components' contract), and the queries sent with kdig come out counted exactly.
    @Suite struct MonitorIntegrationTests {
        func kdig(_ type: String, _ name: String) throws {
            let r = try run("/usr/bin/kdig", ["@127.0.0.1", "-p", Lab.dnsPort, "+time=1", "+retry=0", type, name])
            #expect(r.status == 0, "\(r.output)")
        }

        /// The samples written while waiting, by sequence: each interval counted once.
        func collect(_ root: String, until done: ([Int: [[String: Any]]]) -> Bool, timeout: Double = 15) throws -> [Int: [[String: Any]]] {
            var samples: [Int: [[String: Any]]] = [:]
            let deadline = Date().addingTimeInterval(timeout)
            while Date() < deadline {
                if let data = FileManager.default.contents(atPath: root + "/state/monitor/last.json"),
                   let doc = try? JSONSerialization.jsonObject(with: data) as? [String: Any],
                   let sequence = doc["sequence"] as? Int, let dns = doc["dns"] as? [String: Any] {
                    samples[sequence] = dns["records"] as? [[String: Any]] ?? []
                    if done(samples) { break }
                }
                usleep(200_000)
            }
            return samples
        }

        func hits(_ samples: [Int: [[String: Any]]], _ name: String, _ type: String) -> Int {
            samples.values.flatMap { $0 }.filter { $0["name"] as? String == name && $0["type"] as? String == type }
                .reduce(0) { $0 + ($1["hits"] as? Int ?? 0) }
        }

        @Test func queriesSentWithKdigAreCountedExactlyPerNameAndType() throws {
            try Lab.requireUp()
            defer { try? Lab.restoreInstance() }
            let root = try Lab.scratchRoot("monitor", overriding: ["monitor_interval": "1"])
            defer { try? FileManager.default.removeItem(atPath: root) }
            let monitor = try Server("pv_monitor", Lab.binDir + "/pv_monitor", ["run", "--root", root])
            defer { monitor.stop() }
            try monitor.waitForLine("listening for dnstap")
            // The DNS container of this root mounts its socket directory (the contract).
            #expect(try tool("pv_stop", ["dns", "--root", root]).status == 0)
            let start = try tool("pv_start", ["dns", "-v", "1.1.0", "--root", root], timeout: 60)
            #expect(start.status == 0, "\(start.output)")
            // Knot connects at start: wait for the first sample that says so.
            _ = try collect(root) { samples in samples.keys.contains { _ in
                (try? JSONSerialization.jsonObject(with: FileManager.default.contents(atPath: root + "/state/monitor/last.json") ?? Data()) as? [String: Any])
                    .flatMap { ($0["dns"] as? [String: Any])?["connections"] as? Int } == 1 } }

            let probe = "probe-\(UUID().uuidString.prefix(8).lowercased()).pvverify.test."
            for _ in 0..<3 { try kdig("A", probe) }
            for _ in 0..<2 { try kdig("AAAA", probe) }
            try kdig("MX", probe)
            let samples = try collect(root) { self.hits($0, probe, "A") + self.hits($0, probe, "AAAA") + self.hits($0, probe, "MX") >= 6 }
            #expect(hits(samples, probe, "A") == 3 && hits(samples, probe, "AAAA") == 2 && hits(samples, probe, "MX") == 1,
                    "\(samples.values.flatMap { $0 }.filter { $0["name"] as? String == probe })")

            let show = try tool("pv_monitor", ["show", "--root", root])
            #expect(show.status == 0 && show.stdout.contains("dnstap sender"), "\(show.output)")
        }
    }
}
