/// IPv4 + UDP framing for a packet socket of type SOCK_DGRAM (the kernel adds
/// and strips the Ethernet header; we own the IP and UDP headers, since the
/// client has no address yet).
public enum UDPFrame {
    public static let clientPort: UInt16 = 68
    public static let serverPort: UInt16 = 67

    public static func build(source: IPv4Address, destination: IPv4Address, sourcePort: UInt16,
                             destinationPort: UInt16, payload: [UInt8], id: UInt16) -> [UInt8] {
        let udpLength = 8 + payload.count
        let total = 20 + udpLength
        var ip = [UInt8](repeating: 0, count: 20)
        ip[0] = 0x45
        ip[1] = 0x10  // low delay, as DHCP clients traditionally set
        put16(&ip, 2, UInt16(total))
        put16(&ip, 4, id)
        ip[8] = 64
        ip[9] = 17
        put32(&ip, 12, source.value)
        put32(&ip, 16, destination.value)
        put16(&ip, 10, checksum(ip))

        var udp = [UInt8](repeating: 0, count: 8)
        put16(&udp, 0, sourcePort)
        put16(&udp, 2, destinationPort)
        put16(&udp, 4, UInt16(udpLength))
        let pseudo = source.bytes + destination.bytes + [0, 17, UInt8(udpLength >> 8), UInt8(udpLength & 0xff)]
        var sum = checksum(pseudo + udp + payload)
        if sum == 0 { sum = 0xffff }
        put16(&udp, 6, sum)
        return ip + udp + payload
    }

    /// The UDP payload of an IPv4 packet sent to `port`, or nil for anything else.
    public static func payload(ofIPPacket p: [UInt8], destinationPort port: UInt16) -> (source: IPv4Address, payload: [UInt8])? {
        guard p.count >= 28, p[0] >> 4 == 4 else { return nil }
        let ihl = Int(p[0] & 0x0f) * 4
        guard ihl >= 20, p[9] == 17 else { return nil }
        let total = min(Int(get16(p, 2)), p.count)
        guard total >= ihl + 8 else { return nil }
        // Fragments are not reassembled: DHCP replies fit one frame.
        guard get16(p, 6) & 0x3fff == 0 else { return nil }
        guard get16(p, ihl + 2) == port else { return nil }
        let udpLength = Int(get16(p, ihl + 4))
        guard udpLength >= 8, ihl + udpLength <= total else { return nil }
        return (IPv4Address(get32(p, 12)), Array(p[(ihl + 8)..<(ihl + udpLength)]))
    }

    static func checksum(_ bytes: [UInt8]) -> UInt16 {
        var sum: UInt32 = 0
        var i = 0
        while i + 1 < bytes.count { sum &+= UInt32(bytes[i]) << 8 | UInt32(bytes[i + 1]); i += 2 }
        if i < bytes.count { sum &+= UInt32(bytes[i]) << 8 }
        while sum >> 16 != 0 { sum = (sum & 0xffff) + (sum >> 16) }
        return ~UInt16(sum)
    }
}
