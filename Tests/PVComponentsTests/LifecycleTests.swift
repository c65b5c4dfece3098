import Testing
import PVCore
import PVTestSupport
import PVState
@testable import PVComponents

/// The start/stop decisions, driven through a scripted docker.
@Suite struct LifecycleTests {
    /// A docker with the engine up, an image present, and a container table the test controls.
    func docker(containers: @escaping () -> [String], imagePresent: Bool = true, pull: ProcessOutput = ProcessOutput(status: 0),
                run: ProcessOutput = ProcessOutput(status: 0, stdout: "cid\n")) -> FakeRunner {
        FakeRunner { args in
            switch args.first {
            case "version": return ProcessOutput(status: 0, stdout: "20.10.24\n")
            case "container": return ProcessOutput(status: 0, stdout: containers().joined(separator: "\n"))
            case "image": return ProcessOutput(status: imagePresent ? 0 : 1, stdout: "sha256:abc\n")
            case "pull": return pull
            case "run" where !containers().isEmpty:
                return ProcessOutput(status: 125, stderr: "docker: Error response from daemon: Conflict. The container name \"/pv-dns\" is already in use by container \"0123\". You have to remove (or rename) that container to be able to reuse that name.\n\nRun 'docker run --help' for more information\n")
            case "run" where !imagePresent && args.contains("never"):
                return ProcessOutput(status: 125, stderr: "docker: Error response from daemon: No such image: \(args.last ?? "").\n\nRun 'docker run --help' for more information\n")
            case "run", "stop", "rm", "logs": return run
            default: return ProcessOutput(status: 99, stderr: "unscripted: \(args)")
            }
        }
    }

    @Test func freshStartRunsAndRecordsState() throws {
        let root = scratchDirectory()
        defer { removeTree(root) }
        var running = false
        let runner = docker(containers: { running ? [inspectLine(name: "pv-dns", version: "1.1.0")] : [] })
        runner.respond = { [inner = runner.respond] args in
            let out = inner(args)
            if args.first == "run", out.succeeded { running = true }
            return out
        }
        let outcome = try ComponentStart(context: makeContext(runner, root: root)).start(.dns, version: Version("1.1.0")!)
        guard case .started(let v, let replaced, _) = outcome else { Issue.record("\(outcome)"); return }
        #expect(v.description == "1.1.0" && replaced == nil)
        // Only `docker run`: no `docker version`, no inspect (a name in use would say), no image inspect
        // (`--pull never` would say), DNS readiness asked of DNS, not of Docker.
        #expect(runner.verbs == ["run"])
        #expect(runner.calls.last?.contains("never") == true)
        let state = try StateStore(root: InstallRoot(path: root)).load()
        #expect(state[.dns].running?.description == "1.1.0")
        #expect(state[.dns].history.last?.event == "started")
        // On the environment's wall clock (the test clock reads 2026-11-18), not the host's.
        #expect((1_795_001_000...1_795_001_060).contains(state[.dns].history.last?.time ?? 0))
        #expect(FileIO.isDirectory(root + "/data/dns"))
    }

    @Test func sameVersionAlreadyRunningIsANoOp() throws {
        let runner = docker(containers: { [inspectLine(name: "pv-dns", version: "1.1.0")] })
        let scratch = scratchDirectory()
        defer { removeTree(scratch) }
        let outcome = try ComponentStart(context: makeContext(runner, root: scratch)).start(.dns, version: Version("1.1.0")!)
        #expect(outcome == .alreadyRunning(Version("1.1.0")!))
        // The run is refused (the name is in use); then Docker is asked what runs: the same version.
        #expect(runner.verbs == ["run", "container inspect"])
    }

    @Test func otherVersionIsReplaced() throws {
        var version: String? = "1.0.0"
        let runner = docker(containers: { version.map { [inspectLine(name: "pv-dns", version: $0)] } ?? [] })
        runner.respond = { [inner = runner.respond] args in
            let out = inner(args)
            if args.first == "rm" { version = nil }
            if args.first == "run", out.succeeded { version = "1.1.0" }
            return out
        }
        let scratch = scratchDirectory()
        defer { removeTree(scratch) }
        let outcome = try ComponentStart(context: makeContext(runner, root: scratch)).start(.dns, version: Version("1.1.0")!)
        guard case .started(_, let replaced, _) = outcome else { Issue.record("\(outcome)"); return }
        #expect(replaced?.description == "1.0.0")
        // The image is made sure of before the old container goes.
        #expect(runner.verbs == ["run", "container inspect", "image inspect", "stop", "rm", "run"])
        #expect(runner.calls.contains(["docker", "--host", "unix:///tmp/fake.sock", "stop", "--time", "10", "pv-dns"]))
    }

