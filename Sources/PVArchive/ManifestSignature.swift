import CCrypto
import PVCore

/// The bundle's signature: a detached Ed25519 signature of `SHA256SUMS` (which lists every file,
/// `TOOLS.SHA256SUMS` among them), stored raw (64 bytes) as `SHA256SUMS.sig`, so that
/// `openssl pkeyutl -verify -rawin` checks it as well. Keys are PEM, as `openssl genpkey
/// -algorithm ed25519` and `openssl pkey -pubout` write them. Ed25519 because it has no
/// parameters to get wrong and libcrypto is already linked.
public enum ManifestSignature {
    public static let fileName = "SHA256SUMS.sig"
    public static let length = 64

    public struct Failure: Error, Sendable, Equatable {
        public enum Kind: Sendable, Equatable { case notAKey, notEd25519, signingFailed }
        public var kind: Kind
        public var what: String
        public init(kind: Kind, what: String) { self.kind = kind; self.what = what }
    }

    public static func sign(_ message: [UInt8], privateKeyPEM: [UInt8]) throws(Failure) -> [UInt8] {
        let key = try load(privateKeyPEM, what: "private key", reader: { PEM_read_bio_PrivateKey($0, nil, nil, nil) })
        defer { EVP_PKEY_free(key) }
        guard let context = EVP_MD_CTX_new() else { throw Failure(kind: .signingFailed, what: "no memory") }
        defer { EVP_MD_CTX_free(context) }
        var signature = [UInt8](repeating: 0, count: length)
        var size = length
        let ok = EVP_DigestSignInit(context, nil, nil, nil, key) == 1 && message.withUnsafeBufferPointer {
            EVP_DigestSign(context, &signature, &size, $0.baseAddress, $0.count) == 1
        }
        guard ok, size == length else { throw Failure(kind: .signingFailed, what: "EVP_DigestSign") }
        return signature
    }

    /// Whether `signature` is `publicKeyPEM`'s signature of `message`. A malformed key throws.
    public static func verify(_ message: [UInt8], signature: [UInt8], publicKeyPEM: [UInt8]) throws(Failure) -> Bool {
        let key = try publicKey(publicKeyPEM)
        defer { EVP_PKEY_free(key) }
        guard signature.count == length, let context = EVP_MD_CTX_new() else { return false }
        defer { EVP_MD_CTX_free(context) }
        guard EVP_DigestVerifyInit(context, nil, nil, nil, key) == 1 else { return false }
        return message.withUnsafeBufferPointer { m in
            signature.withUnsafeBufferPointer { s in EVP_DigestVerify(context, s.baseAddress, s.count, m.baseAddress, m.count) == 1 }
        }
    }

    /// `sha256:` and the first 16 hex digits of the SHA-256 of the raw 32-byte public key: what
    /// messages show to tell keys apart.
    public static func fingerprint(publicKeyPEM: [UInt8]) throws(Failure) -> String {
        let key = try publicKey(publicKeyPEM)
        defer { EVP_PKEY_free(key) }
        var raw = [UInt8](repeating: 0, count: 32)
        var size = raw.count
        guard EVP_PKEY_get_raw_public_key(key, &raw, &size) == 1 else { throw Failure(kind: .notAKey, what: "public key") }
        return "sha256:" + SHA256.hex(Array(raw.prefix(size))).prefix(16)
    }

    static func publicKey(_ pem: [UInt8]) throws(Failure) -> OpaquePointer {
        try load(pem, what: "public key", reader: { PEM_read_bio_PUBKEY($0, nil, nil, nil) })
    }

    private static func load(_ pem: [UInt8], what: String, reader: (OpaquePointer?) -> OpaquePointer?) throws(Failure) -> OpaquePointer {
        _ = pv_crypto_init_without_config()
        let key: OpaquePointer? = pem.withUnsafeBytes { bytes in
            guard let bio = BIO_new_mem_buf(bytes.baseAddress, Int32(bytes.count)) else { return nil }
            defer { BIO_free(bio) }
            return reader(bio)
        }
        guard let key else { throw Failure(kind: .notAKey, what: what) }
        guard pv_pkey_is_ed25519(key) != 0 else {
            EVP_PKEY_free(key)
            throw Failure(kind: .notEd25519, what: what)
        }
        return key
    }
}
