import Foundation
import PVCore

/// A clock that only moves when told to (or when something sleeps on it), so that timeouts and
/// retries are tested without waiting.
public final class TestClock: @unchecked Sendable {
    private let lock = NSLock()
    private var t: Double = 1000
    public init() {}
    public var now: Double { lock.withLock { t } }
    public func advance(_ seconds: Double) { lock.withLock { t += seconds } }

    /// As the tools see it: the wall clock on 2026-11-18, the monotonic one from 1000 s.
    public var agentClock: AgentClock {
        AgentClock(now: { [self] in 1_795_000_000 + now }, monotonic: { [self] in now }, sleep: { [self] in advance($0) })
    }
}

/// Keeps what a command prints, stdout and stderr apart.
public final class RecordedOutput: @unchecked Sendable {
    private let lock = NSLock()
    private var out: [String] = []
    private var err: [String] = []
    private var open = ""
    public init() {}

    public var lines: [String] { lock.withLock { out } }
    public var errors: [String] { lock.withLock { err } }

    public var sink: OutputSink {
        OutputSink(line: { [self] text in lock.withLock { out.append(open + text); open = "" } },
                   error: { [self] text in lock.withLock { err.append(text) } },
                   partial: { [self] text in lock.withLock { open += text } })
    }
}

extension AgentEnvironment {
    /// A unit test's environment: a scratch root, the given process runner, a test clock and a
    /// recorded output; nothing else of the host.
    public static func test(root: String, processes: any ProcessRunner, clock: TestClock = TestClock(),
                            output: RecordedOutput = RecordedOutput(), isRoot: Bool = false) -> AgentEnvironment {
        var env = AgentEnvironment.failing(root: InstallRoot(path: root))
        env.processes = processes
        env.clock = clock.agentClock
        env.output = output.sink
        env.effectiveUserID = isRoot ? 0 : 65534
        return env
    }
}

/// The error an operation throws, or nil when it succeeds.
public func failure(_ body: () throws(PVError) -> Void) -> PVError? {
    do { try body() } catch { return error }
    return nil
}
