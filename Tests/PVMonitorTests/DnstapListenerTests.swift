import Foundation
import PVCore
import PVTestSupport
import Synchronization
import Testing
@testable import PVMonitor
#if canImport(Glibc)
import Glibc
#endif

/// The dnstap socket's slots against writers that misbehave, each a real Unix connection of this
/// test (short bounds: the daemon's are 5 s for a handshake, 60 s of silence, 64 slots). Which
/// writer is the DNS component is handed in per connection, in the order they connect.
@Suite(.serialized) struct DnstapListenerTests {
    typealias R = FrameStreamsReceiver

    /// A listener in a scratch directory, served in short steps on the test's thread.
    final class Harness {
        let directory = scratchDirectory()
        let listener: DnstapListener
        var drops: [String: Int] = [:]
        var problems: [String] = []
        var records = 0

        init(_ limits: DnstapListener.Limits, components: [Bool]) throws {
            let verdicts = Verdicts(components)
            listener = try DnstapListener(path: directory + "/dnstap.sock", limits: limits) { _ in verdicts.next() }
        }

        deinit { removeTree(directory) }

        func serve(_ seconds: Double) {
            let clock = AgentClock.system
            listener.serve(until: clock.monotonic() + seconds, clock: clock, stop: { false },
                           onRecord: { _ in self.records += 1 }, onDrop: { self.drops[$0.key, default: 0] += 1 },
                           onProblem: { self.problems.append($0) })
        }

        func connect(_ bytes: [UInt8] = []) throws -> Writer { try Writer(listener.path, bytes) }
    }

    /// Whether each connection, in the order accepted, is the DNS component's (then: it is).
    final class Verdicts: Sendable {
        let queue: Mutex<[Bool]>
        init(_ verdicts: [Bool]) { queue = Mutex(verdicts) }
        func next() -> Bool { queue.withLock { $0.isEmpty ? true : $0.removeFirst() } }
    }

    /// One writer's end of a connection.
    final class Writer {
        let fd: Int32
        init(_ path: String, _ bytes: [UInt8]) throws {
            fd = socket(AF_UNIX, Int32(SOCK_STREAM.rawValue) | Int32(SOCK_CLOEXEC.rawValue), 0)
            guard UnixSocketAddress.with(path, { connect(fd, $0, $1) }) == 0 else { throw PVError(.osError, "connect: \(errno)") }
            send(bytes)
        }
        deinit { close(fd) }
        func send(_ bytes: [UInt8]) {
            guard !bytes.isEmpty else { return }
            _ = bytes.withUnsafeBytes { Glibc.send(fd, $0.baseAddress, $0.count, Int32(MSG_NOSIGNAL)) }
        }
        /// The listener has closed its end (what it wrote before, ACCEPT, is read past).
        var isClosed: Bool {
            var chunk = [UInt8](repeating: 0, count: 256)
            while true {
                let n = recv(fd, &chunk, chunk.count, Int32(MSG_DONTWAIT))
                if n == 0 { return true }
                if n < 0 { return errno != EAGAIN }
            }
        }
    }

    var handshake: [UInt8] { R.control(.ready, contentType: R.dnstapContentType) + R.control(.start, contentType: nil) }
    static let query = R.dataFrame(DnstapDecoderTests.frame(.authQuery, dns: DnstapDecoderTests.dns([Array("www".utf8), Array("example".utf8)], type: 1)))

    @Test func aHandshakeNotFinishedInTimeIsClosedAndAStreamIsNot() throws {
        let h = try Harness(.init(handshakeSeconds: 0.3), components: [true, true])
        let slow = try h.connect(Array(R.control(.ready, contentType: R.dnstapContentType).prefix(5)))
        let knot = try h.connect(handshake + Self.query)
        h.serve(0.1)
        #expect(!slow.isClosed && !knot.isClosed)
        h.serve(0.4)
        #expect(slow.isClosed && !knot.isClosed)
        #expect(h.drops == [DnstapStreamDrop.noHandshake.rawValue: 1] && h.records == 1, "\(h.drops)")
        #expect(h.problems.contains { $0.contains("no Frame Streams handshake within 0.3 s") && $0.contains("pid \(getpid())") }, "\(h.problems)")
    }

