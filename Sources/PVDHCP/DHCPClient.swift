import PVCore

/// A health-check DHCPv4 client: DISCOVER, OFFER, REQUEST, ACK, then RELEASE.
///
/// It behaves like a well-mannered client so that running it every few
/// minutes does not exhaust the pool: one fixed, locally administered
/// hardware address and client identifier per interface (the server hands
/// back the same lease each time), and a RELEASE at the end.
public struct DHCPClient {
    public var link: any DHCPLink
    public var chaddr: [UInt8]
    public var xid: UInt32
    /// Bound for each phase (offer, then ack).
    public var phaseTimeoutSeconds: Double
    public var retransmitSeconds: Double

    public init(link: any DHCPLink, chaddr: [UInt8], xid: UInt32, phaseTimeoutSeconds: Double = 2.0, retransmitSeconds: Double = 0.7) {
        self.link = link
        self.chaddr = chaddr
        self.xid = xid
        self.phaseTimeoutSeconds = phaseTimeoutSeconds
        self.retransmitSeconds = retransmitSeconds
    }

    /// A fixed locally administered address derived from the interface name (02:70:76 = "pv").
    public static func hardwareAddress(forInterface name: String) -> [UInt8] {
        var h: UInt32 = 2_166_136_261  // FNV-1a: stable across runs and builds
        for b in name.utf8 { h = (h ^ UInt32(b)) &* 16_777_619 }
        return [0x02, 0x70, 0x76, UInt8(h >> 16 & 0xff), UInt8(h >> 8 & 0xff), UInt8(h & 0xff)]
    }

    var clientID: [UInt8] { [1] + chaddr }
    static let broadcastMAC: [UInt8] = [0xff, 0xff, 0xff, 0xff, 0xff, 0xff]

    func message(_ kind: DHCPMessage.Kind) -> DHCPMessage {
        var m = DHCPMessage(op: 1, xid: xid, chaddr: chaddr)
        m.options.append((DHCPMessage.Option.messageType, [kind.rawValue]))
        m.options.append((DHCPMessage.Option.clientID, clientID))
        return m
    }

    public func discover() -> DHCPMessage {
        var m = message(.discover)
        m.flags = DHCPMessage.broadcastFlag
        m.options.append((DHCPMessage.Option.parameterRequestList, [1, 3, 6, 51, 54]))
        return m
    }

    public func request(offer: DHCPMessage) -> DHCPMessage {
        var m = message(.request)
        // Broadcast flag: our chaddr is not the interface's address, so a
        // unicast reply to it would never reach the socket.
        m.flags = DHCPMessage.broadcastFlag
        m.options.append((DHCPMessage.Option.requestedAddress, offer.yiaddr.bytes))
        if let sid = offer.serverID { m.options.append((DHCPMessage.Option.serverID, sid.bytes)) }
        m.options.append((DHCPMessage.Option.parameterRequestList, [1, 3, 6, 51, 54]))
        return m
    }

    public func release(lease: DHCPLease) -> DHCPMessage {
        var m = message(.release)
        m.ciaddr = lease.address
        m.options.insert((DHCPMessage.Option.serverID, lease.serverID.bytes), at: 1)
        return m
    }

