#if canImport(FoundationEssentials)
import FoundationEssentials
#else
import Foundation
#endif
import PVCore
#if canImport(Glibc)
import Glibc
#endif

/// The DHCP check needs a packet socket (root or CAP_NET_RAW), but the agent
/// runs as its own user. Instead of giving every tool that capability, the
/// sudoers file the install writes lets that user run exactly one command as
/// root: `<root>/libs/pv_verify dhcp --json --root <root>`. Tools that verify
/// (pv_update, pv_install, pv_diagnostics) fall back to it.
public struct PrivilegedDHCPCheck: Sendable {
    public var root: InstallRoot
    public var timeoutSeconds: Double
    public var runner: any ProcessRunner

    public init(root: InstallRoot, timeoutSeconds: Double, runner: any ProcessRunner = SystemProcessRunner()) {
        self.root = root
        self.timeoutSeconds = timeoutSeconds
        self.runner = runner
    }

    /// Exactly the command line the sudoers template allows (sudo -n: never prompt).
    public var command: Command {
        Command("sudo", ["-n", root.join("libs", "pv_verify"), "dhcp", "--json", "--root", root.path])
    }

    /// The check's result, or nil when sudo is not set up for it (the caller reports the permission problem).
    public func run() -> CheckResult? {
        guard geteuid() != 0, FileIO.exists(root.join("libs", "pv_verify")),
              let out = try? runner.run(command, timeout: timeoutSeconds), !out.timedOut else { return nil }
        return Self.parse(out.stdout)
    }

    struct Report: Decodable {
        struct Check: Decodable { var name: String; var status: String; var detail: String; var hint: String?; var ms: Double? }
        var checks: [Check]
    }

    static func parse(_ json: String) -> CheckResult? {
        guard let line = json.split(separator: "\n").last,
              let report = try? JSONDecoder().decode(Report.self, from: Data(line.utf8)),
              let c = report.checks.first(where: { $0.name == "dhcp" }), let status = CheckResult.Status(rawValue: c.status) else { return nil }
        return CheckResult(name: "dhcp", status: status, detail: c.detail + " (via sudo)", hint: c.hint, milliseconds: c.ms)
    }
}