    @Test func dockerDownIsUnavailableWithAHint() {
        let runner = FakeRunner { _ in ProcessOutput(status: 1, stderr: "Cannot connect to the Docker daemon at unix:///tmp/fake.sock. Is the docker daemon running?\n") }
        let root = scratchDirectory()
        defer { removeTree(root) }
        do {
            _ = try ComponentStart(context: makeContext(runner, root: root)).start(.dns, version: Version("1.1.0")!)
            Issue.record("started without an engine")
        } catch {
            #expect(error.code == .unavailable)
            #expect(error.message.contains("is not running"))
            #expect(error.hint?.contains("systemctl start docker") == true)
        }
        #expect(!FileIO.exists(root + "/state/components.json"), "state untouched")
    }

    @Test func missingVersionListsTheRegistrysVersions() {
        let runner = docker(containers: { [] }, imagePresent: false,
                            pull: ProcessOutput(status: 1, stderr: "Error response from daemon: manifest for 127.0.0.1:5000/pv-dns:9.9.9 not found: manifest unknown\n"))
        let scratch = scratchDirectory()
        defer { removeTree(scratch) }
        let context = makeContext(runner, root: scratch, catalog: FakeCatalog(tags: ["1.10.0", "latest", "1.9.0", "1.2.0"]))
        do {
            _ = try ComponentStart(context: context).start(.dns, version: Version("9.9.9")!)
            Issue.record("started a missing version")
        } catch {
            #expect(error.code == .notFound)
            #expect(error.message == "version 9.9.9 of dns is not in the registry 127.0.0.1:5000")
            #expect(error.hint == "versions in the registry: 1.2.0, 1.9.0, 1.10.0")
        }
        // `docker run --pull never` found no image; the pull then found no such version.
        #expect(runner.verbs == ["run", "image inspect", "pull"])
    }

    @Test func portTakenByAnotherProcess() {
        let runner = docker(containers: { [] })
        let scratch = scratchDirectory()
        defer { removeTree(scratch) }
        let context = makeContext(runner, root: scratch, ports: FakePorts(holder: "UDP 127.0.0.1:5353 is in use by another process"))
        do {
            _ = try ComponentStart(context: context).start(.dns, version: Version("1.1.0")!)
            Issue.record("started on a taken port")
        } catch {
            #expect(error.code == .tempFail)
            #expect(error.message.contains("in use by another process"))
        }
        #expect(!runner.verbs.contains("run"))
    }

    @Test func containerThatExitsIsReportedWithItsLog() {
        var ran = false
        let runner = docker(containers: { ran ? [inspectLine(name: "pv-dns", status: "exited", version: "1.2.0")] : [] })
        runner.respond = { [inner = runner.respond] args in
            if args.first == "logs" { return ProcessOutput(status: 0, stdout: "knotd: error: bad config\n") }
            let out = inner(args)
            if args.first == "run", out.succeeded { ran = true }
            return out
        }
        do {
            let scratch = scratchDirectory()
            defer { removeTree(scratch) }
            // DNS does not answer; Docker, asked every 250 ms meanwhile, says the container exited.
            _ = try ComponentStart(context: makeContext(runner, root: scratch, probe: FakeProbe(result: .notYet("no answer"))))
                .start(.dns, version: Version("1.2.0")!)
            Issue.record("accepted an exited container")
        } catch {
            #expect(error.code == .checkFailed)
            #expect(error.message.contains("exited"))
            #expect(error.cause == "last log line: knotd: error: bad config")
        }
    }

    @Test func notReadyWithinBound() {
        var ran = false
        let runner = docker(containers: { ran ? [inspectLine(name: "pv-dns", version: "1.1.0")] : [] })
        runner.respond = { [inner = runner.respond] args in
            let out = inner(args)
            if args.first == "run", out.succeeded { ran = true }
            return out
        }
        let scratch = scratchDirectory()
        defer { removeTree(scratch) }
        let start = ComponentStart(context: makeContext(runner, root: scratch, probe: FakeProbe(result: .notYet("no DNS answer"))), readyTimeout: 0.1)
        #expect(throws: PVError.self) { try start.start(.dns, version: Version("1.1.0")!) }
    }

