/// The server's configuration: one `key = value` file under the install root
/// (`<root>/etc/provision.conf`). Parsing is strict on purpose: a typo in a key
/// would otherwise silently fall back to a default on a production server.
public struct ServerConfig: Sendable, Equatable {
    public var resourceID: String
    public var managementURL: String
    public var managementToken: String
    public var managementCAFile: String?
    public var registry: String
    public var images: [Component: String]
    public var dockerHost: String
    /// Where the DNS component listens, in Knot's `address@port` form.
    public var dnsListen: String
    public var dnsVerifyServer: String
    public var dnsVerifyPort: UInt16
    /// Server end of the verification link; the DHCP component serves on it.
    public var dhcpServerInterface: String?
    /// Client end of the verification link; `pv_verify` sends DHCP from it.
    public var dhcpVerifyInterface: String
    public var rabbitmqURI: String
    /// The components' containers are `<prefix><component>` (`pv-dns`): another prefix lets a second
    /// install share the Docker engine without touching this one's containers (tests, a staging root).
    public var containerPrefix: String = ServerConfig.defaultContainerPrefix
    /// The components this server runs (ProVision's Services tab), in start order: the key
    /// `components`, all three when absent. The tools act on these only.
    public var enabledComponents: [Component] = Component.allCases
    /// Credentials for a private registry (`registry_username`, `registry_password`, a secret like
    /// the token); without them the agent user's Docker config.json (`docker login`) is used.
    public var registryUsername: String?
    public var registryPassword: String?
    /// The CA of a registry behind TLS with a private CA (also placed where the Docker engine reads it).
    public var registryCAFile: String?
    /// The CA that signed the broker's certificate for an `amqps://` rabbitmq_uri (`rabbitmq_ca_file`);
    /// the system's trust store when absent.
    public var rabbitmqCAFile: String?
    /// pv_monitor's interval in seconds (`monitor_interval`, default 10).
    public var monitorInterval: Int = 10
    /// The most distinct DNS records pv_monitor keeps per interval (`monitor_max_names`, default 100000).
    public var monitorMaxNames: Int = 100_000
    /// pv_monitor's pull endpoint (`monitor_listen`, default 127.0.0.1:9433; `off`: none).
    public var monitorListen: MonitorListen? = .standard
    /// Whether pv_monitor publishes each sample to `rabbitmq_uri` (`monitor_push`, default on).
    public var monitorPush: Bool = true
    /// The durable exchange and queue pv_monitor publishes to (`monitor_exchange`, `monitor_queue`,
    /// default `provision.monitoring` both; the routing key is the resource ID).
    public var monitorExchange: String = "provision.monitoring"
    public var monitorQueue: String = "provision.monitoring"
    /// The most the unconfirmed samples may take on disk (`monitor_spool_mb`, default 64).
    public var monitorSpoolMB: Int = 64

    public static let defaultContainerPrefix = "pv-"
    /// The client end of the verification link when the configuration names none (a DHCP-less server).
    public static let defaultVerifyInterface = "pvv-cli"

    /// The image of an enabled component (the parser requires one for each).
    public func image(for component: Component) -> String { images[component] ?? "" }

    public func isEnabled(_ component: Component) -> Bool { enabledComponents.contains(component) }

    /// The components a tool's `all` means here.
    public func enabled(among components: [Component]) -> [Component] { components.filter(isEnabled) }

    /// Refuses a component this server does not run, naming the key that decides it.
    public func requireEnabled(_ component: Component) throws(PVError) {
        guard isEnabled(component) else {
            throw PVError(.usage, "\(component.rawValue) is not enabled on this server (components = \(enabledComponents.map(\.rawValue).joined(separator: ", ")))",
                          hint: "add it to the key components in the configuration and run pv_install, or name an enabled component")
        }
    }

    /// Values that must never reach output, logs or archives.
    public var secrets: [String] {
        var s = [managementToken]
        if let password = AMQPURI.password(in: rabbitmqURI), !password.isEmpty { s.append(password) }
        if let registryPassword { s.append(registryPassword) }
        return s
    }
}

/// Helpers for the parts of an AMQP URI we must treat as secret.
public enum AMQPURI {
    /// The password of `amqp://user:password@host...`, if any.
    public static func password(in uri: String) -> String? {
        guard let schemeEnd = uri.firstRange(of: "://") else { return nil }
        let rest = uri[schemeEnd.upperBound...]
        guard let at = rest.lastIndex(of: "@") else { return nil }
        let userinfo = rest[..<at]
        guard let colon = userinfo.firstIndex(of: ":") else { return nil }
        return String(userinfo[userinfo.index(after: colon)...])
    }
}
