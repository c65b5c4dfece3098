import Foundation
import Testing

extension LabIntegration {
    /// The start/stop wrappers on the lab's real engine, as an operator calls
    /// them from <root>/libs. Every test leaves the lab's components running at
    /// the lab's good version 1.1.0.
    @Suite struct LifecycleIntegrationTests {
        static let good = "1.1.0"

        /// Installs the wrappers and the built tools into <lab root>/libs, as pv_install would.
        static func libs() throws -> String {
            try Lab.requireUp()
            let libs = Lab.root + "/libs"
            let fm = FileManager.default
            try fm.createDirectory(atPath: libs, withIntermediateDirectories: true)
            for c in ["dns", "dhcp", "monitoring"] {
                for verb in ["start", "stop"] {
                    let name = "\(verb)_pv_\(c).sh"
                    try? fm.removeItem(atPath: libs + "/" + name)
                    try fm.copyItem(atPath: Lab.repo.path + "/Bundle/" + name, toPath: libs + "/" + name)
                }
            }
            for tool in ["pv_start", "pv_stop", "pv_status", "pv_verify"] {
                try? fm.removeItem(atPath: libs + "/" + tool)
                try fm.createSymbolicLink(atPath: libs + "/" + tool, withDestinationPath: Lab.binDir + "/" + tool)
            }
            return libs
        }

        func wrapper(_ name: String, _ args: [String] = [], timeout: Double = 60) throws -> RunResult {
            try run(try Self.libs() + "/" + name, args, timeout: timeout)
        }

        func restoreGood(_ component: String) throws {
            let r = try wrapper("start_pv_\(component).sh", ["-v", Self.good])
            #expect(r.status == 0, "restoring \(component): \(r.output)")
        }

        func dnsVersionServed() throws -> String {
            try run("/usr/bin/kdig", ["@127.0.0.1", "-p", Lab.dnsPort, "+short", "+time=1", "+retry=1", "TXT", "version.pvverify.test"]).stdout
                .trimmingCharacters(in: .whitespacesAndNewlines).replacingOccurrences(of: "\"", with: "")
        }

        @Test(arguments: ["dns", "dhcp", "monitoring"])
        func stopStartRestart(component: String) throws {
            defer { try? restoreGood(component) }
            try restoreGood(component)
            var r = try wrapper("stop_pv_\(component).sh")
            #expect(r.status == 0, "\(r.output)")
            #expect(r.stdout == "\(component) \(Self.good) stopped\n", "\(r.stdout)")
            let status = try tool("pv_status", ["--json", "--root", Lab.root])
            #expect(status.stdout.contains("{\"component\":\"\(component)\",\"state\":\"absent\""), "\(status.stdout)")
            if component != "monitoring" {
                let v = try tool("pv_verify", [component, "--timeout", "0.3", "--root", Lab.root])
                #expect(v.status == 1, "verification must fail while \(component) is stopped")
            }

            r = try wrapper("stop_pv_\(component).sh")
            #expect(r.status == 0)
            #expect(r.stdout.contains("is not running; nothing to stop"))

            r = try wrapper("start_pv_\(component).sh", ["-v", Self.good])
            #expect(r.status == 0, "\(r.output)")
            #expect(r.stdout.contains("\(component) \(Self.good) started and works after"), "\(r.stdout)")
            if component != "monitoring" {
                let v = try tool("pv_verify", [component, "--root", Lab.root])
                #expect(v.status == 0, "\(v.output)")
            }
            r = try wrapper("start_pv_\(component).sh", ["--version", Self.good])
            #expect(r.status == 0)
            #expect(r.stdout.contains("already running version \(Self.good); nothing to do"))
        }

        @Test func switchVersionsAndBack() throws {
            defer { try? restoreGood("dns") }
            var r = try wrapper("start_pv_dns.sh", ["-v", "1.0.0"])
            #expect(r.status == 0, "\(r.output)")
            #expect(r.stdout.contains("dns 1.0.0 started (replaced 1.1.0)"), "\(r.stdout)")
            #expect(try dnsVersionServed() == "1.0.0")
            let status = try tool("pv_status", ["--root", Lab.root])
            #expect(status.stdout.contains("dns         running  1.0.0"), "\(status.stdout)")
            #expect(status.stdout.contains("@sha256:"), "image digest shown")
            r = try wrapper("start_pv_dns.sh", ["-v", Self.good])
            #expect(r.stdout.contains("replaced 1.0.0"))
            #expect(try dnsVersionServed() == Self.good)
        }

