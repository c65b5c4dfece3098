import PVCore
import Testing
@testable import PVHeartbeat

/// The retry and time-budget rules, on a fake clock: no socket, no waiting.
@Suite struct HeartbeatSenderTests {
    func sender(_ transport: FakeTransport, total: Double = 10, connect: Double = 3) -> HeartbeatSender {
        let clock = transport.clock
        return HeartbeatSender(transport: transport, url: "https://p.example/api/v1/heartbeat", token: "tok", caFile: "/ca.pem",
                               totalTimeout: total, connectTimeout: connect, now: { clock.now }, sleep: { clock.advance($0) })
    }

    @Test func requestCarriesTokenTypeCAAndBounds() {
        let r = sender(FakeTransport([], clock: FakeClock())).request(body: [1], timeout: 4.75)
        #expect(r.method == "POST")
        #expect(r.headers == [HTTPHeader("Authorization", "Bearer tok"), HTTPHeader("Content-Type", "application/json")])
        #expect(r.caFile == "/ca.pem")
        #expect(r.totalTimeout == 4.75 && r.connectTimeout == 3)
        #expect(sender(FakeTransport([], clock: FakeClock())).request(body: [], timeout: 1).connectTimeout == 1)
    }

    @Test func acceptedAtOnce() {
        let t = FakeTransport([.status(200, "OK", seconds: 0.004)], clock: FakeClock())
        let d = sender(t).send(body: [])
        #expect(d.attempts.count == 1)
        guard case .accepted(let r) = d.result else { Issue.record("\(d.result)"); return }
        #expect(r.status == 200)
    }

    @Test func rejectedIsNeverRetried() {
        let t = FakeTransport([.status(401, "Unauthorized", seconds: 0.01), .status(200, "OK", seconds: 0)], clock: FakeClock())
        let d = sender(t).send(body: [])
        #expect(t.count == 1)
        guard case .rejected(let r) = d.result else { Issue.record("\(d.result)"); return }
        #expect(r.status == 401)
    }

    @Test func serverErrorIsRetriedOnce() {
        let t = FakeTransport([.status(500, "Internal Server Error", seconds: 0.01), .status(503, "Unavailable", seconds: 0.01),
                               .status(200, "OK", seconds: 0)], clock: FakeClock())
        let d = sender(t).send(body: [])
        #expect(t.count == 2)
        guard case .serverError(let r) = d.result else { Issue.record("\(d.result)"); return }
        #expect(r.status == 503)
        #expect(d.attempts.map(\.outcome) == ["500 Internal Server Error", "503 Unavailable"])
    }

    @Test func retrySucceedsAfterATransientFailure() {
        let t = FakeTransport([.error(.connectionLost, seconds: 0.01), .status(200, "OK", seconds: 0.01)], clock: FakeClock())
        let d = sender(t).send(body: [])
        guard case .accepted = d.result else { Issue.record("\(d.result)"); return }
        #expect(d.attempts.count == 2)
    }

    /// A beat that failed on the way (no name, no connection, no answer in time, a reset) may pass
    /// on a second try; one the request or the server's certificate doomed will not.
    @Test(arguments: [(HTTPError.Kind.resolveFailed, 2), (.connectFailed, 2), (.timedOut, 2), (.connectionLost, 2),
                      (.invalidRequest, 1), (.tlsFailed, 1), (.responseTooLarge, 1), (.other, 1)])
    func onlyFailuresOnTheWayAreRetried(kind: HTTPError.Kind, attempts: Int) {
        let t = FakeTransport([.error(kind, seconds: 0.01), .status(200, "OK", seconds: 0.01)], clock: FakeClock())
        let d = sender(t).send(body: [])
        #expect(t.count == attempts, "\(kind)")
        if attempts == 2 { guard case .accepted = d.result else { Issue.record("\(d.result)"); return } }
    }

    @Test func tlsFailureIsNotRetried() {
        let t = FakeTransport([.error(.tlsFailed, seconds: 0.01), .status(200, "OK", seconds: 0)], clock: FakeClock())
        let d = sender(t).send(body: [])
        #expect(t.count == 1)
        guard case .failed(let e) = d.result else { Issue.record("\(d.result)"); return }
        #expect(e.kind == .tlsFailed)
    }

    @Test(arguments: [2.0, 10.0, 25.0])
    func aHangingServerIsLeftWithinTheTotalTimeout(total: Double) {
        let clock = FakeClock()
        let start = clock.now
        let t = FakeTransport([.hang, .hang, .hang], clock: clock)
        let d = sender(t, total: total).send(body: [])
        #expect(t.count == 2, "one retry")
        #expect(clock.now - start <= total + 1e-9, "gave up after \(clock.now - start) s")
        #expect(clock.now - start >= total - 0.01, "used the budget")
        #expect(t.requests.allSatisfy { $0.totalTimeout >= HeartbeatSender.minimumAttemptSeconds })
        guard case .failed(let e) = d.result else { Issue.record("\(d.result)"); return }
        #expect(e.kind == .timedOut)
    }

    @Test func noRetryWhenTheBudgetIsSpent() {
        let t = FakeTransport([.error(.connectFailed, seconds: 9.2), .status(200, "OK", seconds: 0)], clock: FakeClock())
        let d = sender(t).send(body: [])
        #expect(t.count == 1)
        #expect(d.attempts.count == 1)
    }
}
