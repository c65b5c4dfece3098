import CCurl
import Testing
@testable import PVHTTP
import PVCore

/// libcurl results mapped to what a caller acts on, and header parsing: pure
/// functions, no socket.
@Suite struct CurlClassificationTests {
    @Test(arguments: [
        (CURLE_COULDNT_CONNECT, "Failed to connect", false, HTTPError.Kind.connectFailed),
        (CURLE_OPERATION_TIMEDOUT, "Connection timed out after 3001 milliseconds", false, .connectFailed),
        (CURLE_OPERATION_TIMEDOUT, "Operation timed out after 5000 milliseconds with 0 bytes received", true, .timedOut),
        (CURLE_COULDNT_RESOLVE_HOST, "Could not resolve host: nowhere.invalid", false, .resolveFailed),
        (CURLE_PEER_FAILED_VERIFICATION, "SSL certificate problem: unable to get local issuer certificate", true, .tlsFailed),
        (CURLE_SSL_CACERT_BADFILE, "error setting certificate file: /nope.pem", false, .tlsFailed),
        (CURLE_SSL_CONNECT_ERROR, "OpenSSL/3.0: error:0A000410:SSL routines::sslv3 alert handshake failure", true, .tlsFailed),
        (CURLE_SSL_CONNECT_ERROR, "OpenSSL SSL_connect: Connection reset by peer in connection to 127.0.0.1:443", true, .connectionLost),
        (CURLE_SSL_CONNECT_ERROR, "OpenSSL SSL_connect: SSL_ERROR_SYSCALL in connection to 127.0.0.1:443", true, .connectionLost),
        (CURLE_RECV_ERROR, "Recv failure: Connection reset by peer", true, .connectionLost),
        (CURLE_GOT_NOTHING, "Empty reply from server", true, .connectionLost),
        (CURLE_SEND_ERROR, "Send failure: Broken pipe", true, .connectionLost),
        (CURLE_URL_MALFORMAT, "URL using bad/illegal format", false, .invalidRequest),
        (CURLE_UNSUPPORTED_PROTOCOL, "Protocol \"ftp\" not supported", false, .invalidRequest),
        (CURLE_WEIRD_SERVER_REPLY, "Unsupported HTTP version in response", true, .other),
    ])
    func classify(code: CURLcode, message: String, connected: Bool, expected: HTTPError.Kind) {
        #expect(LiveHTTPTransport.classify(code: code, message: message, connected: connected) == expected)
    }

    @Test func timeoutsRoundUpToWholeMillisecondsAndNeverZero() {
        #expect(LiveHTTPTransport.milliseconds(0.0001) == 1)
        #expect(LiveHTTPTransport.milliseconds(2.5) == 2500)
        #expect(LiveHTTPTransport.milliseconds(0.0015) == 2)
    }

    @Test func refusesNonHTTPURLsBeforeTouchingTheNetwork() {
        #expect(throws: HTTPError.self) { try LiveHTTPTransport().perform(HTTPRequest(url: "file:///etc/passwd")) }
        do { _ = try LiveHTTPTransport().perform(HTTPRequest(url: "ftp://x/")) } catch { #expect(error.kind == .invalidRequest) }
    }

    @Test func refusesHeaderInjection() {
        let request = HTTPRequest(url: "http://127.0.0.1:1/", headers: [HTTPHeader("X-A", "b\r\nHost: evil")])
        do { _ = try LiveHTTPTransport().perform(request); Issue.record("must throw") } catch { #expect(error.kind == .invalidRequest) }
    }
}

@Suite struct ResponseCollectorTests {
    func feed(_ c: ResponseCollector, _ line: String) {
        Array(line.utf8).withUnsafeBytes { c.appendHeaderLine($0) }
    }

    @Test func keepsOnlyTheLastHeaderBlockAndTrimsCRLF() {
        let c = ResponseCollector(limit: 10)
        feed(c, "HTTP/1.1 100 Continue\r\n")
        feed(c, "X-Early: 1\r\n")
        feed(c, "\r\n")
        feed(c, "HTTP/1.1 200 OK\r\n")
        feed(c, "Docker-Content-Digest:   sha256:abc\r\n")
        feed(c, "Content-Type: application/json\r\n")
        feed(c, "\r\n")
        #expect(c.reason == "OK")
        #expect(c.headers == [HTTPHeader("Docker-Content-Digest", "sha256:abc"), HTTPHeader("Content-Type", "application/json")])
        let response = HTTPResponse(status: 200, reason: c.reason, headers: c.headers)
        #expect(response.header("docker-content-digest") == "sha256:abc")
        #expect(response.header("Missing") == nil)
        #expect(response.statusLine == "200 OK")
    }

    @Test func statusLineWithoutReason() {
        let c = ResponseCollector(limit: 10)
        feed(c, "HTTP/2 204\r\n")
        #expect(c.reason == "")
        #expect(HTTPResponse(status: 204).statusLine == "204")
    }

    @Test func refusesABodyOverTheLimit() {
        let c = ResponseCollector(limit: 4)
        #expect([UInt8](repeating: 1, count: 3).withUnsafeBytes { c.appendBody($0) })
        #expect(![UInt8](repeating: 1, count: 2).withUnsafeBytes { c.appendBody($0) })
        #expect(c.overflowed)
        #expect(c.body.count == 3)
    }
}
