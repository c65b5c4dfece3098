import Foundation
import Testing
import PVArchive
import PVCore
import PVTestSupport
@testable import PVUninstall

/// Delete Managed Server in a sandbox root, against a scripted docker: what the plan lists, that
/// without root nothing changes while root's part remains, and what the archive keeps.
@Suite struct UninstallTests {
    /// A sandbox install: configuration, state, a log, the units and sudoers under <root>/system.
    func installedRoot() throws -> String {
        let root = scratchDirectory() + "/root"
        for d in ["etc", "state", "logs/install", "system/etc/systemd/system", "system/etc/sudoers.d"] { try FileIO.makeDirectories(root + "/" + d) }
        let config = testConfigText.replacingOccurrences(of: "management_token = tok", with: "management_token = s3cret-tok")
        try FileIO.writeAtomically(root + "/etc/provision.conf", config, mode: 0o600)
        try FileIO.writeAtomically(root + "/state/components.json", "{\"components\":{}}\n", mode: 0o644)
        try FileIO.writeAtomically(root + "/logs/install/verify.log", "token s3cret-tok sent\nok\n", mode: 0o640)
        for unit in ["pv_heartbeat.service", "pv_heartbeat.timer"] {
            try FileIO.writeAtomically(root + "/system/etc/systemd/system/" + unit, "[Unit]\n", mode: 0o644)
        }
        try FileIO.writeAtomically(root + "/system/etc/sudoers.d/provision", "x\n", mode: 0o440)
        return root
    }

    /// docker answers: the engine is there; of the containers asked for, only `existing` exist
    /// (by default pv-dns alone).
    func docker(existing: [String] = ["pv-dns"]) -> FakeRunner {
        FakeRunner { args in
            switch args.first {
            case "version": return ProcessOutput(status: 0, stdout: "27.0\n")
            case "container" where args.dropFirst().first == "inspect":
                return ProcessOutput(status: 1, stdout: existing.map { inspectLine(name: $0, version: "1.1.0") + "\n" }.joined(),
                                     stderr: "Error: No such container: pv-dhcp\n")
            case "rm": return ProcessOutput(status: 0, stdout: "pv-dns\n")
            default: return ProcessOutput(status: 0)
            }
        }
    }

    func environment(_ root: String, _ runner: FakeRunner, isRoot: Bool) -> AgentEnvironment {
        var environment = AgentEnvironment.test(root: root, processes: runner, isRoot: isRoot)
        environment.files = LiveFileSystem()
        return environment
    }

