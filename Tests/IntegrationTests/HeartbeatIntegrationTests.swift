import Foundation
import Testing

/// The management application's side of the heartbeat, as a test fixture:
/// Tests/Fixtures/management_standin.py on 127.0.0.1 and a free port, recording
/// every request to a file. Always ended by the test that started it.
final class ManagementStandIn {
    let process = Process()
    let output = Pipe()
    let dir: String
    let token: String
    private(set) var port: UInt16 = 0
    let tls: Bool

    init(mode: String = "ok", token: String = "hb-token-\(UUID().uuidString.prefix(8))", pki: String? = nil) throws {
        dir = FileManager.default.temporaryDirectory.appendingPathComponent("pvhb-standin-\(UUID().uuidString.prefix(8))").path
        try FileManager.default.createDirectory(atPath: dir, withIntermediateDirectories: true)
        self.token = token
        tls = pki != nil
        var args = ["python3", "-u", Lab.repo.path + "/Tests/Fixtures/management_standin.py", "--port", "0", "--mode", mode,
                    "--token", token, "--record", dir + "/record.jsonl"]
        if let pki { args += ["--cert", pki + "/server.pem", "--key", pki + "/server.key"] }
        process.executableURL = URL(fileURLWithPath: "/usr/bin/env")
        process.arguments = args
        process.standardOutput = output
        process.standardError = FileHandle.nullDevice
        try process.run()
        port = try readyPort()
    }

    private func readyPort() throws -> UInt16 {
        let fd = output.fileHandleForReading.fileDescriptor
        let deadline = Date().addingTimeInterval(10)
        var text = ""
        while Date() < deadline {
            var pfd = pollfd(fd: fd, events: Int16(POLLIN), revents: 0)
            guard poll(&pfd, 1, 100) > 0 else { continue }
            var buffer = [UInt8](repeating: 0, count: 256)
            let n = read(fd, &buffer, buffer.count)
            if n <= 0 { break }
            text += String(decoding: buffer[0..<n], as: UTF8.self)
            if let line = text.split(separator: "\n").first(where: { $0.hasPrefix("ready ") }), let p = UInt16(line.dropFirst(6)) {
                return p
            }
        }
        stop()
        throw LabError("the management stand-in did not start (output: \(text.prefix(200)))")
    }

    var url: String { "\(tls ? "https" : "http")://127.0.0.1:\(port)" }

    /// Every request recorded so far, oldest first.
    func events() -> [[String: Any]] {
        guard let text = try? String(contentsOfFile: dir + "/record.jsonl", encoding: .utf8) else { return [] }
        return text.split(separator: "\n").compactMap { try? JSONSerialization.jsonObject(with: Data($0.utf8)) as? [String: Any] }
    }

    var beats: [[String: Any]] { events().filter { $0["method"] as? String == "POST" } }

    func stop() {
        if process.isRunning {
            process.terminate()
            let deadline = Date().addingTimeInterval(3)
            while process.isRunning && Date() < deadline { usleep(10_000) }
            if process.isRunning { kill(process.processIdentifier, SIGKILL); process.waitUntilExit() }
        }
        try? FileManager.default.removeItem(atPath: dir)
    }

    deinit { stop() }
}

/// A scratch install root for pv_heartbeat: the lab's configuration pointed at
/// a stand-in, with extra keys appended.
func heartbeatRoot(_ standIn: ManagementStandIn?, url: String? = nil, token: String? = nil,
                   extra: [String: String] = [:], overriding: [String: String] = [:]) throws -> String {
    var keys = overriding
    keys["management_url"] = url ?? standIn?.url ?? "http://127.0.0.1:9"
    keys["management_token"] = token ?? standIn?.token ?? "unused-token"
    let root = try Lab.scratchRoot("hb", overriding: keys)
    if !extra.isEmpty {
        let handle = try FileHandle(forWritingTo: URL(fileURLWithPath: root + "/etc/provision.conf"))
        handle.seekToEndOfFile()
        handle.write(Data(("\n" + extra.map { "\($0.key) = \($0.value)" }.joined(separator: "\n") + "\n").utf8))
        try handle.close()
    }
    return root
}

