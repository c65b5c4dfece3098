import Foundation
import Testing

/// A tool started by a test, whose output and children the test watches so that it can send a
/// signal at the exact moment it means (a download stalled, a `docker stop` in flight).
final class RunningTool {
    let process = Process()
    let pipe = Pipe()
    let name: String
    private(set) var output = ""

    init(_ name: String, _ arguments: [String]) throws {
        self.name = name
        process.executableURL = URL(fileURLWithPath: Lab.binDir + "/" + name)
        process.arguments = arguments
        var env = ProcessInfo.processInfo.environment
        env.removeValue(forKey: "PV_ROOT")
        process.environment = env
        process.standardOutput = pipe
        process.standardError = pipe
        try process.run()
    }

    var pid: Int32 { process.processIdentifier }

    private func drain(waitingMs: Int32) {
        var pfd = pollfd(fd: pipe.fileHandleForReading.fileDescriptor, events: Int16(POLLIN), revents: 0)
        if poll(&pfd, 1, waitingMs) > 0 {
            let data = pipe.fileHandleForReading.availableData
            output += String(decoding: data, as: UTF8.self)
        }
    }

    func waitForOutput(_ text: String, timeout: Double = 30) throws {
        let deadline = Date().addingTimeInterval(timeout)
        while Date() < deadline {
            if output.contains(text) { return }
            drain(waitingMs: 20)
        }
        throw LabError("\(name) did not print '\(text)' within \(timeout) s (got: \(output.suffix(300)))")
    }

    /// The pid of a running child of the tool whose command line contains `text`.
    func waitForChild(_ text: String, timeout: Double = 30) throws -> Int32 {
        let deadline = Date().addingTimeInterval(timeout)
        while Date() < deadline {
            if let child = children().first(where: { $0.commandLine.contains(text) }) { return child.pid }
            drain(waitingMs: 0)
            usleep(1_000)
        }
        throw LabError("\(name) started no child running '\(text)' within \(timeout) s (children: \(children().map(\.commandLine)))")
    }

    func children() -> [(pid: Int32, commandLine: String)] { processes().filter { $0.parent == pid }.map { ($0.pid, $0.commandLine) } }

    func signal(_ s: Int32) { kill(pid, s) }

    func finish(timeout: Double = 60) throws -> RunResult {
        let deadline = Date().addingTimeInterval(timeout)
        while process.isRunning && Date() < deadline { drain(waitingMs: 20) }
        if process.isRunning {
            kill(pid, SIGKILL)
            throw LabError("\(name) did not finish within \(timeout) s after the signal (got: \(output.suffix(300)))")
        }
        while true {
            let data = pipe.fileHandleForReading.availableData
            if data.isEmpty { break }
            output += String(decoding: data, as: UTF8.self)
        }
        let status = process.terminationReason == .uncaughtSignal ? 128 + process.terminationStatus : process.terminationStatus
        return RunResult(status: status, stdout: output, stderr: "")
    }

    deinit { if process.isRunning { kill(pid, SIGKILL) } }
}

/// Every process of this machine: pid, parent, command line (from /proc).
func processes() -> [(pid: Int32, parent: Int32, commandLine: String)] {
    let entries = (try? FileManager.default.contentsOfDirectory(atPath: "/proc")) ?? []
    return entries.compactMap { entry in
        guard let pid = Int32(entry), let stat = try? String(contentsOfFile: "/proc/\(entry)/stat", encoding: .utf8),
              let close = stat.lastIndex(of: ")") else { return nil }
        let fields = stat[stat.index(after: close)...].split(separator: " ")
        guard fields.count > 2, let parent = Int32(fields[1]), fields[0] != "Z" else { return nil }
        let raw = (try? Data(contentsOf: URL(fileURLWithPath: "/proc/\(entry)/cmdline"))) ?? Data()
        return (pid, parent, String(decoding: raw, as: UTF8.self).replacingOccurrences(of: "\0", with: " "))
    }
}

func isAlive(_ pid: Int32) -> Bool { processes().contains { $0.pid == pid } }

