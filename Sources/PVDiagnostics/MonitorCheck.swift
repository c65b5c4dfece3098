import PVCore
import PVState

/// `monitor`: pv_monitor runs (its lock held), its last sample is recent (at most a few of its
/// intervals old), and says where each kind of data comes from or why it is missing.
public enum MonitorCheck {
    public static let name = "monitor"
    /// A sample older than this many intervals: the daemon runs but no longer counts.
    public static let staleIntervals = 3.0

    public struct Facts: Sendable, Equatable {
        public var health: MonitorHealth
        /// `pv_monitor.service` is installed in the unit directory.
        public var unitInstalled: Bool
        public var unitDirectory: String
        public var interval: Int
        public var now: Double

        public init(health: MonitorHealth, unitInstalled: Bool, unitDirectory: String, interval: Int, now: Double) {
            self.health = health
            self.unitInstalled = unitInstalled
            self.unitDirectory = unitDirectory
            self.interval = interval
            self.now = now
        }
    }

    public static func gather(root: InstallRoot, unitDirectory: String, interval: Int, files: any FileSystem,
                              lockHolder: (String) -> Int32?, now: Double) -> Facts {
        Facts(health: MonitorHealth.read(root, files: files, lockHolder: lockHolder), unitInstalled: files.exists(unitDirectory + "/pv_monitor.service"),
              unitDirectory: unitDirectory, interval: interval, now: now)
    }

    public static func evaluate(_ f: Facts) -> CheckResult {
        let h = f.health
        guard h.running else {
            let hint = f.unitInstalled
                ? "systemctl status pv_monitor.service and journalctl -u pv_monitor.service say why; systemctl restart pv_monitor.service"
                : "pv_monitor.service is not installed in \(f.unitDirectory): as root, pv_install -e setup_monitor"
            return CheckResult(name: name, status: .fail, detail: h.summary(now: f.now), hint: hint)
        }
        if let unreadable = h.unreadable {
            return CheckResult(name: name, status: .fail, detail: "pv_monitor runs (pid \(h.pid!)); \(unreadable)",
                               hint: "remove it; pv_monitor writes it again at the end of its next interval")
        }
        guard let end = h.lastSampleEnd else {
            return CheckResult(name: name, status: .warn, detail: h.summary(now: f.now),
                               hint: "a sample comes every \(f.interval) s (monitor_interval): run again then")
        }
        let age = f.now - end
        if age > staleIntervals * Double(f.interval) + 5 {
            return CheckResult(name: name, status: .fail,
                               detail: h.summary(now: f.now) + ", more than \(Int(staleIntervals)) intervals of \(f.interval) s",
                               hint: "pv_monitor no longer counts: systemctl restart pv_monitor.service, and send journalctl -u pv_monitor.service to support")
        }
        // The push: what waits for the broker, and since when it last confirmed.
        let spool = h.push.map { p in
            "; \(p.spoolDepth) sample\(p.spoolDepth == 1 ? "" : "s") waiting for the broker, last confirm "
                + (p.lastConfirm.map { MonitorHealth.age(f.now - $0) + " ago" } ?? "never")
                + (p.dropped > 0 ? ", \(p.dropped) dropped (spool full)" : "")
        } ?? ""
        guard h.problems.isEmpty else {
            let pushOnly = h.problems.allSatisfy { $0.hasPrefix("samples are not") }
            let diskFull = h.problems.contains { $0.hasPrefix("the spool's disk is full") }
            return CheckResult(name: name, status: .warn, detail: h.summary(now: f.now) + spool + ": " + h.problems.joined(separator: "; "),
                               hint: diskFull ? "free space on the file system of <root>/spool (df), or set monitor_spool_mb below what it has free"
                                   : pushOnly ? "the broker of rabbitmq_uri (see the rabbitmq check); the samples wait in <root>/spool/monitoring and are sent once it answers"
                                              : "the components' contract (README, \"Monitoring data\"): each component's sockets in <root>/run/monitor")
        }
        return CheckResult(name: name, status: .ok, detail: h.summary(now: f.now) + spool + "; DNS, DNS aggregate and DHCP data present")
    }
}
