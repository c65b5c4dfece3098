import Foundation
import Testing

/// pv_monitor's publishing under what production brings (issue 27): a broker that blocks
/// publishers (a memory alarm on a RabbitMQ node of the test's own), a broker that comes back
/// after a long outage (the lab's, behind a TCP gate that stops listening), a spool disk that fills
/// up (a real 256 KiB tmpfs). Every sequence is counted
/// at the consumer; the figures each test measured are printed as one `figures:` line.
extension LabIntegration.MonitorPushIntegrationTests {
    func problem(_ sample: [String: Any]?) -> String { ((sample?["push"] as? [String: Any])?["problem"] as? String) ?? "" }
    func sequence(_ sample: [String: Any]?) -> Int { sample?["sequence"] as? Int ?? 0 }
    func dropped(_ sample: [String: Any]?) -> Int { ((sample?["push"] as? [String: Any])?["dropped"] as? Int) ?? 0 }

    /// SIGTERM, then the seconds until the process is gone (at most `bound`; then it is killed).
    func secondsToStop(_ server: Server, bound: Double = 12) -> Double {
        let started = Date()
        kill(server.process.processIdentifier, SIGTERM)
        while server.process.isRunning && Date().timeIntervalSince(started) < bound { usleep(10_000) }
        let seconds = Date().timeIntervalSince(started)
        server.stop()
        return seconds
    }

    /// `count` samples of about 33 kB in `root`'s spool, numbered 1...count: one real sample (100
    /// long names from Scripts/dnstap_sender.py, spooled by a pv_monitor whose broker is away) copied
    /// with each sequence, as 250 samples that waited while the broker was away.
    func spoolLargeSamples(into root: String, count: Int) throws {
        let fill = try Lab.scratchRoot("push-fill", overriding: ["monitor_interval": "1", "monitor_listen": "off",
                                                                 "rabbitmq_uri": "amqp://u:p@127.0.0.1:\(freePort(SOCK_STREAM))/%2F"])
        defer { try? FileManager.default.removeItem(atPath: fill) }
        let monitor = try Server("pv_monitor", Lab.binDir + "/pv_monitor", ["run", "--root", fill])
        defer { monitor.stop() }
        try monitor.waitForLine("listening for dnstap")
        let sender = try Server("dnstap_sender", "/usr/bin/python3", [Lab.repo.path + "/Scripts/dnstap_sender.py", fill + "/run/monitor/dnstap.sock",
                                                                      "40000", "100", "400", "3"])
        defer { sender.stop() }
        let spool = fill + "/spool/monitoring"
        func largest() -> (name: String, size: Int)? {
            ((try? FileManager.default.contentsOfDirectory(atPath: spool)) ?? []).filter { $0.hasSuffix(".json") && !$0.hasPrefix(".") }
                .map { ($0, (try? FileManager.default.attributesOfItem(atPath: spool + "/" + $0)[.size] as? Int) ?? 0) }
                .max { $0.1 < $1.1 }
        }
        let deadline = Date().addingTimeInterval(30)
        while (largest()?.size ?? 0) < 30_000 && Date() < deadline { usleep(100_000) }
        let template = try #require(largest(), "no sample was spooled")
        try #require(template.size >= 30_000, "the largest spooled sample has \(template.size) bytes")
        var doc = try #require(try JSONSerialization.jsonObject(with: Data(contentsOf: URL(fileURLWithPath: spool + "/" + template.name))) as? [String: Any])
        let target = root + "/spool/monitoring"
        try FileManager.default.createDirectory(atPath: target, withIntermediateDirectories: true, attributes: [.posixPermissions: 0o700])
        doc["dropped_samples"] = 0
        for n in 1...count {
            doc["sequence"] = n
            let name = String(repeating: "0", count: 20 - String(n).count) + "\(n).0.json"
            try JSONSerialization.data(withJSONObject: doc).write(to: URL(fileURLWithPath: target + "/" + name))
        }
    }

