/// Frame Streams (fstrm), the receiving side of a bidirectional stream as Knot's mod-dnstap
/// writes it to a Unix socket: the sender's READY (content types offered) is answered with ACCEPT
/// (the one we take), then START, length-prefixed data frames, and STOP, answered with FINISH.
/// Pure bytes in, events out: the socket loop, the tests and the fuzz target drive the same code.
/// (libfstrm has no receiving side for a socket: fstrm_capture carries its own, so this is ours.)
public struct FrameStreamsReceiver: Sendable {
    /// The frames a receiver of dnstap takes.
    public static let dnstapContentType = "protobuf:dnstap.Dnstap"
    /// fstrm's bounds: a control frame is at most 512 bytes; a data frame is bounded by us.
    public static let maxControlFrame = 512

    public enum ControlType: UInt32, Sendable {
        case accept = 1, start = 2, stop = 3, ready = 4, finish = 5
    }

    public enum Event: Sendable, Equatable {
        /// Bytes to write back to the sender (ACCEPT after READY, FINISH after STOP).
        case reply([UInt8])
        /// One data frame's payload (a dnstap protobuf message).
        case frame([UInt8])
        /// The sender stopped cleanly: close the connection.
        case finished
    }

    public enum Failure: Error, Sendable, Equatable, CustomStringConvertible {
        case unexpectedControl(ControlType, expected: String)
        case unknownControl(UInt32)
        case controlTooLong(Int)
        case malformedControl(String)
        case contentTypeNotOffered([String])
        case frameTooLong(Int)
        case dataBeforeStart

        public var description: String {
            switch self {
            case .unexpectedControl(let type, let expected): return "control frame \(type) where \(expected) was expected"
            case .unknownControl(let type): return "unknown control frame type \(type)"
            case .controlTooLong(let n): return "control frame of \(n) bytes (at most \(FrameStreamsReceiver.maxControlFrame))"
            case .malformedControl(let why): return "malformed control frame: \(why)"
            case .contentTypeNotOffered(let offered):
                return "the sender offers \(offered.isEmpty ? "no content type" : offered.joined(separator: ", ")), not \(FrameStreamsReceiver.dnstapContentType)"
            case .frameTooLong(let n): return "data frame of \(n) bytes (over the limit)"
            case .dataBeforeStart: return "a data frame before START"
            }
        }

        /// The fixed kind a sample counts it under: the description names what the sender sent
        /// (its content types), which must never become a key of its own.
        public var kind: DnstapStreamDrop {
            switch self {
            case .contentTypeNotOffered: return .otherContentType
            case .unexpectedControl, .unknownControl, .controlTooLong, .malformedControl: return .badControlFrame
            case .frameTooLong: return .frameTooLong
            case .dataBeforeStart: return .dataBeforeStart
            }
        }
    }

    enum State: Sendable { case awaitingReady, awaitingStart, streaming, finished }

    var state = State.awaitingReady
    var buffer: [UInt8] = []
    var offset = 0
    public let maxFrame: Int

    public init(maxFrame: Int = 1 << 20) { self.maxFrame = maxFrame }

    /// The handshake is done (READY answered, START read) and the stream not ended.
    public var isStreaming: Bool { state == .streaming }
    /// Part of a frame has come and the rest not: a sender that goes silent now is stuck.
    public var hasPartialFrame: Bool { buffer.count > offset }

