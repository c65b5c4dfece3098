import ArgumentParser
import PVCLI
import PVCore
import PVComponents
import PVState

/// `pv_stop <component>` (behind stop_pv_<component>.sh).
public struct StopCommand: ParsableCommand {
    public static let configuration = CommandConfiguration(
        commandName: "pv_stop",
        abstract: "Stop a component's container (SIGTERM, then SIGKILL after the grace period) and remove it.",
        discussion: """
            Stopping a stopped component succeeds. SIGTERM, SIGINT or SIGHUP let the stop finish first.

            Exit status:
              0        stopped, or was not running
              64       unknown component or grace period
              69       Docker unavailable
              78       bad configuration
              129/130/143  the stop was finished, then the tool stopped for
                       SIGHUP/SIGINT/SIGTERM
            """)

    @Argument(help: "dns, dhcp or monitoring.")
    public var component: String

    @Option(name: [.short, .customLong("time")], help: "Grace period in seconds before the container is killed.")
    public var grace: Int = 10

    @OptionGroup public var rootOptions: RootOptions

    public init() {}

    public func run() throws {
        do { try execute(in: .live(root: rootOptions.resolve())) } catch { throw ErrorReporting.exit(error) }
    }

    func execute(in environment: AgentEnvironment) throws(PVError) {
        let component = try Component.parse(component)
        guard (0...300).contains(grace) else { throw PVError(.usage, "--time must be between 0 and 300 seconds") }
        let context = try ComponentContext.live(environment)
        // Never stop a component while an update or install is swapping it.
        let lock = try UpdateLock(root: context.root, purpose: "pv_stop \(component.rawValue)")
        defer { withExtendedLifetime(lock) {} }
        environment.handleSignals()
        switch try ComponentStop(context: context).stop(component, grace: grace) {
        case .wasNotRunning: environment.output.line("\(component.rawValue) is not running; nothing to stop")
        case .stopped(let v): environment.output.line("\(component.rawValue)\(v.map { " \($0)" } ?? "") stopped")
        }
        try Interruption.checkpoint("the stop of \(component.rawValue) was finished first")
    }
}
