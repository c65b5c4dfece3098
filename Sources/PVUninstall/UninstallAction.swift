import PVCore

/// One thing Delete Managed Server removes (or records), in the order it is done. Root's actions
/// change what the agent's user cannot (systemd, sudoers, the privileged helper, the user); the
/// others are the agent's own.
public enum UninstallAction: Sendable, Equatable {
    /// The configuration, state and logs, redacted, into a tar.gz outside the root: done first,
    /// so nothing is lost whatever fails later.
    case writeArchive(path: String)
    /// `systemctl disable --now pv_heartbeat.timer` (a host where systemd runs).
    /// `systemctl disable --now` of an installed unit (pv_heartbeat.timer, pv_monitor.service).
    case disableUnit(String)
    /// A unit, the timer's enable link, the sudoers file or the DHCP check helper.
    case removeSystemFile(String)
    /// The helper's own directory (`/usr/libexec/provision`), once empty.
    case removeSystemDirectory(String)
    /// A root-owned tree of the install's (the bundle root extracted, /var/lib/provision/bundle).
    case removeSystemTree(String)
    /// `systemctl daemon-reload` after the units are gone.
    case reloadSystemd
    case removeContainer(name: String)
    case removeImage(String)
    /// The whole install root (`rm -rf --one-file-system`: it never follows a link out of the tree).
    case removeRoot(String)
    case removeUser(String)

    public var needsRoot: Bool {
        switch self {
        case .disableUnit, .removeSystemFile, .removeSystemDirectory, .removeSystemTree, .reloadSystemd, .removeUser: return true
        case .writeArchive, .removeContainer, .removeImage, .removeRoot: return false
        }
    }

    /// What it does, as the listing says it.
    public var text: String {
        switch self {
        case .writeArchive(let path): return "write the configuration, state and logs (redacted) to \(path)"
        case .disableUnit(let unit): return "disable and stop \(unit)"
        case .removeSystemFile(let path): return "remove \(path)"
        case .removeSystemDirectory(let path): return "remove the directory \(path)"
        case .removeSystemTree(let path): return "remove \(path) and what it holds"
        case .reloadSystemd: return "reload systemd (daemon-reload)"
        case .removeContainer(let name): return "stop and remove the container \(name)"
        case .removeImage(let reference): return "remove the image \(reference)"
        case .removeRoot(let path): return "remove the install root \(path)"
        case .removeUser(let name): return "remove the user \(name) (userdel)"
        }
    }

    /// The command an admin runs for it, for the listing a tool without root prints.
    public var adminCommand: String? {
        switch self {
        case .disableUnit(let unit): return "systemctl disable --now \(unit)"
        case .removeSystemFile(let path): return "rm -f \(path)"
        case .removeSystemDirectory(let path): return "rmdir \(path)"
        case .removeSystemTree(let path): return "rm -rf --one-file-system \(path)"
        case .reloadSystemd: return "systemctl daemon-reload"
        case .removeUser(let name): return "userdel \(name)"
        default: return nil
        }
    }
}
