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

    func missing() -> [String] {
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
        if let config = try? ConfigParser.load(root: root) {
            let server = config.dhcpServerInterface ?? "pvv-srv"
            if !host.interfaceExists(server) || !host.interfaceExists(config.dhcpVerifyInterface) {
                out.append("the verification link \(server) <-> \(config.dhcpVerifyInterface) is missing: as root, run network_config.sh")
            }
        } else if !host.interfaceExists("pvv-srv") {
            out.append("the verification link pvv-srv <-> pvv-cli is missing: as root, run network_config.sh")
        }
        if !FileIO.exists(systemPrefix + "/etc/systemd/system/pv_heartbeat.timer") {
            out.append("the heartbeat units are not installed: as root, copy systemd/pv_heartbeat.service and .timer from the bundle to \(systemPrefix)/etc/systemd/system (User=\(me)), then systemctl daemon-reload && systemctl enable --now pv_heartbeat.timer")
        }
        if !FileIO.exists(systemPrefix + "/etc/sudoers.d/provision") {
            out.append("the sudoers file is missing: as root, install sudoers/provision.ubuntu (or .centos) from the bundle as \(systemPrefix)/etc/sudoers.d/provision (replace <user> with \(me); check with visudo -c -f)")
        }
        let helper = systemPrefix + DHCPCheckHelper.installedPath
        if !FileIO.exists(helper) {
            out.append("the DHCP check helper is missing: as root, install bin/\(DHCPCheckHelper.name) from the bundle as \(helper) (root:root, mode 0755, in root-owned directories), then setcap cap_net_raw+ep \(helper)")
        }
        return out
    }

    func requireDone() throws(PVError) {
        let m = missing()
        guard !m.isEmpty else { return }
        throw PVError(.noPermission, "not running as root, and an admin has not yet done these root-only parts:\n  - " + m.joined(separator: "\n  - "),
                      hint: "ask an admin to do them (or run sudo /bin/bash install_python3.sh), then run pv_install again")
    }
}
