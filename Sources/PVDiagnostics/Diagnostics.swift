import PVCore
import PVDocker
import PVState
import PVVerification
#if canImport(FoundationEssentials)
import FoundationEssentials
#else
import Foundation
#endif
#if canImport(Glibc)
import Glibc
#endif

/// How long each check may take. The whole run is bounded as well
/// (`DiagnosticsOptions.totalTimeout`); a check gets whichever ends first.
public struct CheckTimeouts: Sendable, Equatable {
    public var engine = 2.0
    public var containers = 3.0
    public var rabbitmq = 4.0
    public var verifyDNS = 3.0
    /// DORA and RELEASE, each phase up to 2 s with pv_verify's defaults.
    public var verifyDHCP = 6.0
    public var disk = 2.0
    public var heartbeat = 2.0
    public var clock = 3.0
    public var logs = 3.0
    public var monitoringTools = 3.0

    public init() {}
}

public struct DiagnosticsOptions: Sendable {
    public var totalTimeout: Double
    public var logLines: Int
    /// Gather what the archive needs (container logs, state files) while the checks run.
    public var collectArchive: Bool
    public var thresholds: DiskThresholds
    public var timeouts: CheckTimeouts

    public init(totalTimeout: Double = 10, logLines: Int = 200, collectArchive: Bool = false,
                thresholds: DiskThresholds = .standard, timeouts: CheckTimeouts = CheckTimeouts()) {
        self.totalTimeout = totalTimeout
        self.logLines = logLines
        self.collectArchive = collectArchive
        self.thresholds = thresholds
        self.timeouts = timeouts
    }
}

/// The last lines of one container's log, or why there are none.
public struct ContainerLog: Sendable, Equatable {
    public var container: String
    public var text: String?
    public var problem: String?
}

/// Everything one run found: the report, and what goes into the archive.
public struct DiagnosticsRun: Sendable {
    public var report: DiagnosticsReport
    public var logs: [ContainerLog]
    /// The configuration as read (unredacted: the archive redacts it).
    public var configText: String?
    /// `<root>/state` files by name (unredacted).
    public var stateFiles: [(name: String, text: String)]
    public var redactor: Redactor
}

/// Runs every check at once, each on its own thread within its own time limit
/// and the run's bound. A check that cannot run fails alone.
public struct Diagnostics: Sendable {
    public var context: DiagnosticsContext
    public var options: DiagnosticsOptions

    public init(context: DiagnosticsContext, options: DiagnosticsOptions) {
        self.context = context
        self.options = options
    }

    enum Product: Sendable {
        case check(CheckResult)
        case log(ContainerLog)
    }

    struct Job {
        var name: String
        var task: BoundedTask<Product>
        var hungHint: String
    }

