import PVCore

/// How one component runs as a container: everything `docker run` needs,
/// derived from the configuration, the install root and the version.
public struct ContainerSpec: Sendable, Equatable {
    public var component: Component
    public var version: Version
    public var image: String
    public var name: String
    /// The install's container prefix (`name` is `<prefix><component>`).
    public var prefix: String
    public var environment: [(String, String)]
    /// host path -> container path (and read-only flag)
    public var mounts: [(host: String, container: String, readOnly: Bool)]
    /// Set for the new container of a DNS handoff: named `<name>-next`, also listening on the
    /// slot's check address, its Knot control socket the slot's.
    public var handoff: HandoffSlot?

    public static func == (a: ContainerSpec, b: ContainerSpec) -> Bool {
        a.runArguments == b.runArguments
    }

    public static func imageReference(config: ServerConfig, component: Component, version: Version) -> String {
        "\(config.registry)/\(config.image(for: component)):\(version)"
    }

    public init(config: ServerConfig, root: InstallRoot, component: Component, version: Version, handoff: HandoffSlot? = nil) {
        self.component = component
        self.version = version
        self.handoff = component == .dns ? handoff : nil
        image = Self.imageReference(config: config, component: component, version: version)
        prefix = config.containerPrefix
        name = self.handoff == nil ? ContainerNaming.containerName(component, config) : ContainerNaming.nextName(component, config)
        switch component {
        case .dns:
            // The components' contract (README): dnstap goes to pv_monitor's socket, mounted here.
            let listen = self.handoff.map { "\(config.dnsListen),\($0.checkAddress)@\(config.dnsVerifyPort)" } ?? config.dnsListen
            environment = [("PV_DNS_LISTEN", listen), ("PV_DNSTAP_SOCKET", Self.dnstapSocket),
                           ("PV_KNOT_CONTROL_SOCKET", self.handoff?.knotControlSocket ?? Self.knotControlSocket)]
        case .dhcp:
            environment = (config.dhcpServerInterface.map { [("PV_DHCP_INTERFACE", $0)] } ?? []) + [("PV_KEA_CONTROL_SOCKET", Self.keaControlSocket)]
        case .monitoring:
            environment = []
        }
        // Config read-only, data writable, both under the root so a reinstall
        // or a sandbox keeps everything in one place.
        mounts = [
            (root.join("config", component.rawValue), "/etc/provision", true),
            (root.join("data", component.rawValue), "/var/lib/provision", false),
        ]
        if component != .monitoring { mounts.append((root.join("run", "monitor"), Self.monitorDirectory, false)) }
    }

    /// Where the DNS container finds pv_monitor's dnstap socket (`<root>/run/monitor` on the host).
    public static let monitorDirectory = "/run/pv-monitor"
    public static let dnstapSocket = monitorDirectory + "/dnstap.sock"
    /// Where the DNS component's Knot listens for control (stats), for pv_monitor's DNS aggregate.
    /// In a directory of its own, which the image makes root's (knotd binds it without the
    /// capabilities that would let it write in the agent's directory).
    public static let knotControlSocket = monitorDirectory + "/knot/knot.sock"
    /// Where the DHCP component's Kea puts its control socket, for pv_monitor's statistics.
    public static let keaControlSocket = monitorDirectory + "/kea4-ctrl.sock"

    var labels: [String] {
        ["--label", "\(ContainerNaming.componentLabel)=\(component.rawValue)", "--label", "\(ContainerNaming.versionLabel)=\(version)",
         "--label", "\(ContainerNaming.managedLabel)=true", "--label", "\(ContainerNaming.prefixLabel)=\(prefix)"]
            + (handoff.map { ["--label", "\(ContainerNaming.slotLabel)=\($0.rawValue)"] } ?? [])
    }

    var common: [String] {
        var args = ["--network", "host"] + labels
        for (k, v) in environment { args += ["--env", "\(k)=\(v)"] }
        for m in mounts { args += ["--volume", "\(m.host):\(m.container)\(m.readOnly ? ":ro" : "")"] }
        return args
    }

    /// `docker run` for the service: detached, restarted by the engine after a crash or a reboot.
    public var runArguments: [String] { runArguments(pull: nil) }

    /// `docker create` of the same container under another name (an update's prepared swap: made
    /// while the old one serves, renamed and started in the window).
    public func createArguments(name: String) -> [String] {
        ["create", "--name", name, "--restart", "unless-stopped", "--log-opt", "max-size=10m", "--log-opt", "max-file=3"]
            + common + [image]
    }

    /// `pull`: docker run's `--pull` policy (`never`: fail at once when the image is not on the host).
    public func runArguments(pull: String?) -> [String] {
        ["run", "--detach", "--name", name, "--restart", "unless-stopped", "--log-opt", "max-size=10m", "--log-opt", "max-file=3"]
            + (pull.map { ["--pull", $0] } ?? []) + common + [image]
    }

    /// `docker run` for a debug shell: same image, networking, mounts and
    /// environment, but `/bin/sh` instead of `/start.sh`, removed on exit.
    public func debugArguments(tty: Bool) -> [String] {
        ["run", "--rm", "--interactive"] + (tty ? ["--tty"] : []) + ["--name", name + "-debug", "--entrypoint", "/bin/sh"]
            + common + [image]
    }
}
