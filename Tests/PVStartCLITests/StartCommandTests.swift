import Testing
import PVCore
import PVState
import PVTestSupport
@testable import PVStartCLI

/// pv_start run in-process against a scripted docker (monitoring: its readiness is "running",
/// so no DNS or DHCP check reaches the host).
@Suite struct StartCommandTests {
    final class Engine: @unchecked Sendable {
        var running: String?
        var images: Set<String> = ["127.0.0.1:5000/pv-monitoring:1.1.0"]
        lazy var runner = FakeRunner { [unowned self] args in
            switch args.first {
            case "version": return ProcessOutput(status: 0, stdout: "20.10.24\n")
            case "container":
                guard let v = running else { return ProcessOutput(status: 1, stderr: "Error: No such container: pv-monitoring\n") }
                return ProcessOutput(status: 0, stdout: inspectLine(name: "pv-monitoring", version: v, image: "127.0.0.1:5000/pv-monitoring:\(v)") + "\n")
            case "image": return ProcessOutput(status: images.contains(args.last!) ? 0 : 1)
            case "run" where running != nil:
                return ProcessOutput(status: 125, stderr: "docker: Error response from daemon: Conflict. The container name \"/pv-monitoring\" is already in use by container \"0123\".\n\nRun 'docker run --help' for more information\n")
            case "run":
                running = String(args.last!.split(separator: ":").last!)
                return ProcessOutput(status: 0, stdout: "0123abcd\n")
            case "stop", "rm":
                running = nil
                return ProcessOutput(status: 0)
            default: return ProcessOutput(status: 1, stderr: "unexpected docker \(args)\n")
            }
        }
    }

    @Test func startsTheLastVerifiedVersionAndRecordsIt() throws {
        try withScratchRoot { root in
            try StateStore(root: InstallRoot(path: root)).update { $0[.monitoring].verified = Version("1.1.0") }
            let engine = Engine()
            let output = RecordedOutput()
            try StartCommand.parse(["monitoring"]).execute(in: .test(root: root, processes: engine.runner, output: output))
            #expect(output.lines == ["starting pv-monitoring from 127.0.0.1:5000/pv-monitoring:1.1.0",
                                     "monitoring 1.1.0 started and works after 0 ms"])
            #expect(engine.runner.verbs == ["run", "container inspect"])
            let state = try StateStore(root: InstallRoot(path: root)).load()[.monitoring]
            #expect(state.running == Version("1.1.0"))
        }
    }

    @Test func startingWhatAlreadyRunsChangesNothing() throws {
        try withScratchRoot { root in
            let engine = Engine()
            engine.running = "1.1.0"
            let output = RecordedOutput()
            try StartCommand.parse(["monitoring", "-v", "1.1.0"]).execute(in: .test(root: root, processes: engine.runner, output: output))
            #expect(output.lines == ["monitoring is already running version 1.1.0; nothing to do"])
            #expect(engine.runner.verbs == ["run", "container inspect"], "the run refused (the name is in use), then a look: nothing stopped")
        }
    }

    @Test func aMalformedVersionIsRefusedBeforeAnythingChanges() throws {
        try withScratchRoot { root in
            let engine = Engine()
            engine.running = "1.0.0"
            let command = try StartCommand.parse(["monitoring", "-v", "1.x"])
            #expect(failure { () throws(PVError) in try command.execute(in: .test(root: root, processes: engine.runner)) }?.code == .dataError)
            #expect(engine.running == "1.0.0")
            #expect(!engine.runner.verbs.contains("run"))
        }
    }
}
