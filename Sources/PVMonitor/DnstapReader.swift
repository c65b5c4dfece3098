import PVCore
import Synchronization
#if canImport(Glibc)
import Glibc
#endif

/// The dnstap socket read on a thread of its own, into the interval being counted. The daemon's
/// other work at each interval's end (ranking the records, asking Knot and Kea, writing the
/// history) takes tens of milliseconds with many names; were it done on the reading thread, the
/// DNS component's sender would queue meanwhile, and past its queue drop frames. Here the only
/// thing the two threads share is the interval's counter, taken whole under a lock (`takeInterval`).
public final class DnstapReader: Sendable {
    public let path: String
    let counter: Mutex<IntervalCounter>
    let senders = Atomic<Int>(0)
    let stopping = Atomic<Bool>(false)
    let maxNames: Int
    let clock: AgentClock
    let thread: Mutex<pthread_t?> = Mutex(nil)

    /// Starts reading `listener` (handed over: only the reader's thread uses it from now on).
    /// `onSender` and `onProblem` run on the reading thread: whatever they do (a journal line)
    /// must not wait on anything slow.
    public init(listener: DnstapListener, clock: AgentClock, maxNames: Int,
                onSender: @escaping @Sendable (DnstapListener.SenderEvent) -> Void,
                onProblem: @escaping @Sendable (String) -> Void = { _ in }) {
        path = listener.path
        self.clock = clock
        self.maxNames = maxNames
        counter = Mutex(IntervalCounter(started: clock.now(), maxNames: maxNames))
        let handover = Handover(listener)
        let body: @Sendable () -> Void = { [self] in
            handover.listener.serve(until: .infinity, clock: clock, stop: { self.stopping.load(ordering: .relaxed) },
                                    onRecord: { record in
                                        // The sender's time when it gives one (Knot does): no clock read per frame.
                                        let now = record.time ?? clock.now()
                                        self.counter.withLock { $0.add(record, receivedAt: now) }
                                    },
                                    onDrop: { reason in self.counter.withLock { $0.drop(reason.key) } },
                                    onSender: { event in
                                        switch event {
                                        case .connected(let n, _), .disconnected(let n, _, _): self.senders.store(n, ordering: .relaxed)
                                        }
                                        onSender(event)
                                    },
                                    onProblem: onProblem)
        }
        let box = Unmanaged.passRetained(ThreadBody(body)).toOpaque()
        var id = pthread_t()
        let started = pthread_create(&id, nil, { raw in
            Unmanaged<ThreadBody>.fromOpaque(raw!).takeRetainedValue().body()
            return nil
        }, box)
        // Without a thread (resources exhausted), read on no thread at all: the samples then say
        // no sender is connected, which is the truth about the data.
        if started == 0 { thread.withLock { $0 = id } } else { Unmanaged<ThreadBody>.fromOpaque(box).release() }
    }

    /// Senders connected now.
    public var connectionCount: Int { senders.load(ordering: .relaxed) }

    /// The interval counted so far, and a new one started at `now`.
    public func takeInterval(now: Double) -> IntervalCounter {
        counter.withLock { current in
            var finished = IntervalCounter(started: now, maxNames: maxNames)
            swap(&current, &finished)
            return finished
        }
    }

    /// Stops reading (within half a second: the reader's poll bound) and closes the socket.
    /// The thread holds the reader until then: call it once done.
    public func stop() {
        stopping.store(true, ordering: .relaxed)
        if let id = thread.withLock({ t -> pthread_t? in defer { t = nil }; return t }) { pthread_join(id, nil) }
    }
}

/// The listener passed to the reader's thread, which alone uses it from then on.
private final class Handover: @unchecked Sendable {
    let listener: DnstapListener
    init(_ listener: DnstapListener) { self.listener = listener }
}

private final class ThreadBody {
    let body: @Sendable () -> Void
    init(_ body: @escaping @Sendable () -> Void) { self.body = body }
}
