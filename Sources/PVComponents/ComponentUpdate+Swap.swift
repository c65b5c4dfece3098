import PVCore
import PVDocker
import PVState

/// The swap of a component that does not hand over (DHCP: two servers on one link would both
/// answer; monitoring; a DNS image without the handoff label), made as short as it can be: the new
/// container is created (`docker create`, image ready) while the old one still serves, so the
/// window holds only the old one's end, a rename and `docker start`. DNS ends at once
/// (`docker rm --force`: Knot keeps nothing to flush); DHCP and monitoring get their grace period
/// (the agent cannot know how an image's Kea keeps its leases: a memory-only store, a file, a database).
extension ComponentUpdate {
    /// Creates `<name>-next` for `spec` (a leftover of an earlier attempt removed first). False
    /// when no running container is there to replace (`current`), or the create failed (the swap
    /// then runs it).
    func prepareSwap(_ spec: ContainerSpec, replacing current: ContainerInfo?) throws(PVError) -> Bool {
        guard let current, current.isRunning else { return false }
        let next = ContainerNaming.nextName(spec.component, context.config)
        try removeContainer(next)
        try start.makeMounts(spec)
        let created = try context.docker.run(spec.createArguments(name: next), timeout: 60)
        try context.docker.requireReached(created)
        return created.succeeded
    }

    /// The window: the old container ends and goes, the prepared one takes its name and starts;
    /// then the wait until it works.
    func swap(_ component: Component, from current: Version?, to spec: ContainerSpec) throws(PVError) {
        let name = context.containerName(component)
        let next = ContainerNaming.nextName(component, context.config)
        context.progress(.stopping(container: name, version: current?.description))
        let began = context.environment.clock.monotonic()
        if component == .dns {
            try removeContainer(name)
        } else {
            try ComponentStop(context: context).removeContainer(name, grace: 10)
        }
        let renamed = try context.docker.run(["rename", next, name], timeout: 30)
        if let failure = DockerFailure(renamed) { throw PVError(.unavailable, "docker rename \(next) \(name) failed", cause: failure.text) }
        context.progress(.starting(container: name, image: spec.image))
        let started = try context.docker.run(["start", name], timeout: 60)
        try context.docker.requireReached(started)
        if let failure = DockerFailure(started) { throw PVError(.osError, "docker start \(name) failed", cause: failure.text) }
        try context.state.update {
            $0[component].running = spec.version
            $0[component].record("started", version: spec.version, at: context.now)
        }
        _ = try start.waitUntilReady(component, spec: spec, since: began)
    }
}
