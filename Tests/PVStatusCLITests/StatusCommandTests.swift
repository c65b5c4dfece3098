import Foundation
import Testing
import PVCore
import PVState
import PVTestSupport
@testable import PVStatusCLI

/// pv_status run in-process against a scripted docker.
@Suite struct StatusCommandTests {
    /// dns runs 1.1.0 (started 100 s before the test clock's now), the others have no container.
    func docker() -> FakeRunner {
        FakeRunner { args in
            switch args.first {
            case "version": return ProcessOutput(status: 0, stdout: "20.10.24\n")
            case "container":
                let line = inspectLine(name: "pv-dns", version: "1.1.0").replacingOccurrences(of: "2026-11-26T01:00:00.5Z", with: "2026-11-18T11:21:40Z")
                return ProcessOutput(status: 1, stdout: line + "\n", stderr: "Error: No such container: pv-dhcp\nError: No such container: pv-monitoring\n")
            case "image": return ProcessOutput(status: 0, stdout: "127.0.0.1:5000/pv-dns@sha256:feed\n")
            default: return ProcessOutput(status: 1, stderr: "unexpected docker \(args)\n")
            }
        }
    }

    /// The scratch root's real files (pv_monitor's lock and sample), the scripted docker.
    func environment(_ root: String, _ output: RecordedOutput) -> AgentEnvironment {
        var environment = AgentEnvironment.test(root: root, processes: docker(), output: output)
        environment.files = LiveFileSystem()
        return environment
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
