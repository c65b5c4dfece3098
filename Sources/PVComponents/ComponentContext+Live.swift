import PVCore
import PVState
import PVDocker

extension ComponentContext {
    /// The context the executables use: real Docker CLI, real probes, output to stdout.
    public static func live(root: InstallRoot, readiness: any ReadinessProbe = RunningOnlyProbe(),
                            registry: ((ServerConfig) -> any RegistryCatalog)? = nil) throws(PVError) -> ComponentContext {
        let config = try ConfigParser.load(root: root)
        return ComponentContext(root: root, config: config,
                                docker: DockerCLI(host: config.dockerHost, runner: SystemProcessRunner()),
                                readiness: readiness, ports: LivePortChecker(), registry: registry?(config),
                                progress: { Output.line($0.text) })
    }
}
