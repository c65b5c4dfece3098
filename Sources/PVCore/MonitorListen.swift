#if canImport(Glibc)
import Glibc
#endif

/// Where pv_monitor serves its pull endpoint (`/metrics`, `/api/v1/rps`): `monitor_listen`, an
/// `ADDRESS:PORT` (`[ADDRESS]:PORT` for IPv6), loopback by default: the figures name the server's
/// records, so exposing them beyond the host is the operator's choice, never the default.
public struct MonitorListen: Sendable, Equatable, CustomStringConvertible {
    public var address: String
    public var port: UInt16
    public var isIPv6: Bool

    public static let standard = MonitorListen(address: "127.0.0.1", port: 9433, isIPv6: false)

    public init(address: String, port: UInt16, isIPv6: Bool) {
        self.address = address
        self.port = port
        self.isIPv6 = isIPv6
    }

    /// `127.0.0.1:9433`, `[::1]:9433`; nil for anything else (a host name, a missing port).
    public init?(parsing text: String) {
        let host: Substring, portText: Substring
        if text.hasPrefix("[") {
            guard let close = text.firstIndex(of: "]"), text[text.index(after: close)...].hasPrefix(":") else { return nil }
            host = text[text.index(after: text.startIndex)..<close]
            portText = text[text.index(close, offsetBy: 2)...]
            var v6 = in6_addr()
            guard inet_pton(AF_INET6, String(host), &v6) == 1 else { return nil }
            isIPv6 = true
        } else {
            guard let colon = text.lastIndex(of: ":") else { return nil }
            host = text[..<colon]
            portText = text[text.index(after: colon)...]
            var v4 = in_addr()
            guard inet_pton(AF_INET, String(host), &v4) == 1 else { return nil }
            isIPv6 = false
        }
        guard let port = Syntax.port(String(portText)) else { return nil }
        self.address = String(host)
        self.port = port
    }

    public var description: String { isIPv6 ? "[\(address)]:\(port)" : "\(address):\(port)" }
}
