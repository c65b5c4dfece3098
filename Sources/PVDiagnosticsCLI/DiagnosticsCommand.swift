import ArgumentParser
import PVCLI
import PVCore
import PVDiagnostics
import PVHTTP

/// `pv_diagnostics`: what support asks for first when a server misbehaves.
public struct DiagnosticsCommand: ParsableCommand {
    public static let configuration = CommandConfiguration(
        commandName: "pv_diagnostics",
        abstract: "Check this managed server and collect a log archive for support.",
        usage: """
            pv_diagnostics [--json] [--archive <PATH>] [--timeout <timeout>]
                           [--log-lines <log-lines>] [--systemd-dir <DIR>]
                           [--root <DIR>]
            """,
        discussion: """
            Checks run at once, each within its own time limit, the whole run within
            --timeout. A check that cannot run (Docker down) fails alone; the others
            still run. A check still running at its limit fails and is abandoned.
              configuration     <root>/etc/provision.conf parses; not readable by
                                group or others (it holds the management token)
              docker engine     the Engine API answers GET /_ping on docker_host
              container NAME    pv-dns, pv-dhcp, pv-monitoring exist and run
                                (monitoring holds the debug tools)
              rabbitmq          AMQP login with rabbitmq_uri, channel 1 opened and
                                closed (rabbitmq-c)
              verify dns|dhcp   the pv_verify checks
              disk root|docker  free space of the install root and of Docker's
                                data directory: fail below \(Int(DiskThresholds.standard.failFreeFraction * 100)) % or \(DiskCheck.bytes(DiskThresholds.standard.failFreeBytes)),
                                warn below \(Int(DiskThresholds.standard.warnFreeFraction * 100)) % or \(DiskCheck.bytes(DiskThresholds.standard.warnFreeBytes)); inodes: fail below \(Int(DiskThresholds.standard.failFreeInodeFraction * 100)) %,
                                warn below \(Int(DiskThresholds.standard.warnFreeInodeFraction * 100)) %
              heartbeat         pv_heartbeat.service and .timer in --systemd-dir,
                                the timer enabled; the last beat at most \(Int(HeartbeatCheck.warnAfterSeconds)) s old
                                (warn) / \(Int(HeartbeatCheck.failAfterSeconds)) s (fail), accepted when recorded
              monitor           pv_monitor runs (pv_monitor.service), its last sample at most
                                \(Int(MonitorCheck.staleIntervals)) intervals old, with DNS, DNS aggregate and DHCP data
              clock             set, synchronised by a time service (adjtimex),
                                within \(Int(ClockCheck.warnOffsetSeconds)) s (warn) / \(Int(ClockCheck.failOffsetSeconds)) s (fail) of the engine's clock

            --archive writes a tar.gz (mode 0600): the report (text and JSON), the
            last --log-lines lines of each component container's log, the files of
            <root>/state and the configuration. Without a path it goes to
            <root>/logs/diagnostics-<resource>-<time>.tar.gz; a directory gets that
            name inside it. Secrets (management_token, the RabbitMQ password) are
            replaced by \(Redactor.mask) in the output and in every archived file.

            Exit status:
              0   every check passed; warnings (WARN) count as passed
              1   at least one check failed
              64  usage error
              73  the archive could not be written (the report is still printed)
              78  the configuration is invalid (report and archive still made)
            """)

    @Flag(name: .long, help: "Print one JSON object instead of the table.")
    public var json = false

    @Option(name: .long, help: ArgumentHelp(
        "Also write a log archive (tar.gz) to PATH, or into DIR when it is a directory; without a value, under <root>/logs.",
        valueName: "PATH"))
    public var archive: String?

    @Option(name: .long, help: "Seconds the whole run may take (1-60).")
    public var timeout: Double = 10

    @Option(name: .long, help: "Lines of each container's log to put in the archive (1-10000).")
    public var logLines: Int = 200

    @Option(name: .long, help: ArgumentHelp(
        "Where the heartbeat's systemd units are installed (default: /etc/systemd/system for the root /provision; in a sandbox, where pv_install puts them: <root>/system/etc/systemd/system).",
        valueName: "DIR"))
    public var systemdDir: String?

    @OptionGroup public var rootOptions: RootOptions

    public init() {}

    /// Stands for "--archive without a path" (see `normalize`).
    public static let defaultArchiveMarker = Diagnostics.defaultArchiveMarker

    /// ArgumentParser has no options with an optional value: a bare
    /// `--archive` (last, or followed by another option) becomes
    /// `--archive @default` before parsing.
    public static func normalize(_ arguments: [String]) -> [String] {
        var out: [String] = []
        for (i, arg) in arguments.enumerated() {
            out.append(arg)
            if arg == "--archive" && (i + 1 == arguments.count || arguments[i + 1].hasPrefix("-")) {
                out.append(defaultArchiveMarker)
            }
        }
        return out
    }

    public func validate() throws {
        guard timeout >= 1, timeout <= 60 else { throw ValidationError("--timeout must be between 1 and 60 seconds") }
        guard logLines >= 1, logLines <= 10_000 else { throw ValidationError("--log-lines must be between 1 and 10000") }
    }

    /// The unit directory: the real one for a real install; for any other root
    /// (a sandbox) the place pv_install's sandbox writes system files to,
    /// `<root>/system/...`, so a test or the demo never reports the host's units as its own.
    public static func unitDirectory(option: String?, root: InstallRoot) -> String {
        if let option, !option.isEmpty { return option }
        return root.path == InstallRoot.defaultPath ? "/etc/systemd/system" : root.join("system", "etc", "systemd", "system")
    }

    public func run() throws {
        let environment = AgentEnvironment.live(root: rootOptions.resolve(), http: LiveHTTPTransport(userAgent: "pv_diagnostics"))
        let status = execute(in: environment)
        if status != .ok { throw ExitCode(status.rawValue) }
    }

    func execute(in environment: AgentEnvironment) -> ExitStatus {
        let context = DiagnosticsContext.live(environment, systemdDirectory: Self.unitDirectory(option: systemdDir, root: environment.root),
                                              verifyTimeout: 1.0)
        let outcome = Diagnostics(context: context, options: DiagnosticsOptions(
            totalTimeout: timeout, logLines: logLines, collectArchive: archive != nil)).run(archive: archive)
        environment.output.line(outcome.rendered(json: json))
        if let archiveError = outcome.archiveError {
            environment.output.error(outcome.redactor.apply("Error: \(archiveError)"))
        }
        return outcome.exitStatus
    }
}