    /// Takes what the socket read; returns what it completes, in order. A failure ends the stream
    /// (the caller closes the connection and counts the reason).
    public mutating func feed(_ bytes: [UInt8]) throws(Failure) -> [Event] {
        buffer.append(contentsOf: bytes)
        var events: [Event] = []
        while state != .finished, let length = readUInt32(at: offset) {
            if length == 0 {
                // Escape: a control frame follows, with its own length.
                guard let controlLength = readUInt32(at: offset + 4) else { break }
                guard controlLength <= UInt32(Self.maxControlFrame) else { throw .controlTooLong(Int(controlLength)) }
                guard buffer.count - offset >= 8 + Int(controlLength) else { break }
                let control = Array(buffer[(offset + 8)..<(offset + 8 + Int(controlLength))])
                offset += 8 + Int(controlLength)
                events += try handleControl(control)
            } else {
                guard Int(length) <= maxFrame else { throw .frameTooLong(Int(length)) }
                guard state == .streaming else { throw .dataBeforeStart }
                guard buffer.count - offset >= 4 + Int(length) else { break }
                events.append(.frame(Array(buffer[(offset + 4)..<(offset + 4 + Int(length))])))
                offset += 4 + Int(length)
            }
        }
        // Keep only what is not consumed (bounded: at most one frame and its header).
        if offset > 0 && (offset >= 1 << 16 || offset == buffer.count) {
            buffer.removeFirst(offset)
            offset = 0
        }
        return events
    }

    mutating func handleControl(_ control: [UInt8]) throws(Failure) -> [Event] {
        guard control.count >= 4 else { throw .malformedControl("\(control.count) bytes, no type") }
        let raw = UInt32(control[0]) << 24 | UInt32(control[1]) << 16 | UInt32(control[2]) << 8 | UInt32(control[3])
        guard let type = ControlType(rawValue: raw) else { throw .unknownControl(raw) }
        let types = try Self.contentTypes(Array(control[4...]))
        switch (state, type) {
        case (.awaitingReady, .ready):
            guard types.contains(Self.dnstapContentType) else { throw .contentTypeNotOffered(types) }
            state = .awaitingStart
            return [.reply(Self.control(.accept, contentType: Self.dnstapContentType))]
        case (.awaitingStart, .start):
            // START may name the content type; if it does, it must be the accepted one.
            guard types.isEmpty || types == [Self.dnstapContentType] else { throw .contentTypeNotOffered(types) }
            state = .streaming
            return []
        case (.streaming, .stop):
            state = .finished
            return [.reply(Self.control(.finish, contentType: nil)), .finished]
        default:
            let expected = state == .awaitingReady ? "READY" : state == .awaitingStart ? "START" : "STOP or data"
            throw .unexpectedControl(type, expected: expected)
        }
    }

    /// The CONTENT_TYPE fields (type 1) of a control frame's body.
    static func contentTypes(_ fields: [UInt8]) throws(Failure) -> [String] {
        var types: [String] = []
        var i = 0
        while i < fields.count {
            guard fields.count - i >= 8 else { throw .malformedControl("a field header cut short") }
            let fieldType = be32(fields, i), length = Int(be32(fields, i + 4))
            guard length <= 256, fields.count - i - 8 >= length else { throw .malformedControl("a field of \(length) bytes") }
            if fieldType == 1 { types.append(String(decoding: fields[(i + 8)..<(i + 8 + length)], as: UTF8.self)) }
            i += 8 + length
        }
        return types
    }

    /// An escaped control frame, as the other side expects it.
    public static func control(_ type: ControlType, contentType: String?) -> [UInt8] {
        var body = bytes32(type.rawValue)
        if let contentType {
            body += bytes32(1) + bytes32(UInt32(contentType.utf8.count)) + Array(contentType.utf8)
        }
        return bytes32(0) + bytes32(UInt32(body.count)) + body
    }

    /// A data frame, as a sender writes it (for tests and the bench's stand-in sender).
    public static func dataFrame(_ payload: [UInt8]) -> [UInt8] { bytes32(UInt32(payload.count)) + payload }

    func readUInt32(at index: Int) -> UInt32? {
        guard buffer.count - index >= 4 else { return nil }
        return Self.be32(buffer, index)
    }

    static func be32(_ b: [UInt8], _ i: Int) -> UInt32 {
        UInt32(b[i]) << 24 | UInt32(b[i + 1]) << 16 | UInt32(b[i + 2]) << 8 | UInt32(b[i + 3])
    }

    static func bytes32(_ v: UInt32) -> [UInt8] { [UInt8(v >> 24), UInt8(v >> 16 & 0xff), UInt8(v >> 8 & 0xff), UInt8(v & 0xff)] }
}
