#if canImport(FoundationEssentials)
import FoundationEssentials
#else
import Foundation
#endif
import PVCore
#if canImport(Glibc)
import Glibc
#endif

/// Kea's control socket (JSON over a Unix socket, one command per connection): the DHCP figures
/// of `statistic-get-all`, each statistic's latest value (packets received and sent by type,
/// addresses assigned and total per subnet and pool, allocation failures).
public enum KeaControl {
    public static let command = #"{ "command": "statistic-get-all", "arguments": { } }"#

    /// The statistics by name, or why there are none (said as "no monitoring data from dhcp: ...").
    /// The whole exchange (connect, request, answer) within `timeout` seconds, however the bytes
    /// come: a Kea that sends a byte every 1.5 s, or nothing, is a timeout naming its socket.
    public static func statistics(socket path: String, timeout: Double = 2) -> Result<[String: Int64], PVError> {
        guard path.utf8.count < 108 else { return .failure(PVError(.usage, "the Kea control socket path is too long")) }
        let deadline = Deadline(secondsFromNow: timeout)
        let fd = socket(AF_UNIX, Int32(SOCK_STREAM.rawValue) | Int32(SOCK_CLOEXEC.rawValue) | Int32(SOCK_NONBLOCK.rawValue), 0)
        guard fd >= 0 else { return .failure(PVError(.osError, "socket: \(String(cString: strerror(errno)))")) }
        defer { close(fd) }
        func timedOut(_ what: String) -> PVError {
            PVError(.unavailable, "Kea's control socket \(path) did not \(what) within \(KnotControl.seconds(timeout)) s")
        }
        // A Unix socket connects at once or not at all (EAGAIN: its backlog is full).
        let connected = UnixSocketAddress.with(path) { connect(fd, $0, $1) }
        guard connected == 0 else {
            return .failure(PVError(.unavailable, "cannot connect to Kea's control socket \(path): \(String(cString: strerror(errno)))"))
        }
        var request = Array(command.utf8)[...]
        while !request.isEmpty {
            guard wait(fd, for: POLLOUT, until: deadline) else { return .failure(timedOut("take statistic-get-all")) }
            let n = request.withUnsafeBytes { send(fd, $0.baseAddress, $0.count, Int32(MSG_NOSIGNAL)) }
            if n < 0 && (errno == EAGAIN || errno == EINTR) { continue }
            guard n > 0 else { return .failure(PVError(.unavailable, "cannot send to Kea's control socket \(path): \(String(cString: strerror(errno)))")) }
            request = request.dropFirst(n)
        }
        // Kea answers and closes: read until then, or until the answer parses, at most 8 MiB.
        var answer: [UInt8] = []
        var chunk = [UInt8](repeating: 0, count: 1 << 16)
        while answer.count < 8 << 20 {
            guard wait(fd, for: POLLIN, until: deadline) else {
                return .failure(timedOut(answer.isEmpty ? "answer statistic-get-all" : "finish its answer to statistic-get-all (\(answer.count) bytes by then)"))
            }
            let n = read(fd, &chunk, chunk.count)
            if n < 0 && (errno == EAGAIN || errno == EINTR) { continue }
            if n <= 0 { break }
            answer += chunk[0..<n]
            if (try? JSONDecoder().decode(Answer.self, from: Data(answer))) != nil { break }
        }
        return parse(answer)
    }

    /// Waits until `fd` is ready for `event` or the deadline passes (false).
    static func wait(_ fd: Int32, for event: Int32, until deadline: Deadline) -> Bool {
        while true {
            let remaining = deadline.remainingMilliseconds
            guard remaining > 0 else { return false }
            var entry = pollfd(fd: fd, events: Int16(event), revents: 0)
            let ready = poll(&entry, 1, Int32(clamping: remaining))
            if ready > 0 { return true }
            if ready < 0 && errno != EINTR { return true }  // the read or write says what is wrong
        }
    }

    struct Answer: Decodable {
        var result: Int
        var text: String?
        var arguments: [String: [[Value]]]?
    }

    /// A statistic's sample: `[value, "timestamp"]`.
    enum Value: Decodable {
        case number(Int64), text(String)
        init(from decoder: Decoder) throws {
            let c = try decoder.singleValueContainer()
            if let n = try? c.decode(Int64.self) { self = .number(n) } else { self = .text(try c.decode(String.self)) }
        }
    }

    public static func parse(_ bytes: [UInt8]) -> Result<[String: Int64], PVError> {
        guard let answer = try? JSONDecoder().decode(Answer.self, from: Data(bytes)) else {
            return .failure(PVError(.unavailable, "Kea's answer to statistic-get-all is not its JSON (\(bytes.count) bytes)"))
        }
        guard answer.result == 0 else {
            // Kea's own words, escaped and cut: they end up in pv_status and pv_diagnostics lines.
            return .failure(PVError(.unavailable, "Kea refused statistic-get-all (result \(answer.result): \(String((answer.text ?? "").prefix(200)).escapingControlsInline))"))
        }
        var figures: [String: Int64] = [:]
        for (name, samples) in answer.arguments ?? [:] {
            // Kea's names are printable ASCII; any other is left out rather than carried into a
            // table, a metric's help line or a log (a forged line).
            guard name.utf8.count <= 256, name.unicodeScalars.allSatisfy({ $0.value >= 0x20 && $0.value < 0x7f }) else { continue }
            // The newest sample comes first.
            if case .number(let value)? = samples.first?.first { figures[name] = value }
        }
        return .success(figures)
    }
}
