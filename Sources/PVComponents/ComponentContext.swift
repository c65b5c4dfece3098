import PVCore
import PVState
import PVDocker

/// Everything a component operation touches: the agent's environment (root, clock, processes),
/// the configuration, and the ports (Docker CLI, readiness, registry, port checks). Unit tests
/// hand in fakes for each, so they never reach the host's Docker engine by accident.
public struct ComponentContext: Sendable {
    public var environment: AgentEnvironment
    public var config: ServerConfig
    public var docker: DockerCLI
    public var state: StateStore
    public var readiness: any ReadinessProbe
    public var ports: any PortChecker
    public var registry: (any RegistryCatalog)?
    /// Where the operations report what they do (the tools print it; the install also logs it).
    public var progress: @Sendable (ProgressEvent) -> Void

    public init(environment: AgentEnvironment, config: ServerConfig, readiness: any ReadinessProbe,
                ports: any PortChecker, registry: (any RegistryCatalog)?, progress: @escaping @Sendable (ProgressEvent) -> Void) {
        self.environment = environment
        self.config = config
        self.docker = DockerCLI(host: config.dockerHost, runner: environment.processes,
                                clientConfig: DockerClientConfig.directory(for: config, root: environment.root))
        self.state = StateStore(root: environment.root)
        self.readiness = readiness
        self.ports = ports
        self.registry = registry
        self.progress = progress
    }

    public var root: InstallRoot { environment.root }

    /// Whole seconds since the epoch on the environment's wall clock: the time of a history entry.
    public var now: Int { Int(environment.clock.now()) }

    public func spec(_ component: Component, _ version: Version, handoff: HandoffSlot? = nil) -> ContainerSpec {
        ContainerSpec(config: config, root: root, component: component, version: version, handoff: handoff)
    }

    public func container(_ component: Component) throws(PVError) -> ContainerInfo? {
        try docker.inspect([containerName(component)]).first
    }

    public func containerName(_ component: Component) -> String {
        ContainerNaming.containerName(component, config)
    }
}