extension LabIntegration {
    /// SIGTERM, SIGINT and SIGHUP during pv_update and pv_stop, on the real lab: the tool reaches a
    /// safe point, says so, exits 128 + n, leaves no journal and no docker child behind, and the
    /// state file agrees with Docker. (The SIGKILL cases are UpdateIntegrationTests.killedAtEachStep.)
    @Suite struct InterruptionIntegrationTests {
        var updates: UpdateIntegrationTests { UpdateIntegrationTests() }
        var journal: String { Lab.root + "/state/update-dns.journal" }

        func expectStateAgrees(_ component: String = "dns") throws {
            let s = try updates.statusJSON().first { $0["component"] as? String == component }!
            #expect(s["state_file_agrees"] as? Bool == true, "pv_status: \(s)")
        }

        /// The lab reset, dns 1.2.0 forgotten locally, and a scratch root whose registry stalls every
        /// blob download half-way: a pv_update there hangs in `docker pull` until it is cut.
        func stallingRegistry(_ name: String) throws -> (fake: Server, root: String) {
            try updates.reset()
            try updates.forgetImage("pv-dns", "1.2.0")
            let fake = try Server("fake registry", "/usr/bin/python3", ["-u", Lab.repo.path + "/Tests/Fixtures/fake_registry.py", "stallpull"])
            do {
                try fake.waitForLine("ready")
                return (fake, try Lab.scratchRoot(name, overriding: ["registry": "127.0.0.1:\(try fake.readyPort())"]))
            } catch { fake.stop(); throw error }
        }

        @Test func aStalledDownloadIsCutAndNothingChanges() throws {
            let (fake, root) = try stallingRegistry("stallpull")
            defer { fake.stop(); try? FileManager.default.removeItem(atPath: root) }
            let update = try RunningTool("pv_update", ["dns", "--root", root])
            try fake.waitForLine("stalling a blob download", timeout: 60)
            let pull = try update.waitForChild(" pull ")
            update.signal(SIGINT)
            let sent = Date()
            let r = try update.finish()
            #expect(r.status == 130, "\(r.output)")
            #expect(Date().timeIntervalSince(sent) < 5, "the stalled download is cut at once")
            #expect(r.output.contains("interrupted by SIGINT: the download of 127.0.0.1:"), "\(r.output)")
            #expect(r.output.contains("was cut; nothing was changed"), "\(r.output)")
            #expect(!isAlive(pull), "the docker pull ended with the tool")
            #expect(try updates.served() == "1.1.0")
            #expect(!FileManager.default.fileExists(atPath: root + "/state/update-dns.journal"))
        }

        @Test func aSwapInHandIsFinishedBeforeTheToolStops() throws {
            try updates.reset()
            #expect(try updates.update(["dns", "-v", "1.0.0"]).status == 0)
            let update = try RunningTool("pv_update", ["dns", "-v", "1.1.0", "--root", Lab.root])
            _ = try update.waitForChild(" run ")
            update.signal(SIGTERM)
            let r = try update.finish()
            #expect(r.status == 143, "\(r.output)")
            #expect(r.output.contains("dns: updated 1.0.0 -> 1.1.0, verified"), "finished, not abandoned: \(r.output)")
            #expect(r.output.contains("interrupted by SIGTERM after the last component had been finished"), "\(r.output)")
            #expect(try updates.served() == "1.1.0")
            #expect(!FileManager.default.fileExists(atPath: journal))
            try expectStateAgrees()
            #expect(update.children().isEmpty)
        }

