#if canImport(FoundationEssentials)
import FoundationEssentials
#else
import Foundation
#endif
import PVAMQP
import PVCore
import PVState
import PVSystem
#if canImport(Glibc)
import Glibc
#endif

/// The daemon's loop: the dnstap socket open, an interval counted, its sample written
/// (`<root>/state/monitor/last.json`, replaced whole), again, until SIGTERM.
public struct MonitorRun: Sendable {
    public var environment: AgentEnvironment
    /// Where the DNS component's sender connects: `<root>/run/monitor/dnstap.sock` (mounted into
    /// the DNS container as /run/pv-monitor, the components' contract).
    public static func socketPath(_ root: InstallRoot) -> String { root.join("run", "monitor", "dnstap.sock") }
    public static func samplePath(_ root: InstallRoot) -> String { MonitorHealth.samplePath(root) }
    /// Kea's control socket, which the DHCP component creates in the same mounted directory.
    public static func keaSocketPath(_ root: InstallRoot) -> String { root.join("run", "monitor", "kea4-ctrl.sock") }
    /// Knot's control socket, in the same mounted directory.
    public static func knotSocketPath(_ root: InstallRoot) -> String { root.join("run", "monitor", "knot", "knot.sock") }

    /// The DNS component's Knot control sockets, newest first: `knot.sock` (started by pv_start),
    /// or a handoff slot's `a.sock` / `b.sock`. Several may be there (a killed knotd, the old one
    /// of a handoff or a new one that failed, leaves its path behind): the running instance's is the
    /// first that answers, usually the newest (each start.sh binds it anew).
    public static func knotSockets(_ root: InstallRoot) -> [String] {
        let directory = root.join("run", "monitor", "knot")
        var found: [(path: String, time: Int)] = []
        for name in ["knot.sock", "a.sock", "b.sock"] {  // PVDocker's HandoffSlot names the two slots
            var st = stat()
            let path = directory + "/" + name
            guard stat(path, &st) == 0, st.st_mode & S_IFMT == S_IFSOCK else { continue }
            found.append((path, st.st_mtim.tv_sec * 1_000_000_000 + st.st_mtim.tv_nsec))
        }
        return found.isEmpty ? [knotSocketPath(root)] : found.sorted { $0.time > $1.time }.map(\.path)
    }

    public init(environment: AgentEnvironment) { self.environment = environment }

