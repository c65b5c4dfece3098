import ArgumentParser
import PVCLI
import PVCore
import PVComponents
import PVHTTP
import PVState

/// `pv_status`: each component's state, version, uptime and image digest.
public struct StatusCommand: ParsableCommand {
    public static let configuration = CommandConfiguration(
        commandName: "pv_status",
        abstract: "Show each component's state, version, uptime and image digest.")

    @Flag(name: .long, help: "Print one JSON object instead of a table.")
    public var json = false

    @OptionGroup public var rootOptions: RootOptions

    public init() {}

    public func run() throws {
        do { try execute(in: .live(root: rootOptions.resolve(), http: LiveHTTPTransport(userAgent: "pv_status"))) } catch {
            throw ErrorReporting.exit(error)
        }
    }

    func execute(in environment: AgentEnvironment) throws(PVError) {
        let context = try ComponentContext.live(environment)
        let output = environment.output
        // The Engine API over its socket, no docker process (issue 28).
        let status = ComponentStatus(context: context, facts: try EngineContainerFacts(config: context.config, docker: context.docker,
                                                                                      transport: environment.http))
        let reports = try status.report()
        let monitor = MonitorHealth.read(environment.root, files: environment.files)
        let now = environment.clock.now()
        if json {
            output.line(JSONValue.object([("components", .array(reports.map(\.json))), ("monitor", monitor.json(now: now))]).rendered)
            return
        }
        output.line("COMPONENT   STATE    VERSION    UPTIME     VERIFIED   IMAGE DIGEST")
        for r in reports {
            output.line([r.component.rawValue.padding(11), r.state.padding(8), (r.version ?? "-").padding(10),
                          (r.uptimeSeconds.map(ComponentStatus.formatUptime) ?? "-").padding(10),
                          (r.verified ?? "-").padding(10), r.imageDigest ?? "-"].joined(separator: " "))
        }
        for r in reports { if let note = r.disagreement { output.line("note: " + note) } }
        for leftover in try status.leftovers() { output.line("note: " + leftover) }
        output.line("monitor: " + monitor.summary(now: now))
        for problem in monitor.problems where monitor.running { output.line("note: " + problem) }
    }
}
