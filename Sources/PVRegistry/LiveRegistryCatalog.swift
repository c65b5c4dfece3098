import PVCore

/// The registry client behind the components' RegistryCatalog port.
public struct LiveRegistryCatalog: RegistryCatalog {
    public var client: RegistryClient
    public var config: ServerConfig

    public init(client: RegistryClient, config: ServerConfig) {
        self.client = client
        self.config = config
    }

    /// The configuration's registry over the environment's HTTP, with the client's default bounds.
    public init(config: ServerConfig, transport: any HTTPTransport) {
        self.init(client: RegistryClient(registry: config.registry, transport: transport), config: config)
    }

    public func tags(for component: Component) throws(PVError) -> [String] {
        try client.tags(config.image(for: component))
    }

    public func digest(for component: Component, tag: String) throws(PVError) -> String {
        try client.digest(config.image(for: component), tag: tag)
    }
}
