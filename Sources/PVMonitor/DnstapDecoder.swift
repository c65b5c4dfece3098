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
/// One per stream: it remembers what ldns made of the DNS messages it has seen (`DNSQuestionCache`).
public struct DnstapDecoder: Sendable {
    var questions: DNSQuestionCache
    /// Fields of dnstap that our subset does not name (addresses, ports, extra) are skipped, not kept.
    static let options: BinaryDecodingOptions = {
        var options = BinaryDecodingOptions()
        options.discardUnknownFields = true
        return options
    }()

    public init(rememberedQuestions: Int = 4096) { questions = DNSQuestionCache(capacity: rememberedQuestions) }

    /// One frame with a decoder of its own (nothing remembered).
    public static func decode(_ frame: [UInt8]) -> Result<DnstapRecord, DnstapDrop> {
        var decoder = DnstapDecoder(rememberedQuestions: 1)
        return decoder.decode(frame)
    }

    public mutating func decode(_ frame: [UInt8]) -> Result<DnstapRecord, DnstapDrop> {
        let dnstap: Pvmonitor_Dnstap
        do { dnstap = try Pvmonitor_Dnstap(serializedBytes: frame, options: Self.options) } catch { return .failure(.notProtobuf) }
        guard dnstap.hasMessage else { return .failure(.notAMessage) }
        let message = dnstap.message
        guard message.hasType else { return .failure(.notAMessage) }
        // Odd kinds are queries (AUTH_QUERY = 1, CLIENT_QUERY = 5, ...), even ones responses.
        let isQuery = message.type % 2 == 1
        let wire = isQuery ? message.queryMessage : message.responseMessage
        guard !wire.isEmpty else { return .failure(.noDNSMessage) }
        let question: DNSQuestion
        switch questions.question(wire) {
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

    /// dnstap's Transport by number (the subset reads enumerations as numbers).
    static func transportName(_ t: UInt32) -> String {
        switch t {
        case 1: return "UDP"
        case 2: return "TCP"
        case 3: return "DOT"
        case 4: return "DOH"
        case 5: return "DNSCRYPT_UDP"
        case 6: return "DNSCRYPT_TCP"
        case 7: return "DOQ"
        default: return "TRANSPORT\(t)"
        }
    }
}

/// dnstap's Message.Type: the kinds of message a sender logs (odd numbers queries, even responses).
public enum DnstapMessageKind: UInt32, Sendable, CaseIterable {
    case authQuery = 1, authResponse, resolverQuery, resolverResponse, clientQuery, clientResponse,
         forwarderQuery, forwarderResponse, stubQuery, stubResponse, toolQuery, toolResponse,
         updateQuery, updateResponse

    public var isQuery: Bool { rawValue % 2 == 1 }
}