    @Test func defaultVersionIsTheVerifiedOne() throws {
        let root = scratchDirectory()
        defer { removeTree(root) }
        let context = makeContext(docker(containers: { [] }), root: root, catalog: FakeCatalog(tags: ["1.0.0", "1.1.0"]))
        do {
            _ = try ComponentStart(context: context).resolveVersion(.dns, requested: nil)
            Issue.record("no version should resolve")
        } catch {
            #expect(error.code == .notFound)
            #expect(error.hint == "pass -v VERSION (in the registry: 1.0.0, 1.1.0)")
        }
        try context.state.update { $0[.dns].verified = Version("1.0.0") }
        #expect(try ComponentStart(context: context).resolveVersion(.dns, requested: nil) == Version("1.0.0"))
        #expect(try ComponentStart(context: context).resolveVersion(.dns, requested: "1.1.0") == Version("1.1.0"))
        #expect(throws: PVError.self) { try ComponentStart(context: context).resolveVersion(.dns, requested: "1.1") }
    }

    @Test func stopOfAStoppedComponentSucceeds() throws {
        let runner = docker(containers: { [] }, run: ProcessOutput(status: 1, stderr: "Error response from daemon: No such container: pv-dhcp\n"))
        let scratch = scratchDirectory()
        defer { removeTree(scratch) }
        #expect(try ComponentStop(context: makeContext(runner, root: scratch)).stop(.dhcp) == .wasNotRunning)
        #expect(runner.verbs == ["stop"], "docker stop says there is none; nothing else is asked")
    }

    @Test func stopRemovesAndClearsRunning() throws {
        let root = scratchDirectory()
        defer { removeTree(root) }
        let runner = docker(containers: { [inspectLine(name: "pv-dns", version: "1.1.0")] })
        let context = makeContext(runner, root: root)
        try context.state.update { $0[.dns].running = Version("1.1.0") }
        #expect(try ComponentStop(context: context).stop(.dns, grace: 3) == .stopped(version: "1.1.0"))
        #expect(runner.calls.contains(["docker", "--host", "unix:///tmp/fake.sock", "stop", "--time", "3", "pv-dns"]))
        #expect(runner.calls.contains(["docker", "--host", "unix:///tmp/fake.sock", "rm", "--force", "pv-dns"]))
        #expect(try context.state.load()[.dns].running == nil)
    }

    @Test func unknownComponent() throws {
        #expect(throws: PVError.self) { try Component.parse("dnss") }
        #expect(try Component.parse("DNS") == .dns)
    }

    @Test func damagedStateFileIsReportedNotOverwritten() throws {
        let root = scratchDirectory()
        defer { removeTree(root) }
        try FileIO.makeDirectories(root + "/state")
        try FileIO.writeAtomically(root + "/state/components.json", "{not json")
        do {
            _ = try StateStore(root: InstallRoot(path: root)).load()
            Issue.record("loaded garbage")
        } catch {
            #expect(error.message.contains("is damaged"))
        }
        #expect(try FileIO.readText(root + "/state/components.json", limit: 100) == "{not json")
    }

    @Test func statusSaysWhenTheStateFileAndDockerDisagree() throws {
        let root = scratchDirectory()
        defer { removeTree(root) }
        let runner = docker(containers: { [inspectLine(name: "pv-dns", version: "1.1.0")] })
        let context = makeContext(runner, root: root)
        var dns = try ComponentStatus(context: context).report().first { $0.component == .dns }!
        #expect(!dns.stateFileAgrees, "nothing recorded, yet 1.1.0 runs")
        try StateStore(root: InstallRoot(path: root)).update { $0[.dns].running = Version("1.1.0") }
        dns = try ComponentStatus(context: context).report().first { $0.component == .dns }!
        #expect(dns.stateFileAgrees && dns.disagreement == nil)
        #expect(dns.json.rendered.contains("\"state_file_agrees\":true"))

        try StateStore(root: InstallRoot(path: root)).update { $0[.dns].running = Version("1.2.0") }
        dns = try ComponentStatus(context: context).report().first { $0.component == .dns }!
        #expect(!dns.stateFileAgrees)
        #expect(dns.json.rendered.contains("\"recorded_version\":\"1.2.0\""))
        #expect(dns.disagreement == "the state file records dns 1.2.0, but Docker runs 1.1.0; start_pv_dns.sh -v 1.1.0 records what runs")
        let dhcp = try ComponentStatus(context: context).report().first { $0.component == .dhcp }!
        #expect(dhcp.state == "absent" && dhcp.stateFileAgrees, "absent and not recorded agree")
    }

    @Test func historyIsBounded() {
        var r = ComponentRecord()
        for i in 0..<50 { r.record("started", version: Version("1.0.\(i)"), at: 1_795_000_000 + i) }
        #expect(r.history.count == ComponentRecord.historyLimit)
        #expect(r.history.last?.version == Version("1.0.49"))
        #expect(r.history.first?.time == 1_795_000_030, "the oldest entries went first")
    }
}
