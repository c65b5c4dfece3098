import Foundation
import Testing

extension LabIntegration {
    /// pv_verify against the lab's real Knot and Kea containers, and against
    /// real servers misconfigured in each way an operator may meet.
    @Suite struct VerifyIntegrationTests {
        @Test func labComponentsPass() throws {
            try Lab.requireUp()
            let r = try tool("pv_verify", ["all", "--root", Lab.root])
            #expect(r.status == 0, "\(r.output)")
            #expect(r.stdout.contains("TXT pvverify.test. = \"PVOK\""))
            #expect(r.stdout.contains("leased 198.51.100."))
            #expect(r.stdout.contains("released"))
            #expect(r.stdout.contains("all 2 checks passed"))
        }

        @Test func jsonOutputAndPVRootEnvironment() throws {
            try Lab.requireUp()
            let r = try tool("pv_verify", ["--json"], environment: ["PV_ROOT": Lab.root])
            #expect(r.status == 0, "\(r.output)")
            let doc = try JSONSerialization.jsonObject(with: Data(r.stdout.utf8)) as! [String: Any]
            #expect(doc["ok"] as? Bool == true)
            let checks = doc["checks"] as! [[String: Any]]
            #expect(checks.map { $0["name"] as! String } == ["dns", "dhcp"])
            #expect(checks.allSatisfy { $0["status"] as? String == "ok" })
        }

        /// Each broken answer is named, and its next step is the one for that fault.
        @Test(arguments: [
            ("lowercase", "pvverify.test.", ["@ TXT \"pvok\""], "TXT is \"pvok\", expected \"PVOK\"",
             "the DNS component serves a wrong verification record"),
            ("two strings", "pvverify.test.", ["@ TXT \"PV\" \"OK\""], "TXT has 2 strings",
             "the verification record must be a single string \"PVOK\""),
            ("two records", "pvverify.test.", ["@ TXT \"PVOK\"", "@ TXT \"PVOK2\""], "has 2 TXT records",
             "remove the extra TXT records"),
            ("no TXT", "pvverify.test.", [], "has no TXT record", "the verification zone lacks its TXT record"),
            // Seven records of about 200 bytes: Knot's UDP reply (no EDNS: 512 bytes) is truncated and
            // empty; over TCP the seven are read and named.
            ("truncated", "pvverify.test.", ["@ TXT \"PVOK\""] + (1...6).map { "@ TXT \"\(String(repeating: "x", count: 200))\($0)\"" },
             "has 7 TXT records at 127.0.0.1 port", "remove the extra TXT records"),
            ("NXDOMAIN", "test.", ["other TXT \"PVOK\""], "answered NXDOMAIN", "the DNS component does not serve the verification zone"),
        ])
        func brokenDNSServersFail(name: String, origin: String, records: [String], expected: String, nextStep: String) throws {
            let knot = try KnotFixture(origin: origin, records: records)
            let root = try Lab.scratchRoot("dns", overriding: ["dns_verify_port": "\(knot.port)"])
            defer { try? FileManager.default.removeItem(atPath: root) }
            let r = try tool("pv_verify", ["dns", "--root", root])
            #expect(r.status == 1, "\(name): \(r.output)")
            let lines = r.stdout.split(separator: "\n").map(String.init)
            let failed = try #require(lines.firstIndex { $0.hasPrefix("dns ") && $0.contains("FAIL") }, "\(name): \(r.stdout)")
            #expect(lines[failed].contains(expected), "\(name): \(r.stdout)")
            #expect(lines[failed].contains("(over TCP: the UDP reply was truncated)") == (name == "truncated"), "\(name): \(r.stdout)")
            #expect(lines[failed + 1].trimmingCharacters(in: .whitespaces).hasPrefix("next step: " + nextStep), "\(name): \(r.stdout)")
        }

        @Test func nothingListeningTimesOutWithinBound() throws {
            let root = try Lab.scratchRoot("dns", overriding: ["dns_verify_port": "\(freeUDPPort())"])
            defer { try? FileManager.default.removeItem(atPath: root) }
            let start = Date()
            let r = try tool("pv_verify", ["dns", "--timeout", "0.3", "--root", root])
            #expect(r.status == 1)
            #expect(r.stdout.contains("no answer from 127.0.0.1"), "\(r.stdout)")
            #expect(Date().timeIntervalSince(start) < 5, "two tries of 0.3 s must not take seconds")
        }

        @Test func noDHCPServerOnTheLink() throws {
            let root = try Lab.scratchRoot("dhcp", overriding: ["dhcp_verify_interface": "pvx-cli"])
            defer { try? FileManager.default.removeItem(atPath: root) }
            let r = try tool("pv_verify", ["dhcp", "--timeout", "0.5", "--root", root])
            #expect(r.status == 1)
            #expect(r.stdout.contains("no DHCP offer within"), "\(r.stdout)")
        }

