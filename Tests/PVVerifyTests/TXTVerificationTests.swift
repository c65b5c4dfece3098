import Testing
import PVCore
@testable import PVDNS
@testable import PVVerify
import PVDHCP

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

@Suite struct DHCPCheckHelperTests {
    typealias Arguments = DHCPCheckHelper.Arguments

    @Test func takesOnlyAnInterfaceAndATimeout() {
        #expect(Arguments.parse(["--interface", "pvv-cli"]) == .success(Arguments(interface: "pvv-cli", timeoutSeconds: 1)))
        #expect(Arguments.parse(["--interface", "eth0.100", "--timeout", "2.5"]) == .success(Arguments(interface: "eth0.100", timeoutSeconds: 2.5)))
        let args = Arguments(interface: "pvv-cli", timeoutSeconds: 1.5)
        #expect(Arguments.parse(args.argv) == .success(args))
    }

    /// It runs with cap_net_raw: nothing in its arguments may name a file, and nothing odd passes.
    @Test(arguments: [
        ["--root", "/provision"], ["--config", "/provision/etc/provision.conf"], ["--interface", "../../etc/shadow"],
        ["--interface", "/dev/sda"], ["--interface", "a-name-far-too-long"], ["--interface", ".."], ["--interface", ""],
        ["--interface", "pvv-cli\n"], ["--interface"], ["--interface", "pvv-cli", "--timeout", "0"],
        ["--interface", "pvv-cli", "--timeout", "99"], ["--interface", "pvv-cli", "--timeout", "nan"], [],
    ])
    func refusesEverythingElse(_ argv: [String]) {
        guard case .failure(let usage) = Arguments.parse(argv) else { Issue.record("accepted \(argv)"); return }
        #expect(!usage.message.isEmpty)
        #expect(!usage.message.contains("\n"))
    }

    @Test func itsLineRoundTripsAndAForeignLineIsNotMisread() {
        let r = CheckResult(name: "dhcp", status: .ok, detail: "leased 198.51.100.100\tfrom 198.51.100.1", hint: nil, milliseconds: 20.5)
        let parsed = DHCPCheckHelper.parse(DHCPCheckHelper.line(r))
        #expect(parsed == CheckResult(name: "dhcp", status: .ok, detail: "leased 198.51.100.100 from 198.51.100.1", milliseconds: 20.5))
        let failed = CheckResult(name: "dhcp", status: .fail, detail: "no DHCP offer within 2 s", hint: "check the DHCP component")
        #expect(DHCPCheckHelper.parse(DHCPCheckHelper.line(failed)) == failed)
        #expect(DHCPCheckHelper.parse("sudo: a password is required") == nil)
        #expect(DHCPCheckHelper.parse("pv_dhcp_probe/2\tok\t1\tx\t") == nil)
    }

    @Test func noSudoersLineRemainsForTheDHCPCheck() throws {
        for family in ["ubuntu", "centos"] {
            let sudoers = try FileIO.readText(#filePath.components(separatedBy: "/Tests/")[0] + "/Bundle/sudoers/provision." + family, limit: 1 << 16)
            #expect(!sudoers.contains("pv_verify"))
            #expect(!sudoers.contains("/provision/libs"))
        }
    }
}
