import Foundation
import Testing

extension LabIntegration {
    /// pv_monitor publishing to the lab's real RabbitMQ, each test with a queue and exchange of its
    /// own (deleted at the end), consumed by a stand-in for ProVision (pika) that validates every
    /// message against Bundle/monitoring.schema.json and counts the sequences that arrive.
    @Suite struct MonitorPushIntegrationTests {
        /// The lab's broker URI (with its password: only ever passed to the consumer and the config).
        func labURI() throws -> String {
            let line = try Lab.configText().split(separator: "\n").first { $0.hasPrefix("rabbitmq_uri") }
            return String(line?.split(separator: "=", maxSplits: 1).last ?? "").trimmingCharacters(in: .whitespaces)
        }

        /// The same broker through the gate's port.
        func uri(_ base: String, port: UInt16) -> String {
            base.replacingOccurrences(of: ":5672/", with: ":\(port)/")
        }

        struct Consumed {
            var sequences: [Int] = []
            var duplicates = 0
            var invalid: [String] = []
            var droppedSamples = 0
            var hosts: [String] = []
            var records: [String: Int] = [:]
        }

        func consume(_ uri: String, queue: String, count: Int, timeout: Double = 30, deleteExchange: String? = nil) throws -> Consumed {
            var args = [Lab.repo.path + "/Tests/Fixtures/monitoring_consumer.py", uri, queue, "\(count)", "\(timeout)"]
            if let deleteExchange { args += ["--delete", deleteExchange] }
            let r = try run("/usr/bin/python3", args, timeout: timeout + 30)
            guard r.status == 0, let doc = try JSONSerialization.jsonObject(with: Data(r.stdout.utf8)) as? [String: Any] else {
                throw LabError("the consumer failed: \(r.stderr.split(separator: "\n").suffix(4).joined(separator: " | "))")
            }
            return Consumed(sequences: doc["sequences"] as? [Int] ?? [], duplicates: doc["duplicates"] as? Int ?? -1,
                            invalid: doc["invalid"] as? [String] ?? ["?"], droppedSamples: doc["dropped_samples"] as? Int ?? -1,
                            hosts: doc["hosts"] as? [String] ?? [], records: doc["records"] as? [String: Int] ?? [:])
        }

        func lastSample(_ root: String) -> [String: Any]? {
            FileManager.default.contents(atPath: root + "/state/monitor/last.json")
                .flatMap { try? JSONSerialization.jsonObject(with: $0) as? [String: Any] }
        }

        func push(_ root: String) -> [String: Any] { lastSample(root)?["push"] as? [String: Any] ?? [:] }

        /// Waits (bounded) until the last sample says what `done` wants.
        @discardableResult
        func waitForSample(_ root: String, timeout: Double = 20, _ done: ([String: Any]) -> Bool) -> [String: Any]? {
            let deadline = Date().addingTimeInterval(timeout)
            while Date() < deadline {
                if let s = lastSample(root), done(s) { return s }
                usleep(100_000)
            }
            return lastSample(root)
        }

        /// A gate in front of the lab's broker (Tests/Fixtures/tcp_gate.py), driven by its control file.
        final class Gate {
            let server: Server
            let dir: String
            let control: String
            let port: UInt16
            /// Its control file in a directory of its own, removed with the gate.
            init() throws {
                dir = FileManager.default.temporaryDirectory.appendingPathComponent("pvit-gate-\(UUID().uuidString.prefix(8))").path
                try FileManager.default.createDirectory(atPath: dir, withIntermediateDirectories: true)
                control = dir + "/gate"
                try "open".write(toFile: control, atomically: true, encoding: .utf8)
                server = try Server("tcp_gate", "/usr/bin/python3", ["-u", Lab.repo.path + "/Tests/Fixtures/tcp_gate.py", "5672", control])
                try server.waitForLine("ready ")
                port = UInt16(server.lastLine.split(separator: " ").last ?? "") ?? 0
            }
            func set(_ mode: String) throws { try mode.write(toFile: control, atomically: true, encoding: .utf8) }
            deinit {
                server.stop()
                try? FileManager.default.removeItem(atPath: dir)
            }
        }

