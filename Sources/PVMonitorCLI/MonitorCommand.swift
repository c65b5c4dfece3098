import ArgumentParser
import PVCLI
import PVCore
import PVMonitor

/// `pv_monitor`: the suite's one daemon (monitoring data on the host) and its local views.
public struct MonitorCommand: ParsableCommand {
    public static let configuration = CommandConfiguration(
        commandName: "pv_monitor",
        abstract: "Monitoring data on the host: DNS traffic per record from dnstap.",
        discussion: """
            pv_monitor run listens on <root>/run/monitor/dnstap.sock, where the DNS component's dnstap sender (Knot's mod-dnstap) connects, and counts the queries of each interval (monitor_interval, default 10 s) per zone, name and type, keeping at most monitor_max_names of them (the rest counted as other). Each interval's sample replaces <root>/state/monitor/last.json.

            pv_monitor show prints the last sample; --json prints it as it is kept.
            """,
        subcommands: [Run.self, Show.self])

    public init() {}

    public struct Run: ParsableCommand {
        public static let configuration = CommandConfiguration(abstract: "Count DNS traffic from dnstap, one sample per interval, until SIGTERM.")
        @Option(name: .long, help: "Stop after this many intervals (for a bounded run).")
        public var intervals: Int?
        @OptionGroup public var rootOptions: RootOptions
        public init() {}
        public func run() throws {
            do { try MonitorRun(environment: .live(root: rootOptions.resolve())).execute(intervals: intervals) } catch {
                throw ErrorReporting.exit(error)
            }
        }
    }

    public struct Show: ParsableCommand {
        public static let configuration = CommandConfiguration(abstract: "Print the last interval's sample.")
        @Flag(name: .long, help: "The sample as JSON, as it is kept.")
        public var json = false
        @OptionGroup public var rootOptions: RootOptions
        public init() {}
        public func run() throws {
            let root = rootOptions.resolve()
            let path = MonitorRun.samplePath(root)
            let text: String
            do { text = try FileIO.readText(path, limit: 16 << 20) } catch {
                throw ErrorReporting.exit(PVError(.notFound, "no sample yet (\(path))", hint: "start pv_monitor run and wait one interval",
                                                  cause: error.message))
            }
            let output = OutputSink.standard
            if json { output.partial(text); return }
            output.line(MonitorView.table(json: text))
        }
    }
}
