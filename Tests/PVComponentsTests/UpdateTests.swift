import Testing
import PVCore
import PVTestSupport
import PVState
@testable import PVComponents
#if canImport(Glibc)
import Glibc
#endif

/// A scripted engine holding one dns container whose version changes with `docker run`.
final class FakeDockerCLI: @unchecked Sendable {
    var running: String?
    /// The version of a created, not yet started container.
    var created: String?
    var localImages: Set<String>
    var pullFails = false
    let runner: FakeRunner

    init(running: String?, localImages: Set<String>) {
        self.running = running
        self.localImages = localImages
        runner = FakeRunner { _ in ProcessOutput(status: 0) }
        runner.respond = { [unowned self] args in self.answer(args) }
    }

    func answer(_ args: [String]) -> ProcessOutput {
        switch args.first {
        case "version": return ProcessOutput(status: 0, stdout: "20.10\n")
        case "container": return ProcessOutput(status: 0, stdout: running.map { inspectLine(name: "pv-dns", version: $0) } ?? "")
        case "image": return ProcessOutput(status: localImages.contains(args.last!) ? 0 : 1)
        case "pull":
            if pullFails { return ProcessOutput(status: 1, stderr: "unexpected EOF\n") }
            localImages.insert(args.last!)
            return ProcessOutput(status: 0, stdout: "Pulling\nDone\n")
        case "run" where running != nil:
            return ProcessOutput(status: 125, stderr: "docker: Error response from daemon: Conflict. The container name \"/pv-dns\" is already in use by container \"0123\".\n\nRun 'docker run --help' for more information\n")
        case "run":
            running = String(args.last!.split(separator: ":").last!)
            return ProcessOutput(status: 0)
        // The prepared swap: created as <name>-next, renamed, started.
        case "create": created = String(args.last!.split(separator: ":").last!); return ProcessOutput(status: 0)
        case "rename": return ProcessOutput(status: 0)
        case "start": running = created; created = nil; return ProcessOutput(status: 0)
        case "stop", "rm":
            if args.last!.hasSuffix("-next") { created = nil } else { running = nil }
            return ProcessOutput(status: 0)
        default: return ProcessOutput(status: 0)
        }
    }
}

func registry(tags: [String]) -> FakeCatalog { FakeCatalog(tags: tags) }

@Suite struct UpdateTests {
    let image = { (v: String) in "127.0.0.1:5000/pv-dns:\(v)" }

    func updater(_ engine: FakeDockerCLI, root: String, tags: [String], good: Set<String> = ["1.0.0", "1.1.0"],
                 crash: @escaping @Sendable (UpdateJournal.Step) -> Void = { _ in }) -> ComponentUpdate {
        let context = makeContext(engine.runner, root: root)
        return ComponentUpdate(context: context, registry: registry(tags: tags), verify: { [engine] c in
            let v = engine.running ?? "none"
            return CheckResult(name: c.rawValue, status: good.contains(v) ? .ok : .fail, detail: "serves \(v)")
        }, afterJournalWrite: crash, readyTimeout: 1)
    }

    @Test func downloadsBeforeStoppingTheRunningVersion() throws {
        let engine = FakeDockerCLI(running: "1.0.0", localImages: [image("1.0.0")])
        let root = scratchDirectory()
        defer { removeTree(root) }
        let outcome = try updater(engine, root: root, tags: ["1.0.0", "1.1.0", "latest"]).update(.dns, options: .init())
        #expect(outcome == .updated(from: Version("1.0.0"), to: Version("1.1.0")!))
        let verbs = engine.runner.verbs
        #expect(verbs.firstIndex(of: "pull")! < verbs.firstIndex(of: "rm")!, "\(verbs)")
        let state = try StateStore(root: InstallRoot(path: root)).load()[.dns]
        #expect(state.verified == Version("1.1.0") && state.running == Version("1.1.0"))
        #expect(!FileIO.exists(UpdateJournal.path(root: InstallRoot(path: root), component: .dns)))
    }

    @Test func nothingNewerLeavesTheComponentUntouched() throws {
        let engine = FakeDockerCLI(running: "1.10.0", localImages: [])
        let scratch = scratchDirectory()
        defer { removeTree(scratch) }
        let outcome = try updater(engine, root: scratch, tags: ["1.9.0", "1.10.0", "2.0.0-rc.1", "latest"]).update(.dns, options: .init())
        #expect(outcome == .upToDate(Version("1.10.0")))
        #expect(!engine.runner.verbs.contains("stop") && !engine.runner.verbs.contains("pull"))
    }