        /// A scratch root whose pv_monitor samples every second and publishes to `uri`, into the test's own queue and exchange.
        func pushRoot(_ name: String, queue: String, exchange: String, uri: String) throws -> String {
            try Lab.scratchRoot(name, overriding: ["monitor_interval": "1", "monitor_listen": "off", "monitor_queue": queue,
                                                   "monitor_exchange": exchange, "rabbitmq_uri": uri])
        }

        func names() -> (queue: String, exchange: String) {
            let tag = UUID().uuidString.prefix(8).lowercased()
            // Different names: each must reach the broker as itself (a dangling C string once sent one for the other).
            return ("pvit.queue.\(tag)", "pvit.exchange.\(tag)")
        }

        @Test func everySampleArrivesInOrderAndValidates() throws {
            let (queue, exchange) = names()
            let base = try labURI()
            let root = try Lab.scratchRoot("push", overriding: ["monitor_interval": "1", "monitor_listen": "off",
                                                                "monitor_queue": queue, "monitor_exchange": exchange])
            defer { try? FileManager.default.removeItem(atPath: root) }
            let monitor = try Server("pv_monitor", Lab.binDir + "/pv_monitor", ["run", "--root", root])
            waitForSample(root) { ($0["sequence"] as? Int ?? 0) >= 5 }
            monitor.stop()
            let last = lastSample(root)?["sequence"] as? Int ?? 0
            #expect(push(root)["problem"] is NSNull && push(root)["spool_depth"] as? Int == 0, "\(push(root))")
            let got = try consume(base, queue: queue, count: last, deleteExchange: exchange)
            #expect(got.sequences == Array(1...max(1, last)), "sequences at the consumer: \(got.sequences), last sample \(last)")
            #expect(got.invalid.isEmpty && got.duplicates == 0 && got.droppedSamples == 0, "\(got)")
            #expect(!got.hosts.isEmpty)
        }

        func spoolDepth(_ sample: [String: Any]) -> Int { (sample["push"] as? [String: Any])?["spool_depth"] as? Int ?? 0 }
        func delivered(_ sample: [String: Any]) -> Bool {
            let push = sample["push"] as? [String: Any] ?? [:]
            return push["spool_depth"] as? Int == 0 && push["problem"] is NSNull
        }

