import Testing
#if canImport(Glibc)
import Glibc
#endif
@testable import PVCore

/// A complete, valid configuration; each test breaks one thing in it.
let validConfig = """
    # comment
    resource_id = srv-42
    management_url = https://provision.example.com/api
    management_token = s3cr3t-t0ken
    registry = 127.0.0.1:5000
    image_dns = pv-dns
    image_dhcp = pv-dhcp
    image_monitoring = provision/pv-monitoring
    docker_host = unix:///var/run/docker.sock
    dns_verify_server = 127.0.0.1
    dns_verify_port = 5353
    dhcp_verify_interface = pvv-cli
    rabbitmq_uri = amqp://pv:hunter2@127.0.0.1:5672/%2F

    """

func replacing(_ key: String, with line: String?) -> String {
    validConfig.split(separator: "\n", omittingEmptySubsequences: false).compactMap { l -> String? in
        l.hasPrefix(key + " ") ? line : String(l)
    }.joined(separator: "\n")
}

@Suite struct ConfigParserTests {
    @Test func parsesEveryKey() throws {
        let c = try ConfigParser.parse(validConfig, file: "/p/etc/provision.conf")
        #expect(c.resourceID == "srv-42")
        #expect(c.managementURL == "https://provision.example.com/api")
        #expect(c.registry == "127.0.0.1:5000")
        #expect(c.image(for: .monitoring) == "provision/pv-monitoring")
        #expect(c.dnsVerifyPort == 5353)
        #expect(c.dnsListen == "127.0.0.1@5353", "dns_listen defaults to the verification target")
        #expect(c.dhcpVerifyInterface == "pvv-cli")
        #expect(c.dhcpServerInterface == nil)
        #expect(c.secrets == ["s3cr3t-t0ken", "hunter2"])
    }

    @Test func allThreeComponentsRunWhenTheKeyIsAbsent() throws {
        let c = try ConfigParser.parse(validConfig, file: "f.conf")
        #expect(c.enabledComponents == [.dns, .dhcp, .monitoring])
    }

    @Test func componentsAreASubsetInStartOrder() throws {
        let c = try ConfigParser.parse(validConfig + "components = monitoring,  dns\n", file: "f.conf")
        #expect(c.enabledComponents == [.dns, .monitoring])
        #expect(!c.isEnabled(.dhcp))
        do { try c.requireEnabled(.dhcp); Issue.record("dhcp is not enabled") } catch {
            #expect(error.message == "dhcp is not enabled on this server (components = dns, monitoring)")
            #expect(error.code == .usage)
        }
    }