    @Test func prereleasesOnlyWhenAsked() throws {
        let engine = FakeDockerCLI(running: "1.0.0", localImages: [])
        let scratch = scratchDirectory()
        defer { removeTree(scratch) }
        let outcome = try updater(engine, root: scratch, tags: ["1.0.0", "1.1.0-rc.1"])
            .update(.dns, options: .init(checkOnly: true, prereleases: true))
        guard case .wouldUpdate(_, let to, let digest) = outcome else { Issue.record("\(outcome)"); return }
        #expect(to == Version("1.1.0-rc.1") && digest.hasPrefix("sha256:"))
        #expect(!engine.runner.verbs.contains("pull"), "--check changes nothing")
    }

    @Test func failedVerificationRollsBackAndIsRemembered() throws {
        let engine = FakeDockerCLI(running: "1.1.0", localImages: [image("1.1.0")])
        let root = scratchDirectory()
        defer { removeTree(root) }
        let u = updater(engine, root: root, tags: ["1.1.0", "1.2.0"])
        do {
            _ = try u.update(.dns, options: .init())
            Issue.record("a failing version was kept")
        } catch {
            #expect(error.code == .checkFailed)
            #expect(error.message == "dns 1.2.0 failed verification: serves 1.2.0")
            #expect(error.hint?.hasPrefix("rolled back: 1.1.0 runs and passes verification") == true)
        }
        #expect(engine.running == "1.1.0")
        let state = try StateStore(root: InstallRoot(path: root)).load()[.dns]
        #expect(state.failed == [Version("1.2.0")!] && state.verified == Version("1.1.0"))
        // The next automatic run skips the failed version...
        #expect(try u.update(.dns, options: .init()) == .upToDate(Version("1.1.0")))
        // ...unless forced.
        #expect(throws: PVError.self) { try u.update(.dns, options: .init(force: true)) }
    }

    @Test func failedDownloadChangesNothing() {
        let engine = FakeDockerCLI(running: "1.0.0", localImages: [image("1.0.0")])
        engine.pullFails = true
        let root = scratchDirectory()
        defer { removeTree(root) }
        do {
            _ = try updater(engine, root: root, tags: ["1.0.0", "1.1.0"]).update(.dns, options: .init())
            Issue.record("update went on without the image")
        } catch {
            #expect(error.code == .unavailable)
            #expect(error.message.contains("nothing was changed, the running version keeps serving"))
        }
        #expect(engine.running == "1.0.0")
        #expect(!engine.runner.verbs.contains("stop"))
        #expect(!FileIO.exists(UpdateJournal.path(root: InstallRoot(path: root), component: .dns)))
    }

    @Test func requestedVersionMustBeInTheRegistry() {
        let engine = FakeDockerCLI(running: "1.0.0", localImages: [])
        do {
            let scratch = scratchDirectory()
            defer { removeTree(scratch) }
            _ = try updater(engine, root: scratch, tags: ["1.0.0", "1.1.0"]).update(.dns, options: .init(requested: Version("3.0.0")))
            Issue.record("accepted a missing version")
        } catch {
            #expect(error.code == .notFound)
            #expect(error.hint == "versions in the registry: 1.0.0, 1.1.0")
        }
    }

