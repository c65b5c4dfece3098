/// The body of `GET /containers/{id}/logs`. For a container without a TTY
/// (ours) the engine multiplexes stdout and stderr into frames: an 8-byte
/// header (stream type 0/1/2, three zero bytes, a big-endian UInt32 payload
/// size) and the payload. With a TTY the body is the raw output. Engines with
/// API 1.42+ say which in the Content-Type; older ones (Debian's 20.10 speaks
/// 1.41) do not, so a body that does not parse as frames from start to end is
/// taken as raw.
public enum DockerLogStream {
    public enum Stream: UInt8, Sendable { case stdin = 0, stdout = 1, stderr = 2 }

    public struct Frame: Sendable, Equatable {
        public var stream: Stream
        public var payload: [UInt8]
        public init(stream: Stream, payload: [UInt8]) {
            self.stream = stream
            self.payload = payload
        }
    }

    public static let multiplexedContentType = "application/vnd.docker.multiplexed-stream"
    public static let rawContentType = "application/vnd.docker.raw-stream"

    /// The frames of a multiplexed body, or nil when it is not one (a bad
    /// stream type, non-zero padding, a frame running past the end).
    public static func frames(_ body: [UInt8]) -> [Frame]? {
        var frames: [Frame] = []
        var offset = 0
        while offset < body.count {
            guard body.count - offset >= 8, let stream = Stream(rawValue: body[offset]),
                  body[offset + 1] == 0, body[offset + 2] == 0, body[offset + 3] == 0 else { return nil }
            let size = Int(body[offset + 4]) << 24 | Int(body[offset + 5]) << 16 | Int(body[offset + 6]) << 8 | Int(body[offset + 7])
            let start = offset + 8
            guard size <= body.count - start else { return nil }
            frames.append(Frame(stream: stream, payload: Array(body[start..<start + size])))
            offset = start + size
        }
        return frames
    }

    /// The log as text in the order the engine sent it. Lines from stderr are
    /// marked, since a support engineer reads them first. `contentType` is the
    /// response's header, when the engine sent one.
    public static func text(_ body: [UInt8], contentType: String?) -> String {
        let type = contentType?.lowercased() ?? ""
        let parsed: [Frame]?
        if type.hasPrefix(rawContentType) {
            parsed = nil
        } else {
            parsed = frames(body)
        }
        guard let parsed else { return String(decoding: body, as: UTF8.self) }
        var out = ""
        // A frame is not a line: the engine may split a long line across frames,
        // so lines are assembled per stream before they are marked.
        var pending: [Stream: [UInt8]] = [:]
        func flush(_ stream: Stream, _ bytes: [UInt8]) {
            out += (stream == .stderr ? "stderr: " : "") + String(decoding: bytes, as: UTF8.self) + "\n"
        }
        for frame in parsed {
            var buffer = pending[frame.stream, default: []] + frame.payload
            while let newline = buffer.firstIndex(of: 10) {
                flush(frame.stream, Array(buffer[..<newline]))
                buffer.removeSubrange(...newline)
            }
            pending[frame.stream] = buffer
        }
        for stream in [Stream.stdin, .stdout, .stderr] {
            if let rest = pending[stream], !rest.isEmpty { flush(stream, rest) }
        }
        return out
    }
}
