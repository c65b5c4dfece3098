#if canImport(FoundationEssentials)
import FoundationEssentials
#else
import Foundation
#endif
import PVDNS
import SwiftProtobuf

/// One DNS message from a dnstap frame: what was asked, in which zone, when.
public struct DnstapRecord: Sendable, Equatable {
    public enum Direction: Sendable, Equatable { case query, response }

    public var direction: Direction
    public var question: DNSQuestion
    /// The zone the server answered from (dnstap's `query_zone`), when it says.
    public var zone: String?
    /// Seconds since the epoch: the query's time, or the response's.
    public var time: Double?
    /// `UDP`, `TCP`, `DOT`, ... when the sender says.
    public var transport: String?
}

/// Why a frame gives no record: counted as dropped, with this reason, never a crash.
public enum DnstapDrop: String, Error, Sendable, CaseIterable, Equatable {
    case notProtobuf = "not a dnstap protobuf"
    case notAMessage = "a dnstap frame without a DNS message"
    case noDNSMessage = "a dnstap message without the DNS bytes"
    case unparseableDNS = "a DNS message ldns rejects"
    case noQuestion = "a DNS message without a question"
}

/// dnstap's protobuf (swift-protobuf, generated from dnstap.proto) and the DNS message in it (ldns).
public enum DnstapDecoder {
    public static func decode(_ frame: [UInt8]) -> Result<DnstapRecord, DnstapDrop> {
        let dnstap: Pvmonitor_Dnstap
        do { dnstap = try Pvmonitor_Dnstap(serializedBytes: frame) } catch { return .failure(.notProtobuf) }
        guard dnstap.hasMessage, dnstap.message.hasType else { return .failure(.notAMessage) }
        let message = dnstap.message
        // Odd kinds are queries (AUTH_QUERY = 1, CLIENT_QUERY = 5, ...), even ones responses.
        let isQuery = message.type.rawValue % 2 == 1
        let wire = isQuery ? message.queryMessage : message.responseMessage
        guard !wire.isEmpty else { return .failure(.noDNSMessage) }
        let question: DNSQuestion
        switch DNSQuestion.parse([UInt8](wire)) {
        case .success(let q): question = q
        case .failure(.noQuestion): return .failure(.noQuestion)
        case .failure: return .failure(.unparseableDNS)
        }
        let seconds = isQuery ? (message.hasQueryTimeSec ? message.queryTimeSec : nil) : (message.hasResponseTimeSec ? message.responseTimeSec : nil)
        let nanoseconds = isQuery ? message.queryTimeNsec : message.responseTimeNsec
        let time = seconds.map { Double($0) + Double(nanoseconds) / 1e9 }
        let transport: String? = message.hasSocketProtocol ? Self.transportName(message.socketProtocol) : nil
        return .success(DnstapRecord(direction: isQuery ? .query : .response, question: question,
                                     zone: message.hasQueryZone ? DNSQuestion.name(wire: [UInt8](message.queryZone)) : nil,
                                     time: time, transport: transport))
    }

    static func transportName(_ t: Pvmonitor_Message.Transport) -> String {
        switch t {
        case .udp: return "UDP"
        case .tcp: return "TCP"
        case .dot: return "DOT"
        case .doh: return "DOH"
        case .dnscryptUdp: return "DNSCRYPT_UDP"
        case .dnscryptTcp: return "DNSCRYPT_TCP"
        case .doq: return "DOQ"
        }
    }
}
