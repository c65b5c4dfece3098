import PVCore
import PVState
import PVDocker

public enum Readiness: Equatable, Sendable {
    case ready(String)
    case notYet(String)
}

/// "Does the component really work yet?" - asked repeatedly after a start. `container` is what
/// Docker last said of it: nil while not looked at yet (DNS readiness asks the server, not Docker,
/// so the start polls it without a `docker inspect` each time).
public protocol ReadinessProbe: Sendable {
    func check(_ component: Component, container: ContainerInfo?, config: ServerConfig) -> Readiness
}

/// For tools that never wait on a component (stop, status): running is enough.
public struct RunningOnlyProbe: ReadinessProbe {
    public init() {}
    public func check(_ component: Component, container: ContainerInfo?, config: ServerConfig) -> Readiness {
        container?.isRunning == true ? .ready("running") : .notYet("not running")
    }
}
