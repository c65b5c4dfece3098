import PVCore
import PVState
import PVDocker
#if canImport(Glibc)
import Glibc
#endif

/// One component's state as an operator (or the heartbeat) sees it.
public struct ComponentStatusReport: Sendable, Equatable {
    public var component: Component
    public var state: String  // running, stopped, absent
    public var version: String?
    public var uptimeSeconds: Int?
    public var imageDigest: String?
    public var verified: String?
    /// What the state file says runs (`running` in components.json).
    public var recorded: String?

    /// The state file and Docker agree on what runs. They can part after a kill at the wrong
    /// moment or a container changed by hand; the next start or update brings them back.
    public var stateFileAgrees: Bool { recorded == (state == "running" ? version : nil) }

    public var json: JSONValue {
        .object([
            ("component", .string(component.rawValue)), ("state", .string(state)),
            ("version", version.map(JSONValue.string) ?? .null),
            ("uptime_seconds", uptimeSeconds.map(JSONValue.int) ?? .null),
            ("image_digest", imageDigest.map(JSONValue.string) ?? .null),
            ("verified_version", verified.map(JSONValue.string) ?? .null),
            ("recorded_version", recorded.map(JSONValue.string) ?? .null),
            ("state_file_agrees", .bool(stateFileAgrees)),
        ])
    }

    /// The sentence for an operator when the state file and Docker disagree.
    public var disagreement: String? {
        guard !stateFileAgrees else { return nil }
        let name = component.rawValue
        let docker = state == "running" ? "Docker runs \(version ?? "a container without a version label")" : "Docker runs no \(name) container"
        let fix = state == "running" && version != nil ? "start_pv_\(name).sh -v \(version!) records what runs" : "stop_pv_\(name).sh records that nothing runs"
        return "the state file records \(name) \(recorded ?? "as not running"), but \(docker); \(fix)"
    }
}

/// Where pv_status learns what runs: the named containers and their images' registry digests.
/// The tool asks the Docker Engine API over its socket (PVStatusCLI's `EngineContainerFacts`, no
/// `docker` process); `DockerCLI` answers the same questions for the tests and tools that run the CLI.
public protocol ContainerFacts: Sendable {
    /// The containers of these names; a name with no container is left out.
    func containers(_ names: [String]) throws(PVError) -> [ContainerInfo]
    /// The registry digest (`repo@sha256:...`) of each image ID that has one.
    func repoDigests(ofImages ids: [String]) throws(PVError) -> [String: String]
}

extension DockerCLI: ContainerFacts {
    public func containers(_ names: [String]) throws(PVError) -> [ContainerInfo] { try inspect(names) }

    public func repoDigests(ofImages ids: [String]) throws(PVError) -> [String: String] {
        var digests: [String: String] = [:]
        for id in ids where digests[id] == nil { if let digest = try repoDigest(ofImage: id) { digests[id] = digest } }
        return digests
    }
}

public struct ComponentStatus: Sendable {
    public var context: ComponentContext
    public var facts: any ContainerFacts
    /// `facts`: by default the context's Docker CLI.
    public init(context: ComponentContext, facts: (any ContainerFacts)? = nil) {
        self.context = context
        self.facts = facts ?? context.docker
    }

    public func report() throws(PVError) -> [ComponentStatusReport] {
        let now = Int(context.environment.clock.now())
        let enabled = context.config.enabledComponents
        let containers = try facts.containers(enabled.map(context.containerName))
        let digests = containers.isEmpty ? [:] : try facts.repoDigests(ofImages: containers.map(\.imageID))
        let state = try context.state.load()
        return enabled.map { (component) -> ComponentStatusReport in
            let verified = state[component].verified?.description
            let recorded = state[component].running?.description
            guard let c = containers.first(where: { $0.name == context.containerName(component) }) else {
                return ComponentStatusReport(component: component, state: "absent", verified: verified, recorded: recorded)
            }
            let uptime = c.isRunning ? c.startedEpoch.map { max(0, now - $0) } : nil
            return ComponentStatusReport(component: component, state: c.isRunning ? "running" : "stopped", version: c.version,
                                         uptimeSeconds: uptime, imageDigest: digests[c.imageID] ?? c.imageID,
                                         verified: verified, recorded: recorded)
        }
    }

    /// Containers of components this server does not run (left from before `components` changed),
    /// one line each; nothing is asked of Docker when all three are enabled.
    public func leftovers() throws(PVError) -> [String] {
        let disabled = Component.allCases.filter { !context.config.isEnabled($0) }
        guard !disabled.isEmpty else { return [] }
        return try facts.containers(disabled.map(context.containerName)).map { c in
            "\(c.name) exists (\(c.isRunning ? "running" : "stopped")), but its component is not enabled (components = \(context.config.enabledComponents.map(\.rawValue).joined(separator: ", "))): pv_install removes it"
        }
    }

    public static func formatUptime(_ s: Int) -> String {
        if s < 60 { return "\(s)s" }
        if s < 3600 { return "\(s / 60)m\(s % 60)s" }
        if s < 86400 { return "\(s / 3600)h\(s % 3600 / 60)m" }
        return "\(s / 86400)d\(s % 86400 / 3600)h"
    }
}
