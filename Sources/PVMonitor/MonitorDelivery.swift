import Dispatch
import PVAMQP
import PVCore
import Synchronization

/// What publishes a batch and says how many of it, from the first, the broker confirmed: the
/// AMQP publisher on a server, a scripted one in the tests.
public protocol SamplePublishing: AnyObject {
    func publish(_ messages: [(id: String, body: [UInt8])], timeout: Double) -> (confirmed: Int, error: AMQPError?)
    func close(within seconds: Double)
}

extension AMQPPublisher: SamplePublishing {}

/// Each sample to the broker, at least once and in order: spooled first (durably), then the spool
/// replayed oldest first in batches, each sample removed only once confirmed. One connection at a
/// time. A failure (a refused password, a broker that never speaks, a missing confirm) ends the
/// connection and waits before the next try: 1 s, doubling up to 60 s, each by a random 0.8-1.2
/// so that a fleet does not come back at once. A broker that cannot be reached (no TCP connection)
/// is tried again every second or so instead: a TCP connect costs nothing, and a broker that comes
/// back is used at once (and starts the backoff over). A broker that blocks publishers (a memory
/// or disk alarm) is no failure: the connection is kept and waited on until the broker lifts the
/// block. Meanwhile the samples wait in the spool.
///
/// The publishing runs on a queue of its own (`wake`): a broker that hangs for its whole bound
/// never delays the next interval. The spool and the status are shared under locks; the
/// connection and the retry schedule belong to that queue alone (or to a test calling `deliver`).
/// `close` ends it within about a second whatever the broker does: the socket guard cuts what
/// the publisher waits on.
public final class MonitorDelivery: @unchecked Sendable {
    let spool: MonitorSpool
    let spoolLock = Mutex(())
    let broker: String
    let open: (AMQPSocketGuard) -> Result<any SamplePublishing, AMQPError>
    let clock: AgentClock
    let jitter: () -> Double
    let batchSize: Int
    let confirmTimeout: Double
    /// Every connection's socket, cut at the stop.
    let socketGuard = AMQPSocketGuard()
    let stopping = Atomic<Bool>(false)
    /// The broker blocks the publisher now (a stop then cuts at once: it would read nothing).
    let blocked = Atomic<Bool>(false)
    // The worker's own: only `deliver` touches these.
    var publisher: (any SamplePublishing)?
    var failures = 0
    /// The last failure was no TCP connection: the broker is away (tried every second or so).
    var brokerAway = false
    var nextAttempt = -Double.infinity
    var retryScheduled = false
    struct Reported { var lastConfirm: Double?; var problem: String? }
    let reported = Mutex(Reported())
    let queue = DispatchQueue(label: "pv_monitor.delivery")
    let rounds = DispatchSemaphore(value: 0)
    /// Wakes and the rounds that served them: a wake while a round waits in the queue joins it
    /// (a broker that blocks holds a round for seconds; the rounds must not pile up behind it).
    struct Tickets { var issued: UInt64 = 0; var done: UInt64 = 0; var queued = false }
    let tickets = Mutex(Tickets())

    public init(spool: MonitorSpool, broker: String, clock: AgentClock, batchSize: Int = 200, confirmTimeout: Double = 5,
                jitter: @escaping () -> Double = { Double.random(in: 0.8...1.2) },
                open: @escaping (AMQPSocketGuard) -> Result<any SamplePublishing, AMQPError>) {
        self.spool = spool
        self.broker = broker
        self.clock = clock
        self.batchSize = batchSize
        self.confirmTimeout = confirmTimeout
        self.jitter = jitter
        self.open = open
    }

    /// The newest sequence spooled (a restarted daemon numbers on after it).
    public var newestSpooled: UInt64? { spoolLock.withLock { _ in spool.entries.last?.sequence } }

    /// Spools the sample's message (the count of samples dropped before it, carried).
    public func record(_ sample: MonitorSample, host: String) throws(PVError) {
        try spoolLock.withLock { _ throws(PVError) in
            let carried = spool.dropped
            try spool.add(sequence: sample.sequence, carried: carried,
                          body: MonitorMessage.body(sample, host: host, droppedSamples: carried))
        }
    }

    /// Delivers on the delivery queue, and waits up to `wait` seconds for that round (so that the
    /// sample about to be written says how it went when the broker answers at once).
    public func wake(resourceID: String, wait: Double) {
        // Each wake has a ticket: the wait is for this round, not a signal an earlier one left.
        let (ticket, enqueue) = tickets.withLock { t -> (UInt64, Bool) in
            t.issued += 1
            defer { t.queued = true }
            return (t.issued, !t.queued)
        }
        if enqueue {
            queue.async { [self] in
                let covered = tickets.withLock { t -> UInt64 in t.queued = false; return t.issued }
                round(resourceID: resourceID)
                tickets.withLock { $0.done = max($0.done, covered) }
                rounds.signal()
            }
        }
        let deadline = DispatchTime.now() + wait
        while tickets.withLock({ $0.done }) < ticket {
            if rounds.wait(timeout: deadline) == .timedOut { break }
        }
    }