    /// The state a kill -9 leaves at each step (journal written, engine as it was at that moment),
    /// then recovery: the component must end on a verified version and the journal must be gone.
    /// (The real kill -9 at each step is LabIntegration.UpdateIntegrationTests.crashAtEachStep.)
    @Test(arguments: UpdateJournal.Step.allCases.filter { !$0.isHandoff })
    func recoveryAfterACrashEndsOnAVerifiedVersion(step: UpdateJournal.Step) throws {
        let engine = FakeDockerCLI(running: "1.0.0", localImages: [image("1.0.0")])
        let root = scratchDirectory()
        defer { removeTree(root) }
        let target = step == .rollingBack ? "1.2.0" : "1.1.0"
        // As a kill can leave it: the state file says the new version runs, whatever Docker runs.
        try StateStore(root: InstallRoot(path: root)).update { $0[.dns].verified = Version("1.0.0"); $0[.dns].running = Version(target) }
        try UpdateJournal(component: .dns, from: Version("1.0.0"), to: Version(target)!, step: step).save(root: InstallRoot(path: root))
        switch step {
        case .pulling: break                       // the old version still serves
        case .swapping: engine.running = nil       // killed between stop and run
        case .verifying: engine.running = target   // the new version runs, unverified
        case .rollingBack: engine.running = target // the failing version still runs
        case .startingNext, .verifyingNext, .retiringOld, .removingNext: break  // the handoff's: HandoffTests
        }
        let text = try updater(engine, root: root, tags: ["1.0.0", "1.1.0", "1.2.0"]).recover(.dns)
        #expect(text != nil)
        #expect(!FileIO.exists(UpdateJournal.path(root: InstallRoot(path: root), component: .dns)))
        let state = try StateStore(root: InstallRoot(path: root)).load()[.dns]
        #expect(engine.running == state.verified?.description, "runs the verified version after a crash at \(step)")
        #expect(engine.running == (step == .verifying ? "1.1.0" : "1.0.0"))
        #expect(state.running?.description == engine.running, "the state file agrees with Docker after recovery at \(step)")
        if step == .rollingBack { #expect(state.failed == [Version("1.2.0")!]) }
    }

    @Test func secondLockFailsNamingTheHolder() throws {
        let scratch = scratchDirectory()
        defer { removeTree(scratch) }
        let root = InstallRoot(path: scratch)
        let first = try UpdateLock(root: root, purpose: "pv_update all")
        // flock locks belong to open file descriptions: a second open in this process conflicts too.
        do {
            _ = try UpdateLock(root: root, purpose: "pv_update dns")
            Issue.record("two locks at once")
        } catch {
            #expect(error.code == .tempFail)
            #expect(error.message == "another run is changing the components (pid \(getpid()): pv_update all)")
        }
        withExtendedLifetime(first) {}
    }
}

/// pv_update's run over components: results reported in order, the first failure's code.
@Suite struct UpdateRunTests {
    static func line(_ event: UpdateRun.Event) -> String {
        switch event {
        case .failed(let c, let error): return "\(c.rawValue) failed \(error.code.rawValue)"
        case .outcome(let c, let outcome): return "\(c.rawValue) \(outcome)"
        case .recovered(let c, let text): return "\(c.rawValue) recovered: \(text)"
        case .interrupted, .interruptedAfterTheLast: return "interrupted"
        case .began(let c, let index, let total): return "\(c.rawValue) \(index)/\(total)"
        }
    }

    @Test func aRolledBackUpdateIsReportedAndItsCodeIsTheRunsStatus() throws {
        let engine = FakeDockerCLI(running: "1.1.0", localImages: ["127.0.0.1:5000/pv-dns:1.1.0"])
        let root = scratchDirectory()
        defer { removeTree(root) }
        let updater = UpdateTests().updater(engine, root: root, tags: ["1.1.0", "1.2.0"])
        var events: [String] = []
        let status = UpdateRun(components: [.dns], options: .init(), updater: updater).run { events.append(Self.line($0)) }
        #expect(status == .checkFailed)
        #expect(events == ["dns 1/1", "dns failed 1"])
        #expect(engine.running == "1.1.0")
    }

    @Test func anInterruptedUpdateIsFinishedBeforeTheNextOne() throws {
        let engine = FakeDockerCLI(running: "1.1.0", localImages: ["127.0.0.1:5000/pv-dns:1.1.0"])
        let root = scratchDirectory()
        defer { removeTree(root) }
        // A crash after the swap to 1.1.0: the journal says so, and 1.1.0 runs and passes.
        try UpdateJournal(component: .dns, from: Version("1.0.0"), to: Version("1.1.0")!, step: .verifying).save(root: InstallRoot(path: root))
        let updater = UpdateTests().updater(engine, root: root, tags: ["1.0.0", "1.1.0"])
        var events: [String] = []
        let status = UpdateRun(components: [.dns], options: .init(), updater: updater).run { events.append(Self.line($0)) }
        #expect(status == .ok)
        #expect(events == ["dns 1/1", "dns recovered: finished the interrupted update of dns to 1.1.0 (it runs and passes verification)",
                           "dns upToDate(Optional(1.1.0))"])
        #expect(!FileIO.exists(UpdateJournal.path(root: InstallRoot(path: root), component: .dns)))
    }
}
