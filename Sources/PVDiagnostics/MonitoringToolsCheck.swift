import PVCore

/// `monitoring tools`: the debug tools the seed says the monitoring component carries, as found
/// in its running container: a MySQL client, a DHCP test client (dhtest in the original; Debian
/// packages none, so the lab's image carries dhcping), dnsutils (dig, nslookup, nsupdate) and telnet.
public enum MonitoringToolsCheck {
    public static let name = "monitoring tools"

    /// The programs looked for, each with what it is, in the order they are reported.
    public static let tools: [(program: String, what: String)] = [
        ("mysql", "MySQL/MariaDB client"), ("dhcping", "DHCP test client"), ("dig", "dnsutils"),
        ("nslookup", "dnsutils"), ("nsupdate", "dnsutils"), ("telnet", "telnet"),
    ]

    /// The shell line run in the container: prints each program it has, one a line.
    public static var probeScript: String {
        "for t in \(tools.map(\.program).joined(separator: " ")); do command -v \"$t\" >/dev/null 2>&1 && echo \"$t\"; done; exit 0"
    }

    /// `found`: the programs the container has, or why it could not be asked.
    public static func evaluate(container: String, found: Result<Set<String>, PVError>) -> CheckResult {
        switch found {
        case .failure(let error):
            return CheckResult(name: name, status: .warn, detail: "not checked: cannot run a shell in \(container): \(error.message)",
                               hint: "start it (start_pv_monitoring.sh), then run pv_diagnostics again")
        case .success(let present):
            let missing = tools.filter { !present.contains($0.program) }
            let has = tools.map(\.program).filter(present.contains)
            guard !missing.isEmpty else {
                return CheckResult(name: name, status: .ok, detail: "\(container) has \(has.joined(separator: ", "))")
            }
            return CheckResult(name: name, status: .warn,
                               detail: "\(container) lacks \(missing.map { "\($0.program) (\($0.what))" }.joined(separator: ", "))"
                                   + (has.isEmpty ? "" : "; has \(has.joined(separator: ", "))"),
                               hint: "the monitoring image should carry them: update it (pv_update monitoring)")
        }
    }
}
