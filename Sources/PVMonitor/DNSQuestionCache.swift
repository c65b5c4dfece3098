#if canImport(FoundationEssentials)
import FoundationEssentials
#else
import Foundation
#endif
import PVDNS

/// What ldns made of the DNS messages seen lately, by their bytes after the 2-byte ID: a server's
/// queries repeat (the same name and type from the same resolver software, byte for byte but for
/// the ID), and ldns' parse is a pure function of those bytes, so a remembered answer is exactly
/// ldns' answer, at the price of one hash instead of a parse and two printf-built strings.
/// Bounded: at `capacity` entries it starts again empty (a flood of new names only refills it).
struct DNSQuestionCache: Sendable {
    let capacity: Int
    var known: [Data: Result<DNSQuestion, DNSQuestion.Failure>] = [:]

    init(capacity: Int) { self.capacity = max(1, capacity) }

    mutating func question(_ wire: Data) -> Result<DNSQuestion, DNSQuestion.Failure> {
        // Shorter than a header: nothing to share, and ldns says why.
        guard wire.count > 2 else { return DNSQuestion.parse([UInt8](wire)) }
        let key = wire.dropFirst(2)
        if let answer = known[key] { return answer }
        let answer = DNSQuestion.parse([UInt8](wire))
        if known.count >= capacity { known.removeAll(keepingCapacity: true) }
        known[Data(key)] = answer
        return answer
    }
}