        /// The issue's long outage on a broker of the test's own, stopped for real (not a cut
        /// connection): two minutes at a 1 s interval, and pv_monitor killed (SIGKILL) meanwhile with
        /// 50 samples in its spool. The next pv_monitor reads them back and goes on from the last
        /// sequence; once the broker is back every sample reaches the consumer, oldest first.
        @Test func theBrokerStoppedForTwoMinutesAndPVMonitorKilledWithFiftySpooledLoseNothing() throws {
            let (queue, exchange) = names()
            let broker = try PrivateBroker()
            let root = try pushRoot("push-outage", queue: queue, exchange: exchange, uri: broker.uri())
            defer { try? FileManager.default.removeItem(atPath: root) }
            let first = try Server("pv_monitor", Lab.binDir + "/pv_monitor", ["run", "--root", root])
            defer { first.stop() }
            waitForSample(root) { ($0["push"] as? [String: Any])?["last_confirm"] is String }
            broker.end(SIGTERM)
            let stopped = Date()
            // The samples go on, into the spool, and the sample says why (never the password).
            let away = waitForSample(root) { self.spoolDepth($0) >= 3 }
            let problem = (away?["push"] as? [String: Any])?["problem"] as? String ?? ""
            #expect(problem.contains("samples are not delivered to amqp://") && !problem.contains(broker.password), "\(problem)")
            let status = try tool("pv_status", ["--root", root])
            #expect(status.output.contains("samples are not delivered") && !status.output.contains(broker.password), "\(status.output)")
            waitForSample(root, timeout: 80) { self.spoolDepth($0) >= 50 }
            kill(first.process.processIdentifier, SIGKILL)
            first.process.waitUntilExit()
            let killed = lastSample(root) ?? [:]
            let killedAt = killed["sequence"] as? Int ?? 0
            #expect(spoolDepth(killed) >= 50, "spooled when killed: \(spoolDepth(killed))")
            // Restarted a while later (so that its reconnect backoff, 1 s doubling, is short when the
            // broker returns: the test then waits seconds for the replay, not up to a minute).
            func sleep(until seconds: Double) {
                let remaining = seconds - Date().timeIntervalSince(stopped)
                if remaining > 0 { usleep(UInt32(remaining * 1_000_000)) }
            }
            sleep(until: 95)
            let second = try Server("pv_monitor", Lab.binDir + "/pv_monitor", ["run", "--root", root])
            defer { second.stop() }
            sleep(until: 120)
            let before = lastSample(root) ?? [:]
            #expect(spoolDepth(before) > spoolDepth(killed), "the restarted pv_monitor kept the spool: \(spoolDepth(killed)) -> \(spoolDepth(before))")
            try broker.start()
            // Reconnecting backs off to at most 60 s (x1.2 jitter) while the broker is away.
            let back = waitForSample(root, timeout: 100) { ($0["sequence"] as? Int ?? 0) > killedAt && self.delivered($0) }
            second.stop()
            let last = lastSample(root)?["sequence"] as? Int ?? 0
            #expect(back.map(delivered) == true, "the spool replayed: \(String(describing: back?["push"]))")
            let got = try consume(broker.uri(), queue: queue, count: last, deleteExchange: exchange)
            #expect(got.sequences.sorted() == Array(1...max(1, last)), "sequences at the consumer: \(got.sequences), last \(last), killed at \(killedAt)")
            #expect(got.sequences == got.sequences.sorted(), "oldest first: \(got.sequences)")
            #expect(got.invalid.isEmpty && got.droppedSamples == 0, "\(got)")
        }

        /// The broker killed (SIGKILL) while a publish waits for its confirm: frozen first (SIGSTOP),
        /// so that samples are surely in flight, then killed and started again on its data. What it
        /// confirmed survives in its durable queue; what it did not is sent again.
        @Test func theBrokerKilledInTheMiddleOfAPublishLosesNothing() throws {
            let (queue, exchange) = names()
            let broker = try PrivateBroker()
            let root = try pushRoot("push-broker-kill", queue: queue, exchange: exchange, uri: broker.uri())
            defer { try? FileManager.default.removeItem(atPath: root) }
            let monitor = try Server("pv_monitor", Lab.binDir + "/pv_monitor", ["run", "--root", root])
            defer { monitor.stop() }
            waitForSample(root) { ($0["sequence"] as? Int ?? 0) >= 3 && ($0["push"] as? [String: Any])?["last_confirm"] is String }
            broker.signal(SIGSTOP)
            waitForSample(root) { self.spoolDepth($0) >= 2 }
            broker.end(SIGKILL)
            try broker.start()
            let back = waitForSample(root, timeout: 60) { self.spoolDepth($0) == 0 && self.delivered($0) && ($0["sequence"] as? Int ?? 0) > 6 }
            monitor.stop()
            let last = lastSample(root)?["sequence"] as? Int ?? 0
            #expect(back.map(delivered) == true, "\(String(describing: back?["push"]))")
            let got = try consume(broker.uri(), queue: queue, count: last, deleteExchange: exchange)
            #expect(got.sequences.sorted() == Array(1...max(1, last)), "sequences at the consumer: \(got.sequences), last \(last)")
            #expect(got.invalid.isEmpty, "\(got.invalid)")
        }