func makePKI() throws -> String {
    let dir = FileManager.default.temporaryDirectory.appendingPathComponent("pvhb-pki-\(UUID().uuidString.prefix(8))").path
    let r = try run("/bin/bash", [Lab.repo.path + "/Tests/Fixtures/make_test_pki.sh", dir], timeout: 30)
    guard r.status == 0 else { throw LabError("make_test_pki.sh failed: \(r.output)") }
    return dir
}

extension LabIntegration {
    /// pv_heartbeat against the stand-in on loopback, with the lab's real
    /// Docker engine and its three running components.
    @Suite struct HeartbeatIntegrationTests {
        @Test func sentBeatIsRecordedAuthorizedAndValidAgainstTheSchema() throws {
            let standIn = try ManagementStandIn()
            defer { standIn.stop() }
            let root = try heartbeatRoot(standIn)
            defer { try? FileManager.default.removeItem(atPath: root) }

            let r = try tool("pv_heartbeat", ["--root", root])
            #expect(r.status == 0, "\(r.output)")
            #expect(r.stdout.contains("beat 1 sent to \(standIn.url)/api/v1/heartbeat: 200 OK in "), "\(r.stdout)")
            #expect(r.stdout.contains("state running: dns running "), "\(r.stdout)")
            #expect(r.stderr.isEmpty, "\(r.stderr)")

            let beat = try #require(standIn.beats.first)
            #expect(beat["authorized"] as? Bool == true)
            #expect(beat["path"] as? String == "/api/v1/heartbeat")
            #expect(beat["content_type"] as? String == "application/json")
            let body = try #require(beat["body"] as? [String: Any])
            #expect(body["sequence"] as? Int == 1)
            #expect(body["resource_id"] as? String == "lab-1")
            #expect(body["state"] as? String == "running")
            let components = try #require(body["components"] as? [String: [String: Any]])
            for c in ["dns", "dhcp", "monitoring"] {
                #expect(components[c]?["state"] as? String == "running", "\(c): \(components[c] ?? [:])")
                #expect((components[c]?["version"] as? String)?.isEmpty == false)
                #expect(components[c]?["container"] as? String == "pvit-\(c)")
            }
            let disks = try #require((body["system"] as? [String: Any])?["disks"] as? [[String: Any]])
            #expect(disks.map { $0["name"] as? String } == ["root", "docker"])
            #expect(disks.last?["path"] as? String == Lab.dir.path + "/docker/data")

            // The real payload, as received, against the schema in the repo.
            let payloadFile = root + "/payload.json"
            try JSONSerialization.data(withJSONObject: body).write(to: URL(fileURLWithPath: payloadFile))
            let check = try run("/usr/bin/python3", ["-c", """
                import json, sys, jsonschema
                schema = json.load(open(sys.argv[1]))
                jsonschema.Draft202012Validator.check_schema(schema)
                v = jsonschema.Draft202012Validator(schema, format_checker=jsonschema.Draft202012Validator.FORMAT_CHECKER)
                errors = [f"{list(e.path)}: {e.message}" for e in v.iter_errors(json.load(open(sys.argv[2])))]
                print("\\n".join(errors) or "valid")
                sys.exit(1 if errors else 0)
                """, Lab.repo.path + "/Bundle/heartbeat.schema.json", payloadFile], timeout: 30)
            #expect(check.status == 0, "schema: \(check.output)")

            // The sequence survives the process: the next beat is 2.
            let second = try tool("pv_heartbeat", ["--root", root])
            #expect(second.status == 0)
            #expect((standIn.beats.last?["body"] as? [String: Any])?["sequence"] as? Int == 2)
            #expect(try String(contentsOfFile: root + "/state/heartbeat.state", encoding: .utf8).contains("sequence = 2"))
        }

