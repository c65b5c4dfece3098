#if canImport(Glibc)
import Glibc
#endif

/// A configuration problem, always naming the file and, where there is one,
/// the line and the key, so an operator can go straight to it.
public struct ConfigError: Error, Equatable, CustomStringConvertible, Sendable {
    public var file: String
    public var line: Int?
    public var key: String?
    public var problem: String

    public var description: String {
        var where_ = file
        if let line { where_ += ":\(line)" }
        if let key { return "\(where_): key '\(key)': \(problem)" }
        return "\(where_): \(problem)"
    }

    public var asPVError: PVError {
        PVError(.config, "invalid configuration: \(description)",
                hint: "fix \(file) (the commented example is Bundle/provision.conf.example), then run the command again")
    }
}

public enum ConfigParser {
    /// Every key the file may hold. Anything else is a typo or a leftover and is refused.
    static let required: [String] = [
        "resource_id", "management_url", "management_token", "registry", "docker_host",
        "dns_verify_server", "dns_verify_port", "rabbitmq_uri",
    ]
    /// Required for an enabled component only: a DNS-only server names no DHCP image and no
    /// verification link.
    static let requiredWhenEnabled: [(key: String, component: Component)] = [
        ("image_dns", .dns), ("image_dhcp", .dhcp), ("image_monitoring", .monitoring), ("dhcp_verify_interface", .dhcp),
    ]
    static let optional: [String] = ["dns_listen", "dhcp_server_interface", "management_ca_file", "container_prefix", "components",
                                     "registry_username", "registry_password", "registry_ca_file", "rabbitmq_ca_file", "monitor_interval", "monitor_max_names", "monitor_listen",
                                     "monitor_push", "monitor_exchange", "monitor_queue", "monitor_spool_mb"]
    static var known: [String] { required + requiredWhenEnabled.map(\.key) + optional }

    /// Whether an unknown key may be shown in a message (and kept in a redacted copy of the file):
    /// it has the shape of the known keys, one to five words of one to twelve lowercase ASCII
    /// letters joined by single underscores, at most 40 characters (`dns_verfy_port`,
    /// `monitor_intervall`). Anything else (an uppercase letter, a digit, another character, a
    /// word longer than any key's) may be a token pasted in the wrong place, and is not shown.
    public static func looksLikeKey(_ key: String) -> Bool {
        guard !key.isEmpty, key.utf8.count <= 40 else { return false }
        let words = key.split(separator: "_", omittingEmptySubsequences: false)
        return words.count <= 5 && words.allSatisfy { word in
            (1...12).contains(word.utf8.count) && word.utf8.allSatisfy { (UInt8(ascii: "a")...UInt8(ascii: "z")).contains($0) }
        }
    }

    /// The configuration every tool runs with (`ConfigFile.read`: never through a link, a regular
    /// file only). `requirePrivate` (pv_heartbeat, which sends the token): a file that group or
    /// others may read is refused (exit 77) before it is parsed.
    public static func load(root: InstallRoot, requirePrivate: Bool = false) throws(PVError) -> ServerConfig {
        let file: ConfigFile
        switch ConfigFile.read(root: root) {
        case .failure(let error): throw ConfigFile.unreadable(error, root: root)
        case .success(let read): file = read
        }
        if requirePrivate { try ConfigPermissions.requirePrivate(file) }
        do { return try parse(file.text, file: file.path) } catch { throw error.asPVError }
    }