        /// amqps:// with the broker's certificate verified against rabbitmq_ca_file: delivered; the same
        /// broker with a CA that did not sign it: a clear TLS problem naming the setting, the samples
        /// wait, the password never shown (pv_monitor's sample and pv_diagnostics).
        @Test func amqpsIsVerifiedAgainstTheConfiguredCA() throws {
            let (queue, exchange) = names()
            let broker = try PrivateBroker()
            let root = try Lab.scratchRoot("push-tls", overriding: ["monitor_interval": "1", "monitor_listen": "off", "monitor_queue": queue,
                                                                    "monitor_exchange": exchange, "rabbitmq_uri": broker.uri(tls: true),
                                                                    "rabbitmq_ca_file": broker.caFile])
            defer { try? FileManager.default.removeItem(atPath: root) }
            let monitor = try Server("pv_monitor", Lab.binDir + "/pv_monitor", ["run", "--root", root])
            let verified = waitForSample(root) { ($0["sequence"] as? Int ?? 0) >= 3 && self.delivered($0) }
            monitor.stop()
            try #require(verified.map(delivered) == true, "\(String(describing: verified?["push"]))")
            let last = lastSample(root)?["sequence"] as? Int ?? 0
            #expect((push(root)["broker"] as? String ?? "").hasPrefix("amqps://"), "\(push(root))")
            let got = try consume(broker.uri(), queue: queue, count: last)
            #expect(got.sequences == Array(1...max(1, last)), "sequences at the consumer: \(got.sequences), last \(last)")

            // Verified by name too: the broker's certificate names 127.0.0.1 and localhost, not 127.0.0.2.
            for (host, expected) in [("localhost", true), ("127.0.0.2", false)] {
                let (queue, exchange) = names()
                defer { _ = try? consume(broker.uri(), queue: queue, count: 0, timeout: 1, deleteExchange: exchange) }
                let named = try Lab.scratchRoot("push-tls-name", overriding: ["monitor_interval": "1", "monitor_listen": "off", "monitor_queue": queue,
                                                                              "monitor_exchange": exchange, "rabbitmq_uri": broker.uri(tls: true, host: host),
                                                                              "rabbitmq_ca_file": broker.caFile])
                defer { try? FileManager.default.removeItem(atPath: named) }
                let monitor = try Server("pv_monitor", Lab.binDir + "/pv_monitor", ["run", "--root", named])
                let s = waitForSample(named) { ($0["sequence"] as? Int ?? 0) >= 2 && (self.delivered($0) || ($0["push"] as? [String: Any])?["problem"] is String) }
                monitor.stop()
                let p = (s?["push"] as? [String: Any]) ?? [:]
                if expected {
                    #expect(s.map(delivered) == true, "\(host): \(p)")
                } else {
                    #expect(!delivered(lastSample(named) ?? [:]) && (p["problem"] as? String ?? "").contains("certificate did not verify"), "\(host): \(p)")
                }
            }

            let untrusted = try Lab.scratchRoot("push-tls-other", overriding: ["monitor_interval": "1", "monitor_listen": "off", "monitor_queue": queue,
                                                                               "monitor_exchange": exchange, "rabbitmq_uri": broker.uri(tls: true),
                                                                               "rabbitmq_ca_file": broker.otherCAFile])
            defer { try? FileManager.default.removeItem(atPath: untrusted) }
            let refused = try Server("pv_monitor", Lab.binDir + "/pv_monitor", ["run", "--root", untrusted])
            defer { refused.stop() }
            let s = waitForSample(untrusted) { self.spoolDepth($0) >= 2 }
            let problem = (s?["push"] as? [String: Any])?["problem"] as? String ?? ""
            #expect(problem.contains("certificate did not verify"), "\(problem)")
            #expect(!problem.contains(broker.password), "the password never appears: \(problem)")
            let diagnostics = try tool("pv_diagnostics", ["--root", untrusted], timeout: 60)
            #expect(diagnostics.output.contains("rabbitmq_ca_file") && !diagnostics.output.contains(broker.password), "\(diagnostics.output)")
            let none = try consume(broker.uri(), queue: queue, count: last + 1, timeout: 2, deleteExchange: exchange)
            #expect(none.sequences.isEmpty, "nothing went through an unverified connection: \(none.sequences)")
        }

