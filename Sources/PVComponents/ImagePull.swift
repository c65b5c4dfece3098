import PVCore
import PVDocker
import PVState

/// The one way an image is downloaded, for a start, an update and a rollback: bounded, cut or
/// finished on a signal as the caller says, and a missing version named with what the registry has.
struct ImagePull: Sendable {
    var context: ComponentContext
    var timeout: Double

    /// `whileServing`: an update's download, made while the running version keeps serving; its
    /// progress is reported (each layer line too) and every failure says that nothing changed.
    func ensure(_ spec: ContainerSpec, whenInterrupted: InterruptionPolicy, whileServing: Bool = false) throws(PVError) {
        if try context.docker.imageExists(spec.image) {
            if whileServing { context.progress(.alreadyDownloaded(image: spec.image)) }
            return
        }
        // The registry credentials of the configuration, where docker pull reads them.
        try DockerClientConfig.write(for: context.config, root: context.root, owner: AgentTree.ownerForRoot(context.root))
        let clock = context.environment.clock
        let started = clock.monotonic()
        let command: Command
        var onLine: (@Sendable (String) -> Void)? = nil
        if whileServing {
            context.progress(.downloading(image: spec.image))
            command = context.docker.command(["pull", spec.image], whenInterrupted: whenInterrupted)
            let progress = context.progress
            // Layer progress lines, without the terminal's redraw noise.
            onLine = { line in if !line.isEmpty { progress(.pullOutput(line)) } }
        } else {
            context.progress(.pulling(image: spec.image))
            command = context.docker.command(["pull", "--quiet", spec.image], whenInterrupted: whenInterrupted)
        }
        let out: ProcessOutput
        if let onLine { out = try context.docker.runner.run(command, timeout: timeout, onLine: onLine) }
        else { out = try context.docker.runner.run(command, timeout: timeout) }
        guard let failure = DockerFailure(out) else {
            if whileServing { context.progress(.downloaded(milliseconds: Int((clock.monotonic() - started) * 1000))) }
            return
        }
        let unchanged = whileServing ? "nothing was changed, the running version keeps serving" : "nothing was changed"
        let registry = context.config.registry
        switch failure {
        case .interrupted:
            if let signal = Interruption.signal { throw .interrupted(by: signal, "the download of \(spec.image) was cut; \(unchanged)") }
        case .timedOut:
            throw PVError(.unavailable, "downloading \(spec.image) did not finish within \(Int(timeout)) s; \(unchanged)",
                          hint: "check the registry \(registry) and the network")
        case .imageNotInRegistry:
            var hint = "pick a version the registry has"
            if let tags = try? context.registry?.tags(for: spec.component) {
                let versions = tags.compactMap(Version.init).sorted().map(\.description)
                hint = versions.isEmpty ? "the registry has no versions of \(spec.component.rawValue)"
                    : "versions in the registry: \(versions.joined(separator: ", "))"
            }
            throw PVError(.notFound, "version \(spec.version) of \(spec.component.rawValue) is not in the registry \(registry)", hint: hint)
        case .engineUnreachable(let line):
            throw context.docker.engineDown(cause: line)
        case .noSuchContainer, .noSuchImage, .nameInUse, .other:
            break
        }
        throw PVError(.unavailable, "downloading \(spec.image) failed; \(unchanged)",
                      hint: "check that the registry \(registry) is reachable, then run the same command again", cause: failure.text)
    }
}
