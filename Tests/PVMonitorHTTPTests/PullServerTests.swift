#if canImport(Glibc)
import Glibc
#elseif canImport(Darwin)
import Darwin
#endif
import PVCore
import Testing
@testable import PVMonitor
@testable import PVMonitorHTTP

/// The pull endpoint's own HTTP server: what it accepts, what it refuses, and its bounds.
@Suite struct PullServerTests {
    static func parse(_ text: String) -> PullServer.Parsed { PullServer.parse(Array(text.utf8)) }

    @Test func aGetWithAQueryIsParsedAndDecoded() {
        #expect(Self.parse("GET /api/v1/rps?name=WWW.Example.com%2E&x HTTP/1.1\r\nHost: a\r\n\r\n")
                == .request(.init(path: "/api/v1/rps", query: ["name": "WWW.Example.com.", "x": ""])))
        #expect(Self.parse("GET /metrics HTTP/1.0\r\n\r\n") == .request(.init(path: "/metrics", query: [:])))
    }

    @Test func anUnfinishedHeadIsReadOnUntilTheCap() {
        #expect(Self.parse("GET /metrics HTTP/1.1\r\nHost: a\r\n") == .incomplete)
        #expect(Self.parse("") == .incomplete)
        let long = "GET /metrics HTTP/1.1\r\nX: " + String(repeating: "a", count: PullServer.requestLimit)
        guard case .refused(let response) = Self.parse(long) else { Issue.record("not refused"); return }
        #expect(response.status == 431)
        guard case .refused(let ended) = Self.parse(long + "\r\n\r\n") else { Issue.record("not refused"); return }
        #expect(ended.status == 431)
    }

    @Test func whatIsNotAGetIsRefused() {
        func status(_ text: String) -> Int? { if case .refused(let r) = Self.parse(text) { r.status } else { nil } }
        #expect(status("POST /metrics HTTP/1.1\r\n\r\n") == 405)
        #expect(status("GET /metrics HTTP/2\r\n\r\n") == 505)
        #expect(status("GET metrics HTTP/1.1\r\n\r\n") == 400)
        #expect(status("GET  /metrics HTTP/1.1\r\n\r\n") == 400)
        #expect(status("GET /api/v1/rps?name=%zz HTTP/1.1\r\n\r\n") == 400)
        #expect(status("\u{FF}\r\n\r\n") == 400)
        let wire = String(decoding: PullServer.Response.text(405, "GET only").wire, as: UTF8.self)
        #expect(wire.hasPrefix("HTTP/1.1 405 Method Not Allowed\r\n") && wire.contains("Allow: GET\r\n") && wire.contains("Connection: close\r\n"))
    }

    /// Over loopback, on a port the kernel picks: the routes, a silent client cut at the deadline,
    /// and a taken port reported in the system's words.
    @Test func theEndpointServesAndIsBounded() throws {
        let endpoint = try MonitorEndpoint(listen: MonitorListen(address: "127.0.0.1", port: 0, isIPv6: false), timeout: 0.5)
        #expect(endpoint.start() == nil)
        defer { endpoint.stop() }
        let port = try #require(endpoint.boundPort)
        endpoint.publish(MetricsExpositionTests.sample())

        let metrics = Self.exchange(port, "GET /metrics HTTP/1.1\r\nHost: x\r\n\r\n")
        #expect(metrics.hasPrefix("HTTP/1.1 200 OK\r\nContent-Type: text/plain; version=0.0.4; charset=utf-8\r\n"), "\(metrics)")
        #expect(metrics.contains("\npv_monitor_sequence 7.0\n"), "\(metrics)")
        let rps = Self.exchange(port, "GET /api/v1/rps?name=www.EXAMPLE.com HTTP/1.1\r\n\r\n")
        #expect(rps.hasPrefix("HTTP/1.1 200 OK\r\nContent-Type: application/json\r\n") && rps.contains(#""found":true"#), "\(rps)")
        #expect(Self.exchange(port, "GET /api/v1/rps HTTP/1.1\r\n\r\n").hasPrefix("HTTP/1.1 400 "))
        #expect(Self.exchange(port, "GET /nope HTTP/1.1\r\n\r\n").hasPrefix("HTTP/1.1 404 "))
        // A client that sends half a request and waits is answered 408 at the deadline, not held.
        #expect(Self.exchange(port, "GET /metrics HTTP/1.1\r\n").hasPrefix("HTTP/1.1 408 "))

        let second = try MonitorEndpoint(listen: MonitorListen(address: "127.0.0.1", port: port, isIPv6: false))
        let taken = try #require(second.start())
        #expect(taken.message == "cannot serve /metrics on 127.0.0.1:\(port)")
        #expect(taken.messageAndCause.contains("Address already in use"), "\(taken.messageAndCause)")
    }

    /// Sends `request` to 127.0.0.1:port and reads until the server closes (at most 3 s).
    static func exchange(_ port: UInt16, _ request: String) -> String {
        #if os(Linux)
        let fd = socket(AF_INET, Int32(SOCK_STREAM.rawValue), 0)
        #else
        let fd = socket(AF_INET, SOCK_STREAM, 0)
        #endif
        defer { close(fd) }
        var addr = sockaddr_in()
        addr.sin_family = sa_family_t(AF_INET)
        addr.sin_port = port.bigEndian
        addr.sin_addr.s_addr = UInt32(0x7f00_0001).bigEndian
        let connected = withUnsafePointer(to: &addr) { $0.withMemoryRebound(to: sockaddr.self, capacity: 1) { connect(fd, $0, socklen_t(MemoryLayout<sockaddr_in>.size)) } }
        guard connected == 0 else { return "connect failed" }
        var timeout = timeval(tv_sec: 3, tv_usec: 0)
        _ = setsockopt(fd, SOL_SOCKET, SO_RCVTIMEO, &timeout, socklen_t(MemoryLayout<timeval>.size))
        _ = Array(request.utf8).withUnsafeBytes { send(fd, $0.baseAddress, $0.count, 0) }
        var out: [UInt8] = []
        var chunk = [UInt8](repeating: 0, count: 4096)
        while true {
            let count = chunk.withUnsafeMutableBytes { recv(fd, $0.baseAddress, $0.count, 0) }
            guard count > 0 else { break }
            out.append(contentsOf: chunk[0..<count])
        }
        return String(decoding: out, as: UTF8.self)
    }
}
