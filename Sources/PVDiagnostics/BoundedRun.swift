import PVCore
#if canImport(Glibc)
import Glibc
#endif

/// One piece of work with its own time limit.
public struct BoundedTask<Result: Sendable>: Sendable {
    public var timeout: Double
    public var work: @Sendable () -> Result

    public init(timeout: Double, work: @escaping @Sendable () -> Result) {
        self.timeout = timeout
        self.work = work
    }
}

/// What became of a task: its result and how long it took, or nothing
/// because it was still running at its limit.
public enum BoundedOutcome<Result: Sendable>: Sendable {
    case finished(Result, milliseconds: Double)
    case timedOut(limit: Double)
}

/// Runs tasks at the same time, each on its own thread, and returns when all
/// have finished or reached their limits (their own timeout, or the overall
/// deadline, whichever comes first). A task that overruns is abandoned, not
/// killed: its thread keeps running until the process exits, and its late
/// result is dropped. This is what lets diagnostics answer while the thing
/// being diagnosed hangs (a statvfs on a dead NFS mount, a broker that accepts
/// and never speaks): no C library call here can be cancelled safely.
///
/// Threads rather than the global dispatch queue: its pool is sized to the
/// CPU count and grows only slowly when workers block, and every task here blocks.
public enum BoundedRun {
    public static func run<Result: Sendable>(_ tasks: [BoundedTask<Result>], deadline: Deadline) -> [BoundedOutcome<Result>] {
        let board = Board<Result>(count: tasks.count)
        let start = Monotonic.nanoseconds()
        let limits: [UInt64] = tasks.map { task in
            min(start + UInt64(max(0, task.timeout) * 1e9), deadline.at)
        }
        for (index, task) in tasks.enumerated() {
            let work = task.work
            let started = WorkerThread.spawn {
                let t0 = Monotonic.nanoseconds()
                let result = work()
                board.finish(index, .finished(result, milliseconds: Monotonic.milliseconds(since: t0)))
            }
            if !started {
                // No thread (resource limits): run it here rather than not at all.
                let t0 = Monotonic.nanoseconds()
                board.finish(index, .finished(work(), milliseconds: Monotonic.milliseconds(since: t0)))
            }
        }
        while true {
            let now = Monotonic.nanoseconds()
            // Close every slot whose limit has passed; later results are ignored.
            for index in tasks.indices where now >= limits[index] {
                board.expire(index, limit: Double(limits[index] - start) / 1e9)
            }
            let open = board.openSlots
            guard !open.isEmpty else { break }
            let next = open.map { limits[$0] }.min()!
            board.wait(untilMonotonic: next)
        }
        return board.outcomes.map { $0! }
    }
}

/// Results written by worker threads, read by the waiting thread.
final class Board<Result: Sendable>: @unchecked Sendable {
    private var mutex = pthread_mutex_t()
    private var condition = pthread_cond_t()
    private var slots: [BoundedOutcome<Result>?]

    init(count: Int) {
        slots = Array(repeating: nil, count: count)
        pthread_mutex_init(&mutex, nil)
        var attributes = pthread_condattr_t()
        pthread_condattr_init(&attributes)
        pthread_condattr_setclock(&attributes, CLOCK_MONOTONIC)
        pthread_cond_init(&condition, &attributes)
        pthread_condattr_destroy(&attributes)
    }

    // Never destroyed: an abandoned worker may still finish after the caller returned.

    func finish(_ index: Int, _ outcome: BoundedOutcome<Result>) {
        pthread_mutex_lock(&mutex)
        if slots[index] == nil { slots[index] = outcome }
        pthread_cond_broadcast(&condition)
        pthread_mutex_unlock(&mutex)
    }

    func expire(_ index: Int, limit: Double) {
        pthread_mutex_lock(&mutex)
        if slots[index] == nil { slots[index] = .timedOut(limit: limit) }
        pthread_mutex_unlock(&mutex)
    }

    var openSlots: [Int] {
        pthread_mutex_lock(&mutex)
        defer { pthread_mutex_unlock(&mutex) }
        return slots.indices.filter { slots[$0] == nil }
    }

    var outcomes: [BoundedOutcome<Result>?] {
        pthread_mutex_lock(&mutex)
        defer { pthread_mutex_unlock(&mutex) }
        return slots
    }

    /// Waits for any result or until the monotonic time `at` (ns).
    func wait(untilMonotonic at: UInt64) {
        pthread_mutex_lock(&mutex)
        let pending = slots.contains { $0 == nil }
        if pending && Monotonic.nanoseconds() < at {
            var ts = timespec(tv_sec: Int(at / 1_000_000_000), tv_nsec: Int(at % 1_000_000_000))
            _ = pthread_cond_timedwait(&condition, &mutex, &ts)
        }
        pthread_mutex_unlock(&mutex)
    }
}

/// A detached POSIX thread running a closure.
enum WorkerThread {
    final class Box {
        let body: () -> Void
        init(_ body: @escaping () -> Void) { self.body = body }
    }

    static func spawn(_ body: @escaping @Sendable () -> Void) -> Bool {
        let box = Unmanaged.passRetained(Box(body)).toOpaque()
        var thread = pthread_t()
        var attributes = pthread_attr_t()
        pthread_attr_init(&attributes)
        pthread_attr_setdetachstate(&attributes, Int32(PTHREAD_CREATE_DETACHED))
        defer { pthread_attr_destroy(&attributes) }
        let rc = pthread_create(&thread, &attributes, { raw in
            let box = Unmanaged<Box>.fromOpaque(raw!).takeRetainedValue()
            box.body()
            return nil
        }, box)
        if rc != 0 {
            Unmanaged<Box>.fromOpaque(box).release()
            return false
        }
        return true
    }
}