    /// One round on the queue: now, or once the wait after the last failure is over.
    func round(resourceID: String) {
        guard !stopping.load(ordering: .relaxed) else { return }
        let early = nextAttempt - clock.monotonic()
        guard early <= 0 else {
            if !retryScheduled {
                retryScheduled = true
                queue.asyncAfter(deadline: .now() + early) { [self] in
                    retryScheduled = false
                    round(resourceID: resourceID)
                }
            }
            return
        }
        deliver(budget: 30, resourceID: resourceID)
    }

    /// Delivers what the spool holds, oldest first, for at most about `budget` seconds (one batch
    /// and its confirms may run over by their own bounds); nothing while the last failure's wait runs.
    public func deliver(budget: Double, resourceID: String) {
        let started = clock.monotonic()
        guard !stopping.load(ordering: .relaxed), spoolLock.withLock({ _ in !spool.entries.isEmpty }), started >= nextAttempt else { return }
        if publisher == nil {
            switch open(socketGuard) {
            case .failure(let error): return failed(error)
            case .success(let p): publisher = p
            }
        }
        while let publisher, !stopping.load(ordering: .relaxed), clock.monotonic() - started < budget {
            let batch = spoolLock.withLock { _ in spool.oldest(batchSize) }
            guard !batch.isEmpty else { break }
            let (confirmed, error) = publisher.publish(batch.map { (MonitorMessage.id(resourceID: resourceID, sequence: $0.entry.sequence), $0.body) },
                                                       timeout: confirmTimeout)
            spoolLock.withLock { _ in for item in batch.prefix(confirmed) { spool.remove(item.entry) } }
            if confirmed > 0 { let now = clock.now(); reported.withLock { $0.lastConfirm = now } }
            if let error {
                if stopping.load(ordering: .relaxed) { return }
                // Blocked: the one connection is kept and waited on (the publisher waits up to its
                // bound for the block to lift on each call), within this round's budget.
                if error.kind == .blocked { blockedBy(error); continue }
                return failed(error)
            }
            failures = 0
            blocked.store(false, ordering: .relaxed)
            reported.withLock { $0.problem = nil }
        }
    }

    func blockedBy(_ error: AMQPError) {
        blocked.store(true, ordering: .relaxed)
        let (depth, directory) = spoolLock.withLock { _ in (spool.depth, spool.directory) }
        let problem = "samples are not delivered to \(broker): \(error.detail) (\(depth) waiting in \(directory); "
            + "they go on this connection once the broker lifts the block)"
        reported.withLock { $0.problem = problem }
    }

    func failed(_ error: AMQPError) {
        publisher?.close(within: 0.5)
        publisher = nil
        blocked.store(false, ordering: .relaxed)
        guard !stopping.load(ordering: .relaxed) else { return }
        let wait: Double
        if error.phase == .connect && [.refused, .timedOut, .resolveFailed].contains(error.kind) {
            // No TCP connection: tried again in a second or so, so that a broker that comes back is used at once.
            brokerAway = true
            wait = jitter()
        } else {
            // The broker answered TCP: one back from an outage starts the backoff over.
            if brokerAway { failures = 0; brokerAway = false }
            failures += 1
            wait = min(60, Double(1 << min(failures - 1, 6))) * jitter()
        }
        nextAttempt = clock.monotonic() + wait
        let (depth, directory) = spoolLock.withLock { _ in (spool.depth, spool.directory) }
        let problem = "samples are not delivered to \(broker): \(error.detail) (\(depth) waiting in \(directory); next try in \(Int(wait.rounded())) s)"
        reported.withLock { $0.problem = problem }
    }

    /// Stops within about a second, whatever the broker does: the round under way ends (a
    /// publisher waiting on a broker that blocks or does not read is cut: its socket shut down),
    /// the connection is closed politely when it can be, the spool stays for the next run. What
    /// was sent and not confirmed stays spooled: a broker that took it after all sees it again
    /// from the next run (at most the publisher's window).
    public func close() {
        stopping.store(true, ordering: .relaxed)
        if blocked.load(ordering: .relaxed) { socketGuard.cut() }
        let closed = DispatchSemaphore(value: 0)
        queue.async { [self] in
            publisher?.close(within: 0.5)
            publisher = nil
            closed.signal()
        }
        if closed.wait(timeout: .now() + 1) == .timedOut {
            socketGuard.cut()
            _ = closed.wait(timeout: .now() + 1)
        }
    }

    public var status: PushStatus {
        let r = reported.withLock { $0 }
        var s = PushStatus(broker: broker, problem: r.problem)
        s.lastConfirm = r.lastConfirm
        spoolLock.withLock { _ in
            s.spoolDepth = spool.depth
            s.spoolBytes = spool.totalBytes
            s.dropped = spool.droppedTotal
            if let full = spool.diskFull {
                s.spoolProblem = "the spool's disk is full (\(spool.directory): \(full)): the oldest samples make room for the newest, "
                    + "\(spool.droppedTotal) dropped so far and counted in the next message"
            }
        }
        return s
    }
}
