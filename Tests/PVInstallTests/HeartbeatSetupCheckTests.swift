import Foundation
import Testing
import PVCore
import PVTestSupport
@testable import PVInstall

/// setup_heartbeat as the agent's user: the admin's units and sudoers file are checked, never
/// written, and anything that would let the agent change what systemd runs is refused.
@Suite struct HeartbeatSetupCheckTests {
    let root = "/unit/root"
    let bundle = "/unit/bundle"
    static let serviceTemplate = "[Service]\n# the agent's user\nUser=provision\nExecStart=/provision/libs/pv_heartbeat --root /provision\nReadWritePaths=-/provision/state\n"
    static let timerTemplate = "[Timer]\nOnCalendar=*-*-* *:*:00,30\nUnit=pv_heartbeat.service\n"

    var unitDirectory: String { root + "/system/etc/systemd/system" }
    var sudoers: String { root + "/system/etc/sudoers.d/provision" }

    /// The bundle's templates are real files (Steps.render reads them); the installed files are fakes.
    func check(_ installed: FakeFileSystem) throws(PVError) -> String {
        let bundle = scratchDirectory()
        defer { removeTree(bundle) }
        try? FileIO.makeDirectories(bundle + "/systemd")
        try? FileIO.writeAtomically(bundle + "/systemd/pv_heartbeat.service", Self.serviceTemplate, mode: 0o644)
        try? FileIO.writeAtomically(bundle + "/systemd/pv_heartbeat.timer", Self.timerTemplate, mode: 0o644)
        var environment = AgentEnvironment.test(root: root, processes: FakeRunner { _ in ProcessOutput(status: 1) })
        environment.files = installed
        let context = InstallContext(environment: environment, bundle: bundle, sandbox: true, user: "pvagent", progress: { _ in })
        return try UnitSetupCheck.heartbeat(context).verify()
    }

    /// What `sudo install_python3.sh -e setup_heartbeat` leaves: the units rendered for this root
    /// and user, root's, mode 0644; the sudoers file root's, 0440.
    var adminsWork: FakeFileSystem {
        var files = FakeFileSystem()
        files.texts[unitDirectory + "/pv_heartbeat.service"] = TemplateRendering.render(Self.serviceTemplate, root: root, user: "pvagent")
        files.texts[unitDirectory + "/pv_heartbeat.timer"] = TemplateRendering.render(Self.timerTemplate, root: root, user: "pvagent")
        files.modes[unitDirectory + "/pv_heartbeat.service"] = 0o644
        files.modes[unitDirectory + "/pv_heartbeat.timer"] = 0o644
        files.others.insert(sudoers)
        files.modes[sudoers] = 0o440
        return files
    }

    @Test func theAdminsUnitsAndSudoersPassWithoutBeingWritten() throws {
        let detail = try check(adminsWork)
        #expect(detail.contains("pv_heartbeat.service as the bundle renders it"), "\(detail)")
        #expect(detail.contains("pv_heartbeat.timer as the bundle renders it"))
        #expect(detail.hasSuffix("checked, not written (not root)"))
    }

    @Test func anAdminsEditOutsideWhatDecidesIsKeptAndReported() throws {
        var files = adminsWork
        files.texts[unitDirectory + "/pv_heartbeat.service"] = files.texts[unitDirectory + "/pv_heartbeat.service"]!
            .replacingOccurrences(of: "# the agent's user", with: "# edited by ops")
        let detail = try check(files)
        #expect(detail.contains("pv_heartbeat.service with 1 line changed by an admin"), "\(detail)")
    }

