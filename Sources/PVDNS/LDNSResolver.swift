import CLDNS
#if canImport(Glibc)
import Glibc
#endif

/// One TXT query through ldns. A fresh ldns resolver is made for every
/// attempt: ldns marks a nameserver that timed out as unreachable for the
/// rest of that resolver's life, which would make a retry a no-op.
public struct LDNSResolver: Sendable {
    public var server: String
    public var port: UInt16
    /// Per-attempt timeout.
    public var timeoutSeconds: Double
    /// Total attempts (2 = one retry).
    public var attempts: Int

    public init(server: String, port: UInt16, timeoutSeconds: Double = 1.0, attempts: Int = 2) {
        self.server = server
        self.port = port
        self.timeoutSeconds = timeoutSeconds
        self.attempts = max(1, attempts)
    }

    public func queryTXT(_ name: String) -> Result<DNSAnswer, DNSQueryError> {
        var last: DNSQueryError = .timeout(tries: attempts, seconds: timeoutSeconds)
        for _ in 0..<attempts {
            switch once(name) {
            case .success(let answer): return .success(answer)
            case .failure(.invalidServer(let why)): return .failure(.invalidServer(why))
            case .failure(let error): last = error
            }
        }
        if case .timeout = last { return .failure(.timeout(tries: attempts, seconds: timeoutSeconds)) }
        return .failure(last)
    }

    private func once(_ name: String) -> Result<DNSAnswer, DNSQueryError> {
        var v4 = in_addr(), v6 = in6_addr()
        let rdfType: ldns_rdf_type
        if inet_pton(AF_INET, server, &v4) == 1 { rdfType = LDNS_RDF_TYPE_A }
        else if inet_pton(AF_INET6, server, &v6) == 1 { rdfType = LDNS_RDF_TYPE_AAAA }
        else { return .failure(.invalidServer("'\(server)' is not an IP address")) }

        guard let resolver = ldns_resolver_new() else { return .failure(.network("ldns_resolver_new failed")) }
        defer { ldns_resolver_deep_free(resolver) }
        guard let ns = ldns_rdf_new_frm_str(rdfType, server) else {
            return .failure(.invalidServer("'\(server)' is not an IP address"))
        }
        defer { ldns_rdf_deep_free(ns) }
        // push_nameserver copies the rdf.
        guard ldns_resolver_push_nameserver(resolver, ns) == LDNS_STATUS_OK else {
            return .failure(.network("cannot add nameserver \(server)"))
        }
        ldns_resolver_set_port(resolver, port)
        ldns_resolver_set_retry(resolver, 1)
        ldns_resolver_set_retrans(resolver, 0)
        let whole = Int(timeoutSeconds)
        let micro = Int((timeoutSeconds - Double(whole)) * 1_000_000)
        ldns_resolver_set_timeout(resolver, timeval(tv_sec: whole, tv_usec: micro))
        ldns_resolver_set_recursive(resolver, false)
        ldns_resolver_set_dnssec(resolver, false)
        ldns_resolver_set_usevc(resolver, false)
        ldns_resolver_set_random(resolver, false)

        guard let qname = ldns_dname_new_frm_str(name) else {
            return .failure(.invalidServer("'\(name)' is not a domain name"))
        }
        defer { ldns_rdf_deep_free(qname) }

        var packet: UnsafeMutablePointer<ldns_pkt>? = nil
        let status = ldns_resolver_query_status(&packet, resolver, qname, LDNS_RR_TYPE_TXT, LDNS_RR_CLASS_IN, 0)
        guard status == LDNS_STATUS_OK, let packet else {
            if status == LDNS_STATUS_NETWORK_ERR || status == LDNS_STATUS_RES_NO_NS {
                return .failure(.timeout(tries: 1, seconds: timeoutSeconds))
            }
            return .failure(.network(String(cString: ldns_get_errorstr_by_id(status))))
        }
        defer { ldns_pkt_free(packet) }

        let rcode = UInt8(ldns_pkt_get_rcode(packet).rawValue)
        var records: [[String]] = []
        if let answers = ldns_pkt_answer(packet) {
            for i in 0..<ldns_rr_list_rr_count(answers) {
                guard let rr = ldns_rr_list_rr(answers, i), ldns_rr_get_type(rr) == LDNS_RR_TYPE_TXT,
                      let owner = ldns_rr_owner(rr), ldns_dname_compare(owner, qname) == 0 else { continue }
                var strings: [String] = []
                for j in 0..<ldns_rr_rd_count(rr) {
                    guard let rdf = ldns_rr_rdf(rr, j) else { continue }
                    strings.append(Self.characterString(rdf))
                }
                records.append(strings)
            }
        }
        return .success(DNSAnswer(rcode: rcode, txtRecords: records))
    }

    /// A TXT rdf is a length-prefixed character string (ldns_rdf2str would add quotes and escapes).
    static func characterString(_ rdf: UnsafePointer<ldns_rdf>) -> String {
        let size = ldns_rdf_size(rdf)
        guard size > 0, let data = ldns_rdf_data(rdf) else { return "" }
        let length = min(Int(data[0]), size - 1)
        let bytes = UnsafeBufferPointer(start: data + 1, count: length)
        return String(decoding: bytes, as: UTF8.self)
    }
}
