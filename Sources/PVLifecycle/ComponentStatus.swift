import PVCore
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

    public var json: JSONValue {
        .object([
            ("component", .string(component.rawValue)), ("state", .string(state)),
            ("version", version.map(JSONValue.string) ?? .null),
            ("uptime_seconds", uptimeSeconds.map(JSONValue.int) ?? .null),
            ("image_digest", imageDigest.map(JSONValue.string) ?? .null),
            ("verified_version", verified.map(JSONValue.string) ?? .null),
        ])
    }
}

public struct ComponentStatus: Sendable {
    public var context: LifecycleContext
    public init(context: LifecycleContext) { self.context = context }

    public func report(now: Int = Int(time(nil))) throws(PVError) -> [ComponentStatusReport] {
        try context.docker.requireEngine()
        let containers = try context.docker.inspect(Component.allCases.map(ContainerSpec.containerName))
        let state = try context.state.load()
        return try Component.allCases.map { (component) throws(PVError) -> ComponentStatusReport in
            let verified = state[component].verified?.description
            guard let c = containers.first(where: { $0.name == ContainerSpec.containerName(component) }) else {
                return ComponentStatusReport(component: component, state: "absent", verified: verified)
            }
            let uptime = c.isRunning ? c.startedEpoch.map { max(0, now - $0) } : nil
            return ComponentStatusReport(component: component, state: c.isRunning ? "running" : "stopped", version: c.version,
                                         uptimeSeconds: uptime, imageDigest: try context.docker.repoDigest(ofImage: c.imageID) ?? c.imageID,
                                         verified: verified)
        }
    }

    public static func formatUptime(_ s: Int) -> String {
        if s < 60 { return "\(s)s" }
        if s < 3600 { return "\(s / 60)m\(s % 60)s" }
        if s < 86400 { return "\(s / 3600)h\(s % 3600 / 60)m" }
        return "\(s / 86400)d\(s % 86400 / 3600)h"
    }
}
