import Foundation
import Testing

extension LabIntegration {
    /// pv_update on the lab: real registry, real images, real Knot/Kea, and
    /// registries that fail in each way an operator may meet.
    @Suite struct UpdateIntegrationTests {
        static let docker = ["/usr/local/bin/docker", "/usr/bin/docker"].first { FileManager.default.isExecutableFile(atPath: $0) }!

        func update(_ args: [String], environment: [String: String] = [:], root: String = Lab.root, timeout: Double = 120) throws -> RunResult {
            try tool("pv_update", args + ["--root", root], environment: environment, timeout: timeout)
        }

        func dockerCLI(_ args: [String]) throws -> RunResult {
            try run(Self.docker, ["--host", Lab.dockerHost] + args)
        }

        func served(_ component: String = "dns") throws -> String {
            try run("/usr/bin/kdig", ["@127.0.0.1", "-p", Lab.dnsPort, "+short", "+time=1", "+retry=1", "TXT", "version.pvverify.test"]).stdout
                .trimmingCharacters(in: .whitespacesAndNewlines).replacingOccurrences(of: "\"", with: "")
        }

        func statusJSON() throws -> [[String: Any]] {
            let r = try tool("pv_status", ["--json", "--root", Lab.root])
            let doc = try JSONSerialization.jsonObject(with: Data(r.stdout.utf8)) as! [String: Any]
            return doc["components"] as! [[String: Any]]
        }

        func dnsStatus() throws -> [String: Any] { try statusJSON().first { $0["component"] as? String == "dns" }! }

        /// The lab's starting point: every component at 1.1.0, verified, no failures or journals recorded.
        func reset() throws {
            try Lab.requireUp()
            let state = Lab.root + "/state"
            for f in (try? FileManager.default.contentsOfDirectory(atPath: state)) ?? [] where f.hasSuffix(".journal") || f == "components.json" {
                try FileManager.default.removeItem(atPath: state + "/" + f)
            }
            for c in ["dns", "dhcp", "monitoring"] {
                let r = try update([c, "-v", "1.1.0"])
                if r.status != 0 { _ = try tool("pv_start", [c, "-v", "1.1.0", "--root", Lab.root]); _ = try update([c, "-v", "1.1.0"]) }
            }
        }

        /// Removes every local tag of `image:tag`, whichever registry it came from, so that the next
        /// pull really downloads its layers (docker skips the blobs it already holds).
        func forgetImage(_ image: String, _ tag: String) throws {
            let all = try dockerCLI(["image", "ls", "--format", "{{.Repository}}:{{.Tag}}"]).stdout.split(separator: "\n")
            let named = all.filter { $0.hasSuffix("/\(image):\(tag)") }.map(String.init)
            if !named.isEmpty { _ = try dockerCLI(["image", "rm", "--force"] + named) }
        }

        @Test func betweenTwoGoodVersions() throws {
            try reset()
            var r = try update(["dns", "-v", "1.0.0"])
            #expect(r.status == 0, "\(r.output)")
            #expect(r.stdout.contains("dns: updated 1.1.0 -> 1.0.0, verified"), "\(r.stdout)")
            #expect(try served() == "1.0.0")
            r = try update(["dns", "-v", "1.1.0"])
            #expect(r.status == 0, "\(r.output)")
            #expect(r.stdout.contains("dns: updated 1.0.0 -> 1.1.0, verified"))
            let s = try dnsStatus()
            #expect(s["version"] as? String == "1.1.0" && s["verified_version"] as? String == "1.1.0")
            let containers = try dockerCLI(["ps", "-a", "--filter", "label=org.provision.component=dns", "--filter", "label=org.provision.prefix=pvit-",
                                            "--format", "{{.Names}}"]).stdout
            #expect(containers.split(separator: "\n") == ["pvit-dns"], "the old container is gone")
            r = try update(["dns", "-v", "1.1.0"])
            #expect(r.stdout.contains("1.1.0 is up to date; left untouched"))
        }

