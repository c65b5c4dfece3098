import CDHCP
import PVCore
import Testing
@testable import PVDHCP

/// A fake link: answers each client message with scripted server replies (through CDHCP's
/// pv_dhcp_link seam, as the packet socket does).
final class FakeDHCPLink: @unchecked Sendable {
    /// For each received client message kind, the replies to deliver (raw DHCP payloads).
    var replies: [Int: [[UInt8]]] = [:]
    var sent: [(message: pv_dhcp_message, mac: [UInt8], destination: UInt32)] = []
    var inbox: [[UInt8]] = []
    static let serverMAC: [UInt8] = [0x52, 0x54, 0, 0, 0, 1]

    var kinds: [Int] { sent.map { Wire.kind($0.message) } }

    func didSend(_ packet: [UInt8], mac: [UInt8]) {
        let (_, payload) = Wire.payload(packet, port: 67)!
        let m = try! Wire.parse(payload)
        let destination = UInt32(packet[16]) << 24 | UInt32(packet[17]) << 16 | UInt32(packet[18]) << 8 | UInt32(packet[19])
        sent.append((m, mac, destination))
        for r in replies[Wire.kind(m)] ?? [] {
            inbox.append(Wire.udp(source: Wire.address(198, 51, 100, 1), destination: 0xffff_ffff, sourcePort: 67, destinationPort: 68, payload: r, id: 9))
        }
    }

    /// Runs the exchange over this link.
    func exchange(_ client: pv_dhcp_client) -> pv_dhcp_outcome {
        var client = client
        var link = pv_dhcp_link()
        link.context = Unmanaged.passUnretained(self).toOpaque()
        link.send = { context, packet, length, mac, _, _ in
            let me = Unmanaged<FakeDHCPLink>.fromOpaque(context!).takeUnretainedValue()
            me.didSend(Array(UnsafeBufferPointer(start: packet, count: length)), mac: Array(UnsafeBufferPointer(start: mac, count: 6)))
            return 0
        }
        link.receive = { context, _, packet, capacity, length, mac, _, _ in
            let me = Unmanaged<FakeDHCPLink>.fromOpaque(context!).takeUnretainedValue()
            guard !me.inbox.isEmpty else { return 0 }
            let frame = me.inbox.removeFirst()
            let n = min(frame.count, capacity)
            for i in 0..<n { packet![i] = frame[i] }
            length!.pointee = n
            for i in 0..<6 { mac![i] = FakeDHCPLink.serverMAC[i] }
            return 1
        }
        var outcome = pv_dhcp_outcome()
        pv_dhcp_exchange(&client, &link, &outcome)
        return outcome
    }
}

func verdict(_ outcome: pv_dhcp_outcome, interface: String = "x") -> CheckResult {
    var o = outcome, r = pv_dhcp_result()
    pv_dhcp_evaluate(&o, interface, 12.5, &r)
    return CheckResult(r)
}

