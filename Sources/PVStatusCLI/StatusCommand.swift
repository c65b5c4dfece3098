import ArgumentParser
import PVCLI
import PVCore
import PVComponents

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
        do { try execute() } catch { throw ErrorReporting.exit(error) }
    }

    func execute() throws(PVError) {
        let context = try ComponentContext.live(root: rootOptions.resolve())
        let reports = try ComponentStatus(context: context).report()
        if json {
            Output.line(JSONValue.object([("components", .array(reports.map(\.json)))]).rendered)
            return
        }
        Output.line("COMPONENT   STATE    VERSION    UPTIME     VERIFIED   IMAGE DIGEST")
        for r in reports {
            Output.line([r.component.rawValue.padding(11), r.state.padding(8), (r.version ?? "-").padding(10),
                          (r.uptimeSeconds.map(ComponentStatus.formatUptime) ?? "-").padding(10),
                          (r.verified ?? "-").padding(10), r.imageDigest ?? "-"].joined(separator: " "))
        }
        for r in reports { if let note = r.disagreement { Output.line("note: " + note) } }
    }
}
