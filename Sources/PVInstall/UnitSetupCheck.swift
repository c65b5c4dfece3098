import PVCore

/// A step's systemd units without root (setup_heartbeat: the heartbeat units and the sudoers
/// file; setup_monitor: pv_monitor.service): an admin has installed them (the root-only listing
/// names the one command that does it). The agent's user never writes there; it checks what it
/// finds and goes on, or says exactly what is wrong and who fixes it.
struct UnitSetupCheck {
    var context: InstallContext
    /// The install step whose root part installs these units.
    var step: String
    var units: [String]
    /// The unit that must be enabled (and, for a service, active) where systemd runs.
    var enabledUnit: String
    /// setup_heartbeat also installs the sudoers file.
    var checksSudoers: Bool

    static func heartbeat(_ context: InstallContext) -> UnitSetupCheck {
        UnitSetupCheck(context: context, step: "setup_heartbeat", units: ["pv_heartbeat.service", "pv_heartbeat.timer"],
                       enabledUnit: "pv_heartbeat.timer", checksSudoers: true)
    }

    static func monitor(_ context: InstallContext) -> UnitSetupCheck {
        UnitSetupCheck(context: context, step: "setup_monitor", units: ["pv_monitor.service"], enabledUnit: "pv_monitor.service", checksSudoers: false)
    }

    /// The admin's command that (re)does root's part of this step.
    var adminFix: String {
        RootOnlyChecks(environment: context.environment, user: context.user, bundle: context.bundle)
            .adminCommand(steps: [step])
    }

    /// The lines of a unit that decide what runs, as whom: these must be the bundle's, rendered
    /// for this root and user. Anything else an admin changed (a sandbox option, a comment) is
    /// theirs to keep, and is only reported.
    static let decisiveKeys = ["pv_heartbeat.service": ["User", "ExecStart", "ReadWritePaths"], "pv_heartbeat.timer": ["Unit", "OnCalendar"],
                               "pv_monitor.service": ["User", "ExecStart", "ReadWritePaths"]]

    func verify() throws(PVError) -> String {
        let unitDirectory = context.systemPath("/etc/systemd/system")
        var found: [String] = []
        for unit in units {
            let path = unitDirectory + "/" + unit
            let text = try installedText(path)
            let expected = try Steps.render(context.bundle + "/systemd/" + unit, context)
            if text == expected {
                found.append("\(unit) as the bundle renders it")
                continue
            }
            for key in Self.decisiveKeys[unit] ?? [] {
                let want = Self.values(of: key, in: expected)
                let have = Self.values(of: key, in: text)
                guard want == have else {
                    let said = have.isEmpty ? "no \(key)=" : have.map { "\(key)=\($0)" }.joined(separator: ", ")
                    throw PVError(.config, "\(path) says \(said), where the bundle's says \(want.map { "\(key)=\($0)" }.joined(separator: ", "))",
                                  hint: "as root, install it again: \(adminFix)")
                }
            }
            let changed = Self.differingLines(expected, text)
            found.append("\(unit) with \(changed) line\(changed == 1 ? "" : "s") changed by an admin (\(Self.decisiveKeys[unit]!.joined(separator: "=, "))= as the bundle's)")
        }
        if checksSudoers {
            let sudoers = context.systemPath("/etc/sudoers.d") + "/provision"
            guard context.environment.files.exists(sudoers) else {
                throw PVError(.notFound, "\(sudoers) is missing", hint: "as root: \(adminFix)")
            }
            try requireRootOwned(sudoers)
            found.append("sudoers file root's (its content is root's to read: visudo -c checked it when root installed it)")
        }
        if let enabled = try unitEnabled() { found.append(enabled) }
        return found.joined(separator: "; ") + "; checked, not written (not root)"
    }

    /// The text of a unit that root owns and no one else may change: the agent's user must never
    /// be able to change what systemd runs.
    func installedText(_ path: String) throws(PVError) -> String {
        let files = context.environment.files
        guard files.exists(path) else {
            throw PVError(.notFound, "\(path) is missing", hint: "as root: \(adminFix)")
        }
        try requireRootOwned(path)
        switch files.readText(path, limit: 1 << 20) {
        case .success(let text): return text
        case .failure(let error): throw PVError(.noPermission, "cannot read \(path)", hint: "as root: chmod 0644 \(path)", cause: error.message)
        }
    }

    func requireRootOwned(_ path: String) throws(PVError) {
        let files = context.environment.files
        let owner = files.owner(path)
        let mode = files.mode(path) ?? 0
        guard owner == 0, mode & 0o022 == 0 else {
            let why = owner != 0 ? "belongs to uid \(owner.map(String.init) ?? "?"), not root" : "is writable by its group or others"
            throw PVError(.noPermission, "\(path) \(why): whoever can change it decides what systemd or sudo runs",
                          hint: "as root: chown root:root \(path) && chmod go-w \(path)")
        }
    }

    /// On a host where systemd runs: the unit must be enabled and active (root's `systemctl
    /// enable --now`). In a sandbox, or without systemd, there is nothing to enable.
    func unitEnabled() throws(PVError) -> String? {
        guard !context.sandbox, context.environment.files.exists("/run/systemd/system") else { return nil }
        for (verb, want) in [("is-enabled", "enabled"), ("is-active", "active")] {
            let out = try context.environment.processes.run(Command("systemctl", [verb, enabledUnit]), timeout: 10)
            let state = out.stdout.trimmingWhitespace()
            guard out.succeeded, state == want else {
                throw PVError(.notFound, "\(enabledUnit) is \(state.isEmpty ? "not \(want)" : state)",
                              hint: "as root: systemctl daemon-reload && systemctl enable --now \(enabledUnit)"
                                  + (verb == "is-active" ? "; systemctl status \(enabledUnit) says why it stopped" : ""))
            }
        }
        return "\(enabledUnit) enabled"
    }

    /// Every value of `key=` in a unit, in order (a key may repeat).
    static func values(of key: String, in unit: String) -> [String] {
        unit.split(separator: "\n").compactMap { line in
            let trimmed = String(line).trimmingWhitespace()
            guard trimmed.hasPrefix(key + "=") else { return nil }
            return String(trimmed.dropFirst(key.count + 1)).trimmingWhitespace()
        }
    }

    static func differingLines(_ a: String, _ b: String) -> Int {
        let left = a.split(separator: "\n", omittingEmptySubsequences: false)
        let right = b.split(separator: "\n", omittingEmptySubsequences: false)
        let common = zip(left, right).filter { $0 != $1 }.count
        return common + abs(left.count - right.count)
    }
}