        @Test func aHangUpDuringAllFinishesTheComponentInHandAndLeavesTheRest() throws {
            try updates.reset()
            let before = try updates.dockerCLI(["inspect", "--format", "{{.Id}}", "pvit-dhcp", "pvit-monitoring"]).stdout
            // 1.2.0 is the lab's broken release: dns is swapped, fails verification and is rolled back.
            let update = try RunningTool("pv_update", ["all", "--root", Lab.root])
            _ = try update.waitForChild(" run ")
            update.signal(SIGHUP)
            let r = try update.finish(timeout: 120)
            #expect(r.status == 129, "\(r.output)")
            #expect(r.output.contains("dns 1.2.0 failed verification"), "\(r.output)")
            #expect(r.output.contains("1.1.0 never stopped and still serves"), "the handoff's rollback: \(r.output)")
            #expect(r.output.contains("interrupted by SIGHUP: stopped at a safe point; not updated: dhcp, monitoring"), "\(r.output)")
            #expect(try updates.served() == "1.1.0")
            #expect(try updates.dockerCLI(["inspect", "--format", "{{.Id}}", "pvit-dhcp", "pvit-monitoring"]).stdout == before,
                    "dhcp and monitoring were not touched")
            #expect(!FileManager.default.fileExists(atPath: journal))
            try expectStateAgrees()
        }

        /// A second signal is the operator insisting: the tool ends at once, its journal left for
        /// the next run, which finishes or undoes the update.
        @Test func aSecondSignalEndsTheToolAtOnceAndTheNextRunRecovers() throws {
            try updates.reset()
            // DHCP: stopped, then started (DNS hands over and stops nothing before the new one works).
            #expect(try updates.update(["dhcp", "-v", "1.0.0"]).status == 0)
            let update = try RunningTool("pv_update", ["dhcp", "-v", "1.1.0", "--root", Lab.root])
            // Both signals while the old container is being stopped: the rest of the swap (remove,
            // run, readiness, verification) is still ahead, so the tool cannot finish in between.
            _ = try update.waitForChild(" stop ")
            update.signal(SIGTERM)
            // Two standard signals sent back to back can merge into one pending signal.
            usleep(20_000)
            update.signal(SIGTERM)
            let r = try update.finish()
            #expect(r.status == 143, "\(r.output)")
            #expect(!r.output.contains("updated 1.0.0 -> 1.1.0"), "the second signal did not wait for the update: \(r.output)")
            let dhcpJournal = Lab.root + "/state/update-dhcp.journal"
            #expect(FileManager.default.fileExists(atPath: dhcpJournal), "the journal is left for the next run")
            let next = try updates.update(["dhcp", "--check"])
            #expect(next.status == 0 && next.stdout.contains("interrupted update of dhcp to 1.1.0"), "\(next.output)")
            #expect(!FileManager.default.fileExists(atPath: dhcpJournal))
            let s = try updates.statusJSON().first { $0["component"] as? String == "dhcp" } ?? [:]
            #expect(s["state"] as? String == "running" && s["version"] as? String == s["verified_version"] as? String, "\(s)")
            try expectStateAgrees()
        }

        @Test func aStopInFlightIsFinished() throws {
            try updates.reset()
            let stop = try RunningTool("pv_stop", ["dns", "--root", Lab.root])
            _ = try stop.waitForChild(" stop ")
            stop.signal(SIGTERM)
            let r = try stop.finish()
            #expect(r.status == 143, "\(r.output)")
            #expect(r.output.contains("dns 1.1.0 stopped"), "\(r.output)")
            #expect(r.output.contains("interrupted by SIGTERM: the stop of dns was finished first"), "\(r.output)")
            let s = try updates.dnsStatus()
            #expect(s["state"] as? String == "absent", "\(s)")
            try expectStateAgrees()
            #expect(try tool("pv_start", ["dns", "-v", "1.1.0", "--root", Lab.root]).status == 0)
        }

        @Test func aKilledToolTakesItsDockerChildWithIt() throws {
            let (fake, root) = try stallingRegistry("killed")
            defer { fake.stop(); try? FileManager.default.removeItem(atPath: root) }
            let update = try RunningTool("pv_update", ["dns", "--root", root])
            let pull = try update.waitForChild(" pull ", timeout: 60)
            update.signal(SIGKILL)
            _ = try update.finish()
            let deadline = Date().addingTimeInterval(3)
            while isAlive(pull) && Date() < deadline { usleep(10_000) }
            #expect(!isAlive(pull), "the docker pull did not outlive pv_update")
        }
    }
}