@Suite struct DHCPClientTests {
    @Test func fullExchangeThenUnicastRelease() throws {
        let link = FakeDHCPLink()
        link.replies = [1: [serverReply(kind: 2)], 3: [serverReply(kind: 5)]]
        let outcome = link.exchange(testClient())
        #expect(outcome.failure == PV_DHCP_FAILURE_NONE)
        #expect(outcome.address == Wire.address(198, 51, 100, 150))
        #expect(outcome.server_id == Wire.address(198, 51, 100, 1))
        #expect(outcome.has_lease_seconds == 1 && outcome.lease_seconds == 3600)
        #expect(outcome.released == 1)
        #expect(link.kinds == [1, 3, 7], "discover, request, release")
        let release = link.sent[2]
        #expect(release.mac == FakeDHCPLink.serverMAC, "release goes to the server's MAC")
        #expect(release.destination == Wire.address(198, 51, 100, 1))
        let check = verdict(outcome, interface: "pvv-cli")
        #expect(check == CheckResult(name: "dhcp", status: .ok, detail: "leased 198.51.100.150 from 198.51.100.1 on pvv-cli, released",
                                     milliseconds: 12.5))
    }

    @Test func nakIsAnImmediateFailure() {
        let link = FakeDHCPLink()
        link.replies = [1: [serverReply(kind: 2)], 3: [serverReply(kind: 6, extraOptions: [56, 6] + Array("nope!".utf8) + [0x1b])]]
        let outcome = link.exchange(testClient())
        #expect(outcome.failure == PV_DHCP_FAILURE_NAK)
        #expect(link.sent.count == 2, "no retransmission after a NAK")
        let check = verdict(outcome)
        #expect(check.status == .fail)
        #expect(check.detail == "the server 198.51.100.1 refused the request (DHCPNAK: nope!\\x1B) on x", "the server's text is shown inert")
    }

    @Test func noServerMeansNoOfferAfterRetransmitting() {
        let link = FakeDHCPLink()
        let outcome = link.exchange(testClient())
        #expect(outcome.failure == PV_DHCP_FAILURE_NO_OFFER)
        #expect(link.sent.count >= 2, "DISCOVER is retransmitted within the bound")
        #expect(verdict(outcome).detail == "no DHCP offer within 0.05 s on x")
    }

    /// The bound is the whole exchange's: an offer late in it leaves only the rest for the ACK.
    @Test func offerAndAcknowledgementShareOneBound() {
        let link = FakeDHCPLink()
        link.replies = [1: [serverReply(kind: 2)]]
        let start = Monotonic.nanoseconds()
        let outcome = link.exchange(testClient(timeout: 0.2, retransmit: 0.05))
        let ms = Monotonic.milliseconds(since: start)
        #expect(outcome.failure == PV_DHCP_FAILURE_NO_ACK)
        // Twice the bound (400 ms) would be a bound per phase.
        #expect(ms >= 199 && ms < 390, "\(ms) ms")
        #expect(verdict(outcome).detail.hasPrefix("offer received but no DHCPACK within 0.2 s"))
    }

    @Test func foreignAndMalformedRepliesAreIgnoredAndCounted() {
        let link = FakeDHCPLink()
        link.replies = [1: [
            serverReply(kind: 2, xid: 0x1234_5679),
            serverReply(kind: 2, chaddr: [1, 2, 3, 4, 5, 6]),
            serverReply(kind: 2, cookie: [1, 2, 3, 4]),
            Array(serverReply(kind: 2).prefix(50)),
            serverReply(kind: 5),  // an ACK where an OFFER is expected
        ]]
        let outcome = link.exchange(testClient())
        #expect(outcome.failure == PV_DHCP_FAILURE_NO_OFFER)
        let ignored = outcome.ignored
        #expect(ignored.other_transaction >= 1 && ignored.other_client >= 1 && ignored.malformed >= 2 && ignored.unexpected_type >= 1)
        let detail = verdict(outcome).detail
        #expect(detail.contains("malformed replies (truncated message (50 bytes))"), "\(detail)")
        #expect(detail.contains("with another transaction id") && detail.contains("for another hardware address")
                && detail.contains("of an unexpected message type"), "\(detail)")
    }

    @Test func offerWithoutAck() {
        let link = FakeDHCPLink()
        link.replies = [1: [serverReply(kind: 2)]]
        let outcome = link.exchange(testClient())
        #expect(outcome.failure == PV_DHCP_FAILURE_NO_ACK)
        #expect(verdict(outcome).hint == "the DHCP server offered but did not confirm; check its logs")
    }

    @Test func addressOutsideThePoolFailsVerificationButIsReleased() throws {
        let link = FakeDHCPLink()
        link.replies = [1: [serverReply(kind: 2, yiaddr: [203, 0, 113, 7])], 3: [serverReply(kind: 5, yiaddr: [203, 0, 113, 7])]]
        let outcome = link.exchange(testClient())
        #expect(outcome.released == 1)
        let check = verdict(outcome)
        #expect(check.status == .fail)
        #expect(check.detail == "leased 203.0.113.7 from 198.51.100.1, outside the verification pool 198.51.100.0/24")
    }

    @Test func missingInterfaceIsALinkError() {
        let (check, lacksPermission) = DHCPCheck.run(interface: "pv-nonexist0", timeoutSeconds: 0.1)
        #expect(!lacksPermission)
        #expect(check.detail == "interface pv-nonexist0 does not exist (create the verification link, or fix dhcp_verify_interface) on pv-nonexist0")
        #expect(check.hint == "check the verification link (network_config.sh creates it)")
    }
}
