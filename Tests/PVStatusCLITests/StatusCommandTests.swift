import Foundation
import Testing
import PVCore
import PVState
import PVTestSupport
@testable import PVStatusCLI

/// pv_status run in-process against a scripted Docker Engine API (no docker process: the
/// environment's process runner fails any it is asked to start).
@Suite struct StatusCommandTests {
    static func answer(_ status: Int, _ body: String) -> Result<HTTPResponse, HTTPError> {
        .success(HTTPResponse(status: status, body: Array(body.utf8)))
    }

    /// dns runs 1.1.0 (started 100 s before the test clock's now), the others have no container;
    /// then the image list, whose entry for dns's image carries the registry digest.
    static func engine() -> FakeHTTPTransport {
        let dns = #"{"Name":"/pv-dns","RestartCount":0,"Image":"sha256:13f6","State":{"Status":"running","StartedAt":"2026-11-18T11:21:40Z","Pid":42,"ExitCode":0},"#
            + #""Config":{"Image":"127.0.0.1:5000/pv-dns:1.1.0","Labels":{"org.provision.component":"dns","org.provision.version":"1.1.0"}}}"#
        let missing = #"{"message":"No such container"}"#
        let images = #"[{"Id":"sha256:aaaa","RepoDigests":[]},{"Id":"sha256:13f6","RepoDigests":["127.0.0.1:5000/pv-dns@sha256:feed"],"RepoTags":["127.0.0.1:5000/pv-dns:1.1.0"]}]"#
        return FakeHTTPTransport([answer(200, dns), answer(404, missing), answer(404, missing), answer(200, images)])
    }

    /// The scratch root's real files (pv_monitor's lock and sample), the scripted engine.
    func environment(_ root: String, _ output: RecordedOutput, http: FakeHTTPTransport = engine()) -> AgentEnvironment {
        var environment = AgentEnvironment.test(root: root, processes: FakeRunner { args in
            Issue.record("pv_status started a process: docker \(args)")
            return ProcessOutput(status: 1)
        }, output: output)
        environment.files = LiveFileSystem()
        environment.http = http
        return environment
    }

    /// One request per enabled component and one for every image's digest, over the configured socket.
    @Test func asksTheEngineAPIOnceForEachComponentAndOnceForTheImages() throws {
        try withScratchRoot { root in
            let http = Self.engine()
            try StatusCommand.parse([]).execute(in: environment(root, RecordedOutput(), http: http))
            #expect(http.requests.map(\.url) == ["http://docker/containers/pv-dns/json", "http://docker/containers/pv-dhcp/json",
                                                 "http://docker/containers/pv-monitoring/json", "http://docker/images/json"])
            #expect(http.requests.allSatisfy { $0.unixSocketPath == "/tmp/fake.sock" && $0.method == "GET" })
        }
    }

    /// An engine that does not answer: the error pv_status always gave (exit 69, the hint to start it).
    @Test func anEngineThatDoesNotAnswerIsExit69WithItsHint() throws {
        try withScratchRoot { root in
            let http = FakeHTTPTransport([.failure(HTTPError(.connectFailed, detail: "Could not connect to /tmp/fake.sock"))])
            let command = try StatusCommand.parse([])
            do throws(PVError) {
                try command.execute(in: environment(root, RecordedOutput(), http: http))
                Issue.record("pv_status succeeded without an engine")
            } catch {
                #expect(error.code == .unavailable)
                #expect(error.message == "the Docker engine at unix:///tmp/fake.sock is not running")
                #expect(error.hint?.hasPrefix("start it (systemctl start docker") == true)
                #expect(error.cause?.contains("Could not connect") == true)
            }
        }
    }

    @Test func theTableShowsEachComponentAndNamesADisagreementWithTheStateFile() throws {
        try withScratchRoot { root in
            try StateStore(root: InstallRoot(path: root)).update {
                $0[.dns].verified = Version("1.1.0")
                $0[.dns].running = Version("1.1.0")
                $0[.dhcp].running = Version("1.0.0")
            }
            let output = RecordedOutput()
            try StatusCommand.parse([]).execute(in: environment(root, output))
            #expect(output.lines.count == 6)
            #expect(output.lines[1].split(separator: " ").map(String.init) == ["dns", "running", "1.1.0", "1m40s", "1.1.0", "127.0.0.1:5000/pv-dns@sha256:feed"])
            #expect(output.lines[2].split(separator: " ").prefix(3) == ["dhcp", "absent", "-"])
            #expect(output.lines[4].hasPrefix("note: the state file records dhcp 1.0.0, but Docker runs no dhcp container"))
            #expect(output.lines[5] == "monitor: pv_monitor is not running (systemctl status pv_monitor.service says why)")
        }
    }

    /// pv_monitor's lock held by a live process (here: this test's) and its last sample: pv_status
    /// says it runs, how old the sample is, and the sample's problems.
    @Test func theMonitorLineSaysWhetherPVMonitorRunsAndHowOldItsSampleIs() throws {
        try withScratchRoot { root in
            let installRoot = InstallRoot(path: root)
            try FileIO.makeDirectories(root + "/state/monitor")
            guard case .acquired(let lock) = FileLock.acquire(MonitorHealth.lockPath(installRoot)) else {
                Issue.record("the lock was not acquired")
                return
            }
            lock.write("pid \(getpid())\n")
            // The test clock's now is 2026-11-18T11:23:20Z; the sample ended 25 s before.
            let sample = #"{"sequence": 41, "end": "2026-11-18T11:22:55Z", "dns": {"problem": null}, "dns_aggregate": {"problem": null}, "#
                + #""dhcp": {"problem": "no monitoring data from dhcp: cannot connect"}, "pull": {"listen": null, "problem": "cannot serve /metrics on 127.0.0.1:9433"}}"#
            try FileIO.writeAtomically(MonitorHealth.samplePath(installRoot), sample, mode: 0o644)
            let output = RecordedOutput()
            try StatusCommand.parse([]).execute(in: environment(root, output))
            #expect(output.lines.suffix(3) == ["monitor: pv_monitor runs (pid \(getpid())), last sample #41 25 s ago, 2 problems",
                                               "note: no monitoring data from dhcp: cannot connect",
                                               "note: cannot serve /metrics on 127.0.0.1:9433"])
            withExtendedLifetime(lock) {}
        }
    }

    @Test func jsonHasOneObjectWithEveryComponent() throws {
        try withScratchRoot { root in
            let output = RecordedOutput()
            try StatusCommand.parse(["--json"]).execute(in: environment(root, output))
            #expect(output.lines.count == 1)
            struct Status: Decodable {
                struct Component: Decodable {
                    var component: String
                    var state: String
                    var uptime_seconds: Int?
                    var state_file_agrees: Bool
                }
                var components: [Component]
            }
            let components = try JSONDecoder().decode(Status.self, from: Data(output.lines[0].utf8)).components
            #expect(components.map(\.component) == ["dns", "dhcp", "monitoring"])
            #expect(components[0].uptime_seconds == 100)
            #expect(components[0].state_file_agrees == false, "dns runs, but the state file records nothing running")
            #expect(components[2].state == "absent")
        }
    }
}
