import PVCore
import PVComponents
import PVDocker
import PVHTTP

/// pv_status's view of the containers, asked of the Docker Engine API over its socket as the
/// heartbeat does (PVHTTP's `DockerEngine`): one `GET /containers/{name}/json` per component and
/// one `GET /images/json` for the digests, where the `docker` CLI took a process per question.
struct EngineContainerFacts: ContainerFacts {
    var engine: DockerEngine
    /// The CLI's error for an engine that does not answer, so pv_status says what it always said (exit 69, its hint).
    var docker: DockerCLI

    init(config: ServerConfig, docker: DockerCLI, transport: any HTTPTransport) throws(PVError) {
        do { engine = try DockerEngine(dockerHost: config.dockerHost, transport: transport, connectTimeout: 2, totalTimeout: 10) } catch {
            throw PVError(.config, "docker_host: \(error)")
        }
        self.docker = docker
    }

    func containers(_ names: [String]) throws(PVError) -> [ContainerInfo] {
        var found: [ContainerInfo] = []
        for name in names {
            guard let c = try ask({ () throws(DockerEngineError) in try engine.container(name) }) else { continue }
            var info = ContainerInfo(name: c.name, status: c.status, startedAt: c.startedAt, pid: c.pid, imageID: c.imageID,
                                     imageReference: c.imageReference, component: label(c, ContainerNaming.componentLabel),
                                     version: label(c, ContainerNaming.versionLabel), exitCode: c.exitCode)
            info.restartCount = c.restartCount
            info.handoff = label(c, HandoffSlot.label)
            info.slot = label(c, ContainerNaming.slotLabel).flatMap(HandoffSlot.init)
            found.append(info)
        }
        return found
    }

    func repoDigests(ofImages ids: [String]) throws(PVError) -> [String: String] {
        let wanted = Set(ids)
        var digests: [String: String] = [:]
        for image in try ask({ () throws(DockerEngineError) in try engine.images() }) where wanted.contains(image.id) {
            if let first = image.repoDigests.first { digests[image.id] = first }
        }
        return digests
    }

    /// An empty label is no label, as `docker inspect`'s template printed it.
    private func label(_ c: DockerContainerDetails, _ key: String) -> String? {
        c.labels[key].flatMap { $0.isEmpty ? nil : $0 }
    }

    private func ask<T>(_ question: () throws(DockerEngineError) -> T) throws(PVError) -> T {
        do { return try question() } catch {
            if case .unreachable(let cause) = error.problem { throw docker.engineDown(cause: "\(cause)") }
            throw PVError(.unavailable, "\(error)")
        }
    }
}
