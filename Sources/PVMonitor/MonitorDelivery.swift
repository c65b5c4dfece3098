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
/// replayed oldest first in batches, each sample removed only once confirmed. A failure (no broker,
/// a refused password, a broker that never speaks, a missing confirm) ends the connection and
/// waits before the next try: 1 s, doubling up to 60 s, each by a random 0.8-1.2 so that a fleet
/// does not come back at once. Meanwhile the samples wait in the spool.
///
/// The publishing runs on a queue of its own (`wake`): a broker that hangs for its whole bound
/// never delays the next interval. The spool and the status are shared under locks; the
/// connection and the retry schedule belong to that queue alone (or to a test calling `deliver`).
public final class MonitorDelivery: @unchecked Sendable {
    let spool: MonitorSpool
    let spoolLock = Mutex(())
    let broker: String
    let open: () -> Result<any SamplePublishing, AMQPError>
    let clock: AgentClock
    let jitter: () -> Double
    let batchSize: Int
    let confirmTimeout: Double
    // The worker's own: only `deliver` touches these.
    var publisher: (any SamplePublishing)?
    var failures = 0
    var nextAttempt = -Double.infinity
    var retryScheduled = false
    struct Reported { var lastConfirm: Double?; var problem: String? }
    let reported = Mutex(Reported())
    let queue = DispatchQueue(label: "pv_monitor.delivery")
    let rounds = DispatchSemaphore(value: 0)
    struct Tickets { var issued: UInt64 = 0; var done: UInt64 = 0 }
    let tickets = Mutex(Tickets())

    public init(spool: MonitorSpool, broker: String, clock: AgentClock, batchSize: Int = 200, confirmTimeout: Double = 5,
                jitter: @escaping () -> Double = { Double.random(in: 0.8...1.2) },
                open: @escaping () -> Result<any SamplePublishing, AMQPError>) {
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
        let ticket = tickets.withLock { t -> UInt64 in t.issued += 1; return t.issued }
        queue.async { [self] in
            round(resourceID: resourceID)
            tickets.withLock { $0.done = max($0.done, ticket) }
            rounds.signal()
        }
        let deadline = DispatchTime.now() + wait
        while tickets.withLock({ $0.done }) < ticket {
            if rounds.wait(timeout: deadline) == .timedOut { break }
        }
    }

    /// One round on the queue: now, or once the wait after the last failure is over.
    func round(resourceID: String) {
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
        guard spoolLock.withLock({ _ in !spool.entries.isEmpty }), started >= nextAttempt else { return }
        if publisher == nil {
            switch open() {
            case .failure(let error): return failed(error)
            case .success(let p): publisher = p
            }
        }
        while let publisher, clock.monotonic() - started < budget {
            let batch = spoolLock.withLock { _ in spool.oldest(batchSize) }
            guard !batch.isEmpty else { break }
            let (confirmed, error) = publisher.publish(batch.map { (MonitorMessage.id(resourceID: resourceID, sequence: $0.entry.sequence), $0.body) },
                                                       timeout: confirmTimeout)
            spoolLock.withLock { _ in for item in batch.prefix(confirmed) { spool.remove(item.entry) } }
            if confirmed > 0 { let now = clock.now(); reported.withLock { $0.lastConfirm = now } }
            if let error { return failed(error) }
            failures = 0
            reported.withLock { $0.problem = nil }
        }
    }

    func failed(_ error: AMQPError) {
        publisher?.close(within: 0.5)
        publisher = nil
        failures += 1
        let wait = min(60, Double(1 << min(failures - 1, 6))) * jitter()
        nextAttempt = clock.monotonic() + wait
        let (depth, directory) = spoolLock.withLock { _ in (spool.depth, spool.directory) }
        let problem = "samples are not delivered to \(broker): \(error.detail) (\(depth) waiting in \(directory); next try in \(Int(wait.rounded())) s)"
        reported.withLock { $0.problem = problem }
    }

    /// Stops: the round under way finishes (within its bounds), the connection is closed politely,
    /// the spool stays for the next run.
    public func close() {
        queue.sync { [self] in
            publisher?.close(within: 1)
            publisher = nil
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
        }
        return s
    }
}