    public static func parse(_ text: String, file: String) throws(ConfigError) -> ServerConfig {
        var values: [String: (value: String, line: Int)] = [:]
        // "\r\n" is one Character in Swift: split on it too, so a CRLF file is read line by line.
        for (index, rawLine) in text.split(omittingEmptySubsequences: false, whereSeparator: { $0 == "\n" || $0 == "\r\n" }).enumerated() {
            let lineNo = index + 1
            let line = rawLine.trimmingWhitespace()
            if line.isEmpty || line.hasPrefix("#") { continue }
            guard let eq = line.firstIndex(of: "=") else {
                // The line is not echoed: a line without '=' may be a secret that lost its key.
                throw ConfigError(file: file, line: lineNo, key: nil, problem: "expected 'key = value' (the line's text is not shown: it may hold a secret)")
            }
            let key = String(line[..<eq]).trimmingWhitespace()
            let value = String(line[line.index(after: eq)...]).trimmingWhitespace()
            guard !key.isEmpty else {
                throw ConfigError(file: file, line: lineNo, key: nil, problem: "missing key before '='")
            }
            guard known.contains(key) else {
                // A secret pasted where a key belongs (`AUDITTOKEN_7f3kq9zXw2 = x`) is named by its line only.
                guard looksLikeKey(key) else {
                    throw ConfigError(file: file, line: lineNo, key: nil,
                                      problem: "unknown key (not shown: it does not look like a key and may be a secret; known keys: \(known.joined(separator: ", ")))")
                }
                throw ConfigError(file: file, line: lineNo, key: key, problem: "unknown key (known keys: \(known.joined(separator: ", ")))")
            }
            if let previous = values[key] {
                throw ConfigError(file: file, line: lineNo, key: key, problem: "set twice (first on line \(previous.line))")
            }
            guard !value.isEmpty else {
                throw ConfigError(file: file, line: lineNo, key: key, problem: "empty value")
            }
            values[key] = (value, lineNo)
        }
        for key in required where values[key] == nil {
            throw ConfigError(file: file, line: nil, key: key, problem: "required key is missing")
        }
        let enabled: [Component]
        if let (value, line) = values["components"] {
            switch EnabledComponents.parse(value) {
            case .success(let list): enabled = list
            case .failure(let problem): throw ConfigError(file: file, line: line, key: "components", problem: problem.text)
            }
        } else {
            enabled = Component.allCases
        }
        for (key, component) in requiredWhenEnabled where enabled.contains(component) && values[key] == nil {
            throw ConfigError(file: file, line: nil, key: key, problem: "required key is missing (\(component.rawValue) is enabled: components = \(enabled.map(\.rawValue).joined(separator: ", ")))")
        }

        func check(_ key: String, _ valid: (String) -> Bool, _ expectation: String) throws(ConfigError) -> String {
            let (value, line) = values[key]!
            guard valid(value) else {
                // The value is never echoed: a malformed one may carry a secret (a token in a URL's
                // user info, a password in a mistyped URI); the file, line and key say where it is.
                throw ConfigError(file: file, line: line, key: key, problem: "the value is not \(expectation)")
            }
            return value
        }
        func optionalValue(_ key: String, _ valid: (String) -> Bool, _ expectation: String) throws(ConfigError) -> String? {
            values[key] == nil ? nil : try check(key, valid, expectation)
        }

        let resourceID = try check("resource_id", Syntax.isIdentifier, "a resource ID (letters, digits, '.', '_', '-'; at most 64)")
        let url = try check("management_url", Syntax.isHTTPURL, "an http:// or https:// URL with a host and no user or password in it (the token goes in management_token)")
        let token = try check("management_token", Syntax.isToken, "a token (printable, no spaces)")
        let ca = try optionalValue("management_ca_file", { $0.hasPrefix("/") }, "an absolute path")
        let registry = try check("registry", Syntax.isRegistry, "a registry host[:port]")
        let registryUser = try optionalValue("registry_username", Syntax.isToken, "a user name (printable, no spaces)")
        let registryPassword = try optionalValue("registry_password", Syntax.isToken, "a password (printable, no spaces)")
        // Both or neither: a user without a password (or the reverse) is a half-made change.
        if (registryUser == nil) != (registryPassword == nil) {
            let missing = registryUser == nil ? "registry_username" : "registry_password"
            throw ConfigError(file: file, line: nil, key: missing, problem: "required key is missing (registry_username and registry_password go together)")
        }
        let registryCA = try optionalValue("registry_ca_file", { $0.hasPrefix("/") }, "an absolute path")
        let rabbitmqCA = try optionalValue("rabbitmq_ca_file", { $0.hasPrefix("/") }, "an absolute path")
        let monitorInterval = try optionalValue("monitor_interval", { Int($0).map { (1...3600).contains($0) } ?? false }, "whole seconds from 1 to 3600")
        let monitorMaxNames = try optionalValue("monitor_max_names", { Int($0).map { (100...10_000_000).contains($0) } ?? false }, "a count from 100 to 10000000")
        let monitorListen = try optionalValue("monitor_listen", { $0 == "off" || MonitorListen(parsing: $0) != nil },
                                              "ADDRESS:PORT ([ADDRESS]:PORT for IPv6; an IP address, not a name) or off")
        let monitorPush = try optionalValue("monitor_push", { $0 == "on" || $0 == "off" }, "on or off")
        let monitorExchange = try optionalValue("monitor_exchange", Syntax.isAMQPName, "an AMQP name (letters, digits, '.', '_', '-', ':'; at most 127)")
        let monitorQueue = try optionalValue("monitor_queue", Syntax.isAMQPName, "an AMQP name (letters, digits, '.', '_', '-', ':'; at most 127)")
        let monitorSpool = try optionalValue("monitor_spool_mb", { Int($0).map { (1...4096).contains($0) } ?? false }, "megabytes from 1 to 4096")
        var images: [Component: String] = [:]
        for component in Component.allCases {
            images[component] = try optionalValue("image_\(component.rawValue)", Syntax.isImageName, "an image repository name (lowercase letters, digits, '.', '_', '-', '/')")
        }
        let dockerHost = try check("docker_host", Syntax.isDockerHost, "unix:///absolute/path or tcp://host:port")
        let server = try check("dns_verify_server", Syntax.isIPAddress, "an IPv4 or IPv6 address")
        let portText = try check("dns_verify_port", { Syntax.port($0) != nil }, "a port number (1-65535)")
        let listen = try optionalValue("dns_listen", Syntax.isKnotListen, "address@port")
        let serverIf = try optionalValue("dhcp_server_interface", Syntax.isInterfaceName, "an interface name (1-15 characters)")
        let clientIf = try optionalValue("dhcp_verify_interface", Syntax.isInterfaceName, "an interface name (1-15 characters)")
        let amqp = try check("rabbitmq_uri", Syntax.isAMQPURI, "an amqp:// or amqps:// URI with a host")
        let prefix = try optionalValue("container_prefix", Syntax.isContainerPrefix,
                                       "a container name prefix (letters, digits, '.', '_', '-'; at most 32; starts with a letter or digit)")
        let port = Syntax.port(portText)!

        return ServerConfig(
            resourceID: resourceID, managementURL: url, managementToken: token, managementCAFile: ca,
            registry: registry, images: images, dockerHost: dockerHost,
            dnsListen: listen ?? "\(server)@\(port)", dnsVerifyServer: server, dnsVerifyPort: port,
            dhcpServerInterface: serverIf, dhcpVerifyInterface: clientIf ?? ServerConfig.defaultVerifyInterface, rabbitmqURI: amqp,
            containerPrefix: prefix ?? ServerConfig.defaultContainerPrefix, enabledComponents: enabled,
            registryUsername: registryUser, registryPassword: registryPassword, registryCAFile: registryCA, rabbitmqCAFile: rabbitmqCA,
            monitorInterval: monitorInterval.flatMap { Int($0) } ?? 10, monitorMaxNames: monitorMaxNames.flatMap { Int($0) } ?? 100_000,
            monitorListen: monitorListen.map { $0 == "off" ? nil : MonitorListen(parsing: $0) } ?? .standard,
            monitorPush: monitorPush.map { $0 == "on" } ?? true, monitorExchange: monitorExchange ?? "provision.monitoring",
            monitorQueue: monitorQueue ?? "provision.monitoring", monitorSpoolMB: monitorSpool.flatMap { Int($0) } ?? 64)
    }
}

