import Testing
import PVCore
import PVTestSupport
import PVState
import PVDocker
@testable import PVComponents

/// A scripted engine for the DNS handoff: containers by name (version, handoff label, slot), images
/// with or without the handoff label, and what each docker call does to them.
final class HandoffEngine: @unchecked Sendable {
    struct Container { var version: String; var handoff: Bool; var slot: String? }
    var containers: [String: Container]
    var handoffImages: Set<String>
    let runner: FakeRunner

    init(running: String, labelled: Bool = true, handoffImages: Set<String>) {
        containers = ["pv-dns": Container(version: running, handoff: labelled, slot: nil)]
        self.handoffImages = handoffImages
        runner = FakeRunner { _ in ProcessOutput(status: 0) }
        runner.respond = { [unowned self] args in self.answer(args) }
    }

    func line(_ name: String, _ c: Container) -> String {
        [ "/" + name, "running", "2026-11-26T01:00:00.5Z", "42", "sha256:abc", "127.0.0.1:5000/pv-dns:\(c.version)",
          "dns", c.version, "0", "0", c.handoff ? HandoffSlot.supportedValue : "<no value>", c.slot ?? "<no value>" ].joined(separator: "\u{1f}")
    }

    func answer(_ args: [String]) -> ProcessOutput {
        func value(after flag: String) -> String? { args.firstIndex(of: flag).map { args[$0 + 1] } }
        switch args.first {
        case "container":
            let names = args.drop { $0 != "--format" }.dropFirst(2)
            return ProcessOutput(status: 0, stdout: names.compactMap { n in containers[n].map { line(n, $0) } }.joined(separator: "\n"))
        case "image" where args.contains(where: { $0.contains(HandoffSlot.label) }):
            return ProcessOutput(status: 0, stdout: (handoffImages.contains(args.last!) ? HandoffSlot.supportedValue : "<no value>") + "\n")
        case "image": return ProcessOutput(status: 0, stdout: "sha256:abc\n")
        case "pull": return ProcessOutput(status: 0)
        case "create":
            let image = args.last!
            containers[value(after: "--name")!] = Container(version: String(image.split(separator: ":").last!), handoff: handoffImages.contains(image), slot: nil)
            return ProcessOutput(status: 0)
        case "start": return ProcessOutput(status: 0)
        case "run":
            let name = value(after: "--name")!
            if containers[name] != nil { return ProcessOutput(status: 125, stderr: "docker: Error response from daemon: Conflict. The container name \"/\(name)\" is already in use\n") }
            let image = args.last!
            let slot = args.first { $0.hasPrefix(ContainerNaming.slotLabel + "=") }.map { String($0.dropFirst(ContainerNaming.slotLabel.count + 1)) }
            containers[name] = Container(version: String(image.split(separator: ":").last!), handoff: handoffImages.contains(image), slot: slot)
            return ProcessOutput(status: 0, stdout: "cid\n")
        case "stop": return containers[args.last!] == nil ? ProcessOutput(status: 1, stderr: "Error response from daemon: No such container: \(args.last!)\n") : ProcessOutput(status: 0)
        case "rm":
            if containers.removeValue(forKey: args.last!) == nil { return ProcessOutput(status: 1, stderr: "Error response from daemon: No such container: \(args.last!)\n") }
            return ProcessOutput(status: 0)
        case "rename":
            guard let c = containers.removeValue(forKey: args[1]) else { return ProcessOutput(status: 1, stderr: "Error: No such container: \(args[1])\n") }
            containers[args[2]] = c
            return ProcessOutput(status: 0)
        default: return ProcessOutput(status: 99, stderr: "unscripted: \(args)")
        }
    }
}

@Suite struct HandoffTests {
    let image = { (v: String) in "127.0.0.1:5000/pv-dns:\(v)" }