    @Test(arguments: [
        ("dns, dhcpd", "'dhcpd' is not a component (known: dns, dhcp, monitoring)"),
        ("dns,,dhcp", "an empty item in the list (write: dns, dhcp, monitoring or a part of it)"),
        ("dns, dns", "dns is listed twice"),
        ("DNS", "'DNS' is not a component (known: dns, dhcp, monitoring)"),
    ])
    func aBadComponentsValueIsRefusedNamingTheItem(value: String, problem: String) {
        #expect(throws: ConfigError(file: "f.conf", line: 14, key: "components", problem: problem)) {
            try ConfigParser.parse(validConfig + "components = \(value)\n", file: "f.conf")
        }
    }

    @Test func aDNSOnlyServerNeedsNoDHCPImageOrVerificationLink() throws {
        let withoutDHCPKeys = validConfig.split(separator: "\n").filter { !$0.hasPrefix("image_dhcp") && !$0.hasPrefix("dhcp_verify_interface") }
            .joined(separator: "\n")
        let c = try ConfigParser.parse(withoutDHCPKeys + "\ncomponents = dns\n", file: "f.conf")
        #expect(c.enabledComponents == [.dns])
        // With DHCP enabled the same file lacks a key, said with the reason.
        #expect(throws: ConfigError(file: "f.conf", line: nil, key: "image_dhcp", problem: "required key is missing (dhcp is enabled: components = dns, dhcp)")) {
            try ConfigParser.parse(withoutDHCPKeys + "\ncomponents = dns, dhcp\n", file: "f.conf")
        }
    }

    @Test func unknownKeyNamesFileLineAndKey() {
        let text = validConfig + "dns_verfy_port = 53\n"
        #expect(throws: ConfigError(file: "f.conf", line: 14, key: "dns_verfy_port", problem: "unknown key (known keys: \(ConfigParser.known.joined(separator: ", ")))")) {
            try ConfigParser.parse(text, file: "f.conf")
        }
    }

    @Test(arguments: ConfigParser.required)
    func missingRequiredKey(key: String) {
        do {
            _ = try ConfigParser.parse(replacing(key, with: nil), file: "f.conf")
            Issue.record("accepted a file without \(key)")
        } catch {
            #expect(error.key == key)
            #expect(error.line == nil)
            #expect(error.description == "f.conf: key '\(key)': required key is missing")
        }
    }

    @Test(arguments: [
        ("resource_id", "srv 42"), ("resource_id", String(repeating: "a", count: 65)),
        ("management_url", "ftp://x"), ("management_url", "https://"), ("management_token", "two words"),
        ("registry", "host:99999"), ("registry", "bad_host!"), ("image_dns", "PV-DNS"), ("image_dhcp", "pv-dhcp:1.0"),
        ("image_monitoring", "-bad"), ("docker_host", "/var/run/docker.sock"), ("docker_host", "tcp://host"),
        ("dns_verify_server", "localhost"), ("dns_verify_server", "300.1.1.1"), ("dns_verify_port", "0"),
        ("dns_verify_port", "65536"), ("dns_verify_port", "53x"), ("dhcp_verify_interface", "a-very-long-interface0"),
        ("rabbitmq_uri", "http://x"), ("rabbitmq_uri", "amqp://"),
    ])
    func malformedValue(key: String, value: String) {
        let text = replacing(key, with: "\(key) = \(value)")
        do {
            _ = try ConfigParser.parse(text, file: "f.conf")
            Issue.record("accepted \(key) = \(value)")
        } catch {
            #expect(error.key == key)
            #expect(error.line != nil)
            #expect(error.description.hasPrefix("f.conf:\(error.line!): key '\(key)': "))
        }
    }

    @Test func malformedSecretsAreNotEchoed() {
        for (key, value) in [("management_token", "leaky secret"), ("rabbitmq_uri", "http://u:leakypw@h/")] {
            do {
                _ = try ConfigParser.parse(replacing(key, with: "\(key) = \(value)"), file: "f")
                Issue.record("accepted \(key)")
            } catch {
                #expect(!error.description.contains("leaky"))
            }
        }
    }

    @Test func lineWithoutEqualsIsNamedButNeverEchoed() {
        // A token that lost its '=' must not be printed (into install logs, the diagnostics archive).
        #expect(throws: ConfigError(file: "f", line: 14, key: nil, problem: "expected 'key = value' (the line's text is not shown: it may hold a secret)")) {
            try ConfigParser.parse(validConfig + "management_token AUDITSECRET123\n", file: "f")
        }
        do { _ = try ConfigParser.parse(validConfig + "management_token AUDITSECRET123\n", file: "f") } catch {
            #expect(!error.description.contains("AUDITSECRET123"))
        }
    }

    @Test(arguments: ["https://user:AUDITTOKEN@provision.example.com", "http://AUDITTOKEN@127.0.0.1:8480/x"])
    func aManagementURLWithUserInfoIsRefusedWithoutEchoingIt(_ url: String) {
        do {
            _ = try ConfigParser.parse(replacing("management_url", with: "management_url = \(url)"), file: "f")
            Issue.record("accepted \(url)")
        } catch {
            #expect(error.key == "management_url")
            #expect(!error.description.contains("AUDITTOKEN"))
        }
    }

    @Test(arguments: ["amqp://u:p@/", "amqp://u:p@:5672/%2F", "amqps:///"])
    func anAMQPURIWithoutAHostIsRefused(_ uri: String) {
        #expect(throws: ConfigError.self) { try ConfigParser.parse(replacing("rabbitmq_uri", with: "rabbitmq_uri = \(uri)"), file: "f") }
    }

    @Test func crlfLinesAreLinesAndErrorsNameThem() throws {
        let crlf = validConfig.split(separator: "\n", omittingEmptySubsequences: false).joined(separator: "\r\n")
        let config = try ConfigParser.parse(crlf, file: "f")
        #expect(config == (try ConfigParser.parse(validConfig, file: "f")))
        #expect(throws: ConfigError(file: "f", line: 14, key: "registry", problem: "set twice (first on line 5)")) {
            try ConfigParser.parse(crlf + "registry = 127.0.0.1:5000\r\n", file: "f")
        }
    }

    @Test func anUnknownKeyIsCutAndItsControlCharactersEscaped() {
        do {
            _ = try ConfigParser.parse(validConfig + "\u{1b}[2J" + String(repeating: "k", count: 100_000) + " = 1\n", file: "f")
            Issue.record("accepted")
        } catch {
            #expect(!error.description.contains("\u{1b}"))
            #expect(error.description.count < 1000)
        }
    }

    @Test func aLinkOrAFIFOAsTheConfigurationIsRefusedAtOnce() throws {
        var template = Array("/tmp/pvconf.XXXXXX".utf8CString)
        let dir = try #require(template.withUnsafeMutableBufferPointer { mkdtemp($0.baseAddress!).map { String(cString: $0) } })
        defer { FileIO.listDirectory(dir + "/etc")?.forEach { unlink(dir + "/etc/" + $0) }; rmdir(dir + "/etc"); rmdir(dir) }
        try FileIO.makeDirectories(dir + "/etc")
        let secret = dir + "/secret"
        try FileIO.writeAtomically(secret, "root:SHADOWHASH:19000:0:99999:7:::\n", mode: 0o600)
        defer { unlink(secret) }
        #expect(symlink(secret, dir + "/etc/provision.conf") == 0)
        do { _ = try ConfigParser.load(root: InstallRoot(path: dir)); Issue.record("followed the link") } catch {
            #expect(error.code == .config && !error.description.contains("SHADOWHASH"))
            #expect(error.description.contains("symbolic link"))
        }
        unlink(dir + "/etc/provision.conf")
        #expect(mkfifo(dir + "/etc/provision.conf", 0o600) == 0)
        // Would block forever in open() before the fix.
        do { _ = try ConfigParser.load(root: InstallRoot(path: dir)); Issue.record("read a FIFO") } catch {
            #expect(error.description.contains("not a regular file"))
        }
    }

    @Test func duplicateKey() {
        #expect(throws: ConfigError(file: "f", line: 14, key: "registry", problem: "set twice (first on line 5)")) {
            try ConfigParser.parse(validConfig + "registry = other:5000\n", file: "f")
        }
    }

    @Test func emptyValueAndEmptyKey() {
        #expect(throws: ConfigError(file: "f", line: 14, key: "dns_listen", problem: "empty value")) {
            try ConfigParser.parse(validConfig + "dns_listen =\n", file: "f")
        }
        #expect(throws: ConfigError(file: "f", line: 14, key: nil, problem: "missing key before '='")) {
            try ConfigParser.parse(validConfig + " = x\n", file: "f")
        }
    }

    @Test func optionalKeysAreValidated() throws {
        let c = try ConfigParser.parse(validConfig + "dns_listen = 0.0.0.0@53\ndhcp_server_interface = pvv-srv\n", file: "f")
        #expect(c.dnsListen == "0.0.0.0@53")
        #expect(c.dhcpServerInterface == "pvv-srv")
        #expect(throws: ConfigError.self) { try ConfigParser.parse(validConfig + "dns_listen = 127.0.0.1\n", file: "f") }
        #expect(throws: ConfigError.self) { try ConfigParser.parse(validConfig + "management_ca_file = ca.pem\n", file: "f") }
    }

    @Test func containerPrefixDefaultsToPVAndMustBeADockerName() throws {
        #expect(try ConfigParser.parse(validConfig, file: "f").containerPrefix == "pv-")
        #expect(try ConfigParser.parse(validConfig + "container_prefix = pvit-\n", file: "f").containerPrefix == "pvit-")
        for bad in ["-pv", "pv dns", "pv/", String(repeating: "p", count: 33)] {
            #expect(throws: ConfigError.self, "\(bad)") { try ConfigParser.parse(validConfig + "container_prefix = \(bad)\n", file: "f") }
        }
    }

    @Test func thePullEndpointIsOnLoopbackUnlessTheOperatorSaysOtherwise() throws {
        #expect(try ConfigParser.parse(validConfig, file: "f").monitorListen == MonitorListen(address: "127.0.0.1", port: 9433, isIPv6: false))
        #expect(try ConfigParser.parse(validConfig + "monitor_listen = off\n", file: "f").monitorListen == nil)
        let v6 = try ConfigParser.parse(validConfig + "monitor_listen = [::1]:19433\n", file: "f").monitorListen
        #expect(v6 == MonitorListen(address: "::1", port: 19433, isIPv6: true))
        #expect(v6?.description == "[::1]:19433")
        #expect(try ConfigParser.parse(validConfig + "monitor_listen = 0.0.0.0:9433\n", file: "f").monitorListen?.description == "0.0.0.0:9433")
        for bad in ["localhost:9433", "127.0.0.1", "127.0.0.1:0", "127.0.0.1:70000", "::1:9433", "[::1]", "[::1]9433", "[127.0.0.1]:9433", "on"] {
            do {
                _ = try ConfigParser.parse(validConfig + "monitor_listen = \(bad)\n", file: "f")
                Issue.record("accepted monitor_listen = \(bad)")
            } catch {
                #expect(error.key == "monitor_listen")
                #expect(error.description.contains("ADDRESS:PORT"), "\(error.description)")
            }
        }
    }

    /// Publishing to the broker is on by default, to durable names that say what they carry, with a
    /// 64 MB spool; each can be set, and a bad value is named with what is expected.
    @Test func thePushHasSafeDefaultsAndNamesItsBadValues() throws {
        let c = try ConfigParser.parse(validConfig, file: "f")
        #expect(c.monitorPush && c.monitorExchange == "provision.monitoring" && c.monitorQueue == "provision.monitoring" && c.monitorSpoolMB == 64)
        #expect(c.rabbitmqCAFile == nil, "amqps:// trusts the system's CA certificates unless told otherwise")
        #expect(try ConfigParser.parse(validConfig + "rabbitmq_ca_file = /etc/provision/rabbitmq-ca.pem\n", file: "f").rabbitmqCAFile == "/etc/provision/rabbitmq-ca.pem")
        let set = try ConfigParser.parse(validConfig + "monitor_push = off\nmonitor_exchange = pv.x\nmonitor_queue = pv:q-1\nmonitor_spool_mb = 8\n", file: "f")
        #expect(!set.monitorPush && set.monitorExchange == "pv.x" && set.monitorQueue == "pv:q-1" && set.monitorSpoolMB == 8)
        for (key, bad, expected) in [("monitor_push", "yes", "on or off"), ("monitor_spool_mb", "0", "megabytes"),
                                     ("monitor_spool_mb", "5000", "megabytes"), ("monitor_queue", "a b", "AMQP name"),
                                     ("monitor_exchange", "amq.direct", "AMQP name"), ("monitor_queue", String(repeating: "q", count: 128), "AMQP name"),
                                     ("rabbitmq_ca_file", "ca.pem", "absolute path")] {
            do {
                _ = try ConfigParser.parse(validConfig + "\(key) = \(bad)\n", file: "f")
                Issue.record("accepted \(key) = \(bad)")
            } catch {
                #expect(error.key == key && error.description.contains(expected), "\(error.description)")
            }
        }
    }

    @Test func ipv6AndTCPDockerHost() throws {
        let text = replacing("dns_verify_server", with: "dns_verify_server = ::1")
            .replacingOccurrences("docker_host = unix:///var/run/docker.sock", "docker_host = tcp://10.0.0.1:2375")
        let c = try ConfigParser.parse(text, file: "f")
        #expect(c.dnsVerifyServer == "::1")
        #expect(c.dockerHost == "tcp://10.0.0.1:2375")
    }

    @Test func loadReportsMissingFileWithRoot() {
        do {
            _ = try ConfigParser.load(root: InstallRoot(path: "/nonexistent-pv-root"))
            Issue.record("loaded a missing file")
        } catch {
            #expect(error.code == .config)
            #expect(error.message.contains("/nonexistent-pv-root/etc/provision.conf"))
            #expect(error.hint?.contains("--root") == true)
        }
    }
}