    /// Runs intervals until a signal (or `intervals` of them, for a bounded run). `onReady` runs once
    /// this daemon holds the root's lock and listens (the pull endpoint starts there) and says where
    /// samples are pulled from, or why not; `onSample` gets each interval's sample once it is written.
    public func execute(intervals: Int? = nil, onReady: (ServerConfig) -> PullStatus = { _ in PullStatus() },
                        onSample: (MonitorSample) -> Void = { _ in }) throws(PVError) {
        let root = environment.root
        let config = try environment.configuration()
        let clock = environment.clock
        try FileIO.makeDirectoriesOrThrow(root.join("state", "monitor"))
        try FileIO.makeDirectoriesOrThrow(root.join("run", "monitor"))
        let lockPath = MonitorHealth.lockPath(root)
        guard case .acquired(let lock) = FileLock.acquire(lockPath) else {
            throw PVError(.tempFail, "another pv_monitor runs for \(root.path) (lock \(lockPath))")
        }
        lock.write("pid \(getpid())\n")
        let listener = try DnstapListener(path: Self.socketPath(root), mode: 0o660)
        environment.handleSignals()
        environment.output.line("pv_monitor: listening for dnstap on \(listener.path), interval \(config.monitorInterval) s")
        let socketProblem = Self.componentAccess(listener.path)
        if let socketProblem { environment.output.error("warning: \(socketProblem)") }
        let output = environment.output
        // Lines any writer can provoke (connects, refusals, closed connections): limited; Knot's
        // restart is two of them.
        let journal = JournalLimiter(subject: "dnstap connection lines", perWindow: 30, window: 60, now: clock.monotonic())
        let reader = DnstapReader(listener: listener, clock: clock, maxNames: config.monitorMaxNames, onSender: { event in
            let line: String
            switch event {
            case .connected(let n, let peer): line = "pv_monitor: a dnstap sender connected (\(n) connected): \(peer)"
            case .disconnected(let n, let peer, let finished):
                line = "pv_monitor: a dnstap sender \(finished ? "ended its stream" : "closed its connection") (\(n) connected): \(peer)"
            }
            for admitted in journal.admit(line, now: clock.monotonic()) { output.line(admitted) }
        }, onProblem: { problem in
            for admitted in journal.admit("pv_monitor: " + problem, now: clock.monotonic()) { output.error(admitted) }
        })
        defer { reader.stop() }
        let pull = onReady(config)
        // The kept intervals: a restarted daemon goes on from the last sequence (so a consumer can
        // drop what it has seen); without them (a full disk, a damaged file) the samples still go on.
        let history: MonitorHistory?
        do { history = try MonitorHistory(path: MonitorHistory.path(root)) } catch { history = nil }
        var sequence: UInt64 = history?.lastSequence() ?? 0
        var reported: String? = nil
        var reportedPush: String? = nil
        var historyProblem: String? = history == nil ? "no history is kept: \(MonitorHistory.path(root)) cannot be opened" : nil
        var previousCPU: CPUSample? = nil
        var zones = ZoneMatcher(zones: [])
        let system = LiveSystemSource()
        let delivery = Self.delivery(config, root: root, clock: clock)
        // A sample spooled but not kept in the history (killed in between) still has its number.
        if case .success(let d)? = delivery, let spooled = d.newestSpooled {
            sequence = max(sequence, spooled)
            // What an earlier run left goes out now, not after the first interval.
            d.wake(resourceID: config.resourceID, wait: 0)
        }
        var pushProblem: String? = nil
        defer { if case .success(let d)? = delivery { d.close() } }
        let host = environment.host.name()
        _ = reader.takeInterval(now: clock.now())
        // Intervals on a fixed cadence: the work after each (Knot, Kea, the history, publishing)
        // does not push the next one later, unless it takes longer than an interval.
        var deadline = clock.monotonic() + Double(config.monitorInterval)
        while Interruption.signal == nil {
            defer {
                deadline += Double(config.monitorInterval)
                if deadline <= clock.monotonic() { deadline = clock.monotonic() + Double(config.monitorInterval) }
            }
            // The reader counts meanwhile; a signal ends the wait within a fifth of a second.
            while Interruption.signal == nil, case let remaining = deadline - clock.monotonic(), remaining > 0 {
                clock.sleep(min(remaining, 0.2))
            }
            // Stopping: what the sender sent until now goes into this last sample.
            if Interruption.signal != nil { reader.stop() }
            sequence += 1
            let ended = clock.now()
            let counter = reader.takeInterval(now: ended)
            let connections = reader.connectionCount
            for line in journal.flush(now: clock.monotonic()) { output.line(line) }
            var sample = MonitorSample(resourceID: config.resourceID, sequence: sequence, start: counter.started, end: ended,
                                       dns: counter.sample(ended: ended, top: 100), dnstapConnections: connections,
                                       dnsProblem: connections == 0 ? "no monitoring data from dns: no dnstap sender is connected to \(reader.path)"
                                           + (socketProblem.map { " (\($0))" } ?? "") : nil)
            let (system, cpu) = SystemFigures.collect(from: system, previousCPU: previousCPU, disks: [("root", "/"), ("install root", root.path)])
            sample.system = system
            sample.pull = pull
            previousCPU = cpu ?? previousCPU
            // Knot's and Kea's answers, each component within its own budget whatever its socket
            // does, so that the interval ends on time (and a stop soon).
            let budget = Self.controlBudget(interval: config.monitorInterval, stopping: Interruption.signal != nil)
            if config.isEnabled(.dns) {
                let knotDeadline = Deadline(secondsFromNow: budget)
                func remaining() -> Double { Double(knotDeadline.remainingMilliseconds) / 1000 }
                var knot = Self.knotSocketPath(root)
                var firstError: String? = nil
                for candidate in Self.knotSockets(root) where remaining() > 0 {
                    switch KnotControl.stats(socket: candidate, timeout: remaining()) {
                    case .success(let counters): sample.dnsAggregate = counters; knot = candidate
                    case .failure(let error): firstError = firstError ?? error.message
                    }
                    if sample.dnsAggregate != nil { break }
                }
                if sample.dnsAggregate == nil { sample.dnsAggregateProblem = "no DNS aggregate from dns: \(firstError ?? "no control socket")" }
                if sample.dnsAggregateProblem == nil {
                    // The zones, asked each interval (a zone added in ProVision shows at the next one);
                    // when Knot does not answer, the last known ones still place the records.
                    if remaining() > 0, case .success(let served) = KnotControl.zones(socket: knot, timeout: remaining()) { zones = ZoneMatcher(zones: served) }
                    if remaining() > 0, case .success(let perZone) = KnotControl.zoneStats(socket: knot, timeout: remaining()) { sample.zoneAggregates = perZone }
                }
            }
            sample.dns.records = sample.dns.records.map { record in
                var placed = record
                if placed.zone.isEmpty { placed.zone = zones.zone(of: record.name) }
                return placed
            }
            if config.isEnabled(.dhcp) {
                switch KeaControl.statistics(socket: Self.keaSocketPath(root), timeout: budget) {
                case .success(let figures): sample.dhcp = figures
                case .failure(let error): sample.dhcpProblem = "no monitoring data from dhcp: \(error.message)"
                }
            }
            // Spooled first (durably): a kill after this point loses nothing ProVision would get.
            if case .success(let delivery)? = delivery {
                do { try delivery.record(sample, host: host); pushProblem = nil } catch {
                    pushProblem = "sample #\(sample.sequence) is not spooled: \(error.messageAndCause)"
                }
            }
            if let history {
                do { try history.append(sample); historyProblem = nil } catch {
                    historyProblem = "the history was not written: \(error.messageAndCause)"
                }
            }
            if let historyProblem, historyProblem != reported { environment.output.error("warning: \(historyProblem)"); reported = historyProblem }
            sample.historyProblem = historyProblem
            switch delivery {
            case .none: sample.push = PushStatus(broker: nil, problem: nil)
            case .some(.failure(let error)):
                sample.push = PushStatus(broker: nil, problem: error.message)
            case .some(.success(let delivery)):
                // The spool delivered oldest first on the delivery's own queue: this sample too.
                // Waited for briefly (at the stop too: a stop ends within seconds whatever the
                // broker does), so that the sample written says how it went when the broker answers at once.
                let stopping = Interruption.signal != nil
                delivery.wake(resourceID: config.resourceID, wait: stopping ? 1 : min(1, Double(config.monitorInterval) / 4))
                sample.push = delivery.status
                if let pushProblem { sample.push.problem = pushProblem }
            }
            if let problem = sample.push.problem, problem != reportedPush {
                environment.output.error("warning: \(problem)")
            }
            reportedPush = sample.push.problem
            do { try FileIO.writeAtomically(Self.samplePath(root), sample.json.rendered + "\n", mode: 0o644) } catch {
                environment.output.error("warning: cannot write \(Self.samplePath(root)): \(error.message)")
            }
            onSample(sample)
            if let intervals, sequence >= UInt64(intervals) { break }
        }
        withExtendedLifetime(lock) {}
    }
}

