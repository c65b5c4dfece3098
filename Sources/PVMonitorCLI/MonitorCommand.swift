import ArgumentParser
import PVCLI
import PVCore
import PVMonitor
import PVMonitorHTTP
#if canImport(Glibc)
import Glibc
#endif

/// `pv_monitor`: the suite's one daemon (monitoring data on the host) and its local views.
public struct MonitorCommand: ParsableCommand {
    public static let configuration = CommandConfiguration(
        commandName: "pv_monitor",
        abstract: "Monitoring data on the host: DNS traffic per record from dnstap.",
        discussion: """
            pv_monitor run listens on <root>/run/monitor/dnstap.sock, where the DNS component's dnstap sender (Knot's mod-dnstap) connects, and counts the queries of each interval (monitor_interval, default 10 s) per zone, name and type, keeping at most monitor_max_names of them (the rest counted as other). Each interval's sample replaces <root>/state/monitor/last.json.

            It serves the last sample on monitor_listen (default 127.0.0.1:9433; off for none): /metrics in the Prometheus text format, and /api/v1/rps?name=NAME (that record's hits and RPS in each kept interval, as pv_monitor record answers) as JSON. A port that is taken is a warning in the sample (pull.problem), not a stop: the samples go on.

            With monitor_push on (the default) each sample is also published to the broker of rabbitmq_uri: a persistent JSON message (Bundle/monitoring.schema.json) to the durable exchange monitor_exchange and queue monitor_queue (default provision.monitoring, routing key: resource_id), with publisher confirms. A sample is first written durably to <root>/spool/monitoring and removed only once the broker confirms it; while the broker is away (or refuses the login, or never answers) the samples wait there, at most monitor_spool_mb (default 64; the oldest dropped and counted when full), and are replayed oldest first once it is back. Delivery is at least once: the sequence lets the consumer drop a duplicate.

            pv_monitor show prints the last sample; --json prints it as it is kept. pv_monitor top shows the records by RPS, redrawn at each new interval until Ctrl-C (--once: one table). pv_monitor record NAME searches the kept history (the last 24 h, <root>/state/monitor/history.sqlite3) for that record: its hits and RPS in each interval it was among the top records.
            """,
        subcommands: [Run.self, Show.self, Top.self, Record.self])

    public init() {}

    public struct Run: ParsableCommand {
        public static let configuration = CommandConfiguration(abstract: "Count DNS traffic from dnstap, one sample per interval, until SIGTERM.")
        @Option(name: .long, help: "Stop after this many intervals (for a bounded run).")
        public var intervals: Int?
        @OptionGroup public var rootOptions: RootOptions
        public init() {}
        public func run() throws {
            let environment = AgentEnvironment.live(root: rootOptions.resolve())
            var endpoint: MonitorEndpoint? = nil
            do throws(PVError) {
                try MonitorRun(environment: environment).execute(intervals: intervals, onReady: { config in
                    guard let listen = config.monitorListen else { return PullStatus() }
                    do throws(PVError) {
                        // The last hour of intervals (at most 360) for the RPS search when the history cannot be read.
                        let started = try MonitorEndpoint(listen: listen, historyLimit: min(360, 3600 / config.monitorInterval),
                                                          historyPath: MonitorHistory.path(environment.root))
                        if let problem = started.start()?.messageAndCause {
                            environment.output.error("warning: \(problem)")
                            return PullStatus(problem: problem)
                        }
                        endpoint = started
                        environment.output.line("pv_monitor: serving http://\(listen)/metrics and /api/v1/rps")
                        return PullStatus(listen: listen.description)
                    } catch {
                        return PullStatus(problem: error.message)
                    }
                }, onSample: { endpoint?.publish($0) })
            } catch {
                throw ErrorReporting.exit(error)
            }
            endpoint?.stop()
        }
    }

    public struct Top: ParsableCommand {
        public static let configuration = CommandConfiguration(abstract: "The records by RPS, redrawn at each interval (Ctrl-C ends it).")
        @Flag(name: .long, help: "Print one table and exit.")
        public var once = false
        @Option(name: .long, help: "How many records (default 20).")
        public var count = 20
        @OptionGroup public var rootOptions: RootOptions
        public init() {}
        public func run() throws {
            do { try execute(in: .live(root: rootOptions.resolve())) } catch { throw ErrorReporting.exit(error) }
        }

        func execute(in environment: AgentEnvironment) throws(PVError) {
            // Only a valid configuration is worked with, as by every tool (exit 78 naming the line).
            _ = try environment.configuration()
            let path = MonitorRun.samplePath(environment.root)
            var shown = ""
            repeat {
                let text: String
                do { text = try FileIO.readText(path, limit: 16 << 20) } catch {
                    throw PVError(.notFound, "no sample yet (\(path))", hint: "start pv_monitor run and wait one interval", cause: error.message)
                }
                if text != shown {
                    shown = text
                    // Home and clear, then the table: a terminal shows the newest interval in place.
                    environment.output.line((once ? "" : "\u{1B}[H\u{1B}[2J") + MonitorView.top(json: text, count: count))
                }
                if !once { environment.clock.sleep(0.5) }
            } while !once
        }
    }

    public struct Record: ParsableCommand {
        public static let configuration = CommandConfiguration(abstract: "One record's hits and RPS over the kept history (the RPS tab's search).")
        @Argument(help: "The record's name (www.example.com; case and the final dot do not matter).")
        public var name: String
        @Flag(name: .long, help: "The answer as JSON (what /api/v1/rps?name= answers).")
        public var json = false
        @OptionGroup public var rootOptions: RootOptions
        public init() {}
        public func run() throws {
            do { try execute(in: .live(root: rootOptions.resolve())) } catch { throw ErrorReporting.exit(error) }
        }

        func execute(in environment: AgentEnvironment) throws(PVError) {
            guard let wanted = RecordSearch.normalized(name) else {
                throw PVError(.usage, "'\(name)' is not a DNS name", hint: "name a record: pv_monitor record www.example.com")
            }
            _ = try environment.configuration()
            let path = MonitorHistory.path(environment.root)
            let answer: JSONValue
            do throws(PVError) {
                let history = try MonitorHistory(path: path, readOnly: true)
                answer = RecordSearch.answer(name: wanted, samples: try history.samples(named: wanted), searched: history.intervalCount())
            } catch {
                throw PVError(error.code, error.message, hint: "start pv_monitor run and wait one interval", cause: error.cause)
            }
            if json { environment.output.line(answer.rendered); return }
            environment.output.line(MonitorView.record(json: answer.rendered))
        }
    }

    public struct Show: ParsableCommand {
        public static let configuration = CommandConfiguration(abstract: "Print the last interval's sample.")
        @Flag(name: .long, help: "The sample as JSON, as it is kept.")
        public var json = false
        @OptionGroup public var rootOptions: RootOptions
        public init() {}
        public func run() throws {
            do { try execute(in: .live(root: rootOptions.resolve())) } catch { throw ErrorReporting.exit(error) }
        }

        func execute(in environment: AgentEnvironment) throws(PVError) {
            _ = try environment.configuration()
            let path = MonitorRun.samplePath(environment.root)
            let text: String
            do { text = try FileIO.readText(path, limit: 16 << 20) } catch {
                throw PVError(.notFound, "no sample yet (\(path))", hint: "start pv_monitor run and wait one interval", cause: error.message)
            }
            if json { environment.output.partial(text); return }
            environment.output.line(MonitorView.table(json: text))
        }
    }
}
