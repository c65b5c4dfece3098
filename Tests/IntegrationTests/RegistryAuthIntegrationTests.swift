import Foundation
import Testing

extension LabIntegration {
    /// The registry as vendors run it: the lab's real docker-registry behind TLS (the lab's own
    /// CA) with htpasswd, and a stand-in for a hosted registry's token flow. pv_update lists the
    /// versions and docker pull downloads them with the configuration's credentials.
    @Suite struct RegistryAuthIntegrationTests {
        static var authDirectory: String { Lab.dir.appendingPathComponent("registry-auth").path }
        static func password() throws -> String {
            try String(contentsOfFile: authDirectory + "/password", encoding: .utf8).trimmingCharacters(in: .whitespacesAndNewlines)
        }

        func docker(_ args: [String]) throws -> RunResult { try run("/usr/local/bin/docker", ["--host", Lab.dockerHost] + args) }

        /// A scratch root of the tests' instance, its images from `registry`.
        func root(_ name: String, _ overriding: [String: String]) throws -> String {
            try Lab.scratchRoot(name, overriding: overriding)
        }

        @Test func htpasswdOverTLSWithThePrivateCAListsAndPulls() throws {
            try Lab.requireUp()
            defer { try? Lab.restoreInstance() }
            let password = try Self.password()
            let root = try root("reg-auth", ["registry": "127.0.0.1:5443", "registry_username": "pvpull", "registry_password": password,
                                             "registry_ca_file": Self.authDirectory + "/ca.pem"])
            defer { try? FileManager.default.removeItem(atPath: root) }
            var r = try tool("pv_update", ["dns", "--check", "--root", root])
            #expect(r.status == 0 && r.stdout.hasPrefix("dns: "), "\(r.output)")

            // A real download through docker pull: the credentials given with --config, the engine
            // trusting the lab's CA (certs.d).
            _ = try docker(["image", "rm", "--force", "127.0.0.1:5443/pv-dns:1.0.0"])
            r = try tool("pv_update", ["dns", "-v", "1.0.0", "--root", root], timeout: 120)
            #expect(r.status == 0 && r.stdout.contains("dns: updated 1.1.0 -> 1.0.0, verified"), "\(r.output)")
            let clientConfig = root + "/state/docker-client/config.json"
            let mode = try FileManager.default.attributesOfItem(atPath: clientConfig)[.posixPermissions] as? Int
            #expect(mode == 0o600)

            // The password never shows: not in output, not in the diagnostics archive.
            r = try tool("pv_diagnostics", ["--root", root, "--archive", root + "/diag.tar.gz"], timeout: 60)
            let archive = try run("/bin/tar", ["-xzOf", root + "/diag.tar.gz"]).stdout
            #expect(!archive.isEmpty && !archive.contains(password) && !r.output.contains(password))
            #expect(archive.contains("registry_password = <redacted>"), "the key is kept, its value masked")
        }

        @Test func aWrongPasswordIsRefusedAndNeverShown() throws {
            try Lab.requireUp()
            let wrong = "wrong-\(UUID().uuidString.prefix(8))"
            let root = try root("reg-wrong", ["registry": "127.0.0.1:5443", "registry_username": "pvpull", "registry_password": wrong,
                                              "registry_ca_file": Self.authDirectory + "/ca.pem"])
            defer { try? FileManager.default.removeItem(atPath: root) }
            let r = try tool("pv_update", ["dns", "--check", "--root", root])
            #expect(r.status == 77, "\(r.output)")
            #expect(r.stderr.contains("the registry 127.0.0.1:5443 refused the credentials from the configuration"), "\(r.stderr)")
            #expect(!r.output.contains(wrong))
        }

        @Test func withoutTheCATheCertificateIsNotTrustedAndTheKeyIsNamed() throws {
            try Lab.requireUp()
            let root = try root("reg-noca", ["registry": "127.0.0.1:5443", "registry_username": "pvpull", "registry_password": try Self.password()])
            defer { try? FileManager.default.removeItem(atPath: root) }
            // Loopback without a CA is plain HTTP, which a TLS registry refuses; with https it is
            // the untrusted certificate. Either way the answer names registry_ca_file.
            var config = try String(contentsOfFile: root + "/etc/provision.conf", encoding: .utf8)
            config += "registry_ca_file = /etc/ssl/certs/ca-certificates.crt\n"
            try config.write(toFile: root + "/etc/provision.conf", atomically: true, encoding: .utf8)
            let r = try tool("pv_update", ["dns", "--check", "--root", root])
            #expect(r.status == 69, "\(r.output)")
            #expect(r.stderr.contains("set registry_ca_file to its CA"), "\(r.stderr)")
        }

        @Test func theTokenFlowAsksOnceAndDockerPullsThroughIt() throws {
            try Lab.requireUp()
            defer { try? Lab.restoreInstance() }
            let secret = "tok-\(UUID().uuidString.prefix(8))"
            let standIn = try Server("token registry", "/usr/bin/python3", [Lab.repo.path + "/Tests/Fixtures/token_registry.py", "pvpull", secret])
            defer { standIn.stop() }
            try standIn.waitForLine("ready")
            let registry = "127.0.0.1:\(try standIn.readyPort())"
            let root = try root("reg-token", ["registry": registry, "registry_username": "pvpull", "registry_password": secret])
            defer { try? FileManager.default.removeItem(atPath: root) }
            var r = try tool("pv_update", ["dns", "--check", "--root", root])
            #expect(r.status == 0 && r.stdout.hasPrefix("dns: "), "\(r.output)")
            _ = try docker(["image", "rm", "--force", "\(registry)/pv-dns:1.0.0"])
            r = try tool("pv_update", ["dns", "-v", "1.0.0", "--root", root], timeout: 120)
            #expect(r.status == 0 && r.stdout.contains("dns: updated 1.1.0 -> 1.0.0, verified"), "\(r.output)")
            standIn.stop()
            let issued = String(decoding: standIn.stdout.fileHandleForReading.readDataToEndOfFile(), as: UTF8.self)
                .split(separator: "\n").filter { $0.hasPrefix("token issued repository:pv-dns:pull") }
            // pv_update --check: tags and digest with one token; then the update's own run, and
            // the engine's pull, each ask for theirs.
            #expect(issued.count >= 2 && issued.count <= 4, "\(issued)")
            #expect(!r.output.contains(secret))
        }

        @Test func anExpiredTokenIsAClearRefusal() throws {
            try Lab.requireUp()
            let standIn = try Server("token registry", "/usr/bin/python3", [Lab.repo.path + "/Tests/Fixtures/token_registry.py", "pvpull", "pw-1234", "--expired"])
            defer { standIn.stop() }
            try standIn.waitForLine("ready")
            let root = try root("reg-expired", ["registry": "127.0.0.1:\(try standIn.readyPort())", "registry_username": "pvpull", "registry_password": "pw-1234"])
            defer { try? FileManager.default.removeItem(atPath: root) }
            let r = try tool("pv_update", ["dns", "--check", "--root", root])
            #expect(r.status == 77, "\(r.output)")
            #expect(r.stderr.contains("refused the credentials from the configuration") && r.stderr.contains("invalid_token"), "\(r.stderr)")
        }
    }
}
