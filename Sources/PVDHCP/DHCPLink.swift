/// The seam between the DHCP client's logic and the wire. The real link is a
/// packet socket; unit tests script replies through a fake.
public protocol DHCPLink {
    /// Sends an IPv4 packet to a link-layer address (ff:ff:ff:ff:ff:ff for broadcast).
    func send(_ ipPacket: [UInt8], toMAC mac: [UInt8]) throws(DHCPFailure)
    /// Waits at most `milliseconds` for one inbound IPv4 packet.
    func receive(milliseconds: Int) throws(DHCPFailure) -> (packet: [UInt8], sourceMAC: [UInt8])?
}

/// Why a DHCP exchange failed. Each case has its own message because each
/// points at a different fault.
public enum DHCPFailure: Error, Equatable, Sendable, CustomStringConvertible {
    case link(String)
    /// This process may not open a packet socket (no CAP_NET_RAW): the DHCP check helper can.
    case noPermission(String)
    case noOffer(seconds: Double, ignored: IgnoredReplies)
    case nak(server: IPv4Address?, message: String?)
    case noAck(seconds: Double, ignored: IgnoredReplies)

    public var description: String {
        switch self {
        case .link(let why): return why
        case .noPermission(let why): return why
        case .noOffer(let s, let ignored): return "no DHCP offer within \(s) s\(ignored.suffix)"
        case .nak(let server, let message):
            return "the server\(server.map { " \($0)" } ?? "") refused the request (DHCPNAK\(message.map { ": \($0)" } ?? ""))"
        case .noAck(let s, let ignored): return "offer received but no DHCPACK within \(s) s\(ignored.suffix)"
        }
    }
}

/// Replies that reached us but were not for this exchange or not valid:
/// counted, so that "no offer" can say "but 3 malformed replies arrived".
public struct IgnoredReplies: Equatable, Sendable {
    public var otherTransaction = 0
    public var otherClient = 0
    public var malformed = 0
    public var lastMalformedReason: String?
    public var unexpectedType = 0

    public init() {}

    var suffix: String {
        var parts: [String] = []
        if malformed > 0 { parts.append("\(malformed) malformed repl\(malformed == 1 ? "y" : "ies") (\(lastMalformedReason ?? "?"))") }
        if otherTransaction > 0 { parts.append("\(otherTransaction) with another transaction id") }
        if otherClient > 0 { parts.append("\(otherClient) for another hardware address") }
        if unexpectedType > 0 { parts.append("\(unexpectedType) of an unexpected message type") }
        return parts.isEmpty ? "" : "; ignored " + parts.joined(separator: ", ")
    }
}
