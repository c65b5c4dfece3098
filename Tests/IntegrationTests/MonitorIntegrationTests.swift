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

        /// The samples' records written while waiting, by sequence: each interval counted once.
        func collect(_ root: String, until done: ([Int: [[String: Any]]]) -> Bool, timeout: Double = 15) throws -> [Int: [[String: Any]]] {
            func records(_ samples: [Int: [String: Any]]) -> [Int: [[String: Any]]] { samples.mapValues { $0["records"] as? [[String: Any]] ?? [] } }
            return records(dnsSamples(root, timeout: timeout) { done(records($0)) })
        }

        /// The last sample's sequence and `dns` part, when there is one that parses.
        func lastDNS(_ root: String) -> (sequence: Int, dns: [String: Any])? {
            guard let data = FileManager.default.contents(atPath: root + "/state/monitor/last.json"),
                  let doc = try? JSONSerialization.jsonObject(with: data) as? [String: Any],
                  let sequence = doc["sequence"] as? Int, let dns = doc["dns"] as? [String: Any] else { return nil }
            return (sequence, dns)
        }

        /// Each interval's `dns` part as written while waiting, by sequence (each interval once).
        func dnsSamples(_ root: String, timeout: Double = 20, until done: ([Int: [String: Any]]) -> Bool) -> [Int: [String: Any]] {
            var samples: [Int: [String: Any]] = [:]
            let deadline = Date().addingTimeInterval(timeout)
            while Date() < deadline {
                if let last = lastDNS(root) {
                    samples[last.sequence] = last.dns
                    if done(samples) { break }
                }
                usleep(100_000)
            }
            return samples
        }

        /// Each kept interval's query count (`history.sqlite3`, read as a user would, with Python's
        /// sqlite3): every interval, however fast they went by.
        func keptQueries(_ root: String) throws -> [Int: Int] {
            let r = try run("/usr/bin/python3", ["-c", """
                import sqlite3, sys
                for s, q in sqlite3.connect(sys.argv[1]).execute("select sequence, queries from intervals"): print(s, q)
                """, root + "/state/monitor/history.sqlite3"])
            return Dictionary(uniqueKeysWithValues: r.stdout.split(separator: "\n").compactMap { line in
                let f = line.split(separator: " ").compactMap { Int($0) }
                return f.count == 2 ? (f[0], f[1]) : nil
            })
        }

        /// Runs a program while collecting each interval's `dns` part as it is written, then until
        /// `done` (bounded): the samples of the intervals that end while it runs are seen too.
        func dnsSamples(_ root: String, whileRunning path: String, _ arguments: [String], timeout: Double = 60,
                        until done: ([Int: [String: Any]]) -> Bool) throws -> (status: Int32, stdout: String, samples: [Int: [String: Any]]) {
            let process = Process()
            let stdout = Pipe()
            process.executableURL = URL(fileURLWithPath: path)
            process.arguments = arguments
            process.standardOutput = stdout
            process.standardError = FileHandle.nullDevice
            try process.run()
            var samples: [Int: [String: Any]] = [:]
            let deadline = Date().addingTimeInterval(timeout)
            while Date() < deadline {
                if let last = lastDNS(root) { samples[last.sequence] = last.dns }
                if !process.isRunning && done(samples) { break }
                usleep(50_000)
            }
            if process.isRunning { process.terminate() }
            process.waitUntilExit()
            let output = String(decoding: stdout.fileHandleForReading.readDataToEndOfFile(), as: UTF8.self)
            return (process.terminationStatus, output, samples)
        }

        /// A scratch root with pv_monitor running and the DNS component started for it, its Knot
        /// connected to pv_monitor's dnstap socket.
        func monitoredDNS(_ name: String, _ settings: [String: String]) throws -> (root: String, monitor: Server) {
            let root = try Lab.scratchRoot(name, overriding: settings.merging(["monitor_listen": "off"]) { mine, _ in mine })
            let monitor = try Server("pv_monitor", Lab.binDir + "/pv_monitor", ["run", "--root", root])
            try monitor.waitForLine("listening for dnstap")
            #expect(try tool("pv_stop", ["dns", "--root", root]).status == 0)
            let start = try tool("pv_start", ["dns", "-v", "1.1.0", "--root", root], timeout: 60)
            #expect(start.status == 0, "\(start.output)")
            try monitor.waitForLine("a dnstap sender connected (1 connected)", timeout: 15)
            return (root, monitor)
        }

        /// One GET on the pull endpoint, with curl (what an operator or a Prometheus check would run).
        func get(_ port: UInt16, _ path: String) throws -> RunResult {
            try run("/usr/bin/curl", ["-sS", "--max-time", "5", "-w", "\n%{http_code}", "http://127.0.0.1:\(port)\(path)"])
        }

        /// A series' value in the Prometheus text, by its name and labels as written.
        func metric(_ text: String, _ series: String) -> Double? {
            text.split(separator: "\n").first { $0.hasPrefix(series + " ") }.flatMap { Double($0.dropFirst(series.count + 1)) }
        }

        func hits(_ samples: [Int: [[String: Any]]], _ name: String, _ type: String) -> Int {
            samples.values.flatMap { $0 }.filter { $0["name"] as? String == name && $0["type"] as? String == type }
                .reduce(0) { $0 + ($1["hits"] as? Int ?? 0) }
        }

        @Test func queriesSentWithKdigAreCountedExactlyPerNameAndType() throws {
            try Lab.requireUp()
            defer { try? Lab.restoreInstance() }
            let port = freePort(SOCK_STREAM)
            let root = try Lab.scratchRoot("monitor", overriding: ["monitor_interval": "1", "monitor_listen": "127.0.0.1:\(port)"])
            defer { try? FileManager.default.removeItem(atPath: root) }
            let monitor = try Server("pv_monitor", Lab.binDir + "/pv_monitor", ["run", "--root", root])
            defer { monitor.stop() }
            try monitor.waitForLine("serving http://127.0.0.1:\(port)/metrics")
            // The DNS container of this root mounts its socket directory (the contract).
            #expect(try tool("pv_stop", ["dns", "--root", root]).status == 0)
            let start = try tool("pv_start", ["dns", "-v", "1.1.0", "--root", root], timeout: 60)
            #expect(start.status == 0, "\(start.output)")
            // Knot connects at start: wait for the first sample that says so.
            _ = try collect(root) { samples in samples.keys.contains { _ in
                (try? JSONSerialization.jsonObject(with: FileManager.default.contents(atPath: root + "/state/monitor/last.json") ?? Data()) as? [String: Any])
                    .flatMap { ($0["dns"] as? [String: Any])?["connections"] as? Int } == 1 } }

            let udpSeries = #"knot_stats_mod_stats_request_protocol_total{type="udp4"}"#
            let scrape = try get(port, "/metrics")
            #expect(scrape.stdout.hasSuffix("\n200"), "\(scrape.output)")
            let udpBefore = metric(scrape.stdout, udpSeries)
            #expect(udpBefore != nil, "\(scrape.stdout.prefix(2000))")

            let probe = "probe-\(UUID().uuidString.prefix(8).lowercased()).pvverify.test."
            for _ in 0..<3 { try kdig("A", probe) }
            for _ in 0..<2 { try kdig("AAAA", probe) }
            try kdig("MX", probe)
            let samples = try collect(root) { self.hits($0, probe, "A") + self.hits($0, probe, "AAAA") + self.hits($0, probe, "MX") >= 6 }
            #expect(hits(samples, probe, "A") == 3 && hits(samples, probe, "AAAA") == 2 && hits(samples, probe, "MX") == 1,
                    "\(samples.values.flatMap { $0 }.filter { $0["name"] as? String == probe })")

            let show = try tool("pv_monitor", ["show", "--root", root])
            #expect(show.status == 0 && show.stdout.contains("dnstap sender"), "\(show.output)")
            let top = try tool("pv_monitor", ["top", "--once", "--count", "50", "--root", root])
            #expect(top.status == 0 && top.stdout.hasPrefix("pv_monitor top: interval #"), "\(top.output)")

            // Pulled: Knot's counter grew by the queries sent; the RPS search finds the probe's counts.
            var udpAfter = udpBefore ?? 0
            let grown = Date().addingTimeInterval(5)
            while udpAfter < (udpBefore ?? 0) + 6 && Date() < grown {
                udpAfter = metric(try get(port, "/metrics").stdout, udpSeries) ?? udpAfter
                usleep(200_000)
            }
            #expect(udpAfter >= (udpBefore ?? 0) + 6, "\(udpSeries): \(String(describing: udpBefore)) -> \(udpAfter)")
            let rps = try get(port, "/api/v1/rps?name=" + probe.uppercased().dropLast())
            let rpsBody = rps.stdout.split(separator: "\n").first.map(String.init) ?? ""
            let answer = try JSONSerialization.jsonObject(with: Data(rpsBody.utf8)) as? [String: Any]
            #expect(answer?["name"] as? String == probe && answer?["found"] as? Bool == true, "\(rps.output)")
            #expect(answer?["hits"] as? Int == 6, "\(rps.output)")
            #expect(try get(port, "/api/v1/rps").stdout.hasSuffix("\n400"), "no name is a bad request")
            // The same search from the kept history on disk, as a developer runs it; and the table.
            let record = try tool("pv_monitor", ["record", probe, "--json", "--root", root])
            let kept = try JSONSerialization.jsonObject(with: Data(record.stdout.utf8)) as? [String: Any]
            #expect(record.status == 0 && kept?["hits"] as? Int == 6, "\(record.output)")
            let table = try tool("pv_monitor", ["record", probe.uppercased(), "--root", root])
            #expect(table.stdout.hasPrefix("\(probe): 6 hits in "), "\(table.output)")

            // The DNS aggregate from Knot's control socket (mod-stats), counting the same queries.
            let aggregate = (try JSONSerialization.jsonObject(with: FileManager.default.contents(atPath: root + "/state/monitor/last.json") ?? Data())
                as? [String: Any])?["dns_aggregate"] as? [String: Any]
            let counters = aggregate?["counters"] as? [String: Int] ?? [:]
            #expect((counters["mod-stats.request-protocol[udp4]"] ?? 0) >= 6, "\(String(describing: aggregate))")
            #expect((counters["mod-stats.query-type[AAAA]"] ?? 0) >= 2, "\(counters.keys.filter { $0.contains("type") }.sorted())")
            // Per zone (zone-stats), and each record placed in its zone from Knot's zone list.
            let zone = (aggregate?["zones"] as? [String: [String: Int]])?["pvverify.test."] ?? [:]
            #expect((zone["mod-stats.query-type[MX]"] ?? 0) >= 1, "\(String(describing: aggregate?["zones"]))")
            let placed = samples.values.flatMap { $0 }.filter { $0["name"] as? String == probe }.map { $0["zone"] as? String ?? "?" }
            #expect(!placed.isEmpty && placed.allSatisfy { $0 == "pvverify.test." }, "\(placed)")

            // The host's figures, from the heartbeat's reader.
            let doc = try JSONSerialization.jsonObject(with: FileManager.default.contents(atPath: root + "/state/monitor/last.json") ?? Data()) as? [String: Any]
            let system = doc?["system"] as? [String: Any]
            #expect(((system?["memory"] as? [String: Any])?["total_bytes"] as? Int ?? 0) > 0, "\(String(describing: system))")
            #expect((system?["disks"] as? [[String: Any]])?.map { $0["name"] as? String } == ["root", "install root"])
            #expect((system?["tcp_connections"] as? Int ?? -1) >= 0)

            // Restarted, the daemon goes on from the kept history's last sequence (a consumer drops
            // what it has seen by sequence), and the probe is still found.
            let lastBefore = doc?["sequence"] as? Int ?? 0
            monitor.stop()
            let again = try Server("pv_monitor", Lab.binDir + "/pv_monitor", ["run", "--root", root])
            defer { again.stop() }
            try again.waitForLine("listening for dnstap")
            let after = try collect(root) { $0.keys.contains { $0 > lastBefore } }
            #expect(after.keys.contains { $0 > lastBefore }, "sequences after the restart: \(after.keys.sorted()), before: \(lastBefore)")
            #expect(try tool("pv_monitor", ["record", probe, "--root", root]).stdout.hasPrefix("\(probe): 6 hits in "))
        }

        /// Knot restarted inside the DNS container in the middle of an interval (what a crash and
        /// Docker's restart policy do): its dnstap sender ends its stream, Knot comes back and
        /// connects again, and pv_monitor counts the queries before and after in the same interval.
        @Test func theDNSComponentRestartedMidIntervalIsCountedOnItsNewConnection() throws {
            try Lab.requireUp()
            defer { try? Lab.restoreInstance() }
            let (root, monitor) = try monitoredDNS("monitor-restart", ["monitor_interval": "6"])
            defer { monitor.stop(); try? FileManager.default.removeItem(atPath: root) }
            let probe = "restart-\(UUID().uuidString.prefix(8).lowercased()).pvverify.test."
            for _ in 0..<2 { try kdig("A", probe) }
            let restart = try run("/usr/local/bin/docker", ["restart", "-t", "10", Lab.instance["container_prefix"]! + "dns"], environment: ["DOCKER_HOST": Lab.dockerHost])
            #expect(restart.status == 0, "\(restart.output)")
            try monitor.waitForLine("a dnstap sender ended its stream (0 connected)", timeout: 15)
            try monitor.waitForLine("a dnstap sender connected (1 connected)", timeout: 15)
            for _ in 0..<3 { try kdig("A", probe) }
            let samples = dnsSamples(root) { samples in
                samples.values.flatMap { $0["records"] as? [[String: Any]] ?? [] }
                    .filter { $0["name"] as? String == probe }.reduce(0) { $0 + ($1["hits"] as? Int ?? 0) } >= 5
            }
            let counted = samples.mapValues { $0["records"] as? [[String: Any]] ?? [] }
            #expect(hits(counted, probe, "A") == 5, "\(samples)")
            // Nothing of either connection was taken for a bad frame, and the new one is counted.
            #expect(samples.values.allSatisfy { ($0["drops"] as? [String: Any] ?? [:]).isEmpty }, "\(samples.mapValues { $0["drops"] ?? "" })")
            #expect(samples.max { $0.key < $1.key }?.value["connections"] as? Int == 1, "\(samples.mapValues { $0["connections"] ?? "" })")
        }

        /// A flood of names never asked before (a scanner, a random-subdomain attack) through the
        /// real Knot: pv_monitor keeps at most monitor_max_names of them, counts the rest as other,
        /// loses no query, and the one name that is really asked often keeps its count.
        @Test func aRandomNameFloodStaysWithinTheCapAndKeepsTheHeavyHitter() throws {
            try Lab.requireUp()
            defer { try? Lab.restoreInstance() }
            let cap = 100
            let (root, monitor) = try monitoredDNS("monitor-flood", ["monitor_interval": "3", "monitor_max_names": "\(cap)"])
            defer { monitor.stop(); try? FileManager.default.removeItem(atPath: root) }
            // A sample that ends before the flood begins: every later one is the flood's.
            let before = dnsSamples(root, timeout: 10) { !$0.isEmpty }.keys.max() ?? 0
            let heavy = "heavy-\(UUID().uuidString.prefix(8).lowercased()).pvverify.test."
            let (status, output, all) = try dnsSamples(root, whileRunning: "/usr/bin/python3", [
                Lab.repo.path + "/Tests/Fixtures/dns_flood.py", "127.0.0.1", Lab.dnsPort, "pvverify.test", "3000", heavy, "10"]) { samples in
                samples.filter { $0.key > before }.values.reduce(0) { $0 + ($1["queries"] as? Int ?? 0) } >= 3000
            }
            let sent = try JSONSerialization.jsonObject(with: Data(output.utf8)) as? [String: Int] ?? [:]
            #expect(status == 0 && sent["answered"] == 3000 && sent["distinct"] == 2701, "\(output)")
            // Every query of the flood in the samples after it, with none lost (the kept history agrees).
            let samples = all.filter { $0.key > before }
            let sequences = samples.keys.sorted()
            #expect(sequences == Array((before + 1)...(sequences.last ?? before)), "every interval seen: \(sequences)")
            let queries = samples.values.reduce(0) { $0 + ($1["queries"] as? Int ?? 0) }
            // Knot's dnstap sender drops frames rather than wait when its queue is full (on a starved
            // machine, before any reader sees them): through Knot, at most 1 % may be missing, never
            // one too many. pv_monitor itself is held to every frame by everyFrameOfAStreamIsCountedOnce.
            let lostUpstream = 3000 - queries
            #expect(lostUpstream >= 0 && lostUpstream <= 30, "queries counted after the flood: \(queries); per interval: \(samples.mapValues { [$0["queries"] ?? "", $0["connections"] ?? "", $0["drops"] ?? ""] })")
            #expect(try keptQueries(root).filter { $0.key > before }.values.reduce(0, +) == queries, "the kept history says the same")
            for (sequence, dns) in samples {
                let records = dns["records"] as? [[String: Any]] ?? []
                #expect((dns["distinct_kept"] as? Int ?? .max) <= cap && records.count <= cap, "#\(sequence): \(dns["distinct_kept"] ?? "")")
                // What is not attributed with certainty is other: the guaranteed counts and other add up.
                let guaranteed = records.reduce(0) { $0 + ($1["hits"] as? Int ?? 0) - ($1["overestimate"] as? Int ?? 0) }
                #expect(guaranteed + (dns["other"] as? Int ?? 0) == dns["queries"] as? Int, "#\(sequence): \(guaranteed) + \(dns["other"] ?? "")")
            }
            // The heavy hitter: kept in every interval it was asked in, never counted below its true count.
            let heavyRows = samples.values.flatMap { $0["records"] as? [[String: Any]] ?? [] }.filter { $0["name"] as? String == heavy }
            let heavyHits = heavyRows.reduce(0) { $0 + ($1["hits"] as? Int ?? 0) }
            let heavyGuaranteed = heavyRows.reduce(0) { $0 + ($1["hits"] as? Int ?? 0) - ($1["overestimate"] as? Int ?? 0) }
            #expect(heavyGuaranteed <= 300 && heavyHits >= 300 - lostUpstream, "\(heavy): \(heavyRows)")
            // The daemon is still there for the next interval.
            #expect(try tool("pv_monitor", ["show", "--json", "--root", root]).status == 0)
        }

        /// pv_monitor alone, fed by a sender that drops nothing (Knot's own dnstap queue may drop
        /// frames when the machine is starved, before any reader): every frame sent at full speed
        /// is counted, none twice, across the intervals that end while it reads.
        @Test func everyFrameOfAStreamIsCountedOnce() throws {
            try Lab.requireUp()
            let root = try Lab.scratchRoot("monitor-stream", overriding: ["monitor_interval": "1", "monitor_max_names": "1000", "monitor_listen": "off"])
            defer { try? FileManager.default.removeItem(atPath: root) }
            let monitor = try Server("pv_monitor", Lab.binDir + "/pv_monitor", ["run", "--root", root])
            defer { monitor.stop() }
            try monitor.waitForLine("listening for dnstap")
            let before = dnsSamples(root, timeout: 5) { !$0.isEmpty }.keys.max() ?? 0
            let sender = try run("/usr/bin/python3", [Lab.repo.path + "/Scripts/dnstap_sender.py", root + "/run/monitor/dnstap.sock",
                                                      "100000", "5000", "0"], timeout: 120)
            #expect(sender.status == 0 && sender.stdout.contains(#""sent": 100000"#), "\(sender.output)")
            try monitor.waitForLine("a dnstap sender ended its stream (0 connected)")
            // The interval the stream ended in is kept once the next one began.
            var kept = try keptQueries(root)
            let deadline = Date().addingTimeInterval(10)
            while kept.filter({ $0.key > before }).values.reduce(0, +) < 100_000 && Date() < deadline {
                usleep(200_000)
                kept = try keptQueries(root)
            }
            let counted = kept.filter { $0.key > before }
            #expect(counted.values.reduce(0, +) == 100_000, "per interval: \(counted.sorted { $0.key < $1.key })")
            let last = try JSONSerialization.jsonObject(with: FileManager.default.contents(atPath: root + "/state/monitor/last.json") ?? Data()) as? [String: Any]
            let dns = last?["dns"] as? [String: Any] ?? [:]
            #expect((dns["drops"] as? [String: Any])?.isEmpty == true, "\(dns)")
        }

        /// The last sample's Kea statistics, once it has them.
        func keaStatistics(_ root: String) -> [String: Int]? {
            guard let data = FileManager.default.contents(atPath: root + "/state/monitor/last.json"),
                  let doc = try? JSONSerialization.jsonObject(with: data) as? [String: Any] else { return nil }
            return (doc["dhcp"] as? [String: Any])?["statistics"] as? [String: Int]
        }

        @Test func keaStatisticsGrowWithALease() throws {
            try Lab.requireUp()
            defer { try? Lab.restoreInstance() }
            let port = freePort(SOCK_STREAM)
            let root = try Lab.scratchRoot("monitor-kea", overriding: ["monitor_interval": "1", "monitor_listen": "127.0.0.1:\(port)"])
            defer { try? FileManager.default.removeItem(atPath: root) }
            let monitor = try Server("pv_monitor", Lab.binDir + "/pv_monitor", ["run", "--root", root])
            defer { monitor.stop() }
            try monitor.waitForLine("serving http://127.0.0.1:\(port)/metrics")
            // The DHCP container of this root puts Kea's control socket in the mounted directory.
            #expect(try tool("pv_stop", ["dhcp", "--root", root]).status == 0)
            let start = try tool("pv_start", ["dhcp", "-v", "1.1.0", "--root", root], timeout: 60)
            #expect(start.status == 0, "\(start.output)")
            var before: [String: Int]? = nil
            let deadline = Date().addingTimeInterval(15)
            while before == nil && Date() < deadline { before = keaStatistics(root); usleep(200_000) }
            let acksBefore = before?["pkt4-ack-sent"] ?? -1
            #expect(acksBefore >= 0, "Kea's statistics in the sample: \(String(describing: before))")
            let verify = try tool("pv_verify", ["dhcp", "--root", root], timeout: 30)
            #expect(verify.status == 0, "\(verify.output)")
            var after = acksBefore
            while after <= acksBefore && Date() < deadline.addingTimeInterval(10) {
                after = keaStatistics(root)?["pkt4-ack-sent"] ?? after
                usleep(200_000)
            }
            #expect(after == acksBefore + 1, "one lease acknowledged: \(acksBefore) -> \(after)")
            #expect((keaStatistics(root)?["pkt4-received"] ?? 0) >= 2, "the DISCOVER and the REQUEST at least")
            // Pulled as kea-exporter names it.
            var pulled = -1.0
            let scraped = Date().addingTimeInterval(5)
            while pulled < Double(acksBefore + 1) && Date() < scraped {
                pulled = metric(try get(port, "/metrics").stdout, "kea_dhcp4_pkt4_ack_sent") ?? pulled
                usleep(200_000)
            }
            #expect(pulled == Double(acksBefore + 1), "kea_dhcp4_pkt4_ack_sent on /metrics: \(pulled)")
        }
    }
}