    /// Runs the whole exchange. The lease is returned even when it is outside
    /// the expected pool; judging it is the caller's job.
    public func run() -> Result<DHCPLease, DHCPFailure> {
        let start = Monotonic.nanoseconds()
        var ignored = IgnoredReplies()
        let offer: (message: DHCPMessage, mac: [UInt8])
        do {
            guard let o = try exchange(discover(), expecting: [.offer], ignored: &ignored) else {
                return .failure(.noOffer(seconds: phaseTimeoutSeconds, ignored: ignored))
            }
            offer = o
        } catch { return .failure(error) }
        let offerMs = Monotonic.milliseconds(since: start)

        let ack: (message: DHCPMessage, mac: [UInt8])
        do {
            guard let a = try exchange(request(offer: offer.message), expecting: [.ack, .nak], ignored: &ignored) else {
                return .failure(.noAck(seconds: phaseTimeoutSeconds, ignored: ignored))
            }
            ack = a
        } catch { return .failure(error) }
        if ack.message.kind == .nak {
            let text = ack.message.option(DHCPMessage.Option.message).map { String(decoding: $0.prefix(200), as: UTF8.self) }
            return .failure(.nak(server: ack.message.serverID ?? offer.message.serverID, message: text))
        }

        let leaseSeconds = ack.message.option(DHCPMessage.Option.leaseTime).flatMap { $0.count == 4 ? get32($0, 0) : nil }
        var lease = DHCPLease(address: ack.message.yiaddr,
                              serverID: ack.message.serverID ?? offer.message.serverID ?? .zero,
                              leaseSeconds: leaseSeconds, offerMilliseconds: offerMs,
                              ackMilliseconds: Monotonic.milliseconds(since: start), released: false, releaseError: nil)
        // RELEASE is unicast to the server (RFC 2131 4.4.6), at the MAC the ACK came from.
        if lease.serverID != .zero && lease.address != .zero {
            let packet = UDPFrame.build(source: lease.address, destination: lease.serverID,
                                        sourcePort: UDPFrame.clientPort, destinationPort: UDPFrame.serverPort,
                                        payload: release(lease: lease).encode(), id: UInt16(truncatingIfNeeded: xid &+ 2))
            do {
                try link.send(packet, toMAC: ack.mac)
                lease.released = true
            } catch {
                lease.releaseError = error.description
            }
        } else {
            lease.releaseError = "no server identifier or address to release"
        }
        return .success(lease)
    }

    /// Sends `message` (retransmitting) until a matching reply of one of the
    /// expected kinds arrives or the phase times out.
    func exchange(_ message: DHCPMessage, expecting kinds: Set<DHCPMessage.Kind>,
                  ignored: inout IgnoredReplies) throws(DHCPFailure) -> (message: DHCPMessage, mac: [UInt8])? {
        let packet = UDPFrame.build(source: .zero, destination: .broadcast, sourcePort: UDPFrame.clientPort,
                                    destinationPort: UDPFrame.serverPort, payload: message.encode(),
                                    id: UInt16(truncatingIfNeeded: xid))
        let deadline = Deadline(secondsFromNow: phaseTimeoutSeconds)
        while !deadline.hasPassed {
            try link.send(packet, toMAC: Self.broadcastMAC)
            let resend = Deadline(secondsFromNow: retransmitSeconds)
            while true {
                let wait = min(resend.remainingMilliseconds, deadline.remainingMilliseconds)
                if wait <= 0 { break }
                guard let (ip, mac) = try link.receive(milliseconds: wait) else { continue }
                guard let (_, payload) = UDPFrame.payload(ofIPPacket: ip, destinationPort: UDPFrame.clientPort) else { continue }
                if let reply = classify(payload, expecting: kinds, ignored: &ignored) { return (reply, mac) }
            }
        }
        return nil
    }

    /// Accepts only a well-formed BOOTREPLY for our xid and our hardware address.
    func classify(_ payload: [UInt8], expecting kinds: Set<DHCPMessage.Kind>, ignored: inout IgnoredReplies) -> DHCPMessage? {
        let reply: DHCPMessage
        do { reply = try DHCPMessage.parse(payload) } catch {
            ignored.malformed += 1
            ignored.lastMalformedReason = error.description
            return nil
        }
        guard reply.op == 2 else { return nil }  // our own or another client's request
        guard reply.xid == xid else { ignored.otherTransaction += 1; return nil }
        guard reply.chaddr == chaddr else { ignored.otherClient += 1; return nil }
        guard let kind = reply.kind, kinds.contains(kind) else { ignored.unexpectedType += 1; return nil }
        return reply
    }
}

public struct DHCPLease: Equatable, Sendable {
    public var address: IPv4Address
    public var serverID: IPv4Address
    public var leaseSeconds: UInt32?
    public var offerMilliseconds: Double
    public var ackMilliseconds: Double
    public var released: Bool
    public var releaseError: String?
}
