#if canImport(Glibc)
import Glibc
#elseif canImport(Darwin)
import Darwin
#endif
import Dispatch
import Synchronization

/// The pull endpoint's HTTP server, on POSIX sockets and nothing else (no HTTP client, no
/// Foundation, no ICU; issue 28): GET only, HTTP/1.1 with `Connection: close`, one request per
/// connection. Each connection is bounded: its request head at most `requestLimit` bytes, read and
/// answered within `timeout` seconds of the accept, and at most `maxConnections` at once (one more
/// is told 503 and closed). The listening socket is polled, so `stop` ends it within 0.2 s.
final class PullServer: Sendable {
    struct Request: Equatable, Sendable {
        var path: String
        var query: [String: String]
    }

    struct Response: Equatable, Sendable {
        var status: Int
        var contentType: String
        var body: [UInt8]

        init(_ status: Int, _ contentType: String, _ body: String) {
            self.status = status
            self.contentType = contentType
            self.body = Array(body.utf8)
        }

        static func text(_ status: Int, _ message: String) -> Response { Response(status, "text/plain; charset=utf-8", message + "\n") }

        /// The bytes on the wire: the status line, four headers, the body.
        var wire: [UInt8] {
            Array(("HTTP/1.1 \(status) \(Self.reason(status))\r\nContent-Type: \(contentType)\r\nContent-Length: \(body.count)\r\n"
                + (status == 405 ? "Allow: GET\r\n" : "") + "Connection: close\r\n\r\n").utf8) + body
        }

        static func reason(_ status: Int) -> String {
            switch status {
            case 200: "OK"
            case 400: "Bad Request"
            case 404: "Not Found"
            case 405: "Method Not Allowed"
            case 408: "Request Timeout"
            case 431: "Request Header Fields Too Large"
            case 503: "Service Unavailable"
            case 505: "HTTP Version Not Supported"
            default: "Error"
            }
        }
    }

    /// What a request's bytes are so far.
    enum Parsed: Equatable {
        case request(Request)
        /// The head has not ended yet: read on.
        case incomplete
        /// Answer this and close.
        case refused(Response)
    }

    static let requestLimit = 8192

    let timeout: Double
    let maxConnections: Int
    let handler: @Sendable (Request) -> Response
    private let state = Mutex(State())
    private let connections = DispatchQueue(label: "pv_monitor.pull.connections", attributes: .concurrent)

    private struct State {
        var listener: Int32 = -1
        var stopping = false
        var open = 0
        var acceptorDone: DispatchSemaphore?
    }

    init(timeout: Double = 10, maxConnections: Int = 16, handler: @escaping @Sendable (Request) -> Response) {
        self.timeout = max(0.1, timeout)
        self.maxConnections = max(1, maxConnections)
        self.handler = handler
    }

    /// Binds and listens on `address:port`; nil once it listens, or why it cannot (the system's
    /// words: "Address already in use"). The port it listens on is `port` (for port 0, see `boundPort`).
    func start(address: String, port: UInt16, ipv6: Bool) -> String? {
        #if os(Linux)
        let type = Int32(SOCK_STREAM.rawValue) | Int32(SOCK_CLOEXEC.rawValue)
        #else
        let type = SOCK_STREAM
        #endif
        let fd = socket(ipv6 ? AF_INET6 : AF_INET, type, 0)
        guard fd >= 0 else { return "socket: \(Self.errorText())" }
        var one: Int32 = 1
        _ = setsockopt(fd, SOL_SOCKET, SO_REUSEADDR, &one, socklen_t(MemoryLayout<Int32>.size))
        let bound: Int32
        if ipv6 {
            var addr = sockaddr_in6()
            addr.sin6_family = sa_family_t(AF_INET6)
            addr.sin6_port = port.bigEndian
            guard inet_pton(AF_INET6, address, &addr.sin6_addr) == 1 else { close(fd); return "\(address) is not an IPv6 address" }
            bound = withUnsafePointer(to: &addr) { $0.withMemoryRebound(to: sockaddr.self, capacity: 1) { bind(fd, $0, socklen_t(MemoryLayout<sockaddr_in6>.size)) } }
        } else {
            var addr = sockaddr_in()
            addr.sin_family = sa_family_t(AF_INET)
            addr.sin_port = port.bigEndian
            guard inet_pton(AF_INET, address, &addr.sin_addr) == 1 else { close(fd); return "\(address) is not an IPv4 address" }
            bound = withUnsafePointer(to: &addr) { $0.withMemoryRebound(to: sockaddr.self, capacity: 1) { bind(fd, $0, socklen_t(MemoryLayout<sockaddr_in>.size)) } }
        }
        guard bound == 0 else { let why = "bind: \(Self.errorText())"; close(fd); return why }
        guard listen(fd, 64) == 0 else { let why = "listen: \(Self.errorText())"; close(fd); return why }
        _ = fcntl(fd, F_SETFL, fcntl(fd, F_GETFL) | O_NONBLOCK)
        let done = DispatchSemaphore(value: 0)
        state.withLock { $0.listener = fd; $0.acceptorDone = done }
        let thread = DispatchQueue(label: "pv_monitor.pull.accept")
        thread.async { [self] in acceptLoop(fd); done.signal() }
        return nil
    }