    /// The check at the handoff's address reaches the new container only (the fake: pv-dns-next).
    func updater(_ engine: HandoffEngine, root: String, good: Set<String> = ["1.0.0", "1.1.0"],
                 crash: @escaping @Sendable (UpdateJournal.Step) -> Void = { _ in }) -> ComponentUpdate {
        let context = makeContext(engine.runner, root: root)
        var updater = ComponentUpdate(context: context, registry: registry(tags: ["1.0.0", "1.1.0", "1.2.0"]), verify: { [engine] c in
            let v = engine.containers["pv-dns"]?.version ?? "none"
            return CheckResult(name: c.rawValue, status: good.contains(v) ? .ok : .fail, detail: "serves \(v)")
        }, afterJournalWrite: crash, readyTimeout: 1)
        updater.verifyDNSAt = { [engine] address in
            let v = engine.containers["pv-dns-next"]?.version ?? "none"
            return CheckResult(name: "dns", status: good.contains(v) ? .ok : .fail, detail: "\(address) serves \(v)")
        }
        return updater
    }

    @Test func theNewVersionStartsBesideTheOldOneWhichGoesOnlyOnceItPassed() throws {
        let engine = HandoffEngine(running: "1.0.0", handoffImages: [image("1.0.0"), image("1.1.0")])
        let root = scratchDirectory()
        defer { removeTree(root) }
        let outcome = try updater(engine, root: root).update(.dns, options: .init(requested: Version("1.1.0")))
        #expect(outcome == .updated(from: Version("1.0.0"), to: Version("1.1.0")!))
        // Never a docker stop: the old container is removed (killed) only after the new one passed.
        let verbs = engine.runner.verbs
        #expect(!verbs.contains("stop"), "\(verbs)")
        #expect(verbs.suffix(3) == ["run", "rm", "rename"], "\(verbs)")
        let run = engine.runner.calls.first { $0.contains("run") }!
        #expect(run.contains("pv-dns-next") && run.contains("PV_DNS_LISTEN=127.0.0.1@5353,127.0.0.2@5353"), "\(run)")
        #expect(run.contains("PV_KNOT_CONTROL_SOCKET=/run/pv-monitor/knot/a.sock") && run.contains("org.provision.slot=a"), "\(run)")
        #expect(Set(engine.containers.keys) == ["pv-dns"] && engine.containers["pv-dns"]?.version == "1.1.0")
        let state = try StateStore(root: InstallRoot(path: root)).load()[.dns]
        #expect(state.verified == Version("1.1.0") && state.running == Version("1.1.0"))
        #expect(!FileIO.exists(UpdateJournal.path(root: InstallRoot(path: root), component: .dns)))
        // The next handoff takes the other slot: its check address and control socket are free.
        _ = try updater(engine, root: root).update(.dns, options: .init(requested: Version("1.0.0")))
        let second = engine.runner.calls.last { $0.contains("run") }!
        #expect(second.contains("PV_DNS_LISTEN=127.0.0.1@5353,127.0.0.3@5353") && second.contains("org.provision.slot=b"), "\(second)")
    }

    @Test func aFailedNewVersionIsRemovedAndTheOldOneNeverStopped() throws {
        let engine = HandoffEngine(running: "1.1.0", handoffImages: [image("1.1.0"), image("1.2.0")])
        let root = scratchDirectory()
        defer { removeTree(root) }
        do {
            _ = try updater(engine, root: root).update(.dns, options: .init(requested: Version("1.2.0")))
            Issue.record("a failing version was kept")
        } catch {
            #expect(error.code == .checkFailed)
            #expect(error.hint?.hasPrefix("1.1.0 never stopped and still serves") == true, "\(error.hint ?? "")")
        }
        #expect(!engine.runner.verbs.contains("stop"))
        #expect(engine.runner.calls.last?.suffix(3) == ["rm", "--force", "pv-dns-next"])
        #expect(Set(engine.containers.keys) == ["pv-dns"] && engine.containers["pv-dns"]?.version == "1.1.0")
        #expect(try StateStore(root: InstallRoot(path: root)).load()[.dns].failed == [Version("1.2.0")!])
    }