    /// The connections the broker holds (whatever their state).
    func connections(_ broker: PrivateBroker) -> [String] {
        guard let r = try? broker.ctl(["list_connections", "-q", "--no-table-headers", "peer_port", "state"]), r.status == 0 else { return ["?"] }
        return r.stdout.split(separator: "\n").map { $0.trimmingCharacters(in: .whitespaces) }.filter { !$0.isEmpty }
    }

    /// The audit's case: 250 samples of 33 kB spooled, the broker under a memory alarm (it sends
    /// connection.blocked and stops reading). pv_monitor says so (its sample, show, pv_status,
    /// pv_diagnostics' rabbitmq and monitor checks), holds one connection and waits on it, and a
    /// SIGTERM ends it within 5 s. A second pv_monitor waits the same way until the alarm is
    /// lifted, then every sample arrives within seconds, at most the unconfirmed window twice.
    @Test func aBrokerThatBlocksPublishersIsNamedHoldsOneConnectionAndAStopEndsAtOnce() throws {
        let (queue, exchange) = names()
        let broker = try PrivateBroker()
        let root = try pushRoot("push-blocked", queue: queue, exchange: exchange, uri: broker.uri())
        defer { try? FileManager.default.removeItem(atPath: root) }
        try spoolLargeSamples(into: root, count: 250)
        let alarm = try broker.ctl(["set_vm_memory_high_watermark", "0.0001"])
        try #require(alarm.status == 0, "\(alarm.output)")

        let first = try Server("pv_monitor", Lab.binDir + "/pv_monitor", ["run", "--root", root])
        defer { first.stop() }
        let started = Date()
        let blocked = waitForSample(root, timeout: 20) { self.problem($0).contains("blocks publishers") }
        let reportedAfter = Date().timeIntervalSince(started)
        #expect(problem(blocked).contains("the broker blocks publishers (its alarm: memory)"), "\(problem(blocked))")
        #expect(!problem(blocked).contains(broker.password))
        // Over 8 s of the block (a retry every few seconds would show), one connection at most.
        var most = 0
        var seen: Set<String> = []
        let watchUntil = Date().addingTimeInterval(8)
        repeat {
            let now = connections(broker)
            most = max(most, now.count)
            seen.formUnion(now.map { String($0.split(separator: "\t").first ?? "") })
            usleep(500_000)
        } while Date() < watchUntil
        #expect(most == 1 && seen.count == 1, "connections while blocked: at most \(most) at once, \(seen.count) in all")
        let show = try tool("pv_monitor", ["show", "--root", root])
        #expect(show.output.contains("the broker blocks publishers (its alarm: memory)"), "\(show.output.prefix(600))")
        let status = try tool("pv_status", ["--root", root])
        #expect(status.output.contains("the broker blocks publishers (its alarm: memory)"), "\(status.output)")
        let diagnostics = try tool("pv_diagnostics", ["--root", root], timeout: 60)
        let rabbitmqLine = diagnostics.output.split(separator: "\n").first { $0.contains("rabbitmq") && !$0.contains("monitor") } ?? ""
        #expect(rabbitmqLine.contains("blocks publishers (its alarm: memory)"), "\(diagnostics.output)")
        let monitorLines = diagnostics.output.split(separator: "\n").filter { $0.contains("monitor") }.joined(separator: "\n")
        #expect(monitorLines.contains("blocks publishers (its alarm: memory)"), "\(diagnostics.output)")
        let firstStop = secondsToStop(first)
        #expect(firstStop < 5, "SIGTERM to exit under a blocked broker: \(firstStop) s")

        // A new pv_monitor, the alarm still on: it waits on its one connection, and delivers as soon as the alarm goes.
        let second = try Server("pv_monitor", Lab.binDir + "/pv_monitor", ["run", "--root", root])
        defer { second.stop() }
        let waiting = waitForSample(root, timeout: 20) { self.sequence($0) > self.sequence(blocked) && self.problem($0).contains("blocks publishers") }
        #expect(problem(waiting).contains("blocks publishers"), "\(problem(waiting))")
        let lifted = try broker.ctl(["set_vm_memory_high_watermark", "0.4"])
        try #require(lifted.status == 0, "\(lifted.output)")
        let liftedAt = Date()
        let back = waitForSample(root, timeout: 60) { self.delivered($0) }
        let deliveredAfter = Date().timeIntervalSince(liftedAt)
        #expect(back.map(delivered) == true && deliveredAfter < 10, "delivered \(deliveredAfter) s after the alarm went: \(String(describing: back?["push"]))")
        let secondStop = secondsToStop(second)
        #expect(secondStop < 5, "SIGTERM to exit: \(secondStop) s")
        let last = sequence(lastSample(root))
        let got = try consume(broker.uri(), queue: queue, count: last, timeout: 60, deleteExchange: exchange)
        #expect(got.sequences.sorted() == Array(1...max(1, last)), "sequences at the consumer: \(got.sequences.count) of \(last)")
        #expect(got.invalid.isEmpty, "\(got.invalid)")
        // What the stopped pv_monitor had in flight on its blocked connection is taken by the broker
        // once the alarm goes, and sent again by the next: at most the publisher's window (1 MiB: 31 of these samples).
        #expect(got.duplicates <= 32, "duplicates: \(got.duplicates)")
        print("figures: blocked reported after \(fmt(reportedAfter)) s; connections at most \(most) (\(seen.count) in all); "
              + "SIGTERM to exit \(fmt(firstStop)) s and \(fmt(secondStop)) s; delivered \(fmt(deliveredAfter)) s after the alarm went; "
              + "\(got.sequences.count) of \(last) sequences, \(got.duplicates) duplicates")
    }