        /// Runs `body` while queries go to the DNS port at 50/s from 16 sockets (Scripts/dns_prober.py),
        /// and returns the prober's count: sent, unanswered (within 0.5 s each), the longest gap.
        func probed(_ body: () throws -> Void) throws -> [String: Any] {
            let prober = try Server("dns_prober", "/usr/bin/python3", ["-u", Lab.repo.path + "/Scripts/dns_prober.py", "127.0.0.1", Lab.dnsPort, "50"])
            defer { prober.stop() }
            try prober.waitForLine("ready")
            usleep(300_000)
            try body()
            usleep(300_000)
            kill(prober.process.processIdentifier, SIGTERM)
            try prober.waitForLine("unanswered", timeout: 5)
            return (try? JSONSerialization.jsonObject(with: Data(prober.lastLine.utf8)) as? [String: Any]) ?? [:]
        }

        func containerID(_ name: String) throws -> String {
            try dockerCLI(["inspect", "--format", "{{.Id}}", name]).stdout.trimmingCharacters(in: .whitespacesAndNewlines)
        }

        /// The DNS handoff on the real engine and Knot: during an update between two good versions
        /// at most the one query in the old socket when it is killed goes unanswered, and none
        /// during a failed one, whose old container never stops (the same container serves before
        /// and after).
        @Test func aDNSUpdateLeavesNoQueryUnanswered() throws {
            try reset()
            // From a container of the current images (labelled for the handoff), whatever ran before.
            #expect(try update(["dns", "-v", "1.0.0"]).status == 0)
            var r = RunResult(status: -1, stdout: "", stderr: "")
            let good = try probed { r = try update(["dns", "-v", "1.1.0"]) }
            #expect(r.status == 0 && r.stdout.contains("starting pvit-dns-next beside pvit-dns"), "\(r.output)")
            // At most the one query that may sit in the old instance's socket when it is killed (the
            // kernel drops a closing UDP socket's queue; measured 0-1 per update at 50-1,000 q/s).
            #expect((good["unanswered"] as? Int ?? 99) <= 1 && (good["sent"] as? Int ?? 0) > 10, "during the update: \(good)")
            #expect((good["longest_gap_s"] as? Double ?? 9) < 0.25, "during the update: \(good)")
            #expect(try served() == "1.1.0")
            let serving = try containerID("pvit-dns")
            let bad = try probed { r = try update(["dns", "-v", "1.2.0", "--force"]) }
            #expect(r.status == 1 && r.stderr.contains("1.1.0 never stopped and still serves"), "\(r.output)")
            #expect(bad["unanswered"] as? Int == 0, "during the failed update: \(bad)")
            #expect(try containerID("pvit-dns") == serving, "the old container was never replaced")
            #expect(try served() == "1.1.0")
            let containers = try dockerCLI(["ps", "-a", "--filter", "label=org.provision.component=dns", "--filter", "label=org.provision.prefix=pvit-",
                                            "--format", "{{.Names}}"]).stdout
            #expect(containers.split(separator: "\n") == ["pvit-dns"], "\(containers)")
        }

        /// The Push Update popup's feed: the install's events (step, component, n/total, downloads,
        /// verification, rollback), one JSON object a line, ending with the result.
        @Test func theJSONFeedCarriesDownloadsVerificationRollbackAndTheResult() throws {
            try reset()
            try forgetImage("pv-dns", "1.0.0")
            func events(_ r: RunResult) -> [[String: Any]] {
                r.stdout.split(separator: "\n").map { line in
                    let object = try? JSONSerialization.jsonObject(with: Data(line.utf8)) as? [String: Any]
                    #expect(object != nil, "not one JSON object: \(line)")
                    return object ?? [:]
                }
            }
            func kinds(_ e: [[String: Any]]) -> [String] { e.filter { $0["event"] as? String == "progress" }.compactMap { $0["kind"] as? String } }

            var r = try update(["dns", "-v", "1.0.0", "--json"])
            #expect(r.status == 0, "\(r.output)")
            var e = events(r)
            #expect(e.first?["event"] as? String == "start" && e.first?["step"] as? String == "update_dns"
                    && e.first?["component"] as? String == "dns" && e.first?["index"] as? Int == 1 && e.first?["total"] as? Int == 1, "\(r.stdout)")
            // In this order (a DNS handoff adds a note before and the old one's stopping after; a swap, its stopping before).
            let expected = ["downloading", "downloaded", "starting", "verifying", "verified"]
            #expect(kinds(e).filter(expected.contains) == expected, "\(r.stdout)")
            let done = e.first { $0["event"] as? String == "ok" }
            #expect(done?["detail"] as? String == "dns: updated 1.1.0 -> 1.0.0, verified", "\(r.stdout)")
            #expect(e.last?["event"] as? String == "result" && e.last?["ok"] as? Bool == true && e.last?["exit_code"] as? Int == 0)

