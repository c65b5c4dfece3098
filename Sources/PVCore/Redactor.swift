/// Keeps secrets out of everything the tools print, log or archive: the heartbeat's messages, the
/// diagnostics report, container logs, state files and the configuration. One mask everywhere.
///
/// Two layers. The configuration is redacted by key (the value of
/// `management_token`, the password inside `rabbitmq_uri`), so it is safe even
/// when the file does not parse. Then every known secret is replaced wherever
/// it appears, as written and percent-decoded (a password with `%40` in the
/// URI is `@` in a broker log).
public struct Redactor: Sendable {
    public static let mask = "<redacted>"
    /// Secrets shorter than this are masked only by key: replacing every "ab"
    /// in a log would garble it and protect little. The configuration check warns about them.
    public static let minimumLength = 4

    public private(set) var secrets: [String]

    public init(secrets: [String]) {
        var all: [String] = []
        for secret in secrets {
            all.append(secret)
            if let decoded = Self.percentDecoded(secret), decoded != secret { all.append(decoded) }
        }
        // Longest first, so a secret that contains another is masked whole.
        self.secrets = Array(Set(all.filter { $0.count >= Self.minimumLength })).sorted { $0.count > $1.count }
    }

    public init(config: ServerConfig) { self.init(secrets: config.secrets) }

    public func apply(_ text: String) -> String {
        var t = text
        for secret in secrets {
            while let r = t.firstRange(of: secret) { t.replaceSubrange(r, with: Self.mask) }
        }
        return t
    }

    public func apply(_ bytes: [UInt8]) -> [UInt8] {
        guard !secrets.isEmpty else { return bytes }
        return Array(apply(String(decoding: bytes, as: UTF8.self)).utf8)
    }

    /// Secrets that are too short to be masked everywhere.
    public static func tooShort(_ secrets: [String]) -> Bool {
        secrets.contains { !$0.isEmpty && $0.count < minimumLength }
    }

    /// The configuration file with secret values replaced and keys kept. Works
    /// line by line, so a file that does not parse is redacted as well:
    /// a line that is neither a comment nor `key = value` is dropped whole,
    /// since it may be a secret on a line of its own, and so is a line whose key does not look
    /// like a key (`ConfigParser.looksLikeKey`).
    public static func configurationText(_ text: String) -> String {
        var out: [String] = []
        // CRLF lines too ("\r\n" is one Character): a CRLF file read as one line would be copied whole.
        for (index, raw) in text.split(omittingEmptySubsequences: false, whereSeparator: { $0 == "\n" || $0 == "\r\n" }).enumerated() {
            let line = String(raw)
            let trimmed = line.drop { $0 == " " || $0 == "\t" }
            if trimmed.isEmpty || trimmed.hasPrefix("#") { out.append(line); continue }
            guard let eq = line.firstIndex(of: "=") else {
                out.append("# line \(index + 1) removed by pv_diagnostics: not 'key = value'")
                continue
            }
            let key = line[..<eq].trimmingWhitespace()
            let value = line[line.index(after: eq)...].trimmingWhitespace()
            // A key that does not look like one may itself be a secret (`AUDITTOKEN_7f3kq9zXw2 = x`).
            guard Self.keysWithoutSecrets.contains(key) || ConfigParser.looksLikeKey(key) else {
                out.append("# line \(index + 1) removed by pv_diagnostics: its key does not look like a key (it may be a secret)")
                continue
            }
            switch key {
            case _ where Self.keysWithoutSecrets.contains(key):
                out.append(line)
            case "rabbitmq_uri", "management_url":
                out.append("\(key) = \(redactedURI(value))")
            default:
                // management_token, and any key not known to be harmless (a mistyped
                // `rabbitmq_url = amqp://u:PASSWORD@...` included): the value is masked.
                out.append("\(key) = \(mask)")
            }
        }
        return out.joined(separator: "\n")
    }

    /// Keys whose values are copied into the archive as they are: known to hold no secret.
    public static let keysWithoutSecrets: Set<String> = [
        "resource_id", "registry", "image_dns", "image_dhcp", "image_monitoring", "docker_host",
        "dns_verify_server", "dns_verify_port", "dns_listen", "dhcp_verify_interface", "dhcp_server_interface",
        "management_ca_file", "container_prefix", "components", "registry_username", "registry_ca_file", "rabbitmq_ca_file", "monitor_interval", "monitor_max_names",
        "monitor_listen", "monitor_push", "monitor_exchange", "monitor_queue", "monitor_spool_mb",
    ]

    /// `amqp://user:<redacted>@host:5672/%2F`: the password replaced, the rest kept.
    /// Anything that does not look like a URI with user info is masked whole.
    public static func redactedURI(_ uri: String) -> String {
        guard let schemeEnd = uri.firstRange(of: "://") else { return mask }
        let rest = uri[schemeEnd.upperBound...]
        let authorityEnd = rest.firstIndex(of: "/") ?? rest.endIndex
        let authority = rest[..<authorityEnd]
        guard let at = authority.lastIndex(of: "@") else { return uri }
        let userinfo = authority[..<at]
        guard let colon = userinfo.firstIndex(of: ":") else { return uri }
        return String(uri[..<colon]) + ":" + mask + String(uri[at...])
    }

    static func percentDecoded(_ s: String) -> String? {
        guard s.contains("%") else { return nil }
        var bytes: [UInt8] = []
        var utf8 = Array(s.utf8)[...]
        while let b = utf8.first {
            if b == UInt8(ascii: "%"), utf8.count >= 3,
               let v = UInt8(String(decoding: utf8.dropFirst().prefix(2), as: UTF8.self), radix: 16) {
                bytes.append(v)
                utf8 = utf8.dropFirst(3)
            } else {
                bytes.append(b)
                utf8 = utf8.dropFirst()
            }
        }
        return String(validating: bytes, as: UTF8.self)
    }
}