    @Test func theComponentTakesTheSlotOfAnUnfinishedHandshakeAndNeverGivesItsStreamAway() throws {
        // Two slots: a foreign writer stuck in its handshake and the component's stream.
        let h = try Harness(.init(maxConnections: 2, handshakeSeconds: 30), components: [false, true, true, false, true])
        let stuck = try h.connect([0, 0])
        let knot = try h.connect(handshake)
        h.serve(0.1)
        // The component's restarted Knot: the stuck writer gives way.
        let again = try h.connect(handshake + Self.query)
        h.serve(0.1)
        #expect(stuck.isClosed && !knot.isClosed && !again.isClosed)
        // Now two streams of the component: neither gives way, to a foreign writer or to the component.
        let foreign = try h.connect(handshake)
        let third = try h.connect(handshake)
        h.serve(0.1)
        #expect(foreign.isClosed && third.isClosed && !knot.isClosed && !again.isClosed)
        #expect(h.drops == [DnstapStreamDrop.evicted.rawValue: 1, DnstapStreamDrop.tooManyConnections.rawValue: 2], "\(h.drops)")
        #expect(h.records == 1)
    }

    @Test func aForeignWriterGivesWayOnlyToAnotherAndTheirNumberIsCapped() throws {
        let h = try Harness(.init(maxConnections: 3, maxForeign: 2, handshakeSeconds: 30), components: [true, false, false, false, true, false])
        let knotStarting = try h.connect([0, 0])
        let foreignStream = try h.connect(handshake)
        let foreignStuck = try h.connect([0])
        h.serve(0.1)
        // Full. A third foreign writer: over the foreign cap, refused.
        let capped = try h.connect(handshake)
        h.serve(0.1)
        #expect(capped.isClosed && !knotStarting.isClosed && !foreignStream.isClosed && !foreignStuck.isClosed)
        // The component: the foreign unfinished handshake gives way before the component's own.
        let knot = try h.connect(handshake)
        h.serve(0.1)
        #expect(foreignStuck.isClosed && !knotStarting.isClosed && !knot.isClosed)
        // A foreign writer while full: only a foreign unfinished handshake could give way; none.
        let late = try h.connect(handshake)
        h.serve(0.1)
        #expect(late.isClosed && !knotStarting.isClosed && !foreignStream.isClosed)
        #expect(h.drops == [DnstapStreamDrop.tooManyConnections.rawValue: 2, DnstapStreamDrop.evicted.rawValue: 1], "\(h.drops)")
    }

    @Test func silenceClosesAForeignWriterAndAStuckFrameNeverTheComponentBetweenFrames() throws {
        let h = try Harness(.init(handshakeSeconds: 30, silentSeconds: 0.3), components: [true, false, true])
        let quietKnot = try h.connect(handshake + Self.query)
        let foreign = try h.connect(handshake)
        let stuck = try h.connect(handshake + Array(Self.query.prefix(6)))
        h.serve(0.1)
        #expect(!quietKnot.isClosed && !foreign.isClosed && !stuck.isClosed)
        h.serve(0.5)
        #expect(!quietKnot.isClosed && foreign.isClosed && stuck.isClosed)
        #expect(h.drops == [DnstapStreamDrop.silent.rawValue: 2], "\(h.drops)")
        #expect(h.problems.contains { $0.hasSuffix("in the middle of a frame") }, "\(h.problems)")
        // Still counted when it speaks again, however long it was quiet.
        quietKnot.send(Self.query)
        h.serve(0.1)
        #expect(h.records == 2)
    }

    /// The message's schema names the same fixed set, so that ProVision can rely on it.
    @Test func theSchemaListsEveryDropKind() throws {
        let schema = URL(fileURLWithPath: #filePath).deletingLastPathComponent().deletingLastPathComponent().deletingLastPathComponent()
            .appendingPathComponent("Bundle/monitoring.schema.json")
        let doc = try JSONSerialization.jsonObject(with: Data(contentsOf: schema)) as? [String: Any]
        let dns = ((doc?["properties"] as? [String: Any])?["dns"] as? [String: Any])?["properties"] as? [String: Any]
        let names = ((dns?["drops"] as? [String: Any])?["propertyNames"] as? [String: Any])?["enum"] as? [String]
        #expect(names == DnstapDropReason.allKeys)
    }

    @Test func everyContentTypeIsOneKindAndItsTextIsEscaped() throws {
        let h = try Harness(.init(), components: [])
        for i in 0..<20 {
            let writer = try h.connect(R.control(.ready, contentType: "protobuf:hostile.\(i)\nforged line \(i)"))
            h.serve(0.02)
            #expect(writer.isClosed)
        }
        #expect(h.drops == [DnstapStreamDrop.otherContentType.rawValue: 20], "\(h.drops.keys.prefix(3))")
        #expect(h.problems.count == 20 && h.problems.allSatisfy { !$0.contains("\n") && $0.contains(#"\x0Aforged line"#) }, "\(h.problems.prefix(2))")
        #expect(Set(h.drops.keys).isSubset(of: DnstapDropReason.allKeys))
    }
}