            r = try update(["dns", "-v", "1.2.0", "--json"])
            #expect(r.status == 1, "\(r.output)")
            e = events(r)
            #expect(kinds(e).contains("verification_failed") && kinds(e).contains("rolling_back"), "\(r.stdout)")
            let failed = e.first { $0["event"] as? String == "failed" }
            #expect((failed?["detail"] as? String)?.hasPrefix("dns 1.2.0 failed verification") == true, "\(r.stdout)")
            #expect(e.last?["event"] as? String == "result" && e.last?["ok"] as? Bool == false && e.last?["exit_code"] as? Int == 1)
            #expect(try served() == "1.0.0", "rolled back")
            #expect(try update(["dns", "-v", "1.1.0"]).status == 0)
        }

        @Test func brokenVersionsAreRolledBackAndSkippedAfterwards() throws {
            try reset()
            var r = try update([], timeout: 300)
            #expect(r.status == 1, "\(r.output)")
            #expect(r.stderr.contains("dns 1.2.0 failed verification: pvverify.test. TXT is \"PVFAIL\""), "\(r.stderr)")
            #expect(r.stderr.contains("dhcp 1.2.0 failed verification: no DHCP offer"), "\(r.stderr)")
            #expect(r.stderr.contains("monitoring 1.2.0 failed verification"), "\(r.stderr)")
            #expect(r.stderr.contains("rolled back: 1.1.0 runs and passes verification"))
            #expect(r.stderr.contains("3 of 3 components failed to update"))
            #expect(try served() == "1.1.0")
            for s in try statusJSON() {
                #expect(s["state"] as? String == "running" && s["version"] as? String == "1.1.0", "\(s)")
            }
            r = try tool("pv_verify", ["all", "--root", Lab.root])
            #expect(r.status == 0, "\(r.output)")
            r = try update(["dns"])
            #expect(r.status == 0)
            #expect(r.stdout.contains("dns: 1.1.0 is up to date; left untouched"), "the failed 1.2.0 is skipped: \(r.stdout)")
            r = try update(["dns", "--check", "--force"])
            #expect(r.stdout.contains("dns: would update 1.1.0 -> 1.2.0 (sha256:"), "\(r.stdout)")
        }

        /// Another process holding `<root>/state/update.lock` as a pv_update would, until stopped.
        static func lockHolder(root: String) throws -> Server {
            let holder = try Server("lock holder", "/usr/bin/python3", ["-u", "-c", """
                import fcntl, os, time
                f = open("\(root)/state/update.lock", "a+"); fcntl.flock(f, fcntl.LOCK_EX)
                f.seek(0); f.truncate(); f.write("pid %d: pv_update all\\n" % os.getpid()); f.flush(); print("ready"); time.sleep(60)
                """])
            do { try holder.waitForLine("ready") } catch { holder.stop(); throw error }
            return holder
        }

