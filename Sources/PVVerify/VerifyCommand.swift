import ArgumentParser
import PVCLI
import PVCore
import PVDHCP
import PVDNS
#if canImport(Glibc)
import Glibc
#endif

/// `pv_verify [dns|dhcp|all]`: the checks that decide whether a component
/// version is good. pv_update and pv_install run the same checks.
public struct VerifyCommand: ParsableCommand {
    public static let configuration = CommandConfiguration(
        commandName: "pv_verify",
        abstract: "Verify the DNS and DHCP components of this managed server.",
        discussion: """
            dns:  resolves TXT pvverify.test at dns_verify_server:dns_verify_port; passes only on exactly "PVOK".
            dhcp: DISCOVER/OFFER/REQUEST/ACK then RELEASE on dhcp_verify_interface; passes only with an
                  address in 198.51.100.0/24. Needs root (or CAP_NET_RAW) for its packet socket.
            Exit status: 0 every selected check passed, 1 a check failed, 78 bad configuration.
            """)

    public enum Target: String, ExpressibleByArgument, CaseIterable, Sendable {
        case dns, dhcp, all
    }

    @Argument(help: "Which checks to run: dns, dhcp or all.")
    public var target: Target = .all

    @Flag(name: .long, help: "Print one JSON object instead of text.")
    public var json = false

    @Option(name: .long, help: "Seconds to wait for each DNS try and each DHCP phase.")
    public var timeout: Double = 1.0

    @OptionGroup public var rootOptions: RootOptions

    public init() {}

    public func validate() throws {
        guard timeout > 0, timeout <= 30 else { throw ValidationError("--timeout must be between 0 and 30 seconds") }
    }

    public func run() throws {
        let config: ServerConfig
        do { config = try ConfigParser.load(root: rootOptions.resolve()) } catch { throw ErrorReporting.exit(error) }
        var verifier = Verifier(config: config, timeoutSeconds: timeout)
        verifier.root = rootOptions.resolve()
        let checks = verifier.run(target)
        if json {
            Output.line(JSONValue.object([
                ("ok", .bool(checks.allSatisfy(\.passed))), ("checks", .array(checks.map(\.json))),
            ]).rendered)
        } else {
            for check in checks { Output.line(check.line) }
            let failed = checks.filter { !$0.passed }.count
            Output.line(failed == 0 ? "all \(checks.count) checks passed" : "\(failed) of \(checks.count) checks failed")
        }
        if !checks.allSatisfy(\.passed) { throw ExitCode(ExitStatus.checkFailed.rawValue) }
    }
}

/// Runs the verification checks for a configuration. Shared with pv_update and pv_install.
public struct Verifier: Sendable {
    public var config: ServerConfig
    public var timeoutSeconds: Double
    /// Set when the DHCP check may use the capability helper of this install (see `DHCPCheckHelper`).
    public var root: InstallRoot?

    public init(config: ServerConfig, timeoutSeconds: Double = 1.0, root: InstallRoot? = nil) {
        self.root = root
        self.config = config
        self.timeoutSeconds = timeoutSeconds
    }

    public func run(_ target: VerifyCommand.Target) -> [CheckResult] {
        switch target {
        case .dns: return [dns()]
        case .dhcp: return [dhcp()]
        case .all: return [dns(), dhcp()]
        }
    }

    public func dns() -> CheckResult {
        let start = Monotonic.nanoseconds()
        let resolver = LDNSResolver(server: config.dnsVerifyServer, port: config.dnsVerifyPort,
                                    timeoutSeconds: timeoutSeconds, attempts: 2)
        let outcome = resolver.queryTXT(TXTVerification.name)
        return TXTVerification.evaluate(outcome, server: config.dnsVerifyServer, port: config.dnsVerifyPort,
                                        milliseconds: Monotonic.milliseconds(since: start))
    }

    public func dhcp() -> CheckResult {
        let interface = config.dhcpVerifyInterface
        let (result, failure) = DHCPCheck.run(interface: interface, timeoutSeconds: timeoutSeconds)
        // The agent's user has no CAP_NET_RAW: the root-owned helper with that capability does.
        if case .noPermission = failure, let root {
            let helper = DHCPCheckHelper(path: root.systemPath(DHCPCheckHelper.installedPath))
            if let viaHelper = helper.run(.init(interface: interface, timeoutSeconds: timeoutSeconds), bound: timeoutSeconds * 4 + 5) {
                return viaHelper
            }
            var r = result
            r.hint = "install the DHCP check helper as root (pv_install -e install_libs puts it at \(helper.path) with cap_net_raw), or run this as root"
            return r
        }
        return result
    }
}
