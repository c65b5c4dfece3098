import CLDNS
import PVCore
#if canImport(Glibc)
import Glibc
#endif

/// One TXT query, its packets built and parsed by ldns. The exchange is ours, because ldns's
/// resolver takes the first datagram that arrives: a reply with another ID, or from another
/// port, passed as the answer. Here the UDP socket is connected to the server (the kernel then
/// delivers only datagrams from that address and port), and a reply counts only with the query's
/// ID, the QR bit and the same question; anything else is ignored (and counted) while waiting
/// for the real one until the deadline. A fresh socket and ID for every attempt.
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
        var ignored = 0
        for _ in 0..<attempts {
            switch once(name) {
            case .success(let answer): return .success(answer)
            case .failure(.invalidServer(let why)): return .failure(.invalidServer(why))
            case .failure(.timeout(_, _, let n)): ignored += n; last = .timeout(tries: attempts, seconds: timeoutSeconds)
            case .failure(let error): last = error
            }
        }
        if case .timeout = last { return .failure(.timeout(tries: attempts, seconds: timeoutSeconds, ignored: ignored)) }
        return .failure(last)
    }

    private func once(_ name: String) -> Result<DNSAnswer, DNSQueryError> {
        var v4 = in_addr(), v6 = in6_addr()
        let rdfType: ldns_rdf_type
        if inet_pton(AF_INET, server, &v4) == 1 { rdfType = LDNS_RDF_TYPE_A }
        else if inet_pton(AF_INET6, server, &v6) == 1 { rdfType = LDNS_RDF_TYPE_AAAA }
        else { return .failure(.invalidServer("'\(server)' is not an IP address")) }

        guard let qname = ldns_dname_new_frm_str(name) else {
            return .failure(.invalidServer("'\(name)' is not a domain name"))
        }
        defer { ldns_rdf_deep_free(qname) }
        let id = UInt16.random(in: 0...UInt16.max)
        guard let query = Self.queryWire(qname: qname, id: id) else { return .failure(.network("cannot build the query")) }

        let family = rdfType == LDNS_RDF_TYPE_A ? AF_INET : AF_INET6
        let fd = socket(family, Int32(SOCK_DGRAM.rawValue) | Int32(SOCK_CLOEXEC.rawValue), 0)
        guard fd >= 0 else { return .failure(.network("socket: \(String(cString: strerror(errno)))")) }
        defer { close(fd) }
        let connected: Int32
        if family == AF_INET {
            var sa = sockaddr_in()
            sa.sin_family = sa_family_t(AF_INET)
            sa.sin_port = port.bigEndian
            sa.sin_addr = v4
            connected = withUnsafePointer(to: &sa) { $0.withMemoryRebound(to: sockaddr.self, capacity: 1) { connect(fd, $0, socklen_t(MemoryLayout<sockaddr_in>.size)) } }
        } else {
            var sa = sockaddr_in6()
            sa.sin6_family = sa_family_t(AF_INET6)
            sa.sin6_port = port.bigEndian
            sa.sin6_addr = v6
            connected = withUnsafePointer(to: &sa) { $0.withMemoryRebound(to: sockaddr.self, capacity: 1) { connect(fd, $0, socklen_t(MemoryLayout<sockaddr_in6>.size)) } }
        }
        guard connected == 0 else { return .failure(.network("connect to \(server) port \(port): \(String(cString: strerror(errno)))")) }
        guard query.withUnsafeBytes({ send(fd, $0.baseAddress, $0.count, 0) }) == query.count else {
            return .failure(.network("send to \(server) port \(port): \(String(cString: strerror(errno)))"))
        }

        let deadline = Monotonic.nanoseconds() + UInt64(timeoutSeconds * 1e9)
        var ignored = 0
        var buffer = [UInt8](repeating: 0, count: 65535)
        var packet: UnsafeMutablePointer<ldns_pkt>? = nil
        while packet == nil {
            let now = Monotonic.nanoseconds()
            guard now < deadline else { return .failure(.timeout(tries: 1, seconds: timeoutSeconds, ignored: ignored)) }
            var pfd = pollfd(fd: fd, events: Int16(POLLIN), revents: 0)
            let ready = poll(&pfd, 1, Int32(max(1, (deadline - now) / 1_000_000)))
            if ready < 0 && errno == EINTR { continue }
            guard ready > 0 else { continue }
            let n = buffer.withUnsafeMutableBytes { recv(fd, $0.baseAddress, $0.count, 0) }
            if n < 0 {
                // ICMP port unreachable on a connected socket: nothing listens there.
                if errno == ECONNREFUSED { return .failure(.timeout(tries: 1, seconds: timeoutSeconds, ignored: ignored)) }
                if errno == EINTR || errno == EAGAIN { continue }
                return .failure(.network("recv: \(String(cString: strerror(errno)))"))
            }
            var parsed: UnsafeMutablePointer<ldns_pkt>? = nil
            let status = buffer.withUnsafeBufferPointer { ldns_wire2pkt(&parsed, $0.baseAddress, n) }
            guard status == LDNS_STATUS_OK, let reply = parsed, Self.answers(reply, id: id, qname: qname) else {
                if let parsed { ldns_pkt_free(parsed) }
                ignored += 1
                continue
            }
            packet = reply
        }
        guard let packet else { return .failure(.network("no reply")) }
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

    /// The query in wire format: ID `id`, one question (qname, TXT, IN), no recursion wanted.
    static func queryWire(qname: UnsafeMutablePointer<ldns_rdf>, id: UInt16) -> [UInt8]? {
        guard let name = ldns_rdf_clone(qname), let pkt = ldns_pkt_query_new(name, LDNS_RR_TYPE_TXT, LDNS_RR_CLASS_IN, 0) else { return nil }
        defer { ldns_pkt_free(pkt) }
        ldns_pkt_set_id(pkt, id)
        ldns_pkt_set_rd(pkt, false)
        var wire: UnsafeMutablePointer<UInt8>? = nil
        var size = 0
        guard ldns_pkt2wire(&wire, pkt, &size) == LDNS_STATUS_OK, let wire else { return nil }
        defer { free(wire) }
        return Array(UnsafeBufferPointer(start: wire, count: size))
    }

    /// A reply to this query: its ID, the QR bit, and exactly the question asked (name, TXT, IN).
    static func answers(_ reply: UnsafeMutablePointer<ldns_pkt>, id: UInt16, qname: UnsafeMutablePointer<ldns_rdf>) -> Bool {
        guard ldns_pkt_id(reply) == id, ldns_pkt_qr(reply), ldns_pkt_qdcount(reply) == 1,
              let questions = ldns_pkt_question(reply), let q = ldns_rr_list_rr(questions, 0),
              let owner = ldns_rr_owner(q) else { return false }
        return ldns_dname_compare(owner, qname) == 0 && ldns_rr_get_type(q) == LDNS_RR_TYPE_TXT && ldns_rr_get_class(q) == LDNS_RR_CLASS_IN
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