        @Test func oneUpdateAtATime() throws {
            try Lab.requireUp()
            let holder = try Self.lockHolder(root: Lab.root)
            defer { holder.stop() }
            let start = Date()
            let r = try update(["dns"])
            #expect(r.status == 75)
            #expect(r.stderr.contains("another run is changing the components (pid \(holder.process.processIdentifier): pv_update all)"), "\(r.stderr)")
            #expect(Date().timeIntervalSince(start) < 2, "exits at once")
            for command in [["pv_start", "dns", "-v", "1.1.0"], ["pv_stop", "dns"]] {
                let other = try tool(command[0], Array(command.dropFirst()) + ["--root", Lab.root])
                #expect(other.status == 75, "\(command[0]) waits for no one either: \(other.output)")
            }
            #expect(try served() == "1.1.0", "nothing was stopped")
        }

        /// DNS hands over (its steps); DHCP stops, then starts (the swap's steps). The crash comes right
        /// after the step's journal write; what the next run must reach: the version before, or,
        /// once the new one had passed (or, in a swap, passes when asked again), the new one.
        @Test(arguments: [("dns", "pulling", "1.1.0", "1.0.0"), ("dns", "starting-next", "1.1.0", "1.0.0"),
                          ("dns", "verifying-next", "1.1.0", "1.0.0"), ("dns", "retiring-old", "1.1.0", "1.1.0"),
                          ("dns", "removing-next", "1.2.0", "1.0.0"),
                          ("dhcp", "swapping", "1.1.0", "1.0.0"), ("dhcp", "verifying", "1.1.0", "1.1.0"), ("dhcp", "rolling-back", "1.2.0", "1.0.0")])
        func killedAtEachStepIsFinishedOrUndone(component: String, step: String, target: String, expected: String) throws {
            try reset()
            #expect(try update([component, "-v", "1.0.0"]).status == 0)
            _ = try dockerCLI(["image", "rm", "127.0.0.1:5000/pv-\(component):\(target)"])
            let r = try update([component, "-v", target], environment: ["PV_UPDATE_CRASH_AT": step])
            #expect(r.status == 137, "killed by SIGKILL at \(step): \(r.output)")
            let journal = Lab.root + "/state/update-\(component).journal"
            #expect(FileManager.default.fileExists(atPath: journal), "the journal survives the crash")

            // The next run finishes or undoes it: pv_start for some steps, pv_update for others.
            let next = ["pulling", "verifying", "verifying-next", "retiring-old"].contains(step)
                ? try tool("pv_start", [component, "--root", Lab.root]) : try update([component, "--check"])
            #expect(next.status == 0, "\(next.output)")
            #expect(next.stdout.contains("interrupted update of \(component) to \(target)"), "\(next.stdout)")
            #expect(!FileManager.default.fileExists(atPath: journal))
            let s = try statusJSON().first { $0["component"] as? String == component } ?? [:]
            #expect(s["state"] as? String == "running")
            #expect(s["version"] as? String == s["verified_version"] as? String, "runs its verified version after a crash at \(step): \(s)")
            #expect(s["version"] as? String == expected, "after a crash at \(step): \(s)")
            let v = try tool("pv_verify", [component, "--root", Lab.root])
            #expect(v.status == 0, "\(v.output)")
            // One container, under the component's name: a handoff's new container was renamed or removed.
            let containers = try dockerCLI(["ps", "-a", "--filter", "label=org.provision.component=\(component)", "--filter", "label=org.provision.prefix=pvit-",
                                            "--format", "{{.Names}}"]).stdout
            #expect(containers.split(separator: "\n") == ["pvit-\(component)"], "\(containers)")
        }

        @Test(arguments: ["down", "500", "garbage", "hang"])
        func registryFailuresChangeNothing(mode: String) throws {
            try reset()
            var fake: Server? = nil
            var port = "1"
            if mode != "down" {
                fake = try Server("fake registry", "/usr/bin/python3", ["-u", Lab.repo.path + "/Tests/Fixtures/fake_registry.py", mode])
                try fake!.waitForLine("ready")
                port = try fake!.readyPort()
            }
            defer { fake?.stop() }
            let root = try Lab.scratchRoot("registry", overriding: ["registry": "127.0.0.1:\(port)"])
            defer { try? FileManager.default.removeItem(atPath: root) }
            let start = Date()
            let r = try update(["dns"], root: root, timeout: 60)
            #expect(r.status == 69, "\(mode): \(r.output)")
            let expected = ["down": "cannot reach the registry 127.0.0.1:1", "500": "answered 500",
                            "garbage": "sent an invalid tags list", "hang": "timed out"][mode]!
            #expect(r.stderr.contains(expected), "\(mode): \(r.stderr)")
            #expect(Date().timeIntervalSince(start) < 30, "bounded even when the registry hangs")
            #expect(try served() == "1.1.0", "dns keeps serving")
        }