        @Test func debugShellUnderAPseudoTerminal() throws {
            // `script` gives the wrapper a real pty, as an operator's terminal would.
            let libs = try Self.libs()
            let p = Process()
            p.executableURL = URL(fileURLWithPath: "/usr/bin/script")
            p.arguments = ["-q", "-e", "-c", "\(libs)/start_pv_dns.sh -v \(Self.good) -b", "/dev/null"]
            let input = Pipe(), output = Pipe()
            p.standardInput = input
            p.standardOutput = output
            p.standardError = output
            try p.run()
            input.fileHandleForWriting.write(Data("echo PID1=$(cat /proc/1/cmdline); cat /pv-version; exit 7\n".utf8))
            let deadline = Date().addingTimeInterval(30)
            while p.isRunning && Date() < deadline { usleep(20_000) }
            if p.isRunning { p.terminate(); Issue.record("debug shell did not exit") }
            let text = String(decoding: output.fileHandleForReading.readDataToEndOfFile(), as: UTF8.self)
            #expect(text.contains("PID1=/bin/sh"), "the shell replaces /start.sh: \(text)")
            #expect(text.contains(Self.good))
            #expect(p.terminationStatus == 7, "the shell's exit status reaches the operator")
            let v = try tool("pv_verify", ["dns", "--root", Lab.root])
            #expect(v.status == 0, "the service kept running: \(v.output)")
        }

        @Test func errorsHaveTheirOwnExitCodes() throws {
            var r = try wrapper("start_pv_dns.sh", ["-v", "1.1"])
            #expect(r.status == 65)
            #expect(r.stderr.contains("'1.1' is not a valid version"))

            r = try tool("pv_start", ["dnz", "--root", Lab.root])
            #expect(r.status == 64)
            #expect(r.stderr.contains("unknown component 'dnz'") && r.stderr.contains("dns, dhcp, monitoring"))

            r = try wrapper("start_pv_dns.sh", ["-v", "9.9.9"])
            #expect(r.status == 66, "\(r.output)")
            #expect(r.stderr.contains("version 9.9.9 of dns is not in the registry 127.0.0.1:5000"), "\(r.stderr)")
            #expect(r.stderr.contains("1.0.0, 1.1.0, 1.2.0"), "the message lists the registry's versions: \(r.stderr)")
            #expect(try dnsVersionServed() == Self.good, "the running version is untouched")

            let noDocker = try Lab.scratchRoot("nodocker", overriding: ["docker_host": "unix:///tmp/pv-no-such-docker.sock"])
            defer { try? FileManager.default.removeItem(atPath: noDocker) }
            r = try tool("pv_start", ["dns", "-v", Self.good, "--root", noDocker])
            #expect(r.status == 69)
            #expect(r.stderr.contains("the Docker engine at unix:///tmp/pv-no-such-docker.sock is not running"))
            #expect(r.stderr.contains("Next step: start it"))
            #expect(!FileManager.default.fileExists(atPath: noDocker + "/state/components.json"), "no state written")
        }

        @Test func portTakenByAnotherProcess() throws {
            defer { try? restoreGood("dns") }
            #expect(try wrapper("stop_pv_dns.sh").status == 0)
            let squatter = try Server("squatter", "/usr/bin/python3", ["-u", "-c", """
                import socket, time
                s = socket.socket(socket.AF_INET, socket.SOCK_DGRAM); s.bind(("127.0.0.1", \(Lab.dnsPort))); print("ready"); time.sleep(60)
                """])
            defer { squatter.stop() }
            try squatter.waitForLine("ready")
            let r = try wrapper("start_pv_dns.sh", ["-v", Self.good])
            #expect(r.status == 75, "\(r.output)")
            #expect(r.stderr.contains("UDP 127.0.0.1:\(Lab.dnsPort) is in use by another process"))
            squatter.stop()
        }
    }
}
