import Foundation
import Testing
import PVCore
@testable import PVDNS
#if canImport(Glibc)
import Glibc
#endif

/// A truncated reply (TC) carries no answer: the query is asked again over TCP, as kdig does, and
/// what TCP says (or why it says nothing) is what the check reports, never "has no TXT record".
/// Against a real server on loopback: a UDP socket that always answers with TC set and nothing in
/// it, and on the same port a TCP listener that answers as `mode` says.
@Suite(.serialized) struct TruncatedReplyTests {
    enum Mode: Sendable { case pvok, threeRecords, wrongID, silent, noListener }

    /// The servers, on 127.0.0.1 and one port; they end when the value is released (stop()).
    final class TruncatingServer: @unchecked Sendable {
        let port: UInt16
        let udp: Int32
        let tcp: Int32
        let mode: Mode
        private let lock = NSLock()
        private var stopped = false
        private var threads: [Thread] = []
        private(set) var udpQueries = 0
        private(set) var tcpQueries = 0

        init(_ mode: Mode) throws {
            self.mode = mode
            var found: (UInt16, Int32, Int32)?
            for _ in 0..<20 where found == nil {
                let u = socket(AF_INET, Int32(SOCK_DGRAM.rawValue), 0)
                guard Self.bind(u, port: 0) else { close(u); continue }
                var sa = sockaddr_in()
                var length = socklen_t(MemoryLayout<sockaddr_in>.size)
                _ = withUnsafeMutablePointer(to: &sa) { $0.withMemoryRebound(to: sockaddr.self, capacity: 1) { getsockname(u, $0, &length) } }
                let port = UInt16(bigEndian: sa.sin_port)
                if mode == .noListener { found = (port, u, -1); break }
                let t = socket(AF_INET, Int32(SOCK_STREAM.rawValue), 0)
                var one: Int32 = 1
                setsockopt(t, SOL_SOCKET, SO_REUSEADDR, &one, socklen_t(MemoryLayout<Int32>.size))
                if Self.bind(t, port: port), listen(t, 8) == 0 { found = (port, u, t) } else { close(u); close(t) }
            }
            guard let found else { throw POSIXError(.EADDRINUSE) }
            (port, udp, tcp) = found
            threads.append(Thread { [self] in serveUDP() })
            if tcp >= 0 { threads.append(Thread { [self] in serveTCP() }) }
            threads.forEach { $0.start() }
        }

        static func bind(_ fd: Int32, port: UInt16) -> Bool {
            var sa = sockaddr_in()
            sa.sin_family = sa_family_t(AF_INET)
            sa.sin_port = port.bigEndian
            sa.sin_addr.s_addr = inet_addr("127.0.0.1")
            return withUnsafePointer(to: &sa) { $0.withMemoryRebound(to: sockaddr.self, capacity: 1) { Glibc.bind(fd, $0, socklen_t(MemoryLayout<sockaddr_in>.size)) } } == 0
        }

        var isStopped: Bool { lock.withLock { stopped } }

        func stop() {
            lock.withLock { stopped = true }
            while threads.contains(where: { !$0.isFinished }) { usleep(1_000) }
            close(udp)
            if tcp >= 0 { close(tcp) }
        }

        /// Waits (100 ms at a time, to notice stop()) until `fd` is readable.
        func readable(_ fd: Int32) -> Bool {
            while !isStopped {
                var pfd = pollfd(fd: fd, events: Int16(POLLIN), revents: 0)
                if poll(&pfd, 1, 100) > 0 { return true }
            }
            return false
        }

        func serveUDP() {
            var buffer = [UInt8](repeating: 0, count: 512)
            while readable(udp) {
                var from = sockaddr_storage()
                var length = socklen_t(MemoryLayout<sockaddr_storage>.size)
                let n = withUnsafeMutablePointer(to: &from) { p in
                    p.withMemoryRebound(to: sockaddr.self, capacity: 1) { sa in buffer.withUnsafeMutableBytes { recvfrom(udp, $0.baseAddress, $0.count, 0, sa, &length) } }
                }
                guard n >= 12 else { continue }
                lock.withLock { udpQueries += 1 }
                // The header with QR, AA and TC, the question, and nothing else.
                let reply = Self.reply(to: Array(buffer[0..<n]), flags: 0x8600, answers: [])
                _ = withUnsafePointer(to: &from) { p in
                    p.withMemoryRebound(to: sockaddr.self, capacity: 1) { sa in reply.withUnsafeBytes { sendto(udp, $0.baseAddress, $0.count, 0, sa, length) } }
                }
            }
        }

