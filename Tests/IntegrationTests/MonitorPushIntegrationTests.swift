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
        }

        func consume(_ uri: String, queue: String, count: Int, timeout: Double = 30, deleteExchange: String? = nil) throws -> Consumed {
            var args = [Lab.repo.path + "/Tests/Fixtures/monitoring_consumer.py", uri, queue, "\(count)", "\(timeout)"]
            if let deleteExchange { args += ["--delete", deleteExchange] }
            let r = try run("/usr/bin/python3", args, timeout: timeout + 30)
            guard r.status == 0, let doc = try JSONSerialization.jsonObject(with: Data(r.stdout.utf8)) as? [String: Any] else {
                throw LabError("the consumer failed: \(r.stderr.suffix(500))")
            }
            return Consumed(sequences: doc["sequences"] as? [Int] ?? [], duplicates: doc["duplicates"] as? Int ?? -1,
                            invalid: doc["invalid"] as? [String] ?? ["?"], droppedSamples: doc["dropped_samples"] as? Int ?? -1,
                            hosts: doc["hosts"] as? [String] ?? [])
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

        @Test func samplesWaitWhileTheBrokerIsAwayThenAllArriveInOrder() throws {
            let (queue, exchange) = names()
            let base = try labURI()
            let gate = try Gate()
            let root = try pushRoot("push-away", queue: queue, exchange: exchange, uri: uri(base, port: gate.port))
            defer { try? FileManager.default.removeItem(atPath: root) }
            let monitor = try Server("pv_monitor", Lab.binDir + "/pv_monitor", ["run", "--root", root])
            defer { monitor.stop() }
            waitForSample(root) { ($0["push"] as? [String: Any])?["last_confirm"] is String }
            // The broker goes away: the samples go on, into the spool, and the sample says why.
            try gate.set("closed")
            let away = waitForSample(root) { (($0["push"] as? [String: Any])?["spool_depth"] as? Int ?? 0) >= 5 }
            let problem = (away?["push"] as? [String: Any])?["problem"] as? String ?? ""
            let secret = try password(base)
            #expect(problem.contains("samples are not delivered to amqp://") && !problem.contains(secret), "\(problem)")
            let status = try tool("pv_status", ["--root", root])
            #expect(status.output.contains("samples are not delivered"), "\(status.output)")
            // Back: the spool is replayed oldest first, then the samples go on.
            try gate.set("open")
            let back = waitForSample(root, timeout: 90) { (($0["push"] as? [String: Any])?["spool_depth"] as? Int) == 0 && ($0["push"] as? [String: Any])?["problem"] is NSNull }
            monitor.stop()
            let last = lastSample(root)?["sequence"] as? Int ?? 0
            #expect((back?["push"] as? [String: Any])?["spool_depth"] as? Int == 0, "\(String(describing: back?["push"]))")
            let got = try consume(base, queue: queue, count: last, deleteExchange: exchange)
            #expect(got.sequences == Array(1...max(1, last)), "sequences at the consumer: \(got.sequences), last sample \(last)")
            #expect(got.invalid.isEmpty && got.droppedSamples == 0, "\(got)")
        }

        /// Killed (SIGKILL) with samples spooled: the next run reads the spool back, goes on from the
        /// last sequence, and every sample reaches the consumer once the broker is back.
        @Test func samplesSpooledWhenPVMonitorIsKilledArriveAfterItsRestart() throws {
            let (queue, exchange) = names()
            let base = try labURI()
            let gate = try Gate()
            let root = try pushRoot("push-kill", queue: queue, exchange: exchange, uri: uri(base, port: gate.port))
            defer { try? FileManager.default.removeItem(atPath: root) }
            let first = try Server("pv_monitor", Lab.binDir + "/pv_monitor", ["run", "--root", root])
            waitForSample(root) { ($0["push"] as? [String: Any])?["last_confirm"] is String }
            try gate.set("closed")
            waitForSample(root) { (($0["push"] as? [String: Any])?["spool_depth"] as? Int ?? 0) >= 6 }
            kill(first.process.processIdentifier, SIGKILL)
            first.process.waitUntilExit()
            let killedAt = lastSample(root)?["sequence"] as? Int ?? 0
            try gate.set("open")
            let second = try Server("pv_monitor", Lab.binDir + "/pv_monitor", ["run", "--root", root])
            defer { second.stop() }
            let back = waitForSample(root, timeout: 60) { s in
                (s["sequence"] as? Int ?? 0) > killedAt && ((s["push"] as? [String: Any])?["spool_depth"] as? Int) == 0
            }
            second.stop()
            let last = lastSample(root)?["sequence"] as? Int ?? 0
            #expect(last > killedAt, "the sequence goes on: \(killedAt) -> \(last); \(String(describing: back?["push"]))")
            #expect((back?["push"] as? [String: Any])?["spool_depth"] as? Int == 0, "the spool replayed: \(String(describing: back?["push"]))")
            let got = try consume(base, queue: queue, count: last, deleteExchange: exchange)
            #expect(got.sequences.sorted() == Array(1...max(1, last)), "sequences at the consumer: \(got.sequences), last \(last), killed at \(killedAt)")
            #expect(got.sequences == got.sequences.sorted(), "oldest first: \(got.sequences)")
            #expect(got.invalid.isEmpty, "\(got.invalid)")
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
