#if canImport(Glibc)
import Glibc
#endif

/// The host's CA bundle, found where each distribution keeps it. The tools carry their own
/// OpenSSL and libcurl, which know no default location (one compiled in would be right on one
/// distribution only), so every TLS connection names its CA file explicitly: the configured
/// `management_ca_file` when set, else the first of these that is a readable, non-empty file.
/// Verification is never turned off; a host without any of them is an error naming each path.
public struct TrustStore: Sendable {
    /// In the order tried: Debian and Ubuntu; RHEL, CentOS, Rocky, Alma and Fedora (the
    /// extracted form first, the compatibility link second); SUSE; Alpine and other OpenSSL
    /// defaults; the older RHEL name.
    public static let systemBundles = [
        "/etc/ssl/certs/ca-certificates.crt",
        "/etc/pki/ca-trust/extracted/pem/tls-ca-bundle.pem",
        "/etc/pki/tls/certs/ca-bundle.crt",
        "/etc/ssl/ca-bundle.pem",
        "/etc/ssl/cert.pem",
        "/etc/pki/tls/cacert.pem",
    ]

    public var candidates: [String]
    /// Seam for tests: whether a path is a usable CA file.
    public var isUsable: @Sendable (String) -> Bool

    public init(candidates: [String] = TrustStore.systemBundles, isUsable: @escaping @Sendable (String) -> Bool = TrustStore.isReadableNonEmptyFile) {
        self.candidates = candidates
        self.isUsable = isUsable
    }

    public static let system = TrustStore()

    /// The CA file to use: `configured` when given (checked by the TLS library itself, so that
    /// its own error names the file), else the first usable system bundle, else nil.
    public func caFile(configured: String?) -> String? {
        if let configured { return configured }
        return candidates.first(where: isUsable)
    }

    /// Why no CA file could be chosen, for an error message.
    public var notFoundMessage: String {
        "no CA bundle on this host (tried \(candidates.joined(separator: ", ")))"
    }

    public static let notFoundHint = notFoundHint(setting: "management_ca_file")

    /// What to do when no CA bundle is found: `setting` is the configuration key of a private CA.
    public static func notFoundHint(setting: String) -> String {
        "install the distribution's CA certificates (ca-certificates), or set \(setting) in provision.conf"
    }

    public static func isReadableNonEmptyFile(_ path: String) -> Bool {
        var st = stat()
        guard stat(path, &st) == 0, st.st_mode & S_IFMT == S_IFREG, st.st_size > 0 else { return false }
        return access(path, R_OK) == 0
    }
}