    func fmt(_ seconds: Double) -> String { String(format: "%.1f", seconds) }

    /// The broker unreachable (nothing listens: a connect is refused) long enough for a backoff to
    /// reach 32 s, then back: it is used within seconds (a broker that accepts TCP again is tried
    /// at once), not at the next try of the backoff.
    @Test func aBrokerThatComesBackAfterALongOutageGetsTheSamplesWithinSeconds() throws {
        let (queue, exchange) = names()
        let base = try labURI()
        let gate = try Gate()
        let root = try pushRoot("push-back", queue: queue, exchange: exchange, uri: uri(base, port: gate.port))
        defer { try? FileManager.default.removeItem(atPath: root) }
        let monitor = try Server("pv_monitor", Lab.binDir + "/pv_monitor", ["run", "--root", root])
        defer { monitor.stop() }
        waitForSample(root) { ($0["push"] as? [String: Any])?["last_confirm"] is String }
        try gate.set("refused")
        // 42 s away: with 1 s doubling (x0.8-1.2) the tries would be at 0, 1-1.2, 2.4-3.6, 5.6-8.4,
        // 12-18, 24.8-37.2 and next at 50.4-75.6 s.
        let away = waitForSample(root, timeout: 70) { self.spoolDepth($0) >= 42 }
        #expect(spoolDepth(away ?? [:]) >= 42)
        #expect(problem(away).contains("refused the connection") && problem(away).contains("next try in 1 s"), "\(problem(away))")
        try gate.set("open")
        let backAt = Date()
        let back = waitForSample(root, timeout: 60) { self.delivered($0) }
        let deliveredAfter = Date().timeIntervalSince(backAt)
        #expect(back.map(delivered) == true && deliveredAfter < 5, "delivered \(deliveredAfter) s after the broker accepted connections again")
        let stopSeconds = secondsToStop(monitor)
        let last = sequence(lastSample(root))
        let got = try consume(base, queue: queue, count: last, timeout: 30, deleteExchange: exchange)
        #expect(got.sequences == Array(1...max(1, last)), "sequences at the consumer: \(got.sequences), last \(last)")
        print("figures: delivered \(fmt(deliveredAfter)) s after the broker was back (\(spoolDepth(away ?? [:])) spooled); "
              + "SIGTERM to exit \(fmt(stopSeconds)) s; \(got.sequences.count) of \(last) sequences, \(got.duplicates) duplicates")
    }