        /// --check against a registry that accepts and never answers: every component at once,
        /// within --timeout, and without the update lock (which another run holds here).
        @Test func checkIsBoundedAndTakesNoLock() throws {
            try Lab.requireUp()
            let fake = try Server("fake registry", "/usr/bin/python3", ["-u", Lab.repo.path + "/Tests/Fixtures/fake_registry.py", "hang"])
            defer { fake.stop() }
            try fake.waitForLine("ready")
            let root = try Lab.scratchRoot("checkbound", overriding: ["registry": "127.0.0.1:\(try fake.readyPort())"])
            defer { try? FileManager.default.removeItem(atPath: root) }
            try FileManager.default.createDirectory(atPath: root + "/state", withIntermediateDirectories: true)
            let holder = try Self.lockHolder(root: root)
            defer { holder.stop() }
            let start = Date()
            let r = try update(["--check", "--timeout", "4"], root: root, timeout: 60)
            let took = Date().timeIntervalSince(start)
            #expect(r.status == 69, "\(r.output)")
            #expect(!r.stderr.contains("another"), "no lock is taken: \(r.stderr)")
            for c in ["dns", "dhcp", "monitoring"] { #expect(r.stderr.contains("Error: \(c): "), "\(c): \(r.stderr)") }
            // Before: 15 s per request, one component after another (45 s and more).
            #expect(took < 10, "bounded by --timeout 4, all components at once (took \(took) s)")
        }

        @Test func pullFailingHalfWayChangesNothing() throws {
            try reset()
            try forgetImage("pv-dns", "1.2.0")
            let fake = try Server("fake registry", "/usr/bin/python3", ["-u", Lab.repo.path + "/Tests/Fixtures/fake_registry.py", "cutpull"])
            defer { fake.stop() }
            try fake.waitForLine("ready")
            let root = try Lab.scratchRoot("cutpull", overriding: ["registry": "127.0.0.1:\(try fake.readyPort())"])
            defer { try? FileManager.default.removeItem(atPath: root) }
            let r = try update(["dns"], root: root)
            #expect(r.status == 69, "\(r.output)")
            #expect(r.stderr.contains("failed; nothing was changed, the running version keeps serving"), "\(r.stderr)")
            #expect(try served() == "1.1.0")
            #expect(!FileManager.default.fileExists(atPath: root + "/state/update-dns.journal"))
        }

        @Test func rollbackTargetMissingLocallyIsDownloadedAgain() throws {
            try reset()
            // DHCP is stopped, then started (DNS hands over: its old version never stops, so its image
            // is never needed again). Untag the running version's image: the container keeps
            // running, the image is gone locally.
            _ = try dockerCLI(["image", "rm", "--force", "127.0.0.1:5000/pv-dhcp:1.1.0"])
            let r = try update(["dhcp"])
            #expect(r.status == 1, "\(r.output)")
            #expect(r.stderr.contains("rolled back: 1.1.0 runs and passes verification"), "\(r.stderr)")
            let s = try statusJSON().first { $0["component"] as? String == "dhcp" } ?? [:]
            #expect(s["state"] as? String == "running" && s["version"] as? String == "1.1.0", "\(s)")
        }
    }
}

extension Server {
    /// The port from a "ready PORT" line (read by waitForLine).
    func readyPort() throws -> String {
        guard let port = lastLine.split(separator: " ").last, Int(port) != nil else { throw LabError("\(name) printed no port") }
        return String(port)
    }
}