        func serveTCP() {
            while readable(tcp) {
                let client = accept(tcp, nil, nil)
                guard client >= 0 else { continue }
                defer { close(client) }
                var prefix = [UInt8](repeating: 0, count: 2)
                guard readable(client), recv(client, &prefix, 2, Int32(MSG_WAITALL)) == 2 else { continue }
                var query = [UInt8](repeating: 0, count: Int(prefix[0]) << 8 | Int(prefix[1]))
                guard recv(client, &query, query.count, Int32(MSG_WAITALL)) == query.count else { continue }
                lock.withLock { tcpQueries += 1 }
                let reply: [UInt8]
                switch mode {
                case .pvok: reply = Self.reply(to: query, flags: 0x8400, answers: ["PVOK"])
                case .threeRecords: reply = Self.reply(to: query, flags: 0x8400, answers: ["PVOK", "PVOK2", "PVOK3"])
                case .wrongID:
                    var forged = Self.reply(to: query, flags: 0x8400, answers: ["PVOK"])
                    forged[1] ^= 0xff
                    reply = forged
                case .silent:
                    while !isStopped { usleep(10_000) }
                    continue
                case .noListener: continue
                }
                let framed = [UInt8(reply.count >> 8), UInt8(reply.count & 0xff)] + reply
                _ = framed.withUnsafeBytes { send(client, $0.baseAddress, $0.count, Int32(MSG_NOSIGNAL)) }
            }
        }

        /// A reply to `query` (its ID and question) with `flags` and one TXT record per string.
        static func reply(to query: [UInt8], flags: UInt16, answers: [String]) -> [UInt8] {
            var end = 12
            while end < query.count, query[end] != 0 { end += Int(query[end]) + 1 }
            let question = Array(query[12..<min(query.count, end + 5)])
            var out = [query[0], query[1], UInt8(flags >> 8), UInt8(flags & 0xff), 0, 1, 0, UInt8(answers.count), 0, 0, 0, 0] + question
            for text in answers {
                let bytes = Array(text.utf8)
                // The question's name (a pointer to offset 12), TXT, IN, TTL 60, one character string.
                out += [0xc0, 0x0c, 0, 16, 0, 1, 0, 0, 0, 60, 0, UInt8(bytes.count + 1), UInt8(bytes.count)] + bytes
            }
            return out
        }
    }

    func query(_ server: TruncatingServer, timeout: Double = 0.5) -> Result<DNSAnswer, DNSQueryError> {
        LDNSResolver(server: "127.0.0.1", port: server.port, timeoutSeconds: timeout, attempts: 2).queryTXT("pvverify.test.")
    }

    func check(_ outcome: Result<DNSAnswer, DNSQueryError>, _ server: TruncatingServer) -> CheckResult {
        TXTVerification.evaluate(outcome, server: "127.0.0.1", port: server.port)
    }

    @Test func theAnswerOverTCPIsTheOneChecked() throws {
        let server = try TruncatingServer(.pvok)
        defer { server.stop() }
        let outcome = query(server)
        #expect(outcome == .success(DNSAnswer(rcode: 0, txtRecords: [["PVOK"]], overTCP: true)))
        let result = check(outcome, server)
        #expect(result.status == .ok)
        #expect(result.detail == "TXT pvverify.test. = \"PVOK\" from 127.0.0.1 port \(server.port) (over TCP: the UDP reply was truncated)")
        #expect(server.udpQueries == 1 && server.tcpQueries == 1)
    }

    @Test func whatTCPSaysIsReportedTruthfully() throws {
        let server = try TruncatingServer(.threeRecords)
        defer { server.stop() }
        let result = check(query(server), server)
        #expect(result.status == .fail)
        #expect(result.detail == "pvverify.test. has 3 TXT records at 127.0.0.1 port \(server.port), expected exactly one (over TCP: the UDP reply was truncated)")
    }

    @Test func withoutTCPTheTruncationIsTheFailureNotAMissingRecord() throws {
        let server = try TruncatingServer(.noListener)
        defer { server.stop() }
        let outcome = query(server)
        #expect(outcome == .failure(.truncated("connect to TCP 127.0.0.1 port \(server.port): Connection refused")))
        let result = check(outcome, server)
        #expect(result.status == .fail)
        #expect(!result.detail.contains("has no TXT record"))
        #expect(result.detail.hasPrefix("the reply from 127.0.0.1 port \(server.port) was truncated (TC) over UDP, and asking again over TCP failed: connect to TCP"))
        #expect(result.hint?.contains("over TCP") == true)
        #expect(server.udpQueries == 2, "one retry, as for any other failure")
    }

    @Test func aTCPReplyThatDoesNotAnswerTheQueryIsNotTaken() throws {
        let server = try TruncatingServer(.wrongID)
        defer { server.stop() }
        let outcome = query(server)
        #expect(outcome == .failure(.truncated("the reply over TCP 127.0.0.1 port \(server.port) does not answer the query (another ID, no QR bit or another question)")))
    }

    /// A TCP server that accepts and never answers: each attempt ends within its own time.
    @Test func aSilentTCPServerIsBoundedByTheAttemptsTimeout() throws {
        let server = try TruncatingServer(.silent)
        defer { server.stop() }
        let start = Monotonic.nanoseconds()
        let outcome = query(server, timeout: 0.3)
        let seconds = Double(Monotonic.nanoseconds() - start) / 1e9
        #expect(outcome == .failure(.truncated("no answer over TCP 127.0.0.1 port \(server.port) within the attempt's 0.3 s")))
        #expect(seconds >= 0.55 && seconds < 0.9, "two attempts of 0.3 s took \(seconds) s")
    }
}
