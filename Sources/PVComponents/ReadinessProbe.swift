import PVCore
import PVState
import PVDocker

public enum Readiness: Equatable, Sendable {
    case ready(String)
    case notYet(String)
}

/// "Does the component really work yet?" - asked repeatedly after a start.
public protocol ReadinessProbe: Sendable {
    func check(_ component: Component, container: ContainerInfo, config: ServerConfig) -> Readiness
}

/// For tools that never wait on a component (stop, status): running is enough.
public struct RunningOnlyProbe: ReadinessProbe {
    public init() {}
    public func check(_ component: Component, container: ContainerInfo, config: ServerConfig) -> Readiness { .ready("running") }
}