        /// A full spool (monitor_spool_mb = 1, filled by samples of 100 long names while the broker
        /// is away): the oldest samples go, the spool stays within its bound, and the first message
        /// after the gap carries how many were dropped; the consumer sees every other sequence.
        @Test func aFullSpoolDropsTheOldestAndTheConsumerIsToldHowMany() throws {
            let (queue, exchange) = names()
            let base = try labURI()
            let gate = try Gate()
            let root = try Lab.scratchRoot("push-full", overriding: ["monitor_interval": "1", "monitor_listen": "off", "monitor_queue": queue,
                                                                     "monitor_exchange": exchange, "rabbitmq_uri": uri(base, port: gate.port),
                                                                     "monitor_spool_mb": "1"])
            defer { try? FileManager.default.removeItem(atPath: root) }
            let monitor = try Server("pv_monitor", Lab.binDir + "/pv_monitor", ["run", "--root", root])
            defer { monitor.stop() }
            try monitor.waitForLine("listening for dnstap")
            waitForSample(root) { ($0["push"] as? [String: Any])?["last_confirm"] is String }
            try gate.set("closed")
            // 100 names of 205 characters, 400 queries a second: samples of about 35 kB.
            let sender = try Server("dnstap_sender", "/usr/bin/python3", [Lab.repo.path + "/Scripts/dnstap_sender.py", root + "/run/monitor/dnstap.sock",
                                                                          "40000", "100", "400", "3"])
            defer { sender.stop() }
            var largest = 0
            let full = waitForSample(root, timeout: 90) { s in
                largest = max(largest, (s["push"] as? [String: Any])?["spool_bytes"] as? Int ?? 0)
                return ((s["push"] as? [String: Any])?["dropped"] as? Int ?? 0) >= 3
            }
            sender.stop()
            let dropped = (full?["push"] as? [String: Any])?["dropped"] as? Int ?? 0
            #expect(dropped >= 3, "\(String(describing: full?["push"]))")
            #expect(largest > 500_000 && largest <= 1 << 20, "the spool stays within 1 MB: \(largest) bytes")
            try gate.set("open")
            waitForSample(root, timeout: 90) { self.delivered($0) }
            monitor.stop()
            let last = lastSample(root)?["sequence"] as? Int ?? 0
            let droppedInAll = (push(root)["dropped"] as? Int) ?? 0
            let got = try consume(base, queue: queue, count: last - droppedInAll, timeout: 60, deleteExchange: exchange)
            let missing = Set(1...max(1, last)).subtracting(got.sequences).sorted()
            #expect(missing.count == droppedInAll && got.droppedSamples == droppedInAll, "missing \(missing), told \(got.droppedSamples), pv_monitor dropped \(droppedInAll)")
            // The oldest spooled went: one run of sequences after the last confirmed one.
            #expect(missing.count > 0 && missing.last! - missing.first! == missing.count - 1, "\(missing)")
            #expect(got.sequences == got.sequences.sorted() && got.invalid.isEmpty, "\(got.sequences) \(got.invalid)")
            // The long names were counted whole: name-N. then three labels of 60 characters (dnstap_sender.py FILLER 3).
            let filler = ["x", "y", "z"].map { String(repeating: $0, count: 60) + "." }.joined()
            let long = got.records.keys.filter { $0.hasPrefix("name-") }
            #expect(!long.isEmpty && long.allSatisfy { name in
                (0..<100).contains { "name-\($0).\(filler)pvverify.test." == name }
            }, "the long names were counted whole: \(long.prefix(3))")
        }

        /// The broker's connection cut right after a replay, while samples are published (a broker
        /// killed under its client): what was confirmed is gone from the spool, the rest is sent
        /// again on the next connection; the consumer gets every sequence (duplicates dropped by it).
        @Test func aConnectionCutWhilePublishingLosesNothing() throws {
            let (queue, exchange) = names()
            let base = try labURI()
            let gate = try Gate()
            let root = try pushRoot("push-cut", queue: queue, exchange: exchange, uri: uri(base, port: gate.port))
            defer { try? FileManager.default.removeItem(atPath: root) }
            let monitor = try Server("pv_monitor", Lab.binDir + "/pv_monitor", ["run", "--root", root])
            defer { monitor.stop() }
            waitForSample(root) { ($0["push"] as? [String: Any])?["last_confirm"] is String }
            try gate.set("closed")
            waitForSample(root) { (($0["push"] as? [String: Any])?["spool_depth"] as? Int ?? 0) >= 8 }
            // Open, and cut again while the replay runs; then open for good.
            try gate.set("open")
            usleep(1_200_000)
            try gate.set("closed")
            usleep(1_500_000)
            try gate.set("open")
            waitForSample(root, timeout: 90) { (($0["push"] as? [String: Any])?["spool_depth"] as? Int) == 0 && ($0["push"] as? [String: Any])?["problem"] is NSNull }
            monitor.stop()
            let last = lastSample(root)?["sequence"] as? Int ?? 0
            let got = try consume(base, queue: queue, count: last, deleteExchange: exchange)
            #expect(got.sequences.sorted() == Array(1...max(1, last)), "sequences at the consumer: \(got.sequences), last \(last)")
            #expect(got.invalid.isEmpty, "\(got.invalid)")
        }

        func password(_ uri: String) throws -> String {
            guard let at = uri.firstIndex(of: "@"), let colon = uri[uri.index(uri.startIndex, offsetBy: 7)..<at].lastIndex(of: ":") else { return "\u{0}" }
            return String(uri[uri.index(after: colon)..<at])
        }

        @Test func aWrongPasswordIsAClearProblemAndTheSamplesWait() throws {
            let (queue, exchange) = names()
            let base = try labURI()
            let secret = try password(base)
            let wrong = base.replacingOccurrences(of: secret + "@", with: "not-the-password@")
            let root = try pushRoot("push-password", queue: queue, exchange: exchange, uri: wrong)
            defer { try? FileManager.default.removeItem(atPath: root) }
            let monitor = try Server("pv_monitor", Lab.binDir + "/pv_monitor", ["run", "--root", root])
            defer { monitor.stop() }
            let s = waitForSample(root) { (($0["push"] as? [String: Any])?["spool_depth"] as? Int ?? 0) >= 2 }
            let problem = (s?["push"] as? [String: Any])?["problem"] as? String ?? ""
            #expect(problem.contains("refused the login of user"), "\(problem)")
            #expect(!problem.contains("not-the-password"), "the password never appears: \(problem)")
            let diagnostics = try tool("pv_diagnostics", ["--root", root], timeout: 60)
            #expect(diagnostics.output.contains("refused the login of user") && !diagnostics.output.contains("not-the-password"), "\(diagnostics.output)")
        }

        @Test func aBrokerThatNeverSpeaksIsCutAtItsBoundAndTheSamplesGoOn() throws {
            let (queue, exchange) = names()
            let base = try labURI()
            let gate = try Gate()
            try gate.set("silent")
            let root = try pushRoot("push-silent", queue: queue, exchange: exchange, uri: uri(base, port: gate.port))
            defer { try? FileManager.default.removeItem(atPath: root) }
            let started = Date()
            let monitor = try Server("pv_monitor", Lab.binDir + "/pv_monitor", ["run", "--root", root])
            defer { monitor.stop() }
            let s = waitForSample(root, timeout: 30) { ($0["sequence"] as? Int ?? 0) >= 8 }
            let problem = (s?["push"] as? [String: Any])?["problem"] as? String ?? ""
            #expect(problem.contains("did not complete the login in time"), "\(problem)")
            // Eight 1-second samples in well under the time eight 4-second login bounds would take.
            #expect(Date().timeIntervalSince(started) < 20, "samples went on while the broker said nothing")
            _ = try? consume(base, queue: queue, count: 0, timeout: 1, deleteExchange: exchange)
        }
    }
}