    public func run() -> DiagnosticsRun {
        let started = Monotonic.nanoseconds()
        let deadline = Deadline(secondsFromNow: options.totalTimeout)
        let ctx = context
        let root = ctx.root
        let startTime = ctx.kernelClock().now
        let loaded = ConfigurationCheck.load(root: root, files: ctx.files)
        let t = options.timeouts
        var jobs: [Job] = []
        var notRunResults: [CheckResult] = []
        func job(_ name: String, _ timeout: Double, hung: String, _ work: @escaping @Sendable () -> CheckResult) {
            jobs.append(Job(name: name, task: BoundedTask(timeout: timeout) { .check(work()) }, hungHint: hung))
        }
        func notRun(_ name: String) {
            notRunResults.append(CheckResult(
                name: name, status: .fail, detail: "not run: it needs a valid configuration", hint: "see the configuration check"))
        }

        let configFile = root.configFile
        let records = Self.loadRecords(root: root, files: ctx.files)
        var facts: EngineFacts?
        if let config = loaded.config {
            let engineFacts = EngineFacts(dockerHost: config.dockerHost, transport: ctx.environment.http,
                                          connectTimeout: 1, totalTimeout: min(t.engine, t.containers),
                                          wallClock: { ctx.kernelClock().now })
            facts = engineFacts
            let engineHung = "the Docker engine accepts connections but does not answer: restart it"
            job("docker engine", t.engine, hung: engineHung) {
                EngineChecks.engine(dockerHost: config.dockerHost, ping: engineFacts.ping(), files: ctx.files, configFile: configFile)
            }
            // What this server runs (the configuration's components): the others have no container to check.
            for component in config.enabledComponents {
                job("container \(component.rawValue)", t.containers, hung: engineHung) {
                    EngineChecks.container(component, named: ContainerNaming.containerName(component, config), containers: engineFacts.containers(),
                                           recorded: records?[component])
                }
            }
            let rabbitmqSeconds = t.rabbitmq
            job(RabbitMQCheck.name, t.rabbitmq, hung: "the broker's host does not answer (a name lookup or the network hangs)") {
                RabbitMQCheck.evaluate(uri: config.rabbitmqURI, configFile: configFile) {
                    ctx.amqpLogin($0, config.rabbitmqCAFile, max(0.5, rabbitmqSeconds - 0.25))
                }
            }
            if config.isEnabled(.monitoring) {
                let container = ContainerNaming.containerName(.monitoring, config)
                // Ended (SIGTERM) before the job's and the run's bounds, so docker never outlives the tool.
                let probeSeconds = max(0.2, min(t.monitoringTools, options.totalTimeout) - 0.4)
                job(MonitoringToolsCheck.name, t.monitoringTools, hung: "docker exec in \(container) does not return: the engine or the container hangs") {
                    MonitoringToolsCheck.evaluate(container: container, found: ctx.programsIn(config, container, probeSeconds))
                }
            }
            if config.isEnabled(.dns) {
                job("verify dns", t.verifyDNS, hung: "run pv_verify dns to see where it stops") {
                    var r = ctx.verifyDNS(config)
                    r.name = "verify dns"
                    return r
                }
            }
            if config.isEnabled(.dhcp) {
                job("verify dhcp", t.verifyDHCP, hung: "run pv_verify dhcp to see where it stops") {
                    var r = ctx.verifyDHCP(config)
                    r.name = "verify dhcp"
                    return r
                }
            }
        } else {
            for name in ["docker engine"] + Component.allCases.map({ "container \($0.rawValue)" }) + [RabbitMQCheck.name, "verify dns", "verify dhcp"] {
                notRun(name)
            }
        }

        let thresholds = options.thresholds
        job("disk root", t.disk, hung: "the file system holding \(root.path) does not answer (a hung network mount?)") {
            DiskCheck.evaluate(name: "disk root", what: "the install root", path: root.path, usage: ctx.diskUsage(root.path),
                               thresholds: thresholds)
        }
        if let config = loaded.config, let engineFacts = facts {
            job("disk docker", t.disk, hung: "Docker's data directory does not answer (a hung mount?) or the engine hangs") {
                Self.dockerDisk(config: config, facts: engineFacts, root: root, files: ctx.files,
                                usage: ctx.diskUsage, thresholds: thresholds)
            }
        } else {
            notRun("disk docker")
        }
        let unitDirectory = ctx.systemdDirectory
        job(HeartbeatCheck.name, t.heartbeat, hung: "reading \(root.stateDirectory) hangs") {
            HeartbeatCheck.evaluate(HeartbeatCheck.gather(root: root, unitDirectory: unitDirectory, files: ctx.files,
                                                          now: ctx.kernelClock().now))
        }
        let interval = loaded.config?.monitorInterval ?? 10
        job(MonitorCheck.name, t.heartbeat, hung: "reading \(root.stateDirectory) hangs") {
            MonitorCheck.evaluate(MonitorCheck.gather(root: root, unitDirectory: unitDirectory, interval: interval, files: ctx.files,
                                                      lockHolder: ctx.monitorLockHolder, now: ctx.kernelClock().now))
        }
        let clockFacts = facts
        job(ClockCheck.name, t.clock, hung: "the Docker engine does not answer /info") {
            ClockCheck.evaluate(kernel: ctx.kernelClock(),
                                engine: clockFacts?.info() ?? .failure(.engine("?", .invalidHost)))
        }

        var logJobs: [String] = []
        if options.collectArchive, let engineFacts = facts, let config = loaded.config {
            let lines = options.logLines
            for component in config.enabledComponents {
                let name = ContainerNaming.containerName(component, config)
                logJobs.append(name)
                jobs.append(Job(name: name, task: BoundedTask(timeout: t.logs) {
                    switch engineFacts.logs(container: name, lines: lines) {
                    case .success(let text): return .log(ContainerLog(container: name, text: text, problem: nil))
                    case .failure(let e): return .log(ContainerLog(container: name, text: nil, problem: e.description))
                    }
                }, hungHint: ""))
            }
        }

        let outcomes = BoundedRun.run(jobs.map(\.task), deadline: deadline)
        var results: [CheckResult] = []
        var logs: [ContainerLog] = []
        for (job, outcome) in zip(jobs, outcomes) {
            switch outcome {
            case .finished(.check(var r), let ms):
                r.milliseconds = ms
                results.append(r)
            case .finished(.log(let log), _):
                logs.append(log)
            case .timedOut(let limit):
                if logJobs.contains(job.name) {
                    logs.append(ContainerLog(container: job.name, text: nil,
                                             problem: "the Docker engine did not send the log within \(Self.seconds(limit)) s"))
                } else {
                    results.append(CheckResult(name: job.name, status: .fail,
                                               detail: "did not finish within \(Self.seconds(limit)) s", hint: job.hungHint,
                                               milliseconds: limit * 1000))
                }
            }
        }
        var configurationResult = loaded.result
        configurationResult.milliseconds = nil
        results.insert(configurationResult, at: 0)
        results += notRunResults
        results.sort { Self.order($0.name) < Self.order($1.name) }

        var stateFiles: [(name: String, text: String)] = []
        if options.collectArchive {
            for name in ctx.files.list(root.stateDirectory).sorted() {
                if case .success(let text) = ctx.files.readText(root.stateDirectory + "/" + name, limit: 1 << 20) {
                    stateFiles.append((name, text))
                }
            }
        }
        let redactor = loaded.config.map(Redactor.init(config:)) ?? Redactor(secrets: [])
        let report = DiagnosticsReport(
            resourceID: loaded.config?.resourceID, hostname: ctx.environment.host.name(), time: startTime, root: Self.absolute(root.path),
            checks: results, elapsedMilliseconds: Monotonic.milliseconds(since: started), boundSeconds: options.totalTimeout,
            configurationInvalid: loaded.config == nil)
        return DiagnosticsRun(report: report, logs: logs, configText: loaded.text, stateFiles: stateFiles, redactor: redactor)
    }