extension MonitorRun {
    /// How long Knot's requests together, and Kea's, may take in one interval: 2 s, or a fifth
    /// of a shorter interval (so that both leave most of it), and at a stop at most half a second.
    static func controlBudget(interval: Int, stopping: Bool) -> Double {
        min(stopping ? 0.5 : 2, max(0.2, Double(interval) / 5))
    }

    /// Why the DNS component's Knot (root in its container, without the capability to override
    /// file modes) cannot connect to the 0660 socket, if it cannot: neither its owner nor its
    /// group is root's, which create_dirs sees to (the directory setgid, group root).
    static func componentAccess(_ path: String) -> String? {
        var st = stat()
        guard stat(path, &st) == 0, st.st_uid != 0, st.st_gid != 0 else { return nil }
        return "the DNS component's Knot cannot connect to \(path): the socket is 0660, owner \(st.st_uid), group \(st.st_gid), not root's "
            + "(its directory must be group root and setgid: as root run pv_install -e create_dirs)"
    }

    /// The publisher side, when `monitor_push` is on: the spool under the root and a publisher to
    /// `rabbitmq_uri` (opened when there is something to deliver). Why not, when it cannot be.
    static func delivery(_ config: ServerConfig, root: InstallRoot, clock: AgentClock) -> Result<MonitorDelivery, PVError>? {
        guard config.monitorPush else { return nil }
        let endpoint: AMQPEndpoint
        do { endpoint = try AMQPEndpoint.parse(config.rabbitmqURI) } catch {
            return .failure(PVError(.config, "samples are not published: \(error.detail)"))
        }
        let spool: MonitorSpool
        do { spool = try MonitorSpool(directory: MonitorSpool.directory(root), maxBytes: config.monitorSpoolMB << 20) } catch {
            return .failure(PVError(.cantCreate, "samples are not published: \(error.messageAndCause)"))
        }
        let destination = AMQPDestination(exchange: config.monitorExchange, queue: config.monitorQueue, routingKey: config.resourceID)
        return .success(MonitorDelivery(spool: spool, broker: endpoint.display, clock: clock) { socketGuard in
            AMQPPublisher.open(endpoint, destination: destination, caFile: config.rabbitmqCAFile, socketGuard: socketGuard)
                .map { $0 as any SamplePublishing }
        })
    }
}

extension FileIO {
    static func makeDirectoriesOrThrow(_ path: String) throws(PVError) {
        do { try makeDirectories(path) } catch { throw PVError(.cantCreate, "cannot create \(path)", cause: error.message) }
    }
}
