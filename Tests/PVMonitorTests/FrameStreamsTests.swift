import Testing
@testable import PVMonitor

/// The receiving side of Frame Streams, as Knot's mod-dnstap speaks it.
@Suite struct FrameStreamsTests {
    typealias R = FrameStreamsReceiver

    var handshake: [UInt8] {
        R.control(.ready, contentType: R.dnstapContentType) + R.control(.start, contentType: R.dnstapContentType)
    }

    @Test func theHandshakeIsAnsweredAndFramesComeOutWhole() throws {
        var r = R()
        let stream = handshake + R.dataFrame([1, 2, 3]) + R.dataFrame(Array(repeating: 7, count: 300)) + R.control(.stop, contentType: nil)
        let events = try r.feed(stream)
        #expect(events == [.reply(R.control(.accept, contentType: R.dnstapContentType)), .frame([1, 2, 3]),
                           .frame(Array(repeating: 7, count: 300)), .reply(R.control(.finish, contentType: nil)), .finished])
    }

    @Test func bytesArrivingOneAtATimeGiveTheSameFrames() throws {
        var r = R()
        let stream = handshake + R.dataFrame([9, 8]) + R.dataFrame([7]) + R.control(.stop, contentType: nil)
        var frames: [[UInt8]] = []
        for byte in stream {
            for case .frame(let f) in try r.feed([byte]) { frames.append(f) }
        }
        #expect(frames == [[9, 8], [7]])
    }

    @Test func anotherContentTypeIsRefusedNamingIt() {
        var r = R()
        #expect(throws: R.Failure.contentTypeNotOffered(["protobuf:other"])) {
            try r.feed(R.control(.ready, contentType: "protobuf:other"))
        }
    }

    /// However many content types senders offer, a refusal is counted under one fixed kind.
    @Test func eachFailureHasAFixedKind() {
        #expect(R.Failure.contentTypeNotOffered(["a\nb"]).kind == .otherContentType)
        #expect(R.Failure.contentTypeNotOffered([]).kind == .otherContentType)
        #expect(R.Failure.unknownControl(99).kind == .badControlFrame && R.Failure.controlTooLong(600).kind == .badControlFrame)
        #expect(R.Failure.frameTooLong(1 << 30).kind == .frameTooLong && R.Failure.dataBeforeStart.kind == .dataBeforeStart)
    }

    @Test func dataBeforeStartAndOversizedFramesAreRefused() {
        var early = R()
        #expect(throws: R.Failure.dataBeforeStart) { try early.feed(R.control(.ready, contentType: R.dnstapContentType) + R.dataFrame([1])) }
        var big = R(maxFrame: 100)
        #expect(throws: R.Failure.frameTooLong(101)) { try big.feed(handshake + R.dataFrame(Array(repeating: 0, count: 101))) }
    }

    @Test func aHugeControlLengthIsRefusedBeforeWaitingForIt() {
        var r = R()
        #expect(throws: R.Failure.controlTooLong(0x10000)) { try r.feed([0, 0, 0, 0, 0, 1, 0, 0]) }
    }
}

/// Space-Saving: bounded memory, exact while the names fit, and the heavy hitters kept under a flood.
@Suite struct HeavyHittersTests {
    @Test func exactWhileTheNamesFit() {
        var h = HeavyHitters<String>(capacity: 10)
        for (name, n) in [("a", 5), ("b", 3), ("c", 1)] { for _ in 0..<n { h.add(name) } }
        #expect(h.top(3).map { "\($0.key) \($0.count) \($0.error)" } == ["a 5 0", "b 3 0", "c 1 0"])
        #expect(h.other == 0 && h.total == 9)
    }

    @Test func aRandomNameFloodStaysWithinTheCapAndKeepsTheHeavyHitter() {
        var h = HeavyHitters<String>(capacity: 100)
        var generator = SystemRandomNumberGenerator()
        for i in 0..<50_000 {
            h.add("x\(UInt64.random(in: 0...UInt64.max, using: &generator)).example.")
            if i % 10 == 0 { h.add("www.example.") }  // 5,000 hits: far over total/capacity
        }
        #expect(h.count == 100, "memory is bounded by the capacity")
        let top = h.top(1).first
        #expect(top?.key == "www.example.")
        #expect((top?.guaranteed ?? 0) <= 5_000 && (top?.count ?? 0) >= 5_000, "never under the true count; the guarantee never over it")
        #expect(h.total == 55_000 && h.other >= 50_000 - 100)
    }

    /// The last access rides with the key: a kept key has its latest, a key that takes an evicted
    /// one's place has its own (never the evicted key's), and nothing else is kept for it.
    @Test func theLastAccessIsTheKeysOwn() {
        var h = HeavyHitters<String>(capacity: 2)
        h.add("a", at: 10)
        h.add("a", at: 12)
        h.add("b", at: 11)
        h.add("c", at: 20)  // takes b's place (b had the fewest)
        #expect(h.entry("a")?.lastSeen == 12)
        #expect(h.entry("b") == nil)
        #expect(h.entry("c")?.lastSeen == 20 && h.entry("c")?.error == 1)
        h.add("a")  // an add without a time keeps the one known
        #expect(h.entry("a")?.lastSeen == 12 && h.entry("a")?.count == 3)
    }
}
