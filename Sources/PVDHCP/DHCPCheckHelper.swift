import PVCore
#if canImport(Glibc)
import Glibc
#endif

/// The DHCP check needs a packet socket (CAP_NET_RAW), and the agent runs as its own user.
/// Instead of sudo for a tool in the agent's own tree (which that user could replace), the install
/// puts one small static program, `pv_dhcp_probe`, in a directory chain owned by root and writable
/// by no one else, outside the agent's tree, with the file capability cap_net_raw (no root, no
/// sudo). It takes the interface and a timeout as arguments, reads no file and no environment, and
/// writes one line to stdout: nothing the agent's user can write reaches it.
public struct DHCPCheckHelper: Sendable {
    public static let installedPath = "/usr/libexec/provision/pv_dhcp_probe"
    public static let name = "pv_dhcp_probe"
    /// The first field of the helper's line: a helper of another format is not misread.
    static let lineTag = "pv_dhcp_probe/1"

    public var path: String
    public var runner: any ProcessRunner

    public init(path: String, runner: any ProcessRunner = LiveProcessRunner()) {
        self.path = path
        self.runner = runner
    }

    /// The helper's arguments, validated before anything else runs in it.
    public struct Arguments: Equatable, Sendable {
        public var interface: String
        public var timeoutSeconds: Double

        public init(interface: String, timeoutSeconds: Double) {
            self.interface = interface
            self.timeoutSeconds = timeoutSeconds
        }

        public var argv: [String] { ["--interface", interface, "--timeout", String(timeoutSeconds)] }

        public static let usage = "usage: pv_dhcp_probe --interface NAME [--timeout SECONDS]\n"
            + "One DHCP lease from the verification pool on NAME (DISCOVER, OFFER, REQUEST, ACK, then RELEASE).\n"
            + "Installed with the capability cap_net_raw, so the agent's user can run it; it reads no file.\n"
            + "Prints one line; exit 0 leased, 1 failed, 64 usage."

        /// A Linux interface name (1 to 15 of [A-Za-z0-9_.-], not "." or ".."), a timeout of 0.1 to 30 s.
        public static func parse(_ argv: [String]) -> Result<Arguments, UsageError> {
            var interface: String?
            var timeout = 1.0
            var i = 0
            while i < argv.count {
                let flag = argv[i]
                guard flag == "--interface" || flag == "--timeout" else {
                    return .failure(UsageError("unknown argument '\(flag.messageExcerpt())'"))
                }
                guard i + 1 < argv.count else { return .failure(UsageError("\(flag) needs a value")) }
                let value = argv[i + 1]
                if flag == "--interface" {
                    guard Syntax.isInterfaceName(value) else { return .failure(UsageError("'\(value.messageExcerpt())' is not an interface name")) }
                    interface = value
                } else {
                    guard let t = Double(value), t >= 0.1, t <= 30 else {
                        return .failure(UsageError("--timeout must be 0.1 to 30 seconds (got '\(value.messageExcerpt())')"))
                    }
                    timeout = t
                }
                i += 2
            }
            guard let interface else { return .failure(UsageError("--interface is required")) }
            return .success(Arguments(interface: interface, timeoutSeconds: timeout))
        }
    }

    public struct UsageError: Error, Equatable, Sendable {
        public var message: String
        public init(_ message: String) { self.message = message }
    }

    /// The helper's one line: tag, status, milliseconds, detail, hint, separated by tabs.
    public static func line(_ result: CheckResult) -> String {
        func field(_ s: String?) -> String { String((s ?? "").map { $0 == "\t" || $0 == "\n" || $0 == "\r" ? " " : $0 }) }
        let ms = result.milliseconds.map { String(($0 * 10).rounded() / 10) } ?? ""
        return [lineTag, result.status.rawValue, ms, field(result.detail), field(result.hint)].joined(separator: "\t")
    }

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
