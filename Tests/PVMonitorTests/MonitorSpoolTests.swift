import Foundation
import Testing
import PVAMQP
import PVCore
import PVTestSupport
@testable import PVMonitor

/// The spool of unconfirmed samples: durable files, oldest first, bounded by size with the dropped
/// samples counted into the next message, and what an earlier run left read back.
@Suite struct MonitorSpoolTests {
    func body(_ n: Int, size: Int = 100) -> [UInt8] { Array("{\"n\":\(n)}".utf8) + [UInt8](repeating: 0x20, count: size) }

    @Test func samplesComeBackOldestFirstAndGoOnlyWhenRemoved() throws {
        let dir = scratchDirectory()
        defer { removeTree(dir) }
        let spool = try MonitorSpool(directory: dir + "/spool", maxBytes: 1 << 20)
        for n in [3, 1, 2] { try spool.add(sequence: UInt64(n), carried: 0, body: body(n)) }
        #expect(spool.oldest(2).map(\.entry.sequence) == [1, 2])
        #expect(spool.oldest(1).first?.body == body(1))
        spool.remove(spool.entries[0])
        #expect(spool.entries.map(\.sequence) == [2, 3])
        // A new run finds what is left, in order, and nothing half-written.
        _ = FileManager.default.createFile(atPath: dir + "/spool/00000000000000000009.0.json.tmp.99999", contents: Data("{".utf8))
        let again = try MonitorSpool(directory: dir + "/spool", maxBytes: 1 << 20)
        #expect(again.entries.map(\.sequence) == [2, 3] && again.depth == 2)
    }

    @Test func aFullSpoolDropsTheOldestAndTheNextMessageCarriesTheCount() throws {
        let dir = scratchDirectory()
        defer { removeTree(dir) }
        let spool = try MonitorSpool(directory: dir + "/spool", maxBytes: 1000)
        for n in 1...9 { try spool.add(sequence: UInt64(n), carried: spool.dropped, body: body(n)) }
        // About 110 bytes each: 9 fit in 1000, then each new one pushes the oldest out.
        #expect(spool.depth == 9 && spool.dropped == 0)
        try spool.add(sequence: 10, carried: spool.dropped, body: body(10))
        #expect(spool.entries.first?.sequence == 2 && spool.dropped == 1, "sample 1 went to make room for 10")
        // Sample 11 carries that 1 (and sample 2 goes for it: the next one will carry that).
        try spool.add(sequence: 11, carried: spool.dropped, body: body(11))
        #expect(spool.entries.first?.sequence == 3 && spool.totalBytes <= 1000)
        #expect(spool.entries.last?.carried == 1 && spool.dropped == 1 && spool.droppedTotal == 2)
        // The pending count survives a restart.
        #expect(try MonitorSpool(directory: dir + "/spool", maxBytes: 1000).dropped == 1)
        // A dropped sample that carried a count hands it on: nothing is lost from the total.
        for n in 13...21 { try spool.add(sequence: UInt64(n), carried: spool.dropped, body: body(n)) }
        let carriedInSpool = spool.entries.reduce(0) { $0 + $1.carried }
        #expect(carriedInSpool + spool.dropped == spool.droppedTotal, "\(spool.entries.map(\.carried)) + \(spool.dropped) vs \(spool.droppedTotal)")
    }
}

/// The delivery: spooled first, confirmed before removed, in order, with a growing wait after failures.
@Suite struct MonitorDeliveryTests {
    final class ScriptedPublisher: SamplePublishing {
        var delivered: [String] = []
        /// How many of the next batch to confirm before failing (nil: all).
        var confirmOnly: Int?
        /// The broker blocks publishers: each call confirms nothing and says so (after `blockedCall`, when set).
        var blocked = false
        var blockedCall: (() -> Void)?
        var calls = 0
        func publish(_ messages: [(id: String, body: [UInt8])], timeout: Double) -> (confirmed: Int, error: AMQPError?) {
            calls += 1
            if blocked {
                blockedCall?()
                return (0, AMQPError(.blocked, phase: .channel, "the broker blocks publishers (its alarm: memory)"))
            }
            if let n = confirmOnly {
                delivered += messages.prefix(n).map(\.id)
                return (min(n, messages.count), AMQPError(.timedOut, phase: .channel, "t did not confirm"))
            }
            delivered += messages.map(\.id)
            return (messages.count, nil)
        }
        func close(within seconds: Double) {}
    }

