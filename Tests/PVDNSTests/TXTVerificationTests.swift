import Testing
import PVCore
@testable import PVDNS

@Suite struct TXTVerificationTests {
    func check(_ outcome: Result<DNSAnswer, DNSQueryError>) -> CheckResult {
        TXTVerification.evaluate(outcome, server: "127.0.0.1", port: 5353)
    }

    @Test func exactlyPVOKPasses() {
        let r = check(.success(DNSAnswer(rcode: 0, txtRecords: [["PVOK"]])))
        #expect(r.status == .ok)
        #expect(r.detail.contains("\"PVOK\""))
    }

    @Test(arguments: [
        (DNSAnswer(rcode: 0, txtRecords: [["pvok"]]), "TXT is \"pvok\", expected \"PVOK\""),
        (DNSAnswer(rcode: 0, txtRecords: [["PVOK "]]), "TXT is \"PVOK \""),
        (DNSAnswer(rcode: 0, txtRecords: [["\"PVOK\""]]), "TXT is \"\"PVOK\"\""),
        (DNSAnswer(rcode: 0, txtRecords: [["PV", "OK"]]), "TXT has 2 strings"),
        (DNSAnswer(rcode: 0, txtRecords: [["PVOK"], ["PVOK"]]), "has 2 TXT records"),
        (DNSAnswer(rcode: 0, txtRecords: []), "has no TXT record"),
        (DNSAnswer(rcode: 3, txtRecords: []), "answered NXDOMAIN"),
        (DNSAnswer(rcode: 2, txtRecords: [["PVOK"]]), "answered SERVFAIL"),
        (DNSAnswer(rcode: 5, txtRecords: []), "answered REFUSED"),
        (DNSAnswer(rcode: 0, txtRecords: [["PV\u{0}OK\n"]]), "TXT is \"PV\\0OK\\10\""),
    ])
    func everythingElseFails(answer: DNSAnswer, expected: String) {
        let r = check(.success(answer))
        #expect(r.status == .fail)
        #expect(r.detail.contains(expected), "\(r.detail)")
        #expect(r.hint != nil)
    }

    @Test func timeoutAndNetworkErrorsFail() {
        let t = check(.failure(.timeout(tries: 2, seconds: 1)))
        #expect(t.status == .fail)
        #expect(t.detail == "no answer from 127.0.0.1 port 5353 (2 tries, 1.0 s each)")
        #expect(check(.failure(.network("boom"))).detail.contains("boom"))
        #expect(check(.failure(.invalidServer("x"))).hint?.contains("dns_verify_server") == true)
    }

    @Test func longWireStringsAreCut() {
        let r = check(.success(DNSAnswer(rcode: 0, txtRecords: [[String(repeating: "A", count: 255)]])))
        #expect(r.detail.count < 200)
    }

    @Test func invalidServerIsRefusedBeforeSending() {
        let outcome = LDNSResolver(server: "not-an-ip", port: 53).queryTXT("pvverify.test.")
        #expect(outcome == .failure(.invalidServer("'not-an-ip' is not an IP address")))
    }
}
