import PVCore
import PVState
import PVDocker

/// Stopping a component: `docker stop` with a grace period, then removal, so
/// a later start never collides with a leftover container.
public struct ComponentStop: Sendable {
    public var context: ComponentContext

    public init(context: ComponentContext) { self.context = context }

    public enum Outcome: Equatable, Sendable {
        case wasNotRunning
        case stopped(version: String?)
    }

    public func stop(_ component: Component, grace: Int = 10) throws(PVError) -> Outcome {
        try context.docker.requireEngine()
        let name = context.containerName(component)
        let existing = try context.container(component)
        let outcome: Outcome
        if let existing {
            try removeContainer(name, grace: grace)
            outcome = existing.isRunning ? .stopped(version: existing.version) : .wasNotRunning
        } else {
            outcome = .wasNotRunning
        }
        try context.state.update { state in
            if state[component].running != nil || outcome != .wasNotRunning {
                state[component].record("stopped", version: state[component].running, at: context.now)
            }
            state[component].running = nil
        }
        return outcome
    }

    /// Stops (SIGTERM, then SIGKILL after `grace` seconds) and removes a container.
    func removeContainer(_ name: String, grace: Int) throws(PVError) {
        let stop = try context.docker.run(["stop", "--time", String(grace), name], timeout: Double(grace) + 20)
        if let failure = DockerFailure(stop), failure != .noSuchContainer {
            throw PVError(.unavailable, "docker stop \(name) failed", cause: failure.text)
        }
        let rm = try context.docker.run(["rm", "--force", name], timeout: 30)
        if let failure = DockerFailure(rm), failure != .noSuchContainer {
            throw PVError(.unavailable, "docker rm \(name) failed", cause: failure.text)
        }
    }
}