    @Test func theListingIsWhatARunDoesAndChangesNothing() throws {
        let root = try installedRoot()
        defer { removeTree(FileIO.directoryName(root)) }
        let runner = docker()
        let outcome = try UninstallRun(environment: environment(root, runner, isRoot: true), yes: false, options: .init()).execute { _ in }
        guard case .listed(let plan) = outcome else { Issue.record("\(outcome)"); return }
        #expect(plan.actions == [
            // Beside the sandbox's root, named after the server and the time (the test clock's).
            .writeArchive(path: FileIO.directoryName(root) + "/provision-t1-20261118T112320Z.tar.gz"),
            .removeSystemFile(root + "/system/etc/systemd/system/pv_heartbeat.timer"),
            .removeSystemFile(root + "/system/etc/systemd/system/pv_heartbeat.service"),
            .removeSystemFile(root + "/system/etc/sudoers.d/provision"),
            .removeContainer(name: "pv-dns"),
            .removeRoot(root),
        ], "\(plan.actions)")
        #expect(runner.verbs == ["version", "container inspect"], "the listing only asks")
        #expect(FileIO.exists(root + "/system/etc/sudoers.d/provision") && FileIO.exists(root + "/etc/provision.conf"))
    }

    /// An update killed mid-way can leave a component's new container (`<name>-next`: a DNS
    /// handoff's running one, a prepared swap's created one): Delete Managed Server removes it too.
    @Test func anInterruptedUpdatesNextContainersAreRemovedToo() throws {
        let root = try installedRoot()
        defer { removeTree(FileIO.directoryName(root)) }
        let runner = docker(existing: ["pv-dns", "pv-dns-next", "pv-dhcp-next"])
        let outcome = try UninstallRun(environment: environment(root, runner, isRoot: true), yes: false, options: .init()).execute { _ in }
        guard case .listed(let plan) = outcome else { Issue.record("\(outcome)"); return }
        let removed = plan.actions.compactMap { action -> String? in
            if case .removeContainer(let name) = action { return name } else { return nil }
        }
        #expect(Set(removed) == ["pv-dns", "pv-dns-next", "pv-dhcp-next"], "\(plan.actions)")
        let asked = runner.calls.first { Array($0.dropFirst(3).prefix(2)) == ["container", "inspect"] } ?? []
        for name in ["pv-dns-next", "pv-dhcp-next", "pv-monitoring-next"] { #expect(asked.contains(name), "\(asked)") }
    }

    @Test func withoutRootNothingChangesWhileRootsPartRemains() throws {
        let root = try installedRoot()
        defer { removeTree(FileIO.directoryName(root)) }
        let runner = docker()
        let error = failure { () throws(PVError) in
            _ = try UninstallRun(environment: environment(root, runner, isRoot: false), yes: true, options: .init()).execute { _ in }
        }
        #expect(error?.code == .noPermission)
        #expect(error?.message.contains("remove \(root)/system/etc/sudoers.d/provision") == true, "\(String(describing: error))")
        #expect(error?.hint?.contains("rm -f \(root)/system/etc/sudoers.d/provision") == true)
        #expect(!runner.verbs.contains("rm"), "no container was removed")
        #expect(FileIO.exists(root + "/etc/provision.conf"))
    }

    @Test func aRunWritesTheArchiveFirstThenRemovesInOrder() throws {
        let root = try installedRoot()
        defer { removeTree(FileIO.directoryName(root)) }
        let runner = docker()
        let archive = FileIO.directoryName(root) + "/record.tar.gz"
        let recorded = RecordedOutput()
        let sink = recorded.sink
        let outcome = try UninstallRun(environment: environment(root, runner, isRoot: true), yes: true, options: .init(archive: archive))
            .execute { sink.line($0) }
        let done = recorded.lines
        #expect(outcome == .done(archive: archive))
        #expect(done.first == "write the configuration, state and logs (redacted) to \(archive)")
        #expect(done.last == "remove the install root \(root)")
        #expect(FileIO.exists(archive) && !FileIO.exists(root + "/system/etc/sudoers.d/provision"))
        #expect(runner.calls.last?.suffix(4) == ["-rf", "--one-file-system", "--", root], "\(runner.calls)")
    }

    @Test func nothingInstalledIsNothingToDo() throws {
        let root = scratchDirectory() + "/never-installed"
        defer { removeTree(FileIO.directoryName(root)) }
        let outcome = try UninstallRun(environment: environment(root, docker(), isRoot: true), yes: true, options: .init()).execute { _ in }
        #expect(outcome == .nothingToDo)
    }

    @Test func theArchiveKeepsTheRecordWithTheSecretsMaskedAndFollowsNoLink() throws {
        let root = try installedRoot()
        defer { removeTree(FileIO.directoryName(root)) }
        let secret = FileIO.directoryName(root) + "/root-only"
        try FileIO.writeAtomically(secret, "root only\n", mode: 0o600)
        #expect(symlink(secret, root + "/logs/planted.log") == 0)
        let entries = UninstallArchive.entries(environment(root, docker(), isRoot: true))
        let names = entries.map(\.name)
        #expect(names.contains("root/etc/provision.conf") && names.contains("root/state/components.json")
                && names.contains("root/logs/install/verify.log"), "\(names)")
        #expect(!names.contains("root/logs/planted.log"), "a link is not followed")
        let all = entries.map(\.text).joined()
        #expect(!all.contains("root only") && all.contains("token <redacted> sent"), "\(all)")
        #expect(!entries.first { $0.name == "root/etc/provision.conf" }!.text.contains("amqp://u:p@"))
    }
}
