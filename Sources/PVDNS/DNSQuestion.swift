import CLDNS
#if canImport(Glibc)
import Glibc
#endif

/// What a DNS message asks (its first question) and, for a response, its code: parsed by ldns from
/// the wire bytes dnstap carries. Names are lower-cased, absolute (`www.example.`), with ldns'
/// escaping of binary labels (`\000`), so that a hostile label cannot forge a line in a table.
public struct DNSQuestion: Sendable, Equatable {
    public var name: String
    /// `A`, `AAAA`, `TXT`, ... (`TYPE65280` for one ldns does not know).
    public var type: String
    /// `NOERROR`, `NXDOMAIN`, ... for a response; nil for a query.
    public var rcode: String?

    public init(name: String, type: String, rcode: String? = nil) {
        self.name = name
        self.type = type
        self.rcode = rcode
    }

    public enum Failure: Error, Sendable, Equatable, CustomStringConvertible {
        /// ldns refused the bytes (its status text).
        case unparseable(String)
        case noQuestion

        public var description: String {
            switch self {
            case .unparseable(let why): return "a DNS message ldns rejects (\(why))"
            case .noQuestion: return "a DNS message without a question"
            }
        }
    }

    public static func parse(_ wire: [UInt8]) -> Result<DNSQuestion, Failure> {
        var packet: UnsafeMutablePointer<ldns_pkt>? = nil
        let status = wire.withUnsafeBufferPointer { ldns_wire2pkt(&packet, $0.baseAddress, $0.count) }
        guard status == LDNS_STATUS_OK, let packet else {
            if let packet { ldns_pkt_free(packet) }
            return .failure(.unparseable(ldns_get_errorstr_by_id(status).map { String(cString: $0) } ?? "status \(status.rawValue)"))
        }
        defer { ldns_pkt_free(packet) }
        guard let questions = ldns_pkt_question(packet), ldns_rr_list_rr_count(questions) > 0,
              let question = ldns_rr_list_rr(questions, 0), let owner = ldns_rr_owner(question) else { return .failure(.noQuestion) }
        let name = text(ldns_rdf2str(owner)).lowercased()
        let type = text(ldns_rr_type2str(ldns_rr_get_type(question)))
        var rcode: String? = nil
        if ldns_pkt_qr(packet) {
            rcode = text(ldns_pkt_rcode2str(ldns_pkt_get_rcode(packet)))
        }
        return .success(DNSQuestion(name: name, type: type, rcode: rcode))
    }

    /// A name in wire format (dnstap's `query_zone`), as text.
    public static func name(wire: [UInt8]) -> String? {
        guard !wire.isEmpty else { return nil }
        var rdf: UnsafeMutablePointer<ldns_rdf>? = nil
        var position = 0
        let status = wire.withUnsafeBufferPointer { ldns_wire2dname(&rdf, $0.baseAddress, $0.count, &position) }
        guard status == LDNS_STATUS_OK, let rdf else { return nil }
        defer { ldns_rdf_deep_free(rdf) }
        return text(ldns_rdf2str(rdf)).lowercased()
    }

    /// An ldns-allocated C string, freed after reading.
    static func text(_ pointer: UnsafeMutablePointer<CChar>?) -> String {
        guard let pointer else { return "" }
        defer { free(pointer) }
        return String(cString: pointer)
    }
}
