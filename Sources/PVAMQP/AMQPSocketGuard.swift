import Dispatch
import PVCore
import Synchronization
#if canImport(Glibc)
import Glibc
#endif

/// A deadline on every write and read of an AMQP connection, whatever rabbitmq-c does, and a way
/// to end them from another thread. rabbitmq-c 0.11 writes a publish with no deadline at all (its
/// send polls for room without a timeout): a broker that stops reading, as one under a resource
/// alarm does, held the writer for good. So each operation is armed with a deadline, and when it
/// passes the socket is shut down (shutdown(2), not close: the descriptor stays the connection's):
/// the poll returns, the write or read fails, the call comes back. `cut()` does the same at once
/// and for good (a daemon that stops). One connection's socket is attached at a time; a guard may
/// serve one connection after another (a delivery keeps one for all of its connections).
public final class AMQPSocketGuard: @unchecked Sendable {
    struct State {
        var fd: Int32 = -1
        /// Monotonic nanoseconds; nil while disarmed.
        var deadline: UInt64?
        /// The armed deadline passed with the operation still under way: the socket was shut down.
        var expired = false
        var cut = false
    }

    let state = Mutex(State())
    // Touched only through its own thread-safe calls (schedule, cancel).
    let timer: DispatchSourceTimer

    public init() {
        timer = DispatchSource.makeTimerSource(queue: DispatchQueue.global())
        timer.setEventHandler { [weak self] in self?.fire() }
        timer.schedule(deadline: .distantFuture, leeway: .milliseconds(10))
        timer.activate()
    }

    deinit { timer.cancel() }

    /// Cuts the attached socket now, and any attached later: whatever waits on it returns.
    public func cut() {
        state.withLock { s in
            s.cut = true
            if s.fd >= 0 { _ = shutdown(s.fd, Int32(SHUT_RDWR)) }
        }
    }

    public var isCut: Bool { state.withLock { $0.cut } }
    /// The last armed deadline passed before its operation ended (the socket was shut down then).
    public var expired: Bool { state.withLock { $0.expired } }

    /// The connection's socket, from now on (cut at once if the guard was cut before).
    func attach(_ fd: Int32) {
        state.withLock { s in
            s.fd = fd
            s.deadline = nil
            s.expired = false
            if s.cut && fd >= 0 { _ = shutdown(fd, Int32(SHUT_RDWR)) }
        }
    }

    /// Before the socket is closed: nothing shuts down a descriptor that may be another file's next.
    func detach(_ fd: Int32) {
        state.withLock { s in
            if s.fd == fd { s.fd = -1; s.deadline = nil }
        }
    }

    /// The operation that starts now must end within `seconds`, or the socket is shut down.
    func arm(_ seconds: Double) {
        let nanoseconds = UInt64(max(0.001, seconds) * 1e9)
        state.withLock { s in
            s.deadline = Monotonic.nanoseconds() + nanoseconds
            s.expired = false
        }
        timer.schedule(deadline: .now() + .nanoseconds(Int(nanoseconds)), leeway: .milliseconds(10))
    }

    /// The operation ended in time (the timer may still fire: it then finds nothing armed).
    func disarm() {
        state.withLock { $0.deadline = nil }
    }

    func fire() {
        let early: UInt64? = state.withLock { s in
            guard let deadline = s.deadline else { return nil }
            let now = Monotonic.nanoseconds()
            guard now >= deadline else { return deadline - now }
            s.deadline = nil
            s.expired = true
            if s.fd >= 0 { _ = shutdown(s.fd, Int32(SHUT_RDWR)) }
            return nil
        }
        // A timer that fired early (or for an earlier arm) looks again when the deadline is due.
        if let early { timer.schedule(deadline: .now() + .nanoseconds(Int(early)), leeway: .milliseconds(10)) }
    }
}
