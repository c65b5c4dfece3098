import PVCore

/// The result of one run, rendered as a table for a person or JSON for the
/// management application. Rendering never redacts: the command passes every
/// rendered text through the run's `Redactor` before it leaves the process.
public struct DiagnosticsReport: Sendable, Equatable {
    public var resourceID: String?
    public var hostname: String
    /// Seconds since the epoch when the run started.
    public var time: Double
    public var root: String
    public var checks: [CheckResult]
    public var elapsedMilliseconds: Double
    public var boundSeconds: Double
    public var configurationInvalid: Bool

    public init(resourceID: String?, hostname: String, time: Double, root: String, checks: [CheckResult],
                elapsedMilliseconds: Double, boundSeconds: Double, configurationInvalid: Bool) {
        self.resourceID = resourceID
        self.hostname = hostname
        self.time = time
        self.root = root
        self.checks = checks
        self.elapsedMilliseconds = elapsedMilliseconds
        self.boundSeconds = boundSeconds
        self.configurationInvalid = configurationInvalid
    }

    public func count(_ status: CheckResult.Status) -> Int { checks.filter { $0.status == status }.count }

    /// The report with every secret masked in its text fields. Done before
    /// rendering: once in JSON, a secret holding `"` or `\` is escaped and a
    /// search of the rendered text would miss it.
    public func redacted(by redactor: Redactor) -> DiagnosticsReport {
        var r = self
        r.checks = checks.map { check in
            var c = check
            c.name = redactor.apply(c.name)
            c.detail = redactor.apply(c.detail)
            c.hint = c.hint.map(redactor.apply)
            return c
        }
        r.hostname = redactor.apply(hostname)
        r.root = redactor.apply(root)
        r.resourceID = resourceID.map(redactor.apply)
        return r
    }

    /// Warnings pass: they name something to look at, not something broken.
    public var passed: Bool { checks.allSatisfy(\.passed) }

    /// 78 when the configuration is invalid (as every tool), 1 when a check failed, else 0.
    public var exitStatus: ExitStatus {
        if configurationInvalid { return .config }
        return passed ? .ok : .checkFailed
    }

    public var heading: String {
        "ProVision diagnostics: resource \(resourceID ?? "unknown"), host \(hostname), \(ClockCheck.formatUTC(time)), root \(root)"
    }

    public var summary: String {
        let ok = count(.ok), warn = count(.warn), fail = count(.fail)
        var parts = ["\(ok) ok"]
        if warn > 0 { parts.append("\(warn) warning\(warn == 1 ? "" : "s")") }
        if fail > 0 { parts.append("\(fail) failed") }
        return "\(checks.count) checks in \(Self.duration(elapsedMilliseconds)): " + parts.joined(separator: ", ")
    }

    /// The table: one row per check, its next step under it when it did not pass.
    public func text(archive: String? = nil) -> String {
        let nameWidth = max(5, checks.map(\.name.count).max() ?? 0)
        let statusWidth = 6
        let timeWidth = 8
        let indent = String(repeating: " ", count: nameWidth + statusWidth + timeWidth + 6)
        var lines = [heading, ""]
        lines.append("CHECK".padding(nameWidth) + "  " + "STATUS".padding(statusWidth) + "  " + leftPad("TIME", timeWidth) + "  DETAIL")
        for check in checks {
            let status = check.status == .ok ? "ok" : check.status.rawValue.uppercased()
            let time = check.milliseconds.map { Self.duration($0) } ?? "-"
            lines.append(check.name.padding(nameWidth) + "  " + status.padding(statusWidth) + "  " + leftPad(time, timeWidth)
                         + "  " + check.detail)
            if let hint = check.hint, check.status != .ok { lines.append(indent + "next step: " + hint) }
        }
        lines.append("")
        lines.append(summary)
        if let archive { lines.append("archive: \(archive)") }
        return lines.joined(separator: "\n") + "\n"
    }

    public func json(archive: String? = nil, archiveError: String? = nil) -> JSONValue {
        .object([
            ("ok", .bool(passed)),
            ("exit_code", .int(Int(exitStatus.rawValue))),
            ("resource_id", resourceID.map(JSONValue.string) ?? .null),
            ("hostname", .string(hostname)),
            ("time", .string(ClockCheck.formatISO(time))),
            ("root", .string(root)),
            ("elapsed_ms", .number((elapsedMilliseconds * 10).rounded() / 10)),
            ("bound_seconds", .number(boundSeconds)),
            ("summary", .object([("ok", .int(count(.ok))), ("warn", .int(count(.warn))), ("fail", .int(count(.fail)))])),
            ("checks", .array(checks.map(\.json))),
            ("archive", archive.map(JSONValue.string) ?? .null),
            ("archive_error", archiveError.map(JSONValue.string) ?? .null),
        ])
    }

    func leftPad(_ s: String, _ width: Int) -> String {
        s.count >= width ? s : String(repeating: " ", count: width - s.count) + s
    }

    /// `0.4 ms`, `12 ms`, `1.20 s`.
    static func duration(_ ms: Double) -> String {
        if ms < 10 { return "\(Diagnostics.seconds(ms)) ms" }
        if ms < 1000 { return "\(Int(ms.rounded())) ms" }
        return "\(Diagnostics.seconds(ms / 1000)) s"
    }
}
