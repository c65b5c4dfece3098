import Testing
import PVCore
import PVState
import PVTestSupport
@testable import PVStopCLI

/// pv_stop run in-process against a scripted docker: what it prints, what it asks Docker, and
/// what it leaves in the state file.
@Suite struct StopCommandTests {
    func docker(running: String?) -> FakeRunner {
        FakeRunner { args in
            switch args.first {
            case "version": return ProcessOutput(status: 0, stdout: "20.10.24\n")
            case "container":
                guard let running else { return ProcessOutput(status: 1, stderr: "Error: No such container: pv-dns\n") }
                return ProcessOutput(status: 0, stdout: inspectLine(name: "pv-dns", version: running) + "\n")
            case "stop", "rm":
                // As docker answers: a missing container is an error naming it.
                guard running != nil else { return ProcessOutput(status: 1, stderr: "Error response from daemon: No such container: pv-dns\n") }
                return ProcessOutput(status: 0, stdout: "pv-dns\n")
            default: return ProcessOutput(status: 1, stderr: "unexpected docker \(args)\n")
            }
        }
    }

    @Test func stopsTheRunningVersionAndRecordsThatNothingRuns() throws {
        try withScratchRoot { root in
            try StateStore(root: InstallRoot(path: root)).update { $0[.dns].running = Version("1.1.0") }
            let runner = docker(running: "1.1.0")
            let output = RecordedOutput()
            try StopCommand.parse(["dns", "--time", "3"]).execute(in: .test(root: root, processes: runner, output: output))
            #expect(output.lines == ["dns 1.1.0 stopped"])
            #expect(runner.verbs == ["stop", "rm"], "as by hand: no docker version, no inspect")
            #expect(runner.calls[0].suffix(3) == ["--time", "3", "pv-dns"])
            #expect(try StateStore(root: InstallRoot(path: root)).load()[.dns].running == nil)
        }
    }

    @Test func stoppingWhatDoesNotRunSucceedsAndSaysSo() throws {
        try withScratchRoot { root in
            let runner = docker(running: nil)
            let output = RecordedOutput()
            try StopCommand.parse(["dns"]).execute(in: .test(root: root, processes: runner, output: output))
            #expect(output.lines == ["dns is not running; nothing to stop"])
            #expect(runner.verbs == ["stop"], "docker stop said there is none; no rm")
        }
    }

    @Test func anUnknownComponentIsAUsageErrorBeforeDockerIsAsked() throws {
        try withScratchRoot { root in
            let runner = docker(running: "1.1.0")
            let command = try StopCommand.parse(["nds"])
            let error = failure { () throws(PVError) in try command.execute(in: .test(root: root, processes: runner)) }
            #expect(error?.code == .usage)
            #expect(error?.hint == "use one of: dns, dhcp, monitoring")
            #expect(runner.calls.isEmpty)
        }
    }

    @Test func aGraceOutsideItsRangeIsRefused() throws {
        try withScratchRoot { root in
            let runner = docker(running: "1.1.0")
            let command = try StopCommand.parse(["dns", "--time", "301"])
            #expect(failure { () throws(PVError) in try command.execute(in: .test(root: root, processes: runner)) }?.code == .usage)
            #expect(runner.calls.isEmpty)
        }
    }
}