    /// Whether `address` is a numeric IPv4 (or, with `ipv6`, IPv6) address.
    static func isAddress(_ address: String, ipv6: Bool) -> Bool {
        var buffer = in6_addr()
        return inet_pton(ipv6 ? AF_INET6 : AF_INET, address, &buffer) == 1
    }

    /// The port the socket is bound to (the kernel's choice for port 0), nil when not listening.
    var boundPort: UInt16? {
        let fd = state.withLock { $0.listener }
        guard fd >= 0 else { return nil }
        var storage = sockaddr_storage()
        var length = socklen_t(MemoryLayout<sockaddr_storage>.size)
        let ok = withUnsafeMutablePointer(to: &storage) { $0.withMemoryRebound(to: sockaddr.self, capacity: 1) { getsockname(fd, $0, &length) } }
        guard ok == 0 else { return nil }
        return withUnsafePointer(to: &storage) { pointer in
            if pointer.pointee.ss_family == sa_family_t(AF_INET6) {
                return pointer.withMemoryRebound(to: sockaddr_in6.self, capacity: 1) { UInt16(bigEndian: $0.pointee.sin6_port) }
            }
            return pointer.withMemoryRebound(to: sockaddr_in.self, capacity: 1) { UInt16(bigEndian: $0.pointee.sin_port) }
        }
    }

    /// Stops listening (within 0.2 s); connections in flight end by their deadline.
    func stop() {
        let done = state.withLock { state -> DispatchSemaphore? in
            state.stopping = true
            return state.acceptorDone
        }
        _ = done?.wait(timeout: .now() + 2)
    }

    private func acceptLoop(_ listener: Int32) {
        defer {
            close(listener)
            state.withLock { $0.listener = -1 }
        }
        while !state.withLock({ $0.stopping }) {
            var ready = pollfd(fd: listener, events: Int16(POLLIN), revents: 0)
            guard poll(&ready, 1, 200) > 0 else { continue }
            // accept4 is not in Glibc's module: the flags by fcntl.
            let fd = accept(listener, nil, nil)
            if fd >= 0 {
                _ = fcntl(fd, F_SETFD, FD_CLOEXEC)
                _ = fcntl(fd, F_SETFL, fcntl(fd, F_GETFL) | O_NONBLOCK)
            }
            guard fd >= 0 else { continue }
            let admitted = state.withLock { state -> Bool in
                guard state.open < maxConnections else { return false }
                state.open += 1
                return true
            }
            guard admitted else {
                // Every slot is taken: say so without waiting on this client, and close.
                let wire = Response.text(503, "busy: try again").wire
                _ = wire.withUnsafeBytes { send(fd, $0.baseAddress, $0.count, Self.noSignal | Int32(MSG_DONTWAIT)) }
                close(fd)
                continue
            }
            connections.async { [self] in
                serve(fd)
                close(fd)
                state.withLock { $0.open -= 1 }
            }
        }
    }

    /// One connection: read the head (to the cap, by the deadline), answer, close.
    private func serve(_ fd: Int32) {
        let deadline = DispatchTime.now().uptimeNanoseconds + UInt64(timeout * 1_000_000_000)
        var buffer: [UInt8] = []
        var chunk = [UInt8](repeating: 0, count: 2048)
        var response: Response
        reading: while true {
            switch Self.parse(buffer) {
            case .request(let request): response = handler(request); break reading
            case .refused(let refusal): response = refusal; break reading
            case .incomplete: break
            }
            guard Self.wait(fd, Int16(POLLIN), until: deadline) else { response = .text(408, "the request did not arrive in time"); break }
            let count = chunk.withUnsafeMutableBytes { recv(fd, $0.baseAddress, $0.count, 0) }
            if count > 0 {
                buffer.append(contentsOf: chunk[0..<count])
            } else if count == 0 || (errno != EAGAIN && errno != EWOULDBLOCK && errno != EINTR) {
                return  // the client went
            }
        }
        writeAll(fd, response.wire, until: deadline)
        _ = shutdown(fd, Int32(SHUT_WR))
    }