    /// The spool on a full disk (a 256 KiB tmpfs; monitor_spool_mb far above it), the broker away,
    /// samples of 33 kB: the oldest spooled make room for the newest, each counted; pv_status names
    /// the full disk; the first message after the gap tells the consumer how many; the newest arrive.
    @Test func aFullSpoolDiskDropsTheOldestCountsThemAndTheConsumerIsTold() throws {
        let (queue, exchange) = names()
        let base = try labURI()
        let gate = try Gate()
        let root = try pushRoot("push-disk-full", queue: queue, exchange: exchange, uri: uri(base, port: gate.port))
        defer { try? FileManager.default.removeItem(atPath: root) }
        let spool = root + "/spool"
        try FileManager.default.createDirectory(atPath: spool, withIntermediateDirectories: true)
        let mounted = try run("/bin/mount", ["-t", "tmpfs", "-o", "size=256k,mode=0700", "tmpfs", spool])
        try #require(mounted.status == 0, "\(mounted.output)")
        defer { _ = try? run("/bin/umount", [spool]) }
        let monitor = try Server("pv_monitor", Lab.binDir + "/pv_monitor", ["run", "--root", root])
        defer { monitor.stop() }
        try monitor.waitForLine("listening for dnstap")
        waitForSample(root) { ($0["push"] as? [String: Any])?["last_confirm"] is String }
        try gate.set("closed")
        let sender = try Server("dnstap_sender", "/usr/bin/python3", [Lab.repo.path + "/Scripts/dnstap_sender.py", root + "/run/monitor/dnstap.sock",
                                                                      "40000", "100", "400", "3"])
        defer { sender.stop() }
        var largest = 0
        let full = waitForSample(root, timeout: 45) { s in
            largest = max(largest, (s["push"] as? [String: Any])?["spool_bytes"] as? Int ?? 0)
            return self.dropped(s) >= 5
        }
        #expect(dropped(full) >= 5, "\(String(describing: full?["push"]))")
        let status = try tool("pv_status", ["--root", root])
        #expect(status.output.contains("the spool's disk is full"), "\(status.output)")
        sender.stop()
        let newest = sequence(lastSample(root))
        try gate.set("open")
        waitForSample(root, timeout: 60) { self.delivered($0) && self.sequence($0) > newest }
        let stopSeconds = secondsToStop(monitor)
        let last = sequence(lastSample(root))
        let droppedInAll = dropped(lastSample(root))
        let got = try consume(base, queue: queue, count: last - droppedInAll, timeout: 60, deleteExchange: exchange)
        let missing = Set(1...max(1, last)).subtracting(got.sequences).sorted()
        #expect(droppedInAll >= 5 && missing.count == droppedInAll && got.droppedSamples == droppedInAll,
                "missing \(missing), told \(got.droppedSamples), pv_monitor dropped \(droppedInAll)")
        // The oldest spooled went (one run of sequences after the last confirmed), the newest arrived.
        #expect(missing.count > 0 && missing.last! - missing.first! == missing.count - 1, "\(missing)")
        #expect(got.sequences.contains(newest) && got.sequences.contains(newest - 1), "the newest spooled (#\(newest)) arrived: \(got.sequences)")
        #expect(got.sequences == got.sequences.sorted() && got.invalid.isEmpty, "\(got.sequences) \(got.invalid)")
        print("figures: spool at most \(largest) bytes on 256 KiB; \(missing.count) of \(last) samples missing (\(missing.first ?? 0)...\(missing.last ?? 0)), "
              + "pv_monitor counted \(droppedInAll), the consumer was told \(got.droppedSamples); SIGTERM to exit \(fmt(stopSeconds)) s")
    }
}
