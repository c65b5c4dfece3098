import Testing
import PVCore
@testable import PVDHCP

/// A fake link: answers each client message with scripted server replies.
final class FakeDHCPLink: DHCPLink, @unchecked Sendable {
    /// For each received client message kind, the replies to deliver (raw DHCP payloads).
    var replies: [DHCPMessage.Kind: [[UInt8]]] = [:]
    var sent: [(message: DHCPMessage, mac: [UInt8], destination: IPv4Address)] = []
    var inbox: [[UInt8]] = []
    static let serverMAC: [UInt8] = [0x52, 0x54, 0, 0, 0, 1]

    func send(_ ipPacket: [UInt8], toMAC mac: [UInt8]) throws(DHCPFailure) {
        let (_, payload) = UDPFrame.payload(ofIPPacket: ipPacket, destinationPort: 67)!
        let m = try! DHCPMessage.parse(payload)
        let destination = IPv4Address(bytes: ipPacket[16..<20])!
        sent.append((m, mac, destination))
        for r in replies[m.kind!] ?? [] {
            inbox.append(UDPFrame.build(source: IPv4Address(198, 51, 100, 1), destination: .broadcast, sourcePort: 67,
                                        destinationPort: 68, payload: r, id: 9))
        }
    }

    func receive(milliseconds: Int) throws(DHCPFailure) -> (packet: [UInt8], sourceMAC: [UInt8])? {
        if inbox.isEmpty { return nil }
        return (inbox.removeFirst(), Self.serverMAC)
    }
}

@Suite struct DHCPClientTests {
    let xid: UInt32 = 0x1234_5678

    func run(_ link: FakeDHCPLink) -> Result<DHCPLease, DHCPFailure> {
        DHCPClient(link: link, chaddr: mac, xid: xid, phaseTimeoutSeconds: 0.05, retransmitSeconds: 0.02).run()
    }

    @Test func fullExchangeThenUnicastRelease() throws {
        let link = FakeDHCPLink()
        link.replies = [.discover: [serverReply(kind: 2)], .request: [serverReply(kind: 5)]]
        let lease = try run(link).get()
        #expect(lease.address == IPv4Address(198, 51, 100, 150))
        #expect(lease.serverID == IPv4Address(198, 51, 100, 1))
        #expect(lease.leaseSeconds == 3600)
        #expect(lease.released)
        #expect(link.sent.map(\.message.kind) == [.discover, .request, .release])
        let release = link.sent[2]
        #expect(release.mac == FakeDHCPLink.serverMAC, "release goes to the server's MAC")
        #expect(release.destination == IPv4Address(198, 51, 100, 1))
        #expect(DHCPVerification.evaluate(.success(lease), interface: "pvv-cli").status == .ok)
    }

    @Test func nakIsAnImmediateFailure() {
        let link = FakeDHCPLink()
        link.replies = [.discover: [serverReply(kind: 2)], .request: [serverReply(kind: 6, extraOptions: [56, 5] + Array("nope!".utf8))]]
        let outcome = run(link)
        #expect(outcome == .failure(.nak(server: IPv4Address(198, 51, 100, 1), message: "nope!")))
        #expect(link.sent.count == 2, "no retransmission after a NAK")
        let check = DHCPVerification.evaluate(outcome, interface: "x")
        #expect(check.status == .fail && check.detail.contains("DHCPNAK"))
    }

    @Test func noServerMeansNoOfferAfterRetransmitting() {
        let link = FakeDHCPLink()
        let outcome = run(link)
        guard case .failure(.noOffer) = outcome else { Issue.record("\(outcome)"); return }
        #expect(link.sent.count >= 2, "DISCOVER is retransmitted within the phase")
        #expect(DHCPVerification.evaluate(outcome, interface: "x").detail.hasPrefix("no DHCP offer"))
    }

    @Test func foreignAndMalformedRepliesAreIgnoredAndCounted() {
        let link = FakeDHCPLink()
        link.replies = [.discover: [
            serverReply(kind: 2, xid: xid + 1),
            serverReply(kind: 2, chaddr: [1, 2, 3, 4, 5, 6]),
            serverReply(kind: 2, cookie: [1, 2, 3, 4]),
            Array(serverReply(kind: 2).prefix(50)),
            serverReply(kind: 5),  // an ACK where an OFFER is expected
        ]]
        let outcome = run(link)
        guard case .failure(.noOffer(_, let ignored)) = outcome else { Issue.record("\(outcome)"); return }
        #expect(ignored.otherTransaction >= 1 && ignored.otherClient >= 1 && ignored.malformed >= 2 && ignored.unexpectedType >= 1)
        let detail = DHCPVerification.evaluate(outcome, interface: "x").detail
        #expect(detail.contains("malformed"), "\(detail)")
        #expect(detail.contains("another transaction id"))
    }

    @Test func offerWithoutAck() {
        let link = FakeDHCPLink()
        link.replies = [.discover: [serverReply(kind: 2)]]
        guard case .failure(.noAck) = run(link) else { Issue.record("expected noAck"); return }
    }

    @Test func addressOutsideThePoolFailsVerificationButIsReleased() throws {
        let link = FakeDHCPLink()
        link.replies = [.discover: [serverReply(kind: 2, yiaddr: [203, 0, 113, 7])], .request: [serverReply(kind: 5, yiaddr: [203, 0, 113, 7])]]
        let outcome = run(link)
        #expect(try outcome.get().released)
        let check = DHCPVerification.evaluate(outcome, interface: "x")
        #expect(check.status == .fail)
        #expect(check.detail.contains("203.0.113.7") && check.detail.contains("outside the verification pool"))
    }

    @Test func missingInterfaceIsALinkError() {
        #expect(throws: DHCPFailure.link("interface pv-nonexist0 does not exist (create the verification link, or fix dhcp_verify_interface)")) {
            _ = try PacketSocketLink(interface: "pv-nonexist0")
        }
    }
}