@Suite struct InstallRootTests {
    @Test func precedence() {
        #expect(InstallRoot.resolve(option: "/a/", environment: ["PV_ROOT": "/b"]).path == "/a")
        #expect(InstallRoot.resolve(option: nil, environment: ["PV_ROOT": "/b"]).path == "/b")
        #expect(InstallRoot.resolve(option: nil, environment: [:]).path == "/provision")
        #expect(InstallRoot(path: "/r").configFile == "/r/etc/provision.conf")
    }
}

extension String {
    func replacingOccurrences(_ a: String, _ b: String) -> String {
        split(separator: "\n", omittingEmptySubsequences: false).map { $0 == a ? b : String($0) }.joined(separator: "\n")
    }
}

@Suite struct TerminalTextTests {
    @Test func controlsAreShownEscapedAndTextIsKept() {
        #expect("dns\u{1B}]0;owned\u{07}\u{9B}2J\u{7F}".escapingTerminalControls == "dns\\x1B]0;owned\\x07\\x9B2J\\x7F")
        #expect("two\nlines\tand tabs, é, 日本".escapingTerminalControls == "two\nlines\tand tabs, é, 日本")
        #expect("carriage\rreturn".escapingTerminalControls == "carriage\\x0Dreturn", "a CR would hide the start of the line")
    }