    /// The report's order: configuration, engine, containers, broker, verification, disks, heartbeat, clock.
    static let names = ["configuration", "docker engine", "container dns", "container dhcp", "container monitoring",
                        MonitoringToolsCheck.name, "rabbitmq", "verify dns", "verify dhcp", "disk root", "disk docker", "heartbeat", MonitorCheck.name, "clock"]
    static func order(_ name: String) -> Int { names.firstIndex(of: name) ?? names.count }

    static func seconds(_ s: Double) -> String {
        let tenths = Int((s * 10).rounded())
        return "\(tenths / 10).\(tenths % 10)"
    }

    /// The root as an absolute path for the report (a relative --root means nothing in an archive).
    static func absolute(_ path: String) -> String {
        guard !path.hasPrefix("/"), let resolved = realpath(path, nil) else { return path }
        defer { free(resolved) }
        return String(cString: resolved)
    }

    static func loadRecords(root: InstallRoot, files: any FileSystem) -> ServerState? {
        let path = StateStore(root: root).path
        guard case .success(let text) = files.readText(path, limit: 1 << 20) else { return nil }
        return try? JSONDecoder().decode(ServerState.self, from: Data(text.utf8))
    }

    /// Docker's data directory from the engine; when the engine does not
    /// answer, the one the heartbeat remembered, so a full disk that stopped
    /// Docker is still found.
    static func dockerDisk(config: ServerConfig, facts: EngineFacts, root: InstallRoot, files: any FileSystem,
                           usage: (String) -> Result<DiskUsage, DiskUsageError>, thresholds: DiskThresholds) -> CheckResult {
        if config.dockerHost.hasPrefix("tcp://") {
            return CheckResult(name: "disk docker", status: .warn,
                               detail: "the Docker engine is remote (\(config.dockerHost)): its data directory is not on this machine",
                               hint: "check its disk on the engine's host")
        }
        switch facts.info() {
        case .success(let sample):
            return DiskCheck.evaluate(name: "disk docker", what: "Docker's data directory", path: sample.info.dockerRootDir,
                                      usage: usage(sample.info.dockerRootDir), thresholds: thresholds)
        case .failure:
            let statePath = LiveHeartbeatStateStore(root: root).path
            if case .success(let text) = files.readText(statePath, limit: 64 << 10),
               let remembered = HeartbeatState.parse(text)?.dockerRootDir {
                var r = DiskCheck.evaluate(name: "disk docker", what: "Docker's data directory", path: remembered,
                                           usage: usage(remembered), thresholds: thresholds)
                r.detail += " (the engine does not answer: directory as the heartbeat last saw it)"
                return r
            }
            return CheckResult(name: "disk docker", status: .fail,
                               detail: "unknown: the Docker engine does not answer, so its data directory is not known",
                               hint: "see the docker engine check; df -h /var/lib/docker shows the usual place")
        }
    }
}