        @Test(arguments: [
            ("nak", "refused the request (DHCPNAK"),
            ("outside", "leased 203.0.113.7 from 198.51.100.1, outside the verification pool 198.51.100.0/24"),
            ("wrongxid", "with another transaction id"),
            ("wrongchaddr", "for another hardware address"),
            ("badcookie", "malformed repl"),
            ("truncated", "malformed repl"),
            ("overrun", "runs past the end"),
            ("silent", "no DHCP offer within"),
        ])
        func brokenDHCPServersFail(mode: String, expected: String) throws {
            try Lab.requireUp()
            let fake = try Server("fake dhcp \(mode)", "/usr/sbin/ip", ["netns", "exec", "pvlab-fake", "python3", "-u",
                                                                         Lab.repo.path + "/Tests/Fixtures/fake_dhcp_server.py", mode, "--iface", "pvx-srv"])
            defer { fake.stop() }
            try fake.waitForLine("ready")
            let root = try Lab.scratchRoot("dhcp", overriding: ["dhcp_verify_interface": "pvx-cli"])
            defer { try? FileManager.default.removeItem(atPath: root) }
            let r = try tool("pv_verify", ["dhcp", "--timeout", "0.5", "--root", root])
            #expect(r.status == 1, "\(mode): \(r.output)")
            #expect(r.stdout.contains(expected), "\(mode): \(r.stdout)")
        }

        @Test func fakeServerInGoodModePasses() throws {
            // The control for the cases above: the same fixture, answering correctly, passes.
            try Lab.requireUp()
            let fake = try Server("fake dhcp good", "/usr/sbin/ip", ["netns", "exec", "pvlab-fake", "python3", "-u",
                                                                      Lab.repo.path + "/Tests/Fixtures/fake_dhcp_server.py", "good", "--iface", "pvx-srv"])
            defer { fake.stop() }
            try fake.waitForLine("ready")
            let root = try Lab.scratchRoot("dhcp", overriding: ["dhcp_verify_interface": "pvx-cli"])
            defer { try? FileManager.default.removeItem(atPath: root) }
            let r = try tool("pv_verify", ["dhcp", "--root", root])
            #expect(r.status == 0, "\(r.output)")
            #expect(r.stdout.contains("leased 198.51.100.50"))
        }

        @Test func missingInterfaceSaysSo() throws {
            let root = try Lab.scratchRoot("dhcp", overriding: ["dhcp_verify_interface": "pvnope0"])
            defer { try? FileManager.default.removeItem(atPath: root) }
            let r = try tool("pv_verify", ["dhcp", "--root", root])
            #expect(r.status == 1)
            #expect(r.stdout.contains("interface pvnope0 does not exist"))
        }

        @Test func badConfigurationExits78NamingLineAndKey() throws {
            let root = try Lab.scratchRoot("cfg", overriding: ["dns_verify_port": "port53"])
            defer { try? FileManager.default.removeItem(atPath: root) }
            let r = try tool("pv_verify", ["--root", root])
            #expect(r.status == 78)
            #expect(r.stderr.contains("provision.conf:"))
            #expect(r.stderr.contains("key 'dns_verify_port': the value is not a port number"))
            #expect(!r.stderr.contains("port53"), "values are never echoed")
        }

        /// A name typed with terminal escapes (retitle the window, clear the screen) comes back
        /// visible and inert from every tool that echoes it.
        @Test func terminalEscapesInArgumentsAreShownEscaped() throws {
            let hostile = "dns\u{1B}]0;owned\u{07}\u{1B}[2J"
            for (name, args) in [("pv_stop", [hostile]), ("pv_start", [hostile]), ("pv_update", [hostile])] {
                let r = try tool(name, args + ["--root", Lab.root])
                #expect(r.status == 64, "\(name): \(r.output)")
                #expect(r.stderr.contains("unknown component 'dns\\x1B]0;owned\\x07\\x1B[2J'"), "\(name): \(r.stderr)")
                #expect(!r.output.unicodeScalars.contains { $0 == "\u{1B}" || $0 == "\u{07}" }, "\(name) sent a raw control")
            }
        }

        /// Forged replies (another ID, no QR bit, another question, another source port, garbage),
        /// each carrying TXT "PVOK", come before the real one: the check waits for the real one,
        /// and fails, saying so, when only forged ones come.
        @Test(arguments: [false, true])
        func forgedRepliesAreIgnored(onlyForged: Bool) throws {
            let responder = Process()
            responder.executableURL = URL(fileURLWithPath: "/usr/bin/python3")
            responder.arguments = ["-u", Lab.repo.path + "/Tests/Fixtures/forging_dns_responder.py"] + (onlyForged ? ["--only-forged"] : [])
            let pipe = Pipe()
            responder.standardOutput = pipe
            try responder.run()
            // SIGKILL: the test process may hand its children SIGTERM ignored.
            defer { kill(responder.processIdentifier, SIGKILL); responder.waitUntilExit() }
            let ready = String(decoding: pipe.fileHandleForReading.availableData, as: UTF8.self)
            let port = try #require(ready.split(separator: " ").last.flatMap { Int($0.trimmingCharacters(in: .whitespacesAndNewlines)) }, "\(ready)")
            let root = try Lab.scratchRoot("forged", overriding: ["dns_verify_server": "127.0.0.1", "dns_verify_port": "\(port)"])
            defer { try? FileManager.default.removeItem(atPath: root) }
            let r = try tool("pv_verify", ["dns", "--root", root])
            if onlyForged {
                #expect(r.status == 1, "\(r.output)")
                #expect(r.stdout.contains("no matching answer") && r.stdout.contains("replies ignored"), "\(r.stdout)")
            } else {
                #expect(r.status == 0, "\(r.output)")
                #expect(r.stdout.contains("TXT pvverify.test. = \"PVOK\""), "\(r.stdout)")
            }
        }
    }
}
