import Foundation
import Testing
import PVDNS
@testable import PVMonitor

/// dnstap frames as Knot's mod-dnstap sends them, decoded (swift-protobuf, then ldns), and every
/// kind of bad frame dropped with its reason.
@Suite struct DnstapDecoderTests {
    /// A DNS message on the wire: one question, `response` sets QR and the rcode.
    static func dns(_ labels: [[UInt8]], type: UInt16, response: Bool = false, rcode: UInt8 = 0) -> [UInt8] {
        var m: [UInt8] = [0x12, 0x34, response ? 0x84 : 0x00, rcode, 0, 1, 0, 0, 0, 0, 0, 0]
        for label in labels { m.append(UInt8(label.count)); m += label }
        m += [0, UInt8(type >> 8), UInt8(type & 0xff), 0, 1]
        return m
    }

    static func frame(_ kind: DnstapMessageKind, dns: [UInt8], zone: [UInt8]? = nil) -> [UInt8] {
        var message = Pvmonitor_Message()
        message.type = kind.rawValue
        message.socketProtocol = 1  // UDP
        if kind.isQuery {
            message.queryMessage = Data(dns)
            message.queryTimeSec = 1_795_000_000
            message.queryTimeNsec = 500_000_000
        } else {
            message.responseMessage = Data(dns)
            message.responseTimeSec = 1_795_000_001
        }
        if let zone { message.queryZone = Data(zone) }
        var dnstap = Pvmonitor_Dnstap()
        dnstap.type = 1  // MESSAGE
        dnstap.message = message
        return [UInt8](try! dnstap.serializedBytes() as [UInt8])
    }

    let www: [[UInt8]] = [Array("www".utf8), Array("Example".utf8), Array("com".utf8)]
    let exampleZone: [UInt8] = [7] + Array("example".utf8) + [3] + Array("com".utf8) + [0]

    @Test func anAuthoritativeQueryGivesItsNameTypeZoneAndTime() throws {
        let record = try DnstapDecoder.decode(Self.frame(.authQuery, dns: Self.dns(www, type: 1), zone: exampleZone)).get()
        #expect(record == DnstapRecord(direction: .query, question: DNSQuestion(name: "www.example.com.", type: "A"),
                                       zone: "example.com.", time: 1_795_000_000.5, transport: "UDP"))
    }

    @Test func aResponseGivesItsCode() throws {
        let record = try DnstapDecoder.decode(Self.frame(.authResponse, dns: Self.dns(www, type: 28, response: true, rcode: 3))).get()
        #expect(record.direction == .response && record.question == DNSQuestion(name: "www.example.com.", type: "AAAA", rcode: "NXDOMAIN"))
    }

    @Test func aBinaryLabelIsEscapedNotPrinted() throws {
        let record = try DnstapDecoder.decode(Self.frame(.clientQuery, dns: Self.dns([[0x1b, 0x5b, 0x32, 0x4a, 0x0a], Array("x".utf8)], type: 16))).get()
        #expect(!record.question.name.contains("\u{1b}") && !record.question.name.contains("\n"), "\(record.question.name)")
        #expect(record.question.type == "TXT")
    }

    @Test func badFramesAreDroppedWithTheirReason() {
        #expect(DnstapDecoder.decode([0xff, 0xff, 0xff, 0xff]) == .failure(.notProtobuf))
        var empty = Pvmonitor_Dnstap()
        empty.type = 1
        #expect(DnstapDecoder.decode([UInt8](try! empty.serializedBytes() as [UInt8])) == .failure(.notAMessage))
        #expect(DnstapDecoder.decode(Self.frame(.authQuery, dns: [])) == .failure(.noDNSMessage))
        #expect(DnstapDecoder.decode(Self.frame(.authQuery, dns: Array(Self.dns(www, type: 1).prefix(15)))) == .failure(.unparseableDNS))
        let noQuestion: [UInt8] = [0x12, 0x34, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0]
        #expect(DnstapDecoder.decode(Self.frame(.authQuery, dns: noQuestion)) == .failure(.noQuestion))
    }

    /// The decoder remembers what ldns made of a message by its bytes after the ID: the same
    /// question under another ID is the same record, a message that differs anywhere else is
    /// parsed again (a bad tail stays a drop), and past its bound it starts again, still right.
    @Test func aRememberedMessageGivesLdnsOwnAnswerAndOnlyForTheSameBytes() throws {
        var decoder = DnstapDecoder(rememberedQuestions: 2)
        var other = Self.dns(www, type: 1)
        other[0] = 0x56; other[1] = 0x78
        let first = try decoder.decode(Self.frame(.authQuery, dns: Self.dns(www, type: 1))).get()
        let again = try decoder.decode(Self.frame(.authQuery, dns: other)).get()
        #expect(first.question == again.question && again.question.name == "www.example.com.")
        #expect(decoder.questions.known.count == 1)
        let truncated = Array(Self.dns(www, type: 1).dropLast())
        #expect(decoder.decode(Self.frame(.authQuery, dns: truncated)) == .failure(.unparseableDNS))
        #expect(decoder.decode(Self.frame(.authQuery, dns: truncated)) == .failure(.unparseableDNS))
        for type: UInt16 in [16, 28, 15, 1] {
            #expect(try decoder.decode(Self.frame(.authQuery, dns: Self.dns(www, type: type))).get().question.type
                    == ["16": "TXT", "28": "AAAA", "15": "MX", "1": "A"]["\(type)"])
        }
        #expect(decoder.questions.known.count <= 2)
    }
}
