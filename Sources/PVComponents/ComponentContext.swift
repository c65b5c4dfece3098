import PVCore
import PVState
import PVDocker

/// Everything a lifecycle operation touches, injected so that unit tests run
/// against fakes and never reach the host's Docker engine by accident.
public struct ComponentContext: Sendable {
    public var root: InstallRoot
    public var config: ServerConfig
    public var docker: DockerCLI
    public var state: StateStore
    public var readiness: any ReadinessProbe
    public var ports: any PortChecker
    public var registry: (any RegistryCatalog)?
    /// Where the operations report what they do (the tools print it; the install also logs it).
    public var progress: @Sendable (ProgressEvent) -> Void

    public init(root: InstallRoot, config: ServerConfig, docker: DockerCLI, readiness: any ReadinessProbe,
                ports: any PortChecker, registry: (any RegistryCatalog)?, progress: @escaping @Sendable (ProgressEvent) -> Void) {
        self.root = root
        self.config = config
        self.docker = docker
        self.state = StateStore(root: root)
        self.readiness = readiness
        self.ports = ports
        self.registry = registry
        self.progress = progress
    }

    public func spec(_ component: Component, _ version: Version) -> ContainerSpec {
        ContainerSpec(config: config, root: root, component: component, version: version)
    }

    public func container(_ component: Component) throws(PVError) -> ContainerInfo? {
        try docker.inspect([ContainerSpec.containerName(component)]).first
    }
}