    @Test func aUnitRunningAsAnotherUserIsRefusedWithTheAdminsCommand() {
        var files = adminsWork
        files.texts[unitDirectory + "/pv_heartbeat.service"] = files.texts[unitDirectory + "/pv_heartbeat.service"]!
            .replacingOccurrences(of: "User=pvagent", with: "User=root")
        let error = failure { () throws(PVError) in _ = try check(files) }
        #expect(error?.code == .config)
        #expect(error?.message.contains("says User=root, where the bundle's says User=pvagent") == true, "\(String(describing: error))")
        #expect(error?.hint?.contains("install_python3.sh --root /unit/root --user pvagent -e setup_heartbeat") == true)
    }

    @Test(arguments: [(uid_t(0), mode_t(0o666)), (uid_t(1000), mode_t(0o644))])
    func aUnitTheAgentCouldChangeIsRefused(owner: uid_t, mode: mode_t) {
        var files = adminsWork
        files.owners[unitDirectory + "/pv_heartbeat.timer"] = owner
        files.modes[unitDirectory + "/pv_heartbeat.timer"] = mode
        let error = failure { () throws(PVError) in _ = try check(files) }
        #expect(error?.code == .noPermission)
        #expect(error?.hint == "as root: chown root:root \(unitDirectory)/pv_heartbeat.timer && chmod go-w \(unitDirectory)/pv_heartbeat.timer")
    }

    @Test func aMissingSudoersFileNamesRootsCommand() {
        var files = adminsWork
        files.others.remove(sudoers)
        let error = failure { () throws(PVError) in _ = try check(files) }
        #expect(error?.code == .notFound)
        #expect(error?.message == "\(sudoers) is missing")
        #expect(error?.hint?.hasPrefix("as root: sudo /bin/bash ") == true && error?.hint?.hasSuffix("-e setup_heartbeat") == true)
    }

    /// setup_monitor as the agent's user on a host where systemd runs: the admin's unit as the
    /// bundle renders it, enabled, but not active: the step fails and says where to look.
    @Test func theMonitorUnitMustBeEnabledAndActive() throws {
        let bundle = scratchDirectory()
        defer { removeTree(bundle) }
        let template = "[Service]\nUser=provision\nExecStart=/provision/libs/pv_monitor run --root /provision\nReadWritePaths=-/provision/state -/provision/run/monitor\n"
        try FileIO.makeDirectories(bundle + "/systemd")
        try FileIO.writeAtomically(bundle + "/systemd/pv_monitor.service", template, mode: 0o644)
        var files = FakeFileSystem()
        // Not a sandbox: the unit is where systemd reads it.
        files.texts["/etc/systemd/system/pv_monitor.service"] = TemplateRendering.render(template, root: root, user: "pvagent")
        files.modes["/etc/systemd/system/pv_monitor.service"] = 0o644
        files.others.insert("/run/systemd/system")
        func check(active: String) throws(PVError) -> String {
            var environment = AgentEnvironment.test(root: root, processes: Systemctl(active: active))
            environment.files = files
            let context = InstallContext(environment: environment, bundle: bundle, sandbox: false, user: "pvagent", progress: { _ in })
            return try UnitSetupCheck.monitor(context).verify()
        }
        #expect(try check(active: "active") == "pv_monitor.service as the bundle renders it; pv_monitor.service enabled; checked, not written (not root)")
        let error = failure { () throws(PVError) in _ = try check(active: "failed") }
        #expect(error?.message == "pv_monitor.service is failed")
        #expect(error?.hint == "as root: systemctl daemon-reload && systemctl enable --now pv_monitor.service; systemctl status pv_monitor.service says why it stopped")
    }

    /// systemctl as the check asks it: enabled, and `active` for is-active.
    struct Systemctl: ProcessRunner {
        var active: String
        func run(_ command: Command, timeout: Double) throws(PVError) -> ProcessOutput {
            command.arguments.first == "is-enabled" ? ProcessOutput(status: 0, stdout: "enabled\n")
                : ProcessOutput(status: active == "active" ? 0 : 3, stdout: active + "\n")
        }
        func exec(_ command: Command) throws(PVError) -> Never { fatalError("exec in a unit test") }
    }
}