        @Test(arguments: [
            // mode, exit code, requests the stand-in sees (a retry is a second request), text
            ("401", Int32(2), 1, "was rejected: 401 Unauthorized"),
            ("500", Int32(4), 2, "got 500 Internal Server Error from the server (2 attempts)"),
            ("reset", Int32(3), 2, "was not delivered: connection lost"),
            ("500-once", Int32(0), 2, ""),
        ])
        func eachAnswerHasItsExitCode(mode: String, code: Int32, requests: Int, text: String) throws {
            let standIn = try ManagementStandIn(mode: mode)
            defer { standIn.stop() }
            let root = try heartbeatRoot(standIn)
            defer { try? FileManager.default.removeItem(atPath: root) }
            let r = try tool("pv_heartbeat", ["--root", root])
            #expect(r.status == code, "\(mode): \(r.output)")
            #expect(standIn.beats.count == requests, "\(mode): \(standIn.beats.count) requests")
            if !text.isEmpty { #expect(r.stderr.contains(text), "\(mode): \(r.stderr)") }
            if mode == "500-once" { #expect(r.stdout.contains("after 2 attempts (500 Internal Server Error; 200 OK)"), "\(r.stdout)") }
        }

        @Test func wrongTokenIsRejectedWith2AndTheNextStepNamesTheToken() throws {
            let standIn = try ManagementStandIn()
            defer { standIn.stop() }
            let root = try heartbeatRoot(standIn, token: "not-the-token")
            defer { try? FileManager.default.removeItem(atPath: root) }
            let r = try tool("pv_heartbeat", ["--root", root])
            #expect(r.status == 2, "\(r.output)")
            #expect(r.stderr.contains("Next step: check management_token in \(root)/etc/provision.conf"), "\(r.stderr)")
            #expect(!r.output.contains("not-the-token"), "the token must never be printed")
        }

        @Test func aHangingServerIsLeftWithinTheTotalTimeoutEveryTime() throws {
            let standIn = try ManagementStandIn(mode: "hang")
            defer { standIn.stop() }
            let root = try heartbeatRoot(standIn)
            defer { try? FileManager.default.removeItem(atPath: root) }
            for round in 1...3 {
                let start = Date()
                let r = try tool("pv_heartbeat", ["--root", root, "--timeout", "2"], timeout: 15)
                let elapsed = Date().timeIntervalSince(start)
                #expect(r.status == 3, "round \(round): \(r.output)")
                #expect(r.stderr.contains("timed out"), "\(r.stderr)")
                #expect(elapsed < 2.5, "round \(round): gave up after \(elapsed) s, the budget is 2 s")
                #expect(elapsed > 1.5, "round \(round): both attempts should use the budget (\(elapsed) s)")
            }
            #expect(standIn.beats.count == 6, "one retry per beat")
        }

        @Test func nothingListeningIsUnreachable() throws {
            let root = try heartbeatRoot(nil, url: "http://127.0.0.1:\(freeTCPPort())")
            defer { try? FileManager.default.removeItem(atPath: root) }
            let r = try tool("pv_heartbeat", ["--root", root])
            #expect(r.status == 3, "\(r.output)")
            #expect(r.stderr.contains("was not delivered: connect failed"), "\(r.stderr)")
        }

        @Test func tlsWithThePrivateCAIsSentAndAWrongCAIsRefused() throws {
            let pki = try makePKI()
            defer { try? FileManager.default.removeItem(atPath: pki) }
            let standIn = try ManagementStandIn(pki: pki)
            defer { standIn.stop() }

            let good = try heartbeatRoot(standIn, extra: ["management_ca_file": pki + "/ca.pem"])
            defer { try? FileManager.default.removeItem(atPath: good) }
            let ok = try tool("pv_heartbeat", ["--root", good])
            #expect(ok.status == 0, "\(ok.output)")
            #expect(standIn.beats.last?["tls"] as? Bool == true)

            let wrong = try heartbeatRoot(standIn, extra: ["management_ca_file": pki + "/other-ca.pem"])
            defer { try? FileManager.default.removeItem(atPath: wrong) }
            let refused = try tool("pv_heartbeat", ["--root", wrong])
            #expect(refused.status == 5, "\(refused.output)")
            #expect(refused.stderr.contains("failed TLS verification"), "\(refused.stderr)")
            #expect(refused.stderr.contains("management_ca_file"))

            // Without a CA file the system store is used, which does not know the private CA either.
            let none = try heartbeatRoot(standIn)
            defer { try? FileManager.default.removeItem(atPath: none) }
            #expect(try tool("pv_heartbeat", ["--root", none]).status == 5)
            #expect(standIn.beats.count == 1, "refused handshakes must not deliver a beat")
        }

        @Test func aConfigurationOthersCanReadIsRefused() throws {
            let standIn = try ManagementStandIn()
            defer { standIn.stop() }
            let root = try heartbeatRoot(standIn)
            defer { try? FileManager.default.removeItem(atPath: root) }
            chmod(root + "/etc/provision.conf", 0o644)
            let r = try tool("pv_heartbeat", ["--root", root])
            #expect(r.status == 77, "\(r.output)")
            #expect(r.stderr.contains("holds the management token"), "\(r.stderr)")
            #expect(r.stderr.contains("Next step: chmod 600 \(root)/etc/provision.conf"), "\(r.stderr)")
            #expect(standIn.beats.isEmpty)
        }

        @Test func withDockerDownItStillBeatsAndSaysSo() throws {
            let standIn = try ManagementStandIn()
            defer { standIn.stop() }
            let root = try heartbeatRoot(standIn, overriding: ["docker_host": "unix:///nonexistent/docker.sock"])
            defer { try? FileManager.default.removeItem(atPath: root) }
            let r = try tool("pv_heartbeat", ["--root", root])
            #expect(r.status == 0, "\(r.output)")
            #expect(r.stderr.contains("warning: the Docker engine at unix:///nonexistent/docker.sock is not reachable"), "\(r.stderr)")
            #expect(r.stdout.contains("state unknown: dns unknown"), "\(r.stdout)")
            let body = try #require(standIn.beats.first?["body"] as? [String: Any])
            #expect((body["docker"] as? [String: Any])?["reachable"] as? Bool == false)
            #expect(body["state"] as? String == "unknown")
            #expect((body["warnings"] as? [String])?.isEmpty == false)
        }

        @Test func aHangingDockerEngineIsCutAtItsBoundAndTheBeatStillGoes() throws {
            let standIn = try ManagementStandIn()
            defer { standIn.stop() }
            let dir = FileManager.default.temporaryDirectory.appendingPathComponent("pvhb-sock-\(UUID().uuidString.prefix(8))").path
            try FileManager.default.createDirectory(atPath: dir, withIntermediateDirectories: true)
            defer { try? FileManager.default.removeItem(atPath: dir) }
            // An "engine" that accepts connections and never answers.
            let engine = try Server("hanging engine", "/usr/bin/env", ["python3", "-u", "-c", """
                import signal, socket, sys, time
                signal.pthread_sigmask(signal.SIG_UNBLOCK, {signal.SIGTERM})
                s = socket.socket(socket.AF_UNIX); s.bind(sys.argv[1]); s.listen(8)
                print("ready", flush=True)
                held = []
                while True:
                    c, _ = s.accept(); held.append(c)
                """, dir + "/docker.sock"])
            defer { engine.stop() }
            try engine.waitForLine("ready")
            let root = try heartbeatRoot(standIn, overriding: ["docker_host": "unix://\(dir)/docker.sock"])
            defer { try? FileManager.default.removeItem(atPath: root) }
            let start = Date()
            let r = try tool("pv_heartbeat", ["--root", root], timeout: 20)
            let elapsed = Date().timeIntervalSince(start)
            #expect(r.status == 0, "\(r.output)")
            #expect(r.stderr.contains("is not reachable (timed out"), "\(r.stderr)")
            #expect(elapsed < 4, "the engine is asked with a 3 s bound (took \(elapsed) s)")
            #expect((standIn.beats.first?["body"] as? [String: Any])?["state"] as? String == "unknown")
        }

        @Test func noDockerCLIIsRunPerBeat() throws {
            // A `docker` first on PATH that leaves a mark when run.
            let standIn = try ManagementStandIn()
            defer { standIn.stop() }
            let root = try heartbeatRoot(standIn)
            defer { try? FileManager.default.removeItem(atPath: root) }
            let bin = root + "/fakebin"
            try FileManager.default.createDirectory(atPath: bin, withIntermediateDirectories: true)
            try "#!/bin/sh\ntouch \(root)/docker-was-run\nexit 1\n".write(toFile: bin + "/docker", atomically: true, encoding: .utf8)
            chmod(bin + "/docker", 0o755)
            let path = bin + ":" + (ProcessInfo.processInfo.environment["PATH"] ?? "/usr/bin:/bin")
            let r = try tool("pv_heartbeat", ["--root", root], environment: ["PATH": path])
            #expect(r.status == 0, "\(r.output)")
            #expect(r.stdout.contains("dns running"))
            #expect(!FileManager.default.fileExists(atPath: root + "/docker-was-run"))
        }

        @Test func neverTwoAtOnce() throws {
            let standIn = try ManagementStandIn(mode: "hang")
            defer { standIn.stop() }
            let root = try heartbeatRoot(standIn)
            defer { try? FileManager.default.removeItem(atPath: root) }
            let first = Process()
            first.executableURL = URL(fileURLWithPath: Lab.binDir + "/pv_heartbeat")
            first.arguments = ["--root", root, "--timeout", "2"]
            first.standardOutput = FileHandle.nullDevice
            first.standardError = FileHandle.nullDevice
            try first.run()
            defer { if first.isRunning { first.terminate() }; first.waitUntilExit() }
            // Wait (bounded) until the first beat reached the server, so it holds the lock.
            let deadline = Date().addingTimeInterval(5)
            while standIn.beats.isEmpty && Date() < deadline { usleep(20_000) }
            #expect(!standIn.beats.isEmpty)
            let second = try tool("pv_heartbeat", ["--root", root])
            #expect(second.status == 75, "\(second.output)")
            #expect(second.stderr.contains("another pv_heartbeat is running"), "\(second.stderr)")
        }

        @Test func aBeatLoopAtOneSecondGivesNBeatsInNSeconds() throws {
            let standIn = try ManagementStandIn()
            defer { standIn.stop() }
            let root = try heartbeatRoot(standIn)
            defer { try? FileManager.default.removeItem(atPath: root) }
            let n = 6
            let start = Date()
            // What the timer does, at a 1 s interval: start the oneshot on schedule.
            for i in 0..<n {
                let slot = start.addingTimeInterval(Double(i))
                let wait = slot.timeIntervalSinceNow
                if wait > 0 { usleep(useconds_t(wait * 1e6)) }
                let r = try tool("pv_heartbeat", ["--root", root], timeout: 10)
                #expect(r.status == 0, "beat \(i + 1): \(r.output)")
            }
            let beats = standIn.beats
            let times = beats.compactMap { $0["time"] as? Double }
            #expect(beats.count == n)
            #expect(beats.compactMap { ($0["body"] as? [String: Any])?["sequence"] as? Int } == Array(1...n))
            let window = (times.last ?? 0) - start.timeIntervalSince1970
            #expect(window < Double(n), "\(n) beats took \(window) s")
            let gaps = zip(times.dropFirst(), times).map { $0 - $1 }
            #expect(gaps.allSatisfy { abs($0 - 1) < 0.25 }, "gaps \(gaps)")
        }

        /// The units in Bundle/ as systemd itself reads them. --root makes
        /// systemd-analyze resolve ExecStart= and the targets in a scratch tree,
        /// so nothing is installed on this machine.
        @Test func systemdUnitsPassVerify() throws {
            let tree = FileManager.default.temporaryDirectory.appendingPathComponent("pvhb-units-\(UUID().uuidString.prefix(8))").path
            defer { try? FileManager.default.removeItem(atPath: tree) }
            let fm = FileManager.default
            try fm.createDirectory(atPath: tree + "/etc/systemd/system", withIntermediateDirectories: true)
            try fm.createDirectory(atPath: tree + "/provision/libs", withIntermediateDirectories: true)
            try fm.createDirectory(atPath: tree + "/usr/lib/systemd", withIntermediateDirectories: true)
            try fm.copyItem(atPath: "/usr/lib/systemd/system", toPath: tree + "/usr/lib/systemd/system")
            try fm.copyItem(atPath: Lab.binDir + "/pv_heartbeat", toPath: tree + "/provision/libs/pv_heartbeat")
            for unit in ["pv_heartbeat.service", "pv_heartbeat.timer"] {
                try fm.copyItem(atPath: Lab.repo.path + "/Bundle/" + unit, toPath: tree + "/etc/systemd/system/" + unit)
            }
            let verify = ["verify", "--root=\(tree)", "pv_heartbeat.timer", "pv_heartbeat.service"]
            let r = try run("/usr/bin/systemd-analyze", verify, timeout: 30)
            #expect(r.status == 0 && r.output.isEmpty, "systemd-analyze verify: \(r.output)")

            // The control: the same check does fail a broken timer.
            let timer = tree + "/etc/systemd/system/pv_heartbeat.timer"
            let text = try String(contentsOfFile: timer, encoding: .utf8)
            try text.replacingOccurrences(of: "OnCalendar=*-*-* *:*:00,30", with: "OnCalendar=every half minute")
                .write(toFile: timer, atomically: true, encoding: .utf8)
            #expect(try run("/usr/bin/systemd-analyze", verify, timeout: 30).status != 0)
        }

        /// The timer's schedule: every 30 s, within 1 s, a fixed per-host offset
        /// small enough never to skip a slot, nothing that stretches the period.
        @Test func timerScheduleIsEveryThirtySeconds() throws {
            let text = try String(contentsOfFile: Lab.repo.path + "/Bundle/pv_heartbeat.timer", encoding: .utf8)
            var settings: [String: String] = [:]
            for line in text.split(separator: "\n") where !line.hasPrefix("#") {
                let parts = line.split(separator: "=", maxSplits: 1).map(String.init)
                if parts.count == 2 { settings[parts[0]] = parts[1] }
            }
            #expect(settings["AccuracySec"] == "1s")
            #expect(settings["FixedRandomDelay"] == "true")
            #expect(settings["OnUnitActiveSec"] == nil, "adds the random delay to every period and can stop after a restart")
            let delay = try #require(settings["RandomizedDelaySec"].flatMap { Int($0.dropLast()) })
            #expect(delay > 0 && delay + 1 < 30, "offset \(delay) s + accuracy 1 s must stay under the 30 s period")
            #expect(settings["WantedBy"] == "timers.target")

            let spec = try #require(settings["OnCalendar"])
            let r = try run("/usr/bin/systemd-analyze", ["calendar", "--iterations=5", spec], timeout: 30)
            #expect(r.status == 0, "\(r.output)")
            // "Next elapse: Thu 2026-11-26 02:00:30 UTC" and "Iter. #2: ..." lines: consecutive 30 s apart.
            let formatter = DateFormatter()
            formatter.locale = Locale(identifier: "en_US_POSIX")
            formatter.dateFormat = "EEE yyyy-MM-dd HH:mm:ss zzz"
            let elapses = r.stdout.split(separator: "\n").compactMap { line -> Date? in
                guard line.contains("Next elapse:") || line.contains("Iter. #"), let colon = line.firstIndex(of: ":") else { return nil }
                return formatter.date(from: line[line.index(after: colon)...].trimmingCharacters(in: .whitespaces))
            }
            #expect(elapses.count == 5, "\(r.stdout)")
            #expect(zip(elapses.dropFirst(), elapses).allSatisfy { $0.timeIntervalSince($1) == 30 }, "\(r.stdout)")
        }
    }
}

func freeTCPPort() -> UInt16 { freePort(SOCK_STREAM) }
