import PVCore
import PVLifecycle

/// The registry as the lifecycle tools see it: a list of tags per component.
public struct RegistryTagCatalog: RegistryCatalog {
    public var client: RegistryClient
    public var config: ServerConfig

    public init(client: RegistryClient, config: ServerConfig) {
        self.client = client
        self.config = config
    }

    public func tags(for component: Component) throws(PVError) -> [String] {
        try client.tags(config.image(for: component))
    }
}
