import PVCore

/// The registry client behind the components' RegistryCatalog port.
public struct LiveRegistryCatalog: RegistryCatalog {
    public var client: RegistryClient
    public var config: ServerConfig

    public init(client: RegistryClient, config: ServerConfig) {
        self.client = client
        self.config = config
    }

    /// The configuration's registry over the environment's HTTP, with the client's default bounds,
    /// its credentials (the configuration's, else the agent user's config.json) and its CA.
    public init(config: ServerConfig, environment: AgentEnvironment) {
        self.init(client: RegistryClient.forServer(config, environment: environment), config: config)
    }

    public func tags(for component: Component) throws(PVError) -> [String] {
        try client.tags(config.image(for: component))
    }

    public func digest(for component: Component, tag: String) throws(PVError) -> String {
        try client.digest(config.image(for: component), tag: tag)
    }
}
