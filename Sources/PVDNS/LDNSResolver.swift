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
/// for the real one until the deadline. A fresh socket and ID for every attempt. A reply with
/// the TC bit (truncated: the answer did not fit a datagram) is asked again over TCP within the
/// same attempt's time, as kdig does; when TCP gives no answer, that is the failure.
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
        let address: Address
        switch Address.parse(server, port: port) {
        case .some(let parsed): address = parsed
        case .none: return .failure(.invalidServer("'\(server)' is not an IP address"))
        }
        guard let qname = ldns_dname_new_frm_str(name) else {
            return .failure(.invalidServer("'\(name)' is not a domain name"))
        }
        defer { ldns_rdf_deep_free(qname) }
        let deadline = Monotonic.nanoseconds() + UInt64(timeoutSeconds * 1e9)

        var packet: UnsafeMutablePointer<ldns_pkt>
        switch udpExchange(address, qname: qname, deadline: deadline) {
        case .failure(let error): return .failure(error)
        case .success(let reply): packet = reply
        }
        var overTCP = false
        if ldns_pkt_tc(packet) {
            // Truncated (TC): the answer did not fit a datagram and is not in this one. As kdig
            // does, ask again over TCP, within what is left of this attempt's time.
            ldns_pkt_free(packet)
            switch tcpExchange(address, qname: qname, deadline: deadline) {
            case .failure(let failure): return .failure(.truncated(failure.why))
            case .success(let reply): packet = reply
            }
            overTCP = true
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
        return .success(DNSAnswer(rcode: rcode, txtRecords: records, overTCP: overTCP))
    }

    /// Why the TCP exchange gave no answer.
    struct Failure: Error {
        var why: String
        init(_ why: String) { self.why = why }
    }

    /// The server's address as a socket address.
    struct Address {
        var family: Int32
        var storage = sockaddr_storage()
        var length: socklen_t

        /// `sa` (a sockaddr_in or sockaddr_in6) copied into the storage.
        init<SocketAddress>(_ family: Int32, _ sa: SocketAddress) {
            self.family = family
            length = socklen_t(MemoryLayout<SocketAddress>.size)
            withUnsafeMutableBytes(of: &storage) { $0.copyBytes(from: withUnsafeBytes(of: sa) { Array($0) }) }
        }

        static func parse(_ server: String, port: UInt16) -> Address? {
            var v4 = in_addr(), v6 = in6_addr()
            if inet_pton(AF_INET, server, &v4) == 1 {
                var sa = sockaddr_in()
                sa.sin_family = sa_family_t(AF_INET)
                sa.sin_port = port.bigEndian
                sa.sin_addr = v4
                return Address(AF_INET, sa)
            }
            if inet_pton(AF_INET6, server, &v6) == 1 {
                var sa = sockaddr_in6()
                sa.sin6_family = sa_family_t(AF_INET6)
                sa.sin6_port = port.bigEndian
                sa.sin6_addr = v6
                return Address(AF_INET6, sa)
            }
            return nil
        }

        func connect(_ fd: Int32) -> Int32 {
            withUnsafeBytes(of: storage) { Glibc.connect(fd, $0.baseAddress!.assumingMemoryBound(to: sockaddr.self), length) }
        }
    }

    /// The query over UDP, on a socket connected to the server, and the first reply that answers
    /// it (the caller frees it).
    private func udpExchange(_ address: Address, qname: UnsafeMutablePointer<ldns_rdf>,
                             deadline: UInt64) -> Result<UnsafeMutablePointer<ldns_pkt>, DNSQueryError> {
        let id = UInt16.random(in: 0...UInt16.max)
        guard let query = Self.queryWire(qname: qname, id: id) else { return .failure(.network("cannot build the query")) }
        let fd = socket(address.family, Int32(SOCK_DGRAM.rawValue) | Int32(SOCK_CLOEXEC.rawValue), 0)
        guard fd >= 0 else { return .failure(.network("socket: \(String(cString: strerror(errno)))")) }
        defer { close(fd) }
        guard address.connect(fd) == 0 else { return .failure(.network("connect to \(server) port \(port): \(String(cString: strerror(errno)))")) }
        guard query.withUnsafeBytes({ send(fd, $0.baseAddress, $0.count, 0) }) == query.count else {
            return .failure(.network("send to \(server) port \(port): \(String(cString: strerror(errno)))"))
        }

        var ignored = 0
        var buffer = [UInt8](repeating: 0, count: 65535)
        while true {
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
            return .success(reply)
        }
    }

    /// The query over TCP (RFC 1035 4.2.2: each message after its two-byte length), a fresh
    /// connection and ID, bounded by `deadline`: the reply, which must answer the query, or why
    /// there is none (the caller frees the reply).
    private func tcpExchange(_ address: Address, qname: UnsafeMutablePointer<ldns_rdf>,
                             deadline: UInt64) -> Result<UnsafeMutablePointer<ldns_pkt>, Failure> {
        let id = UInt16.random(in: 0...UInt16.max)
        guard let query = Self.queryWire(qname: qname, id: id) else { return .failure(Failure("cannot build the query")) }
        let fd = socket(address.family, Int32(SOCK_STREAM.rawValue) | Int32(SOCK_CLOEXEC.rawValue) | Int32(SOCK_NONBLOCK.rawValue), 0)
        guard fd >= 0 else { return .failure(Failure("socket: \(String(cString: strerror(errno)))")) }
        defer { close(fd) }
        let target = "TCP \(server) port \(port)"

        /// Waits until `fd` is ready for `events`; false when the deadline passed first.
        func wait(_ events: Int32) -> Bool {
            while true {
                let now = Monotonic.nanoseconds()
                guard now < deadline else { return false }
                var pfd = pollfd(fd: fd, events: Int16(events), revents: 0)
                let ready = poll(&pfd, 1, Int32(max(1, (deadline - now) / 1_000_000)))
                if ready > 0 { return true }
                if ready < 0 && errno != EINTR { return true }  // the next call says what is wrong
            }
        }
        let timedOut = "no answer over \(target) within the attempt's \(timeoutSeconds) s"

        if address.connect(fd) != 0 {
            guard errno == EINPROGRESS else { return .failure(Failure("connect to \(target): \(String(cString: strerror(errno)))")) }
            guard wait(POLLOUT) else { return .failure(Failure(timedOut)) }
            var soError: Int32 = 0
            var size = socklen_t(MemoryLayout<Int32>.size)
            getsockopt(fd, SOL_SOCKET, SO_ERROR, &soError, &size)
            guard soError == 0 else { return .failure(Failure("connect to \(target): \(String(cString: strerror(soError)))")) }
        }

        var outgoing = [UInt8(query.count >> 8), UInt8(query.count & 0xff)] + query
        while !outgoing.isEmpty {
            let n = outgoing.withUnsafeBytes { send(fd, $0.baseAddress, $0.count, Int32(MSG_NOSIGNAL)) }
            if n > 0 { outgoing.removeFirst(n); continue }
            guard n < 0, errno == EAGAIN || errno == EINTR else { return .failure(Failure("send to \(target): \(String(cString: strerror(errno)))")) }
            guard wait(POLLOUT) else { return .failure(Failure(timedOut)) }
        }

        /// Exactly `count` bytes, or why not.
        func receive(_ count: Int) -> Result<[UInt8], Failure> {
            var bytes: [UInt8] = []
            var buffer = [UInt8](repeating: 0, count: count)
            while bytes.count < count {
                let n = buffer.withUnsafeMutableBytes { recv(fd, $0.baseAddress, count - bytes.count, 0) }
                if n > 0 { bytes.append(contentsOf: buffer[0..<n]); continue }
                if n == 0 { return .failure(Failure("\(target) closed the connection before its reply was whole")) }
                guard errno == EAGAIN || errno == EINTR else { return .failure(Failure("recv from \(target): \(String(cString: strerror(errno)))")) }
                guard wait(POLLIN) else { return .failure(Failure(timedOut)) }
            }
            return .success(bytes)
        }
        let length: Int
        switch receive(2) {
        case .failure(let failure): return .failure(failure)
        case .success(let prefix): length = Int(prefix[0]) << 8 | Int(prefix[1])
        }
        let wire: [UInt8]
        switch receive(length) {
        case .failure(let failure): return .failure(failure)
        case .success(let bytes): wire = bytes
        }
        var parsed: UnsafeMutablePointer<ldns_pkt>? = nil
        let status = wire.withUnsafeBufferPointer { ldns_wire2pkt(&parsed, $0.baseAddress, $0.count) }
        guard status == LDNS_STATUS_OK, let reply = parsed else {
            if let parsed { ldns_pkt_free(parsed) }
            return .failure(Failure("the reply over \(target) does not parse"))
        }
        guard Self.answers(reply, id: id, qname: qname) else {
            ldns_pkt_free(reply)
            return .failure(Failure("the reply over \(target) does not answer the query (another ID, no QR bit or another question)"))
        }
        return .success(reply)
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
