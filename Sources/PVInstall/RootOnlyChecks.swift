import PVCore
import PVDHCP
#if canImport(Glibc)
import Glibc
#endif

/// Without root, an admin must have done the root-only parts first. This
/// checks each and lists exactly what is missing, with the bundle script or
/// command that does it.
struct RootOnlyChecks {
    /// Who runs the install, its root, and the host's interfaces.
    var environment: AgentEnvironment
    var root: InstallRoot { environment.root }
    var user: String
    var bundle: String
    /// Where system files live: "/" normally, <root>/system in a sandbox.
    var systemPrefix: String = ""

    /// The install steps whose root-only parts are missing, filled in by `missing()`.
    private(set) var stepsForRoot: [String] = []

    /// What root does for the agent's user, as one command: the bundle's entry script runs only
    /// those steps, rendered for this user and root, and checks what it wrote (visudo,
    /// systemd-analyze). The agent's rerun then checks them without writing there.
    func adminCommand(steps: [String]) -> String {
        var words = ["sudo", "/bin/bash", bundle + "/install_python3.sh"]
        if root.path != InstallRoot.defaultPath { words += ["--root", root.path] }
        words += ["--user", user, "-e", steps.joined(separator: ",")]
        return words.joined(separator: " ")
    }

    mutating func missing() -> [String] {
        var out: [String] = []
        let me = environment.userName
        let host = environment.host
        if !Steps.groupMembers("docker").contains(me) && Steps.primaryGroup(me) != "docker" {
            out.append("\(me) is not in the docker group: as root, run install_docker.sh, then usermod -aG docker \(me)")
        }
        if let owner = FileIO.modeAndOwner(root.path)?.uid {
            if owner != environment.effectiveUserID { out.append("\(root.path) is not owned by \(me): as root, chown \(me) \(root.path)") }
        } else {
            out.append("\(root.path) does not exist: as root, mkdir \(root.path) && chown \(me) \(root.path)")
        }
        // The configuration this install will use: the bundle's (ProVision's, for this server), else the installed one.
        let config = Self.configuration(bundle: bundle, root: root)
        // Only a server that runs DHCP needs the verification link and the DHCP check helper.
        let dhcp = config?.isEnabled(.dhcp) ?? true
        if let config, dhcp {
            let server = config.dhcpServerInterface ?? "pvv-srv"
            if !host.interfaceExists(server) || !host.interfaceExists(config.dhcpVerifyInterface) {
                out.append("the verification link \(server) <-> \(config.dhcpVerifyInterface) is missing: as root, run network_config.sh")
            }
        } else if dhcp && !host.interfaceExists("pvv-srv") {
            out.append("the verification link pvv-srv <-> pvv-cli is missing: as root, run network_config.sh")
        }
        var steps: [String] = []
        let helper = systemPrefix + DHCPCheckHelper.installedPath
        if dhcp && !FileIO.exists(helper) {
            out.append("the DHCP check helper \(helper) is missing: root's part of step install_libs (root-owned, with cap_net_raw)")
            steps.append("install_libs")
        }
        let unitDirectory = systemPrefix + "/etc/systemd/system"
        if !FileIO.exists(unitDirectory + "/pv_heartbeat.service") || !FileIO.exists(unitDirectory + "/pv_heartbeat.timer") {
            out.append("the heartbeat units are not installed in \(unitDirectory): root's part of step setup_heartbeat")
            steps.append("setup_heartbeat")
        }
        if !FileIO.exists(systemPrefix + "/etc/sudoers.d/provision") {
            out.append("the sudoers file is missing (\(systemPrefix)/etc/sudoers.d/provision): root's part of step setup_heartbeat")
            if !steps.contains("setup_heartbeat") { steps.append("setup_heartbeat") }
        }
        if !FileIO.exists(unitDirectory + "/pv_monitor.service") {
            out.append("pv_monitor.service is not installed in \(unitDirectory): root's part of step setup_monitor")
            steps.append("setup_monitor")
        }
        // systemd-analyze verify needs the units' ExecStart to exist: root installs the tools first
        // (as the agent's, see AgentTree).
        if (steps.contains("setup_heartbeat") || steps.contains("setup_monitor")) && !steps.contains("install_libs") { steps.insert("install_libs", at: 0) }
        stepsForRoot = steps
        return out
    }

    static func configuration(bundle: String, root: InstallRoot) -> ServerConfig? {
        let fromBundle = bundle + "/provision.conf"
        if let text = try? FileIO.readText(fromBundle, limit: 1 << 20, followLinks: false), let config = try? ConfigParser.parse(text, file: fromBundle) {
            return config
        }
        return try? ConfigParser.load(root: root)
    }

    func requireDone() throws(PVError) {
        var checks = self
        let m = checks.missing()
        guard !m.isEmpty else { return }
        var hint = "ask an admin to do them"
        if !checks.stepsForRoot.isEmpty {
            hint += "; the install's root-only parts are one command: \(adminCommand(steps: checks.stepsForRoot))"
        }
        hint += "; then run pv_install again as \(user)"
        throw PVError(.noPermission, "not running as root, and an admin has not yet done these root-only parts:\n  - " + m.joined(separator: "\n  - "),
                      hint: hint)
    }
}
