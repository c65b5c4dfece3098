import PVCore
import PVDocker

extension ComponentContext {
    /// The context the tools use: the environment's processes and output, the live port check,
    /// and the configuration of the environment's root.
    public static func live(_ environment: AgentEnvironment, readiness: any ReadinessProbe = RunningOnlyProbe(),
                            registry: ((ServerConfig) -> any RegistryCatalog)? = nil) throws(PVError) -> ComponentContext {
        let config = try environment.configuration()
        let output = environment.output
        return ComponentContext(environment: environment, config: config, readiness: readiness, ports: LivePortChecker(),
                                registry: registry?(config), progress: { output.line($0.text) })
    }
}
