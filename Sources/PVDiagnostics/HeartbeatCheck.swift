import PVCore
import PVState

/// `heartbeat`: the systemd units that beat every 30 s are installed and the
/// timer is enabled, and the last beat is recent (and, when pv_heartbeat
/// recorded it, was accepted).
public enum HeartbeatCheck {
    public static let name = "heartbeat"
    public static let units = ["pv_heartbeat.service", "pv_heartbeat.timer"]
    /// Beats come every 30 s; two missed slots are worth a warning, ten a failure.
    public static let warnAfterSeconds = 90.0
    public static let failAfterSeconds = 300.0

    public struct Facts: Sendable, Equatable {
        public var unitDirectory: String
        public var missingUnits: [String]
        /// `timers.target.wants/pv_heartbeat.timer` exists (what `systemctl enable` creates).
        public var timerEnabled: Bool
        public var statePath: String
        /// The heartbeat state file's text, nil when there is none.
        public var stateText: String?
        /// When the state file was last written: pv_heartbeat saves it at every beat, before sending.
        public var stateModified: Double?
        public var now: Double

        public init(unitDirectory: String, missingUnits: [String], timerEnabled: Bool, statePath: String, stateText: String?,
                    stateModified: Double?, now: Double) {
            self.unitDirectory = unitDirectory
            self.missingUnits = missingUnits
            self.timerEnabled = timerEnabled
            self.statePath = statePath
            self.stateText = stateText
            self.stateModified = stateModified
            self.now = now
        }
    }

    public static func gather(root: InstallRoot, unitDirectory: String, files: any FileSystem, now: Double) -> Facts {
        let statePath = LiveHeartbeatStateStore(root: root).path
        let text: String?
        switch files.readText(statePath, limit: 64 << 10) {
        case .success(let t): text = t
        case .failure: text = nil
        }
        return Facts(unitDirectory: unitDirectory,
                     missingUnits: units.filter { !files.exists(unitDirectory + "/" + $0) },
                     timerEnabled: files.exists(unitDirectory + "/timers.target.wants/pv_heartbeat.timer"),
                     statePath: statePath, stateText: text, stateModified: files.modificationTime(statePath), now: now)
    }

    public static func evaluate(_ f: Facts) -> CheckResult {
        if !f.missingUnits.isEmpty {
            return CheckResult(name: name, status: .fail,
                               detail: "\(f.missingUnits.joined(separator: " and ")) not installed in \(f.unitDirectory)",
                               hint: "install Bundle/pv_heartbeat.service and .timer into \(f.unitDirectory), then systemctl enable --now pv_heartbeat.timer")
        }
        var notes: [String] = []
        var status = CheckResult.Status.ok
        var hint: String?
        if !f.timerEnabled {
            status = .warn
            notes.append("the timer is not enabled")
            hint = "systemctl enable --now pv_heartbeat.timer"
        }
        guard let text = f.stateText, let modified = f.stateModified else {
            return CheckResult(name: name, status: .warn,
                               detail: (["units installed in \(f.unitDirectory)"] + notes + ["no beat recorded yet (\(f.statePath) missing)"])
                                   .joined(separator: "; "),
                               hint: hint ?? "wait 30 s, or run pv_heartbeat once by hand to see its answer")
        }
        guard let state = HeartbeatState.parse(text) else {
            return CheckResult(name: name, status: .fail, detail: "the heartbeat state \(f.statePath) is damaged",
                               hint: "remove it; the next beat starts the sequence again at 1")
        }
        let age = max(0, f.now - modified)
        var detail = (["units installed in \(f.unitDirectory)"] + notes).joined(separator: "; ")
        detail += "; last beat #\(state.sequence) \(ago(age))"
        if let result = lastResult(text) {
            detail += ": \(result)"
            if result != "sent" {
                status = .fail
                hint = "run pv_heartbeat by hand to see why the beat was not accepted"
            }
        }
        if age > failAfterSeconds {
            return CheckResult(name: name, status: .fail, detail: detail,
                               hint: "the timer is not firing: systemctl status pv_heartbeat.timer; journalctl -u pv_heartbeat.service")
        }
        if age > warnAfterSeconds && status == .ok {
            status = .warn
            hint = "beats are late: systemctl status pv_heartbeat.timer"
        }
        return CheckResult(name: name, status: status, detail: detail, hint: hint)
    }

    /// The outcome pv_heartbeat recorded for its last beat (`last_result = sent`),
    /// when its state file carries one.
    static func lastResult(_ text: String) -> String? {
        for line in text.split(separator: "\n") where !line.hasPrefix("#") {
            guard let eq = line.firstIndex(of: "=") else { continue }
            let key = line[..<eq].filter { $0 != " " }
            if key == "last_result" || key == "result" {
                let value = line[line.index(after: eq)...].drop { $0 == " " }
                return value.isEmpty ? nil : String(value)
            }
        }
        return nil
    }

    static func ago(_ seconds: Double) -> String {
        let s = Int(seconds.rounded())
        if s < 120 { return "\(s) s ago" }
        if s < 7200 { return "\(s / 60) min ago" }
        if s < 172_800 { return "\(s / 3600) h ago" }
        return "\(s / 86400) days ago"
    }
}