    func sample(_ n: UInt64) -> MonitorSample {
        MonitorSample(resourceID: "rid", sequence: n, start: 1_795_000_000, end: 1_795_000_010,
                      dns: .init(queries: n, responses: 0, records: [], other: 0, distinctKept: 0, drops: [:]), dnstapConnections: 1)
    }

    @Test func samplesWaitInTheSpoolWhileTheBrokerIsAwayThenArriveInOrder() throws {
        let dir = scratchDirectory()
        defer { removeTree(dir) }
        let clock = TestClock()
        let broker = ScriptedPublisher()
        var up = false
        var opens = 0
        let delivery = MonitorDelivery(spool: try MonitorSpool(directory: dir, maxBytes: 1 << 20), broker: "amqp://u@h:5672/%2F",
                                       clock: clock.agentClock, batchSize: 2, jitter: { 1 }) { _ in
            opens += 1
            return up ? .success(broker) : .failure(AMQPError(.authFailed, phase: .login, "h:5672 refused the login of user 'u'"))
        }
        for n: UInt64 in 1...3 {
            try delivery.record(sample(n), host: "h")
            delivery.deliver(budget: 5, resourceID: "rid")
            clock.advance(1)
        }
        // Tried at 1000 s, then waits 1 s, 2 s: tries at 1001 (fails), not at 1002.
        #expect(opens == 2 && delivery.spool.depth == 3)
        #expect(delivery.status.problem?.contains("refused the login of user 'u'") == true, "\(delivery.status)")
        #expect(delivery.status.spoolDepth == 3 && delivery.status.lastConfirm == nil)
        up = true
        clock.advance(2)
        try delivery.record(sample(4), host: "h")
        delivery.deliver(budget: 5, resourceID: "rid")
        #expect(broker.delivered == ["rid-1", "rid-2", "rid-3", "rid-4"] && delivery.spool.depth == 0)
        #expect(delivery.status.problem == nil && delivery.status.lastConfirm != nil)
    }

    @Test func onlyConfirmedSamplesLeaveTheSpool() throws {
        let dir = scratchDirectory()
        defer { removeTree(dir) }
        let clock = TestClock()
        let broker = ScriptedPublisher()
        broker.confirmOnly = 1
        let delivery = MonitorDelivery(spool: try MonitorSpool(directory: dir, maxBytes: 1 << 20), broker: "b",
                                       clock: clock.agentClock, jitter: { 1 }) { _ in .success(broker) }
        for n: UInt64 in 1...3 { try delivery.record(sample(n), host: "h") }
        delivery.deliver(budget: 5, resourceID: "rid")
        #expect(delivery.spool.entries.map(\.sequence) == [2, 3], "one confirmed, two kept")
        broker.confirmOnly = nil
        clock.advance(1.5)
        delivery.deliver(budget: 5, resourceID: "rid")
        #expect(broker.delivered == ["rid-1", "rid-2", "rid-3"] && delivery.spool.depth == 0)
    }

