import Foundation
import Testing
import PVCore
import PVTestSupport
import PVArchive

/// Ed25519 signatures of a manifest, against keys made by the openssl command line (the tool an
/// operator uses), and checked by it: the signature is plain Ed25519, not a format of our own.
@Suite struct ManifestSignatureTests {
    static func openssl(_ args: [String]) throws -> (status: Int32, output: String) {
        // Output to a file, not a Pipe: Foundation's readDataToEndOfFile on a pipe crashed now and
        // then ("Index out of range") while other tests ran processes in parallel.
        let path = FileManager.default.temporaryDirectory.appendingPathComponent("pvopenssl-\(UUID().uuidString)").path
        _ = FileManager.default.createFile(atPath: path, contents: nil)
        defer { try? FileManager.default.removeItem(atPath: path) }
        let out = FileHandle(forWritingAtPath: path)!
        let p = Process()
        p.executableURL = URL(fileURLWithPath: "/usr/bin/openssl")
        p.arguments = args
        p.standardOutput = out
        p.standardError = out
        try p.run()
        p.waitUntilExit()
        try out.close()
        let data = FileManager.default.contents(atPath: path) ?? Data()
        return (p.terminationStatus, String(decoding: data, as: UTF8.self))
    }

    /// A fresh key pair in a scratch directory: (private PEM path, public PEM path).
    static func keyPair(_ algorithm: String = "ed25519") throws -> (String, String) {
        let dir = FileManager.default.temporaryDirectory.appendingPathComponent("pvkey-\(UUID().uuidString.prefix(8))").path
        try FileManager.default.createDirectory(atPath: dir, withIntermediateDirectories: true)
        var args = ["genpkey", "-algorithm", algorithm, "-out", dir + "/key.pem"]
        if algorithm == "RSA" { args += ["-pkeyopt", "rsa_keygen_bits:2048"] }
        #expect(try openssl(args).status == 0)
        #expect(try openssl(["pkey", "-in", dir + "/key.pem", "-pubout", "-out", dir + "/key.pub"]).status == 0)
        return (dir + "/key.pem", dir + "/key.pub")
    }

    static func bytes(_ path: String) throws -> [UInt8] { Array(try Data(contentsOf: URL(fileURLWithPath: path))) }

    let manifest = Array("0123456789abcdef0123456789abcdef0123456789abcdef0123456789abcdef  install_python3.sh\n".utf8)

    @Test func aSignatureVerifiesWithItsKeyOnlyAndOnlyForItsManifest() throws {
        let (priv, pub) = try Self.keyPair()
        defer { removeTree(FileIO.directoryName(priv)) }
        let (_, otherPub) = try Self.keyPair()
        defer { removeTree(FileIO.directoryName(otherPub)) }
        let signature = try ManifestSignature.sign(manifest, privateKeyPEM: try Self.bytes(priv))
        #expect(signature.count == 64)
        #expect(try ManifestSignature.verify(manifest, signature: signature, publicKeyPEM: try Self.bytes(pub)))
        #expect(try !ManifestSignature.verify(manifest, signature: signature, publicKeyPEM: try Self.bytes(otherPub)), "another key")
        var changed = manifest
        changed[0] = UInt8(ascii: "1")
        #expect(try !ManifestSignature.verify(changed, signature: signature, publicKeyPEM: try Self.bytes(pub)), "a re-summed manifest")
        var flipped = signature
        flipped[10] ^= 1
        #expect(try !ManifestSignature.verify(manifest, signature: flipped, publicKeyPEM: try Self.bytes(pub)))
        #expect(try !ManifestSignature.verify(manifest, signature: Array(signature.prefix(63)), publicKeyPEM: try Self.bytes(pub)))
    }

    @Test func opensslChecksOurSignature() throws {
        let (priv, pub) = try Self.keyPair()
        defer { removeTree(FileIO.directoryName(priv)) }
        let dir = FileManager.default.temporaryDirectory.appendingPathComponent("pvsig-\(UUID().uuidString.prefix(8))").path
        defer { removeTree(dir) }
        try FileManager.default.createDirectory(atPath: dir, withIntermediateDirectories: true)
        try Data(manifest).write(to: URL(fileURLWithPath: dir + "/SHA256SUMS"))
        try Data(try ManifestSignature.sign(manifest, privateKeyPEM: try Self.bytes(priv))).write(to: URL(fileURLWithPath: dir + "/SHA256SUMS.sig"))
        let r = try Self.openssl(["pkeyutl", "-verify", "-pubin", "-inkey", pub, "-rawin", "-in", dir + "/SHA256SUMS", "-sigfile", dir + "/SHA256SUMS.sig"])
        #expect(r.status == 0 && r.output.contains("Signature Verified Successfully"), "\(r.output)")
    }

    @Test func otherKeysAreRefusedByKind() throws {
        let (rsa, rsaPub) = try Self.keyPair("RSA")
        defer { removeTree(FileIO.directoryName(rsa)) }
        #expect(throws: ManifestSignature.Failure(kind: .notEd25519, what: "private key")) {
            _ = try ManifestSignature.sign(manifest, privateKeyPEM: try Self.bytes(rsa))
        }
        #expect(throws: ManifestSignature.Failure(kind: .notEd25519, what: "public key")) {
            _ = try ManifestSignature.verify(manifest, signature: [], publicKeyPEM: try Self.bytes(rsaPub))
        }
        #expect(throws: ManifestSignature.Failure(kind: .notAKey, what: "public key")) {
            _ = try ManifestSignature.fingerprint(publicKeyPEM: Array("-----BEGIN PUBLIC KEY-----\nnot base64\n".utf8))
        }
    }

    @Test func theFingerprintNamesTheKey() throws {
        let (_, pub) = try Self.keyPair()
        defer { removeTree(FileIO.directoryName(pub)) }
        let (_, other) = try Self.keyPair()
        defer { removeTree(FileIO.directoryName(other)) }
        let a = try ManifestSignature.fingerprint(publicKeyPEM: try Self.bytes(pub))
        #expect(a.hasPrefix("sha256:") && a.count == 7 + 16)
        #expect(a == (try ManifestSignature.fingerprint(publicKeyPEM: try Self.bytes(pub))))
        #expect(a != (try ManifestSignature.fingerprint(publicKeyPEM: try Self.bytes(other))))
    }
}
