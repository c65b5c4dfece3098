import CDHCP
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

/// The health-check client of the tests (CDHCP's pv_dhcp_client).
func testClient(timeout: Double = 0.05, retransmit: Double = 0.02) -> pv_dhcp_client {
    var c = pv_dhcp_client()
    withUnsafeMutableBytes(of: &c.chaddr) { for i in 0..<6 { $0[i] = mac[i] } }
    c.xid = 0x1234_5678
    c.timeout_seconds = timeout
    c.retransmit_seconds = retransmit
    return c
}

@Suite struct DHCPMessageTests {
    let client = testClient()

    @Test func discoverOnTheWire() throws {
        var c = client, m = pv_dhcp_message()
        pv_dhcp_build_discover(&c, &m)
        let bytes = Wire.encode(m)
        #expect(bytes.count == 300, "padded to the BOOTP minimum")
        #expect(bytes[0] == 1 && bytes[1] == 1 && bytes[2] == 6)
        #expect(Array(bytes[4..<8]) == [0x12, 0x34, 0x56, 0x78])
        #expect(Array(bytes[10..<12]) == [0x80, 0x00], "broadcast flag")
        #expect(Array(bytes[28..<34]) == mac)
        #expect(Array(bytes[236..<240]) == [99, 130, 83, 99])
        #expect(Array(bytes[240..<243]) == [53, 1, 1])
        #expect(Array(bytes[243..<252]) == [61, 7, 1] + mac, "client id = type 1 + chaddr")
        #expect(Wire.kind(try Wire.parse(bytes)) == Int(PV_DHCP_DISCOVER.rawValue))
    }

    @Test func requestCarriesOfferedAddressAndServerID() throws {
        var c = client, offer = try Wire.parse(serverReply(kind: 2)), m = pv_dhcp_message()
        pv_dhcp_build_request(&c, &offer, &m)
        let request = try Wire.parse(Wire.encode(m))
        #expect(Wire.kind(request) == Int(PV_DHCP_REQUEST.rawValue))
        #expect(request.ciaddr == 0)
        #expect(request.flags == 0x8000, "broadcast flag: our chaddr is not the interface's")
        #expect(Wire.option(request, 50) == [198, 51, 100, 150])
        #expect(Wire.option(request, 54) == [198, 51, 100, 1])
        #expect(Wire.option(request, 61) == [1] + mac)
    }

    @Test func releaseIsUnicastShaped() throws {
        var c = client, m = pv_dhcp_message()
        pv_dhcp_build_release(&c, Wire.address(198, 51, 100, 150), Wire.address(198, 51, 100, 1), &m)
        let release = try Wire.parse(Wire.encode(m))
        #expect(Wire.kind(release) == Int(PV_DHCP_RELEASE.rawValue))
        #expect(release.ciaddr == Wire.address(198, 51, 100, 150))
        #expect(Wire.option(release, 54) == [198, 51, 100, 1])
        #expect(Wire.option(release, 61) == [1] + mac)
        #expect(Wire.option(release, 50) == nil)
        #expect(release.flags == 0)
    }

    @Test func parsesAReply() throws {
        let m = try Wire.parse(serverReply(kind: 5))
        #expect(Wire.kind(m) == Int(PV_DHCP_ACK.rawValue))
        #expect(m.yiaddr == Wire.address(198, 51, 100, 150))
        #expect(Wire.option(m, 54) == [198, 51, 100, 1])
        #expect(Wire.option(m, 51) == [0, 0, 0x0e, 0x10])
    }

    @Test(arguments: [
        ("empty", [UInt8](), "truncated message (0 bytes)"),
        ("truncated header", Array(serverReply(kind: 2).prefix(100)), "truncated message (100 bytes)"),
        ("header without cookie", Array(serverReply(kind: 2).prefix(237)), "truncated message (237 bytes)"),
        ("wrong cookie", serverReply(kind: 2, cookie: [99, 130, 83, 98]), "wrong magic cookie"),
        ("option past the end", Array(serverReply(kind: 2).dropLast()) + [12, 200, 65, 66], "option 12 runs past the end of the message"),
        ("length byte missing", Array(serverReply(kind: 2).dropLast()) + [12], "option 12 runs past the end of the message"),
        ("no end marker", Array(serverReply(kind: 2).dropLast()), "options without an end marker"),
        ("no message type", Array(serverReply(kind: 2)[0..<240]) + [255], "no DHCP message type option"),
        ("bad message type", serverReply(kind: 42), "invalid DHCP message type"),
        ("short server id", serverReply(kind: 2, extraOptions: [54, 2, 1, 2]), "option 54 has a wrong length"),
    ])
    func hostilePacketsAreRejected(name: String, bytes: [UInt8], expected: String) {
        #expect(throws: Wire.Refused(description: expected), "\(name)") { try Wire.parse(bytes) }
    }

