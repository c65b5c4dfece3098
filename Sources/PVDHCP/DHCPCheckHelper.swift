import CDHCP
import PVCore

/// The DHCP check needs a packet socket (CAP_NET_RAW), and the agent runs as its own user.
/// Instead of sudo for a tool in the agent's own tree (which that user could replace), the install
/// puts one small static program, `pv_dhcp_probe`, in a directory chain owned by root and writable
/// by no one else, outside the agent's tree, with the file capability cap_net_raw (no root, no
/// sudo). It is C with no language runtime (Sources/pv_dhcp_probe/main.c says why), takes the
/// interface and a timeout as arguments, opens nothing but its packet socket, reads no file and no
/// environment variable, and writes one line to stdout: nothing the agent's user can write reaches
/// it. The line is CDHCP's `pv_dhcp_format_line`; this side runs the helper and reads the line.
public struct DHCPCheckHelper: Sendable {
    public static let installedPath = "/usr/libexec/provision/pv_dhcp_probe"
    public static let name = "pv_dhcp_probe"
    /// The first field of the helper's line: a helper of another format is not misread.
    static let lineTag = PV_DHCP_LINE_TAG

    public var path: String
    public var runner: any ProcessRunner

    public init(path: String, runner: any ProcessRunner = LiveProcessRunner()) {
        self.path = path
        self.runner = runner
    }

    /// The helper's arguments (it validates them itself: `pv_dhcp_parse_arguments`).
    public struct Arguments: Equatable, Sendable {
        public var interface: String
        public var timeoutSeconds: Double

        public init(interface: String, timeoutSeconds: Double) {
            self.interface = interface
            self.timeoutSeconds = timeoutSeconds
        }

        /// The timeout within the helper's range (0.1 to 30 s), in plain decimal to the millisecond.
        public var argv: [String] {
            let ms = Int((min(max(timeoutSeconds, PV_DHCP_TIMEOUT_MIN), PV_DHCP_TIMEOUT_MAX) * 1000).rounded())
            let fraction = String(ms % 1000)
            return ["--interface", interface, "--timeout", "\(ms / 1000).\(String(repeating: "0", count: 3 - fraction.count))\(fraction)"]
        }
    }

    /// The helper's line: tag, status, milliseconds, detail, hint, separated by tabs.
    public static func parse(_ output: String) -> CheckResult? {
        guard let line = output.split(separator: "\n").last else { return nil }
        let f = line.split(separator: "\t", omittingEmptySubsequences: false).map(String.init)
        guard f.count == 5, f[0] == lineTag, let status = CheckResult.Status(rawValue: f[1]) else { return nil }
        return CheckResult(name: "dhcp", status: status, detail: f[3], hint: f[4].isEmpty ? nil : f[4], milliseconds: Double(f[2]))
    }

    /// The check through the helper, or nil when there is no helper at `path` (or it answered
    /// nothing readable within the bound): the caller reports the permission problem then.
    public func run(_ arguments: Arguments, bound: Double) -> CheckResult? {
        guard FileIO.exists(path),
              let out = try? runner.run(Command(path, arguments.argv), timeout: bound), !out.timedOut,
              var result = Self.parse(out.stdout) else { return nil }
        result.detail += " (via \(Self.name))"
        return result
    }
}