    /// A broker that cannot be reached is tried every second (a TCP connect), however long it is
    /// away: one that comes back is used at once. Once it answers TCP and then fails, the backoff
    /// starts over from 1 s.
    @Test func aBrokerThatCannotBeReachedIsTriedEverySecondAndItsReturnStartsTheBackoffOver() throws {
        let dir = scratchDirectory()
        defer { removeTree(dir) }
        let clock = TestClock()
        var answer: AMQPError = AMQPError(.refused, phase: .connect, "nothing accepts connections on h:5672")
        var attempts: [Double] = []
        let delivery = MonitorDelivery(spool: try MonitorSpool(directory: dir, maxBytes: 1 << 20), broker: "amqp://u@h:5672/%2F",
                                       clock: clock.agentClock, jitter: { 1 }) { _ in
            attempts.append(clock.agentClock.monotonic())
            return .failure(answer)
        }
        try delivery.record(sample(1), host: "h")
        let start = clock.agentClock.monotonic()
        for _ in 0..<120 {
            delivery.deliver(budget: 5, resourceID: "rid")
            clock.advance(0.5)
        }
        // A minute away: a try every second, never the backoff's 60 s.
        #expect(attempts.count == 60 && attempts.last! - start == 59, "\(attempts.count) tries")
        #expect(delivery.status.problem?.contains("next try in 1 s") == true, "\(String(describing: delivery.status.problem))")
        // Back (TCP), but the login fails: 1 s, then 2 s, 4 s, as for any broker that answers.
        answer = AMQPError(.authFailed, phase: .login, "h:5672 refused the login of user 'u'")
        attempts.removeAll()
        let back = clock.agentClock.monotonic()
        for _ in 0..<20 {
            delivery.deliver(budget: 5, resourceID: "rid")
            clock.advance(0.5)
        }
        #expect(attempts.map { $0 - back } == [0, 1, 3, 7], "\(attempts.map { $0 - back })")
    }

    /// A broker that blocks publishers keeps the one connection (no new one is opened, no backoff)
    /// and the status says why; once it lifts the block the samples go on that connection.
    @Test func aBrokerThatBlocksKeepsTheOneConnectionAndSaysSo() throws {
        let dir = scratchDirectory()
        defer { removeTree(dir) }
        let clock = TestClock()
        let broker = ScriptedPublisher()
        broker.blocked = true
        // Each call of a blocked publisher waits (up to its bound) for the block to lift.
        broker.blockedCall = { clock.advance(5) }
        var opens = 0
        let delivery = MonitorDelivery(spool: try MonitorSpool(directory: dir, maxBytes: 1 << 20), broker: "amqp://u@h:5672/%2F",
                                       clock: clock.agentClock, jitter: { 1 }) { _ in
            opens += 1
            return .success(broker)
        }
        for n: UInt64 in 1...3 { try delivery.record(sample(n), host: "h") }
        delivery.deliver(budget: 30, resourceID: "rid")
        #expect(opens == 1 && broker.calls == 6 && delivery.spool.depth == 3, "opens \(opens), calls \(broker.calls)")
        let problem = delivery.status.problem ?? ""
        #expect(problem.contains("the broker blocks publishers (its alarm: memory)") && problem.contains("3 waiting"), "\(problem)")
        delivery.deliver(budget: 10, resourceID: "rid")
        #expect(opens == 1, "still the one connection")
        broker.blocked = false
        delivery.deliver(budget: 10, resourceID: "rid")
        #expect(opens == 1 && broker.delivered == ["rid-1", "rid-2", "rid-3"] && delivery.status.problem == nil)
    }

    @Test func aBlockedReasonNamesTheAlarm() {
        #expect(AMQPConnection.alarm("low on memory") == "memory")
        #expect(AMQPConnection.alarm("low on disk") == "disk")
        #expect(AMQPConnection.alarm("low on memory & disk") == "memory and disk")
        #expect(AMQPConnection.alarm("") == "not named")
        #expect(AMQPConnection.alarm("odd\nreason") == "oddreason")
    }

    @Test func theMessageCarriesTheFiguresAndTheDroppedCountNotTheDaemonsOwnState() throws {
        var s = sample(7)
        s.push = PushStatus(broker: "amqp://u@h:5672/%2F", problem: "x")
        let text = MonitorMessage.json(s, host: "dns1", droppedSamples: 3).rendered
        let doc = try JSONSerialization.jsonObject(with: Data(text.utf8)) as? [String: Any]
        #expect(doc?["schema"] as? String == "provision.monitoring/1" && doc?["host"] as? String == "dns1")
        #expect(doc?["sequence"] as? Int == 7 && doc?["dropped_samples"] as? Int == 3 && doc?["dns"] != nil)
        #expect(doc?["push"] == nil && doc?["pull"] == nil && doc?["history"] == nil)
    }
}