    @Test func absurdHardwareLength() {
        var b = serverReply(kind: 2)
        b[2] = 200
        #expect(throws: Wire.Refused(description: "unsupported hardware address (type 1, length 200)")) { try Wire.parse(b) }
    }

    @Test func repeatedOptionsAreJoinedAndWhatParsesRoundTrips() throws {
        // RFC 3396: an option given twice is one option, its parts joined.
        let m = try Wire.parse(serverReply(kind: 2, extraOptions: [77, 2, 1, 2, 0, 0, 77, 1, 3]))
        #expect(Wire.option(m, 77) == [1, 2, 3])
        var a = m, b = try Wire.parse(Wire.encode(m))
        #expect(pv_dhcp_message_equal(&a, &b) == 1)
    }

    @Test func hardwareAddressIsStableAndLocallyAdministered() {
        func address(_ name: String) -> [UInt8] {
            var m: (UInt8, UInt8, UInt8, UInt8, UInt8, UInt8) = (0, 0, 0, 0, 0, 0)
            withUnsafeMutableBytes(of: &m) { pv_dhcp_hardware_address(name, $0.baseAddress!.assumingMemoryBound(to: UInt8.self)) }
            return withUnsafeBytes(of: m) { Array($0) }
        }
        let a = address("pvv-cli")
        #expect(a == address("pvv-cli"))
        #expect(a != address("eth0"))
        #expect(a[0] & 0x02 == 0x02 && a[0] & 0x01 == 0, "locally administered unicast")
        #expect(Array(a.prefix(3)) == [0x02, 0x70, 0x76])
    }

    @Test func udpFrameRoundTripAndChecksum() throws {
        let payload: [UInt8] = [1, 2, 3, 4, 5]
        let frame = Wire.udp(source: 0, destination: 0xffff_ffff, sourcePort: 68, destinationPort: 67, payload: payload, id: 1)
        #expect(frame.count == 33)
        #expect(pv_dhcp_internet_checksum(frame, 20) == 0, "IP header checksum verifies")
        // The UDP checksum verifies over the pseudo-header and the datagram.
        let pseudo: [UInt8] = [0, 0, 0, 0, 255, 255, 255, 255, 0, 17, 0, 13]
        let udp = Array(frame[20...])
        #expect(pv_dhcp_internet_checksum(pseudo + udp, pseudo.count + udp.count) == 0)
        #expect(Wire.payload(frame, port: 67)?.payload == payload)
        #expect(Wire.payload(frame, port: 68) == nil)
        var lying = frame
        lying[24] = 0xff; lying[25] = 0xff  // UDP length far beyond the packet
        #expect(Wire.payload(lying, port: 67) == nil)
        #expect(Wire.payload(Array(frame.prefix(27)), port: 67) == nil)
        var fragment = frame
        fragment[6] = 0x20  // more fragments
        #expect(Wire.payload(fragment, port: 67) == nil, "fragments are not reassembled")
    }

    @Test func poolMembership() {
        #expect(IPv4Network.verificationPool.description == "198.51.100.0/24")
        #expect(IPv4Network.verificationPool.contains(IPv4Address("198.51.100.0")!))
        #expect(IPv4Network.verificationPool.contains(IPv4Address("198.51.100.255")!))
        #expect(!IPv4Network.verificationPool.contains(IPv4Address("198.51.101.1")!))
        #expect(IPv4Address("1.2.3") == nil && IPv4Address("1.2.3.256") == nil)
    }

    @Test func theRetransmitIntervalIsAQuarterOfTheBoundWithinLimits() {
        #expect(pv_dhcp_retransmit_seconds(0.1) == 0.1)
        #expect(pv_dhcp_retransmit_seconds(1) == 0.25)
        #expect(pv_dhcp_retransmit_seconds(30) == 2)
    }
}
