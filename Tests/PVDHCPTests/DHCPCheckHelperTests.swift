import Foundation
import Testing
import PVCore
@testable import PVDHCP

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
