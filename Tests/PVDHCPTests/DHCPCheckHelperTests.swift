import CDHCP
import Foundation
import Testing
import PVCore
@testable import PVDHCP

@Suite struct DHCPCheckHelperTests {
    typealias Arguments = DHCPCheckHelper.Arguments

    /// The helper's own validation (CDHCP's pv_dhcp_parse_arguments): the interface and timeout, or why not.
    func parse(_ argv: [String]) -> Result<Arguments, DHCPCheckHelper.Refused> {
        var arguments = pv_dhcp_arguments()
        var why = [CChar](repeating: 0, count: 160)
        let c = argv.map { strdup($0) }
        defer { c.forEach { free($0) } }
        let rc = c.map { UnsafePointer($0) }.withUnsafeBufferPointer {
            pv_dhcp_parse_arguments(Int32(argv.count), $0.baseAddress, &arguments, &why, why.count)
        }
        guard rc == 0 else { return .failure(.init(why: String(decoding: why.prefix { $0 != 0 }.map { UInt8(bitPattern: $0) }, as: UTF8.self))) }
        return .success(Arguments(interface: cText(arguments.interface), timeoutSeconds: arguments.timeout_seconds))
    }

    @Test func takesOnlyAnInterfaceAndATimeout() {
        #expect(parse(["--interface", "pvv-cli"]) == .success(Arguments(interface: "pvv-cli", timeoutSeconds: 1)))
        #expect(parse(["--interface", "eth0.100", "--timeout", "2.5"]) == .success(Arguments(interface: "eth0.100", timeoutSeconds: 2.5)))
        #expect(parse(["--timeout", "30", "--interface", "a_b-c.d"]) == .success(Arguments(interface: "a_b-c.d", timeoutSeconds: 30)))
        // What the tools pass is what the helper reads, the timeout brought into its range.
        for (given, read) in [(1.5, 1.5), (0.5, 0.5), (0.1, 0.1), (0.05, 0.1), (0.30000000000000004, 0.3), (45, 30)] {
            let args = Arguments(interface: "pvv-cli", timeoutSeconds: given)
            #expect(parse(args.argv) == .success(Arguments(interface: "pvv-cli", timeoutSeconds: read)), "\(args.argv)")
        }
    }

    /// It runs with cap_net_raw: nothing in its arguments may name a file, and nothing odd passes.
    @Test(arguments: [
        ["--root", "/provision"], ["--config", "/provision/etc/provision.conf"], ["--interface", "../../etc/shadow"],
        ["--interface", "/dev/sda"], ["--interface", "a-name-far-too-long"], ["--interface", ".."], ["--interface", "."],
        ["--interface", ""], ["--interface", "pvv-cli\n"], ["--interface"], ["--interface", "pvv-cli", "--timeout", "0"],
        ["--interface", "pvv-cli", "--timeout", "0.09"], ["--interface", "pvv-cli", "--timeout", "99"],
        ["--interface", "pvv-cli", "--timeout", "nan"], ["--interface", "pvv-cli", "--timeout", "1e1"],
        ["--interface", "pvv-cli", "--timeout", "-1"], ["--interface", "pvv-cli", "--timeout", "0x1p-1"],
        ["--interface", "pvv-cli", "--timeout", "."], ["--interface", "pvv-cli", "--interface", "lo"], [],
        ["--interface", "pvv-cli", "--timeout", "1", "extra"], ["--interface", "\u{1B}]0;x\u{07}"],
    ])
    func refusesEverythingElse(_ argv: [String]) {
        guard case .failure(let refused) = parse(argv) else { Issue.record("accepted \(argv)"); return }
        #expect(!refused.why.isEmpty)
        #expect(!refused.why.contains("\n") && !refused.why.contains("\u{1B}"), "\(refused.why)")
    }

    /// The C line, read by the Swift side: a tab or a line break in a text never splits it.
    @Test func itsLineRoundTripsAndAForeignLineIsNotMisread() {
        func line(_ passed: Bool, _ detail: String, _ hint: String, ms: Double) -> String {
            var r = pv_dhcp_result()
            r.passed = passed ? 1 : 0
            r.milliseconds = ms
            withUnsafeMutableBytes(of: &r.detail) { b in for (i, c) in detail.utf8.enumerated() { b[i] = c } }
            withUnsafeMutableBytes(of: &r.hint) { b in for (i, c) in hint.utf8.enumerated() { b[i] = c } }
            var text = [CChar](repeating: 0, count: 1280)
            _ = pv_dhcp_format_line(&r, &text, text.count)
            return String(decoding: text.prefix { $0 != 0 }.map { UInt8(bitPattern: $0) }, as: UTF8.self)
        }
        let ok = line(true, "leased 198.51.100.100\tfrom 198.51.100.1", "", ms: 20.54)
        #expect(ok == "pv_dhcp_probe/1\tok\t20.5\tleased 198.51.100.100 from 198.51.100.1\t")
        #expect(DHCPCheckHelper.parse(ok + "\n") == CheckResult(name: "dhcp", status: .ok, detail: "leased 198.51.100.100 from 198.51.100.1", milliseconds: 20.5))
        let failed = line(false, "no DHCP offer within 2.0 s\non x", "check the DHCP component", ms: 2000)
        #expect(DHCPCheckHelper.parse(failed) == CheckResult(name: "dhcp", status: .fail, detail: "no DHCP offer within 2.0 s on x",
                                                               hint: "check the DHCP component", milliseconds: 2000))
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

extension DHCPCheckHelper {
    struct Refused: Error, Equatable { var why: String }
}
