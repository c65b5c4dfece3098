/// A DHCPv4 message (RFC 2131/2132): the fixed BOOTP header, the magic
/// cookie and the options. Parsing treats every byte as hostile: a reply can
/// come from any machine on the link.
public struct DHCPMessage: Sendable, Equatable {
    public enum Kind: UInt8, Sendable {
        case discover = 1, offer, request, decline, ack, nak, release, inform
    }
    public enum Option {
        public static let subnetMask: UInt8 = 1
        public static let requestedAddress: UInt8 = 50
        public static let leaseTime: UInt8 = 51
        public static let messageType: UInt8 = 53
        public static let serverID: UInt8 = 54
        public static let parameterRequestList: UInt8 = 55
        public static let message: UInt8 = 56
        public static let clientID: UInt8 = 61
        public static let pad: UInt8 = 0
        public static let end: UInt8 = 255
    }
    public static let magicCookie: [UInt8] = [99, 130, 83, 99]
    static let headerLength = 236
    static let broadcastFlag: UInt16 = 0x8000

    public var op: UInt8  // 1 request, 2 reply
    public var xid: UInt32
    public var secs: UInt16 = 0
    public var flags: UInt16 = 0
    public var ciaddr: IPv4Address = .zero
    public var yiaddr: IPv4Address = .zero
    public var siaddr: IPv4Address = .zero
    public var giaddr: IPv4Address = .zero
    public var chaddr: [UInt8]  // 6 bytes (Ethernet)
    /// Options in the order they appear; code -> data.
    public var options: [(code: UInt8, data: [UInt8])] = []

    public static func == (a: DHCPMessage, b: DHCPMessage) -> Bool { a.encode() == b.encode() }

    public init(op: UInt8, xid: UInt32, chaddr: [UInt8]) {
        self.op = op
        self.xid = xid
        self.chaddr = chaddr
    }

    public func option(_ code: UInt8) -> [UInt8]? {
        // RFC 3396: repeated options concatenate.
        let parts = options.filter { $0.code == code }
        return parts.isEmpty ? nil : parts.flatMap(\.data)
    }

    public var kind: Kind? { option(Option.messageType).flatMap { $0.count == 1 ? Kind(rawValue: $0[0]) : nil } }
    public var serverID: IPv4Address? { option(Option.serverID).flatMap { IPv4Address(bytes: $0[...]) } }

    public func encode() -> [UInt8] {
        var out = [UInt8](repeating: 0, count: Self.headerLength)
        out[0] = op
        out[1] = 1  // Ethernet
        out[2] = UInt8(chaddr.count)
        out[3] = 0  // hops
        put32(&out, 4, xid)
        put16(&out, 8, secs)
        put16(&out, 10, flags)
        put32(&out, 12, ciaddr.value)
        put32(&out, 16, yiaddr.value)
        put32(&out, 20, siaddr.value)
        put32(&out, 24, giaddr.value)
        for (i, b) in chaddr.prefix(16).enumerated() { out[28 + i] = b }
        out += Self.magicCookie
        for (code, data) in options {
            // Options longer than 255 bytes are split (RFC 3396).
            var rest = data[...]
            repeat {
                let chunk = rest.prefix(255)
                out += [code, UInt8(chunk.count)] + chunk
                rest = rest.dropFirst(chunk.count)
            } while !rest.isEmpty
        }
        out.append(Option.end)
        // Pad to the BOOTP minimum of 300 bytes: some servers drop shorter messages.
        if out.count < 300 { out += [UInt8](repeating: 0, count: 300 - out.count) }
        return out
    }

    public static func parse(_ bytes: [UInt8]) throws(DHCPParseError) -> DHCPMessage {
        guard bytes.count >= headerLength + 4 else { throw .truncated(length: bytes.count) }
        let htype = bytes[1], hlen = bytes[2]
        guard htype == 1, hlen == 6 else { throw .badHardwareAddress(type: htype, length: hlen) }
        guard Array(bytes[headerLength..<headerLength + 4]) == magicCookie else { throw .badMagicCookie }
        var message = DHCPMessage(op: bytes[0], xid: get32(bytes, 4), chaddr: Array(bytes[28..<34]))
        message.secs = get16(bytes, 8)
        message.flags = get16(bytes, 10)
        message.ciaddr = IPv4Address(get32(bytes, 12))
        message.yiaddr = IPv4Address(get32(bytes, 16))
        message.siaddr = IPv4Address(get32(bytes, 20))
        message.giaddr = IPv4Address(get32(bytes, 24))

        var i = headerLength + 4
        var sawEnd = false
        while i < bytes.count {
            let code = bytes[i]
            if code == Option.pad { i += 1; continue }
            if code == Option.end { sawEnd = true; break }
            guard i + 1 < bytes.count else { throw .optionOverrun(code: code) }
            let length = Int(bytes[i + 1])
            guard i + 2 + length <= bytes.count else { throw .optionOverrun(code: code) }
            message.options.append((code, Array(bytes[(i + 2)..<(i + 2 + length)])))
            i += 2 + length
        }
        guard sawEnd else { throw .missingEnd }
        if let type = message.option(Option.messageType) {
            guard type.count == 1, Kind(rawValue: type[0]) != nil else { throw .badMessageType }
        } else {
            throw .missingMessageType
        }
        if let sid = message.option(Option.serverID), sid.count != 4 { throw .badOptionLength(code: Option.serverID) }
        return message
    }
}

public enum DHCPParseError: Error, Equatable, Sendable, CustomStringConvertible {
    case truncated(length: Int)
    case badHardwareAddress(type: UInt8, length: UInt8)
    case badMagicCookie
    case optionOverrun(code: UInt8)
    case missingEnd
    case missingMessageType
    case badMessageType
    case badOptionLength(code: UInt8)

    public var description: String {
        switch self {
        case .truncated(let n): return "truncated message (\(n) bytes)"
        case .badHardwareAddress(let t, let l): return "unsupported hardware address (type \(t), length \(l))"
        case .badMagicCookie: return "wrong magic cookie"
        case .optionOverrun(let c): return "option \(c) runs past the end of the message"
        case .missingEnd: return "options without an end marker"
        case .missingMessageType: return "no DHCP message type option"
        case .badMessageType: return "invalid DHCP message type"
        case .badOptionLength(let c): return "option \(c) has a wrong length"
        }
    }
}

@inline(__always) func put16(_ b: inout [UInt8], _ at: Int, _ v: UInt16) {
    b[at] = UInt8(v >> 8); b[at + 1] = UInt8(v & 0xff)
}
@inline(__always) func put32(_ b: inout [UInt8], _ at: Int, _ v: UInt32) {
    put16(&b, at, UInt16(v >> 16)); put16(&b, at + 2, UInt16(v & 0xffff))
}
@inline(__always) func get16(_ b: [UInt8], _ at: Int) -> UInt16 { UInt16(b[at]) << 8 | UInt16(b[at + 1]) }
@inline(__always) func get32(_ b: [UInt8], _ at: Int) -> UInt32 { UInt32(get16(b, at)) << 16 | UInt32(get16(b, at + 2)) }
