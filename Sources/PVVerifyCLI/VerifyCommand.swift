import ArgumentParser
import PVCLI
import PVCore
import PVVerification
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
            dns: resolves TXT pvverify.test at dns_verify_server:dns_verify_port, and passes only on exactly "PVOK".

            dhcp: DISCOVER, OFFER, REQUEST, ACK, then RELEASE on dhcp_verify_interface; passes only with an address in 198.51.100.0/24. Its packet socket needs root or CAP_NET_RAW; the agent's user goes through the root-owned helper that has it.

            Exit status:
              0        every selected check passed
              1        a check failed
              78       bad configuration
            """)

    @Argument(help: "Which checks to run: dns, dhcp or all.")
    public var target: VerificationTarget = .all

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
        let environment = AgentEnvironment.live(root: rootOptions.resolve())
        let config: ServerConfig
        do { config = try environment.configuration() } catch { throw ErrorReporting.exit(error) }
        var verifier = Verifier(config: config, timeoutSeconds: timeout)
        verifier.root = environment.root
        let checks = verifier.run(target)
        let output = environment.output
        if json {
            output.line(JSONValue.object([
                ("ok", .bool(checks.allSatisfy(\.passed))), ("checks", .array(checks.map(\.json))),
            ]).rendered)
        } else {
            for check in checks { output.line(check.line) }
            let failed = checks.filter { !$0.passed }.count
            if checks.isEmpty {
                output.line("nothing to verify: neither dns nor dhcp is enabled (components = \(config.enabledComponents.map(\.rawValue).joined(separator: ", ")))")
            } else {
                output.line(failed == 0 ? "all \(checks.count) checks passed" : "\(failed) of \(checks.count) checks failed")
            }
        }
        if !checks.allSatisfy(\.passed) { throw ExitCode(ExitStatus.checkFailed.rawValue) }
    }
}

extension VerificationTarget: ExpressibleByArgument {}