/// Value syntaxes, shared by the parser and the tools that take the same values on the command line.
public enum Syntax {
    static func allChars(_ s: String, _ allowed: (Character) -> Bool) -> Bool { s.allSatisfy(allowed) }
    static func isAlnum(_ c: Character) -> Bool { c.isASCII && (c.isLetter || c.isNumber) }

    public static func isIdentifier(_ s: String) -> Bool {
        !s.isEmpty && s.count <= 64 && allChars(s) { isAlnum($0) || "._-".contains($0) }
    }
    /// Docker's container name rule, bounded: the prefix of `<prefix><component>`.
    /// An exchange or queue name: AMQP's own characters, none that a shell or a URL would read.
    public static func isAMQPName(_ s: String) -> Bool {
        !s.isEmpty && s.utf8.count <= 127 && !s.hasPrefix("amq.") && allChars(s) { isAlnum($0) || "._-:".contains($0) }
    }
    public static func isContainerPrefix(_ s: String) -> Bool {
        !s.isEmpty && s.count <= 32 && isAlnum(s.first!) && allChars(s) { isAlnum($0) || "._-".contains($0) }
    }
    public static func isToken(_ s: String) -> Bool {
        !s.isEmpty && allChars(s) { $0.isASCII && !$0.isWhitespace && $0.asciiValue! >= 0x21 && $0.asciiValue! < 0x7f }
    }
    /// No user info: a token written as `https://user:TOKEN@host` would be printed wherever the
    /// URL is (every beat's message); the token has its own key.
    public static func isHTTPURL(_ s: String) -> Bool {
        for scheme in ["http://", "https://"] where s.hasPrefix(scheme) {
            let authority = s.dropFirst(scheme.count).prefix { $0 != "/" && $0 != "?" && $0 != "#" }
            guard !authority.contains("@") else { return false }
            let host = authority.prefix { $0 != ":" }
            return !host.isEmpty && isToken(s)
        }
        return false
    }
    public static func isRegistry(_ s: String) -> Bool {
        let parts = s.split(separator: ":", omittingEmptySubsequences: false)
        guard parts.count <= 2, let host = parts.first, !host.isEmpty,
              allChars(String(host), { isAlnum($0) || ".-".contains($0) }) else { return false }
        return parts.count == 1 || port(String(parts[1])) != nil
    }
    public static func isImageName(_ s: String) -> Bool {
        guard !s.isEmpty, s.count <= 128 else { return false }
        return s.split(separator: "/", omittingEmptySubsequences: false).allSatisfy { part in
            guard let f = part.first, let l = part.last else { return false }
            let lowerOrDigit: (Character) -> Bool = { $0.isASCII && ($0.isLowercase || $0.isNumber) }
            return lowerOrDigit(f) && lowerOrDigit(l) && part.allSatisfy { lowerOrDigit($0) || "._-".contains($0) }
        }
    }
    public static func isDockerHost(_ s: String) -> Bool {
        if s.hasPrefix("unix:///") { return isToken(s) }
        if s.hasPrefix("tcp://") {
            let rest = s.dropFirst(6)
            guard let colon = rest.lastIndex(of: ":") else { return false }
            return !rest[..<colon].isEmpty && port(String(rest[rest.index(after: colon)...])) != nil
        }
        return false
    }
    public static func isIPAddress(_ s: String) -> Bool {
        var v4 = in_addr(), v6 = in6_addr()
        return inet_pton(AF_INET, s, &v4) == 1 || inet_pton(AF_INET6, s, &v6) == 1
    }
    public static func port(_ s: String) -> UInt16? {
        guard !s.isEmpty, s.count <= 5, s.allSatisfy({ $0.isASCII && $0.isNumber }), let n = Int(s), n >= 1, n <= 65535 else { return nil }
        return UInt16(n)
    }
    public static func isKnotListen(_ s: String) -> Bool {
        guard let at = s.lastIndex(of: "@") else { return false }
        return isIPAddress(String(s[..<at])) && port(String(s[s.index(after: at)...])) != nil
    }
    /// A Linux interface name: 1 to 15 of [A-Za-z0-9._-], and not "." or ".." (the kernel refuses both).
    public static func isInterfaceName(_ s: String) -> Bool {
        !s.isEmpty && s.utf8.count <= 15 && s != "." && s != ".." && allChars(s) { isAlnum($0) || "._-".contains($0) }
    }
    public static func isAMQPURI(_ s: String) -> Bool {
        guard s.hasPrefix("amqp://") || s.hasPrefix("amqps://"), isToken(s) else { return false }
        let rest = s.split(separator: "/", maxSplits: 3, omittingEmptySubsequences: false)
        guard rest.count >= 3 else { return false }
        let authority = rest[2]
        // What follows the last '@' (all of it without one): `amqp://u:p@/` has no host.
        let hostPart = authority.lastIndex(of: "@").map { authority[authority.index(after: $0)...] } ?? authority[...]
        return !hostPart.isEmpty && !hostPart.hasPrefix(":")
    }
}

extension StringProtocol {
    /// Untrusted text as an error message may show it: at most `limit` characters ("..." after a
    /// cut), each control character (C0, DEL, C1: terminal escapes included) as '?'.
    public func messageExcerpt(limit: Int = 40) -> String {
        let scalars = unicodeScalars
        let shown = scalars.prefix(limit).map { $0.isTerminalControl || $0 == "\n" || $0 == "\t" ? "?" : Character($0) }
        return String(shown) + (scalars.count > limit ? "..." : "")
    }

    /// Without leading and trailing whitespace (no Foundation needed).
    public func trimmingWhitespace() -> String {
        let scalars = unicodeScalars
        guard let start = scalars.firstIndex(where: { !$0.properties.isWhitespace }) else { return "" }
        let end = scalars.lastIndex(where: { !$0.properties.isWhitespace })!
        return String(String.UnicodeScalarView(scalars[start...end]))
    }
}
