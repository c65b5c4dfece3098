import Synchronization

/// Journal lines a peer can provoke at will (a writer that connects 3,000 times): at most
/// `perWindow` of them in each `window` seconds; the rest are counted, and said in one line once
/// their window has passed. The samples count every event anyway: the journal only tells what
/// they were. Safe from any thread (the dnstap reader's and the interval loop's).
public final class JournalLimiter: Sendable {
    struct State {
        var windowStart: Double
        var printed = 0
        var heldBack = 0
    }

    let state: Mutex<State>
    public let perWindow: Int
    public let window: Double
    /// What the held-back lines were about: "dnstap connection lines".
    public let subject: String

    public init(subject: String, perWindow: Int = 20, window: Double = 60, now: Double) {
        self.subject = subject
        self.perWindow = perWindow
        self.window = window
        state = Mutex(State(windowStart: now))
    }

    /// What to print for `line` at `now` (monotonic seconds): a window that passed with lines held
    /// back is said first; then the line itself, or nothing when its window has had its share.
    public func admit(_ line: String, now: Double) -> [String] {
        state.withLock { state in
            var out = close(&state, now: now)
            if state.printed < perWindow {
                state.printed += 1
                out.append(line)
            } else {
                state.heldBack += 1
            }
            return out
        }
    }

    /// The line about a passed window's held-back lines, if any (asked at each interval's end, so
    /// that it comes even when nothing more happens).
    public func flush(now: Double) -> [String] {
        state.withLock { close(&$0, now: now) }
    }

    func close(_ state: inout State, now: Double) -> [String] {
        guard now - state.windowStart >= window else { return [] }
        let heldBack = state.heldBack
        state = State(windowStart: now)
        guard heldBack > 0 else { return [] }
        let seconds = window == window.rounded() ? String(Int(window)) : String(window)
        return ["pv_monitor: \(heldBack) more \(subject) not shown (at most \(perWindow) in \(seconds) s; the samples count what they were about)"]
    }
}