    @Test func jsonStringsCarryNoRawControlEither() {
        let rendered = JSONValue.string("a\u{1B}[2J\u{9B}b\u{7F}").rendered
        #expect(rendered == "\"a\\u001b[2J\\u009bb\\u007f\"")
        #expect(rendered.escapingTerminalControls == rendered, "the screen escaping never touches JSON")
    }
}

/// An unknown key is named when it has a key's shape, and only its line when it may be a secret
/// pasted where a key belongs.
@Suite struct UnknownKeyTests {
    static let valid = validConfig

    @Test func everyKnownKeyLooksLikeAKey() {
        for key in ConfigParser.known { #expect(ConfigParser.looksLikeKey(key), "\(key)") }
    }

    @Test(arguments: ["dns_verfy_port", "monitor_intervall", "managment_url", "rabbitmq_url", "token"])
    func aMistypedKeyIsNamed(_ key: String) {
        #expect(ConfigParser.looksLikeKey(key))
        #expect(throws: ConfigError(file: "f", line: 14, key: key, problem: "unknown key (known keys: \(ConfigParser.known.joined(separator: ", ")))")) {
            try ConfigParser.parse(Self.valid + "\(key) = 1\n", file: "f")
        }
    }

    @Test(arguments: [
        "AUDITTOKEN_7f3kq9zXw2", "auditToken", "tok3n", "ghp_16C7e42F292c6912E7710c838347Ae178B4a", "x7f3kq9zxw2",
        "correcthorsebatterystaple", "a_b_c_d_e_f", "dns-verify-port", "_token", "token_", "a__b", "management token", "pässword",
        String(repeating: "abcdefghij_", count: 4) + "x",
    ])
    func aKeyThatMayBeASecretIsNotShown(_ key: String) {
        #expect(!ConfigParser.looksLikeKey(key))
        do {
            _ = try ConfigParser.parse(Self.valid + "\(key) = x\n", file: "f")
            Issue.record("accepted \(key)")
        } catch {
            #expect(error.line == 14)
            #expect(error.key == nil)
            // Nothing of the key: the line, and the known keys.
            #expect(error.description == "f:14: unknown key (not shown: it does not look like a key and may be a secret; known keys: \(ConfigParser.known.joined(separator: ", ")))")
        }
    }

    /// A redacted copy of the file (diagnostics, uninstall archives) drops such a line whole.
    @Test func theRedactedConfigurationDropsAKeyThatMayBeASecret() {
        let out = Redactor.configurationText("resource_id = a\nAUDITTOKEN_7f3kq9zXw2 = x\nmonitor_intervall = 10\n")
        #expect(out == "resource_id = a\n# line 2 removed by pv_diagnostics: its key does not look like a key (it may be a secret)\nmonitor_intervall = <redacted>\n")
    }
}
