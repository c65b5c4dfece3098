import PVCore
import PVDocker
import PVState
import PVHTTP

/// What the heartbeat says about one component.
public struct ReportedComponent: Sendable, Equatable {
    public enum State: String, Sendable {
        case running, stopped, absent
        /// Docker could not be asked: the state is not known, not assumed.
        case unknown
        /// Not among the server's `components`: not run, no version.
        case disabled
    }

    public var state: State
    public var version: String?
    public var container: String?
    /// Where the answer came from: `docker` (the engine, now) or `state-file`
    /// (what the start/stop tools recorded, when the engine cannot be asked).
    public var source: String

    public init(state: State, version: String? = nil, container: String? = nil, source: String = "docker") {
        self.state = state
        self.version = version
        self.container = container
        self.source = source
    }
}

/// The components as Docker sees them, or why Docker could not be asked.
public struct ComponentReport: Sendable, Equatable {
    public var dockerReachable: Bool
    public var dockerError: String?
    public var components: [Component: ReportedComponent]
    /// Docker's data directory, when the engine was asked for it this beat.
    public var dockerRootDir: String?
    public var warnings: [String] = []

    /// The components the server runs: those not reported as disabled.
    public var enabledComponents: [Component] { Component.allCases.filter { components[$0]?.state != .disabled } }

    public init(dockerReachable: Bool, dockerError: String? = nil, components: [Component: ReportedComponent],
                dockerRootDir: String? = nil, warnings: [String] = []) {
        self.dockerReachable = dockerReachable
        self.dockerError = dockerError
        self.components = components
        self.dockerRootDir = dockerRootDir
        self.warnings = warnings
    }

    public static let componentLabel = ContainerNaming.componentLabel

    /// Maps the engine's container list to the three components. A running
    /// container wins over stopped ones; among equals the newest wins.
    /// Only the containers of this install (`prefix`) count: another install on the same engine is not ours to report.
    public static func from(containers: [DockerContainerSummary], prefix: String = ServerConfig.defaultContainerPrefix) -> ComponentReport {
        var result: [Component: ReportedComponent] = [:]
        var warnings: [String] = []
        for component in Component.allCases {
            let mine = containers.filter {
                $0.labels[componentLabel] == component.rawValue && ContainerNaming.prefix(ofLabels: $0.labels) == prefix
            }
                .sorted { $0.created > $1.created }
            // An update's new container (`<name>-next`) is not the component until it has been
            // verified and renamed: while both run, the old one serves and is the one reported.
            let nextName = ContainerNaming.nextName(component, prefix: prefix)
            let own = mine.filter { $0.name != nextName }
            let next = mine.first { $0.name == nextName }
            let running = own.filter { $0.state == "running" }
            if running.count > 1 {
                warnings.append("\(component.rawValue): \(running.count) containers running (\(running.map(\.name).joined(separator: ", ")))")
            }
            let nextRuns = next?.state == "running"
            if let next, nextRuns, !running.isEmpty {
                warnings.append("\(component.rawValue): \(nextName) (\(version(of: next) ?? "version unknown")) also runs: an update is handing over "
                                + "to it, or one was interrupted (pv_update or pv_start finishes or undoes it)")
            }
            guard let chosen = running.first ?? (nextRuns ? next : nil) ?? own.first ?? next else {
                result[component] = ReportedComponent(state: .absent)
                continue
            }
            result[component] = ReportedComponent(state: chosen.state == "running" ? .running : .stopped,
                                                 version: version(of: chosen), container: chosen.name)
        }
        return ComponentReport(dockerReachable: true, components: result, warnings: warnings)
    }

    /// The version label the start tool sets; else the image tag.
    static func version(of container: DockerContainerSummary) -> String? {
        if let label = container.labels[ContainerNaming.versionLabel], !label.isEmpty { return label }
        return ContainerNaming.tag(ofImage: container.image)
    }

    /// Docker could not be asked. The versions last recorded by the start
    /// tools are still worth sending, marked as such; the state is unknown.
    public static func dockerDown(_ error: String, recorded: ServerState?) -> ComponentReport {
        var result: [Component: ReportedComponent] = [:]
        for component in Component.allCases {
            if let version = recorded?[component].running {
                result[component] = ReportedComponent(state: .unknown, version: version.description, source: "state-file")
            } else {
                result[component] = ReportedComponent(state: .unknown, source: recorded == nil ? "none" : "state-file")
            }
        }
        return ComponentReport(dockerReachable: false, dockerError: error, components: result)
    }

    /// The report for a server that runs only `enabled`: the others are `disabled` (no version,
    /// whatever Docker says), and a container still running for one of them is a warning.
    public func restricted(to enabled: [Component]) -> ComponentReport {
        var report = self
        for component in Component.allCases where !enabled.contains(component) {
            if let leftover = components[component], leftover.state == .running {
                report.warnings.append("\(component.rawValue) is not enabled, but its container \(leftover.container ?? "?") runs (pv_install removes it)")
            }
            report.components[component] = ReportedComponent(state: .disabled, source: "config")
        }
        return report
    }

    /// `running` when any component runs (what the management application
    /// shows green); `unknown` when Docker could not be asked; else `stopped`.
    public var overallState: String {
        if components.values.contains(where: { $0.state == .running }) { return "running" }
        return dockerReachable ? "stopped" : "unknown"
    }

    /// `dns running 1.1.0, dhcp stopped 1.0.0, monitoring absent`.
    public var summary: String {
        Component.allCases.map { c in
            let s = components[c] ?? ReportedComponent(state: .unknown)
            return [c.rawValue, s.state.rawValue, s.version].compactMap { $0 }.joined(separator: " ")
        }.joined(separator: ", ")
    }
}

/// Asks for the components' state. The live probe asks the Docker engine
/// over its socket; unit tests answer with fixed reports.
public protocol ComponentProbe: Sendable {
    /// `wantRootDir`: also ask for Docker's data directory (one more request,
    /// so only when the heartbeat state does not remember it).
    func probe(wantRootDir: Bool) -> ComponentReport
}

public struct LiveComponentProbe: ComponentProbe {
    public var engine: DockerEngine
    public var stateStore: StateStore
    public var prefix: String

    public init(engine: DockerEngine, stateStore: StateStore, prefix: String = ServerConfig.defaultContainerPrefix) {
        self.engine = engine
        self.stateStore = stateStore
        self.prefix = prefix
    }

    public func probe(wantRootDir: Bool) -> ComponentReport {
        do {
            var report = ComponentReport.from(containers: try engine.containers(all: true, labels: [ComponentReport.componentLabel]),
                                              prefix: prefix)
            if wantRootDir {
                do { report.dockerRootDir = try engine.info().dockerRootDir } catch {
                    report.warnings.append("cannot ask the Docker engine for its data directory: \(error)")
                }
            }
            return report
        } catch {
            return ComponentReport.dockerDown("\(error)", recorded: try? stateStore.load())
        }
    }
}
