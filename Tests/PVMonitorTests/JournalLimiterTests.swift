import Testing
@testable import PVMonitor

/// Journal lines a peer provokes at will: a few per window, the rest counted in one line.
@Suite struct JournalLimiterTests {
    @Test func aWindowsShareIsPrintedAndTheRestSaidOnceItHasPassed() {
        let limiter = JournalLimiter(subject: "dnstap connection lines", perWindow: 2, window: 10, now: 100)
        let early = (0..<5).flatMap { limiter.admit("line \($0)", now: 100 + Double($0)) }
        #expect(early == ["line 0", "line 1"])
        #expect(limiter.flush(now: 109).isEmpty)
        #expect(limiter.flush(now: 111) == ["pv_monitor: 3 more dnstap connection lines not shown (at most 2 in 10 s; the samples count what they were about)"])
        #expect(limiter.admit("line 5", now: 112) == ["line 5"])
        // A window without held-back lines says nothing when it passes.
        #expect(limiter.flush(now: 200).isEmpty)
        let next = (0..<3).flatMap { limiter.admit("again \($0)", now: 201) }
        #expect(next == ["again 0", "again 1"])
        #expect(limiter.admit("later", now: 215) == ["pv_monitor: 1 more dnstap connection lines not shown (at most 2 in 10 s; the samples count what they were about)", "later"])
    }
}