    /// Then the prepared swap: the new container created while the old one serves; in the window
    /// only the old one's removal, a rename and a start.
    @Test func withoutTheLabelOnEitherSideTheOldOneIsStoppedFirst() throws {
        for (labelled, images) in [(false, [image("1.0.0"), image("1.1.0")]), (true, [image("1.0.0")])] {
            let engine = HandoffEngine(running: "1.0.0", labelled: labelled, handoffImages: Set(images))
            let root = scratchDirectory()
            defer { removeTree(root) }
            _ = try updater(engine, root: root).update(.dns, options: .init(requested: Version("1.1.0")))
            let verbs = engine.runner.verbs
            #expect(verbs.suffix(4) == ["create", "rm", "rename", "start"], "\(verbs)")
            #expect(!engine.runner.calls.contains { $0.contains("run") }, "no handoff container: \(engine.runner.calls)")
            #expect(Set(engine.containers.keys) == ["pv-dns"] && engine.containers["pv-dns"]?.version == "1.1.0")
        }
    }

    /// A crash mid-handoff may leave the new container serving beside the old one; a stop then ends
    /// both (and leaves the journal for the next start to settle); without a journal it asks for
    /// nothing more than the component's own container.
    @Test func aStopAlsoEndsAHandoffsLeftoverContainer() throws {
        let engine = HandoffEngine(running: "1.0.0", handoffImages: [])
        engine.containers["pv-dns-next"] = .init(version: "1.1.0", handoff: true, slot: "a")
        let root = scratchDirectory()
        defer { removeTree(root) }
        let context = makeContext(engine.runner, root: root)
        _ = try ComponentStop(context: context).stop(.dns)
        #expect(engine.containers["pv-dns-next"] != nil, "no journal: the stop leaves other names alone")
        engine.containers["pv-dns"] = .init(version: "1.0.0", handoff: true, slot: nil)
        try UpdateJournal(component: .dns, from: Version("1.0.0"), to: Version("1.1.0")!, step: .verifyingNext).save(root: InstallRoot(path: root))
        #expect(try ComponentStop(context: context).stop(.dns) == .stopped(version: nil))
        #expect(engine.containers.isEmpty, "\(engine.containers)")
        #expect(FileIO.exists(UpdateJournal.path(root: InstallRoot(path: root), component: .dns)), "the journal stays for the next start")
    }

    /// A crash right after each step's journal write, then recovery: undone before the new version
    /// passed (its container removed, the old one serving), finished after.
    @Test(arguments: [UpdateJournal.Step.startingNext, .verifyingNext, .retiringOld, .removingNext])
    func aCrashAtEachStepIsFinishedOrUndone(step: UpdateJournal.Step) throws {
        let engine = HandoffEngine(running: "1.0.0", handoffImages: [image("1.0.0"), image("1.1.0"), image("1.2.0")])
        let root = scratchDirectory()
        defer { removeTree(root) }
        let target = step == .removingNext ? "1.2.0" : "1.1.0"
        // As the kill left it: the journal on disk; the new container running once it was started.
        try UpdateJournal(component: .dns, from: Version("1.0.0"), to: Version(target)!, step: step).save(root: InstallRoot(path: root))
        if step != .startingNext {
            engine.containers["pv-dns-next"] = .init(version: target, handoff: true, slot: "a")
        }
        let text = try updater(engine, root: root).recover(.dns) ?? ""
        let expected = step == .retiringOld ? "1.1.0" : "1.0.0"
        #expect(text.contains(step == .retiringOld ? "finished" : "undid"), "\(text)")
        #expect(Set(engine.containers.keys) == ["pv-dns"] && engine.containers["pv-dns"]?.version == expected, "\(engine.containers)")
        let state = try StateStore(root: InstallRoot(path: root)).load()[.dns]
        #expect(state.running?.description == expected)
        #expect(!FileIO.exists(UpdateJournal.path(root: InstallRoot(path: root), component: .dns)))
        if step == .removingNext { #expect(state.failed == [Version("1.2.0")!]) }
    }
}
