import PVCLI
import PVCore
import PVDocker

extension LifecycleContext {
    /// The context the executables use: real Docker CLI, real probes, output to stdout.
    public static func live(root: InstallRoot, readiness: any ReadinessProbe = RunningOnlyProbe(),
                            registry: ((ServerConfig) -> any RegistryCatalog)? = nil) throws(PVError) -> LifecycleContext {
        let config = try ConfigParser.load(root: root)
        return LifecycleContext(root: root, config: config,
                                docker: DockerCLI(host: config.dockerHost, runner: SystemProcessRunner()),
                                readiness: readiness, ports: LivePortChecker(), registry: registry?(config),
                                say: { Output.line($0) })
    }
}

/// Parses a component name, with an error that lists the valid ones.
public func parseComponent(_ text: String) throws(PVError) -> Component {
    guard let c = Component(rawValue: text.lowercased()) else {
        throw PVError(.usage, "unknown component '\(text.prefix(40))'",
                      hint: "use one of: \(Component.allCases.map(\.rawValue).joined(separator: ", "))")
    }
    return c
}
