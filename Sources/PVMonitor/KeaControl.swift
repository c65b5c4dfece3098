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
    public static func statistics(socket path: String, timeout: Double = 2) -> Result<[String: Int64], PVError> {
        guard path.utf8.count < 108 else { return .failure(PVError(.usage, "the Kea control socket path is too long")) }
        let fd = socket(AF_UNIX, Int32(SOCK_STREAM.rawValue) | Int32(SOCK_CLOEXEC.rawValue), 0)
        guard fd >= 0 else { return .failure(PVError(.osError, "socket: \(String(cString: strerror(errno)))")) }
        defer { close(fd) }
        var tv = timeval(tv_sec: Int(timeout), tv_usec: Int((timeout - Double(Int(timeout))) * 1e6))
        setsockopt(fd, SOL_SOCKET, SO_RCVTIMEO, &tv, socklen_t(MemoryLayout<timeval>.size))
        setsockopt(fd, SOL_SOCKET, SO_SNDTIMEO, &tv, socklen_t(MemoryLayout<timeval>.size))
        let connected = UnixSocketAddress.with(path) { connect(fd, $0, $1) }
        guard connected == 0 else {
            return .failure(PVError(.unavailable, "cannot connect to Kea's control socket \(path): \(String(cString: strerror(errno)))"))
        }
        let request = Array(command.utf8)
        guard request.withUnsafeBytes({ write(fd, $0.baseAddress, $0.count) }) == request.count else {
            return .failure(PVError(.unavailable, "cannot send to Kea's control socket \(path)"))
        }
        // Kea answers and closes; bounded, in case it does not.
        var answer: [UInt8] = []
        var chunk = [UInt8](repeating: 0, count: 1 << 16)
        while answer.count < 8 << 20 {
            let n = read(fd, &chunk, chunk.count)
            if n <= 0 { break }
            answer += chunk[0..<n]
            if (try? JSONDecoder().decode(Answer.self, from: Data(answer))) != nil { break }
        }
        return parse(answer)
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
            return .failure(PVError(.unavailable, "Kea refused statistic-get-all (result \(answer.result): \(answer.text ?? ""))"))
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
