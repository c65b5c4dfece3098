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

    /// The same two calls as by hand (`docker stop`, `docker rm`): no `docker version` and no
    /// inspect first. `docker stop` itself says when there is no such container (or no engine);
    /// the version stopped is the one the state file recorded as running.
    public func stop(_ component: Component, grace: Int = 10) throws(PVError) -> Outcome {
        let name = context.containerName(component)
        let found = try removeContainer(name, grace: grace)
        // A handoff a crash interrupted may have left the new container serving beside it (only then
        // is there a journal): it goes too. The journal stays for the next start to settle.
        if component == .dns, (try? UpdateJournal.load(root: context.root, component: component)) != nil {
            try removeContainer(ContainerNaming.nextName(component, context.config), grace: grace)
        }
        var outcome = Outcome.wasNotRunning
        try context.state.update { state in
            if found { outcome = .stopped(version: state[component].running?.description) }
            if state[component].running != nil || found {
                state[component].record("stopped", version: state[component].running, at: context.now)
            }
            state[component].running = nil
        }
        return outcome
    }

    /// Stops (SIGTERM, then SIGKILL after `grace` seconds) and removes a container. False when
    /// there was no such container.
    @discardableResult
    func removeContainer(_ name: String, grace: Int) throws(PVError) -> Bool {
        let stop = try context.docker.run(["stop", "--time", String(grace), name], timeout: Double(grace) + 20)
        try context.docker.requireReached(stop)
        switch DockerFailure(stop) {
        case nil: break
        case .noSuchContainer?: return false
        case let failure?: throw PVError(.unavailable, "docker stop \(name) failed", cause: failure.text)
        }
        let rm = try context.docker.run(["rm", "--force", name], timeout: 30)
        if let failure = DockerFailure(rm), failure != .noSuchContainer {
            throw PVError(.unavailable, "docker rm \(name) failed", cause: failure.text)
        }
        return true
    }
}
