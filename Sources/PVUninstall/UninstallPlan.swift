import PVCore
import PVDocker
import PVDHCP

/// What Delete Managed Server would remove on this host, found by looking, in the order it is
/// done. Made the same way with and without `--yes`: the listing is exactly what a run does.
public struct UninstallPlan: Sendable, Equatable {
    public var actions: [UninstallAction]
    /// What could not be looked at, said in the listing (no configuration: containers unknown).
    public var notes: [String]

    public var rootActions: [UninstallAction] { actions.filter(\.needsRoot) }
    public var isEmpty: Bool { actions.isEmpty }

    public struct Options: Sendable {
        public var purgeImages = false
        public var keepRoot = false
        public var removeUser = false
        /// The agent's user to remove; nil: the owner of the root.
        public var user: String?
        /// Where the archive goes; nil: `/var/tmp` for `/provision`, the root's parent for a sandbox.
        public var archive: String?
        public init(purgeImages: Bool = false, keepRoot: Bool = false, removeUser: Bool = false, user: String? = nil, archive: String? = nil) {
            self.purgeImages = purgeImages
            self.keepRoot = keepRoot
            self.removeUser = removeUser
            self.user = user
            self.archive = archive
        }
    }

    /// The unit and sudoers files, the enable link and the helper of this root (under
    /// `<root>/system` in a sandbox, as the install put them).
    static func systemFiles(_ root: InstallRoot) -> [String] {
        [root.systemPath("/etc/systemd/system/timers.target.wants/pv_heartbeat.timer"),
         root.systemPath("/etc/systemd/system/pv_heartbeat.timer"),
         root.systemPath("/etc/systemd/system/pv_heartbeat.service"),
         root.systemPath("/etc/systemd/system/multi-user.target.wants/pv_monitor.service"),
         root.systemPath("/etc/systemd/system/pv_monitor.service"),
         root.systemPath("/etc/sudoers.d/provision"),
         root.systemPath(DHCPCheckHelper.installedPath),
         root.systemPath(RootOwnedPaths.verifier)]
    }

    public static func make(_ environment: AgentEnvironment, options: Options) throws(PVError) -> UninstallPlan {
        let root = environment.root
        let files = environment.files
        var actions: [UninstallAction] = []
        var notes: [String] = []
        let config: ServerConfig?
        do { config = try environment.configuration() } catch {
            config = nil
            if files.exists(root.path) { notes.append("no usable configuration (\(error.message)): its containers are not known") }
        }

        let rootExists = files.exists(root.path)
        let recorded = ["etc", "state", "logs"].contains { files.exists(root.join($0)) }
        if rootExists && recorded {
            actions.append(.writeArchive(path: options.archive ?? defaultArchivePath(root, resourceID: config?.resourceID, time: environment.clock.now())))
        }

        // The units systemd runs: stopped and disabled before their files go.
        for unit in ["pv_heartbeat.timer", "pv_monitor.service"] where !root.isSandbox && files.exists("/run/systemd/system")
            && files.exists(root.systemPath("/etc/systemd/system/" + unit)) {
            actions.append(.disableUnit(unit))
        }
        let present = systemFiles(root).filter { files.exists($0) }
        actions += present.map(UninstallAction.removeSystemFile)
        let helperDirectory = FileIO.directoryName(root.systemPath(DHCPCheckHelper.installedPath))
        if files.exists(helperDirectory) { actions.append(.removeSystemDirectory(helperDirectory)) }
        if files.exists(root.systemPath(RootOwnedPaths.extractedBundle)) { actions.append(.removeSystemTree(root.systemPath(RootOwnedPaths.extractedBundle))) }
        if files.exists(root.systemPath(RootOwnedPaths.extractedBundleParent)) {
            actions.append(.removeSystemDirectory(root.systemPath(RootOwnedPaths.extractedBundleParent)))
        }
        if !root.isSandbox && files.exists("/run/systemd/system") && present.contains(where: { $0.hasSuffix(".service") || $0.hasSuffix(".timer") }) {
            actions.append(.reloadSystemd)
        }

        if let config {
            let docker = DockerCLI(host: config.dockerHost, runner: environment.processes)
            // Every component's container, enabled or not: a leftover goes too. And an update's new
            // container (a DNS handoff's, a prepared swap's), should a crash have left one.
            let names = Component.allCases.map { ContainerNaming.containerName($0, config) }
                + Component.allCases.map { ContainerNaming.nextName($0, config) }
            do {
                try docker.requireEngine()
                let existing = Set(try docker.inspect(names).map(\.name))
                actions += names.filter(existing.contains).map { UninstallAction.removeContainer(name: $0) }
                if options.purgeImages {
                    let repositories = Set(Component.allCases.map { "\(config.registry)/\(config.image(for: $0))" }.filter { !$0.hasSuffix("/") })
                    let listed = try docker.run(["image", "ls", "--format", "{{.Repository}}:{{.Tag}}"], timeout: 30)
                    let images = listed.stdout.split(separator: "\n").map(String.init)
                        .filter { ref in repositories.contains(String(ref.prefix(upTo: ref.lastIndex(of: ":") ?? ref.endIndex))) }
                    actions += images.sorted().map(UninstallAction.removeImage)
                }
            } catch {
                throw PVError(.unavailable, "the Docker engine does not answer, so this server's containers cannot be removed",
                              hint: "start Docker (systemctl start docker), then run pv_uninstall again; nothing was changed",
                              cause: error.message)
            }
        }

        if rootExists && !options.keepRoot { actions.append(.removeRoot(root.path)) }
        // A sandbox never removes a user, as its install never creates one.
        if options.removeUser && !root.isSandbox {
            let owner = files.owner(root.path).flatMap { $0 == 0 ? nil : environment.host.userName($0) }
            if let name = options.user ?? owner, name != "root", environment.host.userExists(name) {
                actions.append(.removeUser(name))
            } else if options.user == nil && owner == nil {
                notes.append("--remove-user: the root is gone, so its owner is not known; name the user with --user")
            }
        }
        return UninstallPlan(actions: actions, notes: notes)
    }

    /// `/var/tmp/provision-<resource>-<time>.tar.gz` (outlives the root and a reboot); for a
    /// sandbox, beside its root.
    public static func defaultArchivePath(_ root: InstallRoot, resourceID: String?, time: Double) -> String {
        let stamp = RFC3339.format(time).prefix(19).filter { $0 != "-" && $0 != ":" }
        let name = "provision-\(resourceID ?? "unknown")-\(stamp)Z.tar.gz"
        return (root.isSandbox ? FileIO.directoryName(root.path) : "/var/tmp") + "/" + name
    }
}