    private func writeAll(_ fd: Int32, _ bytes: [UInt8], until deadline: UInt64) {
        var sent = 0
        while sent < bytes.count {
            let count = bytes.withUnsafeBytes { send(fd, $0.baseAddress! + sent, $0.count - sent, Self.noSignal) }
            if count > 0 { sent += count; continue }
            guard count < 0, errno == EAGAIN || errno == EWOULDBLOCK || errno == EINTR, Self.wait(fd, Int16(POLLOUT), until: deadline) else { return }
        }
    }

    /// Whether `fd` became ready for `events` before the deadline.
    private static func wait(_ fd: Int32, _ events: Int16, until deadline: UInt64) -> Bool {
        while true {
            let now = DispatchTime.now().uptimeNanoseconds
            guard now < deadline else { return false }
            var ready = pollfd(fd: fd, events: events, revents: 0)
            let result = poll(&ready, 1, Int32(min(Int64(Int32.max), Int64((deadline - now) / 1_000_000) + 1)))
            if result > 0 { return true }
            if result < 0 && errno != EINTR { return false }
        }
    }

    #if os(Linux)
    private static let noSignal = Int32(MSG_NOSIGNAL)
    #else
    private static let noSignal: Int32 = 0
    #endif

    private static func errorText() -> String { String(cString: strerror(errno)) }

    /// A request's head from its bytes so far: the request line (`GET /path?query HTTP/1.x`), the
    /// headers ignored (none is needed), a body never read (GET).
    static func parse(_ bytes: [UInt8]) -> Parsed {
        let end: Int? = bytes.count < 4 ? nil : (3..<bytes.count).first {
            bytes[$0 - 3] == 13 && bytes[$0 - 2] == 10 && bytes[$0 - 1] == 13 && bytes[$0] == 10
        }
        guard let end else { return bytes.count >= requestLimit ? .refused(.text(431, "the request is over \(requestLimit) bytes")) : .incomplete }
        guard end < requestLimit else { return .refused(.text(431, "the request is over \(requestLimit) bytes")) }
        guard let lineEnd = bytes.firstIndex(of: 13), let line = String(validating: bytes[..<lineEnd], as: UTF8.self) else {
            return .refused(.text(400, "malformed request line"))
        }
        let parts = line.split(separator: " ", omittingEmptySubsequences: false)
        guard parts.count == 3, parts[1].hasPrefix("/") else { return .refused(.text(400, "malformed request line")) }
        guard parts[2] == "HTTP/1.1" || parts[2] == "HTTP/1.0" else { return .refused(.text(505, "HTTP/1.0 and HTTP/1.1 only")) }
        guard parts[0] == "GET" else { return .refused(.text(405, "GET only")) }
        let target = parts[1]
        let path = target.split(separator: "?", maxSplits: 1, omittingEmptySubsequences: false)
        var query: [String: String] = [:]
        if path.count == 2 {
            for pair in path[1].split(separator: "&") {
                let kv = pair.split(separator: "=", maxSplits: 1, omittingEmptySubsequences: false)
                guard let key = percentDecoded(kv[0]), let value = percentDecoded(kv.count == 2 ? kv[1] : "") else {
                    return .refused(.text(400, "malformed query"))
                }
                if query[key] == nil { query[key] = value }
            }
        }
        return .request(Request(path: String(path[0]), query: query))
    }

    /// `%XX` decoded (no `+` for a space, as URLComponents); nil for a bad escape or bytes that are not UTF-8.
    static func percentDecoded(_ text: Substring) -> String? {
        var out: [UInt8] = []
        var bytes = text.utf8.makeIterator()
        while let byte = bytes.next() {
            guard byte == UInt8(ascii: "%") else { out.append(byte); continue }
            guard let high = bytes.next().flatMap(hexValue), let low = bytes.next().flatMap(hexValue) else { return nil }
            out.append(high << 4 | low)
        }
        return String(validating: out, as: UTF8.self)
    }

    private static func hexValue(_ byte: UInt8) -> UInt8? {
        switch byte {
        case UInt8(ascii: "0")...UInt8(ascii: "9"): byte - UInt8(ascii: "0")
        case UInt8(ascii: "a")...UInt8(ascii: "f"): byte - UInt8(ascii: "a") + 10
        case UInt8(ascii: "A")...UInt8(ascii: "F"): byte - UInt8(ascii: "A") + 10
        default: nil
        }
    }
}
