import Testing
@testable import PVDHCP

let mac: [UInt8] = [0x02, 0x70, 0x76, 1, 2, 3]

/// A well-formed server reply, built byte by byte (not with our encoder) so
/// that the parser is tested against the wire format, not against itself.
func serverReply(kind: UInt8, xid: UInt32 = 0x1234_5678, chaddr: [UInt8] = mac, yiaddr: [UInt8] = [198, 51, 100, 150],
                 cookie: [UInt8] = [99, 130, 83, 99], extraOptions: [UInt8] = []) -> [UInt8] {
    var b = [UInt8](repeating: 0, count: 236)
    b[0] = 2; b[1] = 1; b[2] = 6
    b[4] = UInt8(xid >> 24); b[5] = UInt8(xid >> 16 & 0xff); b[6] = UInt8(xid >> 8 & 0xff); b[7] = UInt8(xid & 0xff)
    for i in 0..<4 { b[16 + i] = yiaddr[i] }
    for i in 0..<6 { b[28 + i] = chaddr[i] }
    b += cookie
    b += [53, 1, kind, 54, 4, 198, 51, 100, 1, 51, 4, 0, 0, 0x0e, 0x10]
    b += extraOptions
    b += [255]
    return b
}

@Suite struct DHCPMessageTests {
    let client = DHCPClient(link: FakeDHCPLink(), chaddr: mac, xid: 0x1234_5678)

    @Test func discoverOnTheWire() throws {
        let bytes = client.discover().encode()
        #expect(bytes.count == 300, "padded to the BOOTP minimum")
        #expect(bytes[0] == 1 && bytes[1] == 1 && bytes[2] == 6)
        #expect(Array(bytes[4..<8]) == [0x12, 0x34, 0x56, 0x78])
        #expect(Array(bytes[10..<12]) == [0x80, 0x00], "broadcast flag")
        #expect(Array(bytes[28..<34]) == mac)
        #expect(Array(bytes[236..<240]) == [99, 130, 83, 99])
        #expect(Array(bytes[240..<243]) == [53, 1, 1])
        #expect(Array(bytes[243..<252]) == [61, 7, 1] + mac, "client id = type 1 + chaddr")
        let parsed = try DHCPMessage.parse(bytes)
        #expect(parsed.kind == .discover)
    }

    @Test func requestCarriesOfferedAddressAndServerID() throws {
        let offer = try DHCPMessage.parse(serverReply(kind: 2))
        let request = try DHCPMessage.parse(client.request(offer: offer).encode())
        #expect(request.kind == .request)
        #expect(request.ciaddr == .zero)
        #expect(request.option(50) == [198, 51, 100, 150])
        #expect(request.option(54) == [198, 51, 100, 1])
        #expect(request.option(61) == [1] + mac)
    }

    @Test func releaseIsUnicastShaped() throws {
        let lease = DHCPLease(address: IPv4Address(198, 51, 100, 150), serverID: IPv4Address(198, 51, 100, 1), leaseSeconds: 3600,
                              offerMilliseconds: 1, ackMilliseconds: 2, released: false, releaseError: nil)
        let release = try DHCPMessage.parse(client.release(lease: lease).encode())
        #expect(release.kind == .release)
        #expect(release.ciaddr == lease.address)
        #expect(release.option(54) == [198, 51, 100, 1])
        #expect(release.option(61) == [1] + mac)
        #expect(release.option(50) == nil)
        #expect(release.flags == 0)
    }

    @Test func parsesAReply() throws {
        let m = try DHCPMessage.parse(serverReply(kind: 5))
        #expect(m.kind == .ack)
        #expect(m.yiaddr == IPv4Address(198, 51, 100, 150))
        #expect(m.serverID == IPv4Address(198, 51, 100, 1))
        #expect(m.option(51) == [0, 0, 0x0e, 0x10])
    }

    @Test(arguments: [
        ("empty", [UInt8](), DHCPParseError.truncated(length: 0)),
        ("truncated header", Array(serverReply(kind: 2).prefix(100)), .truncated(length: 100)),
        ("header without cookie", Array(serverReply(kind: 2).prefix(237)), .truncated(length: 237)),
        ("wrong cookie", serverReply(kind: 2, cookie: [99, 130, 83, 98]), .badMagicCookie),
        ("option past the end", Array(serverReply(kind: 2).dropLast()) + [12, 200, 65, 66], .optionOverrun(code: 12)),
        ("length byte missing", Array(serverReply(kind: 2).dropLast()) + [12], .optionOverrun(code: 12)),
        ("no end marker", Array(serverReply(kind: 2).dropLast()), .missingEnd),
        ("no message type", Array(serverReply(kind: 2)[0..<240]) + [255], .missingMessageType),
        ("bad message type", serverReply(kind: 42), .badMessageType),
        ("short server id", serverReply(kind: 2, extraOptions: [54, 2, 1, 2]), .badOptionLength(code: 54)),
    ])
    func hostilePacketsAreRejected(name: String, bytes: [UInt8], expected: DHCPParseError) {
        #expect(throws: expected, "\(name)") { try DHCPMessage.parse(bytes) }
    }

    @Test func absurdHardwareLength() {
        var b = serverReply(kind: 2)
        b[2] = 200
        #expect(throws: DHCPParseError.badHardwareAddress(type: 1, length: 200)) { try DHCPMessage.parse(b) }
    }

    @Test func longOptionsAreSplitAndRejoined() throws {
        var m = client.discover()
        m.options.append((77, [UInt8](repeating: 7, count: 300)))
        let parsed = try DHCPMessage.parse(m.encode())
        #expect(parsed.option(77)?.count == 300)
    }

    @Test func hardwareAddressIsStableAndLocallyAdministered() {
        let a = DHCPClient.hardwareAddress(forInterface: "pvv-cli")
        #expect(a == DHCPClient.hardwareAddress(forInterface: "pvv-cli"))
        #expect(a != DHCPClient.hardwareAddress(forInterface: "eth0"))
        #expect(a[0] & 0x02 == 0x02 && a[0] & 0x01 == 0, "locally administered unicast")
    }

    @Test func udpFrameRoundTripAndChecksum() throws {
        let payload: [UInt8] = [1, 2, 3, 4, 5]
        let frame = UDPFrame.build(source: .zero, destination: .broadcast, sourcePort: 68, destinationPort: 67, payload: payload, id: 1)
        #expect(frame.count == 33)
        #expect(UDPFrame.checksum(Array(frame[0..<20])) == 0, "IP header checksum verifies")
        #expect(UDPFrame.payload(ofIPPacket: frame, destinationPort: 67)?.payload == payload)
        #expect(UDPFrame.payload(ofIPPacket: frame, destinationPort: 68) == nil)
        var lying = frame
        lying[24] = 0xff; lying[25] = 0xff  // UDP length far beyond the packet
        #expect(UDPFrame.payload(ofIPPacket: lying, destinationPort: 67) == nil)
        #expect(UDPFrame.payload(ofIPPacket: Array(frame.prefix(27)), destinationPort: 67) == nil)
    }

    @Test func poolMembership() {
        #expect(IPv4Network.verificationPool.contains(IPv4Address("198.51.100.0")!))
        #expect(IPv4Network.verificationPool.contains(IPv4Address("198.51.100.255")!))
        #expect(!IPv4Network.verificationPool.contains(IPv4Address("198.51.101.1")!))
        #expect(IPv4Address("1.2.3") == nil && IPv4Address("1.2.3.256") == nil)
    }
}
