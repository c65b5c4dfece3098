import PVCore

/// pv_diagnostics' whole run: the checks, then (when asked) the archive. What it prints is
/// redacted here, so a renderer cannot forget to.
public struct DiagnosticsOutcome: Sendable {
    public var report: DiagnosticsReport
    public var archivePath: String?
    public var archiveError: PVError?
    public var redactor: Redactor

    /// The report as a table or as one JSON object, secrets masked.
    public func rendered(json: Bool) -> String {
        json ? redactor.apply(report.json(archive: archivePath, archiveError: archiveError?.description).rendered)
            : String(redactor.apply(report.text(archive: archivePath)).dropLast())
    }

    /// The archive's failure wins (73): the report was printed, the archive the operator asked for was not made.
    public var exitStatus: ExitStatus { archiveError != nil ? .cantCreate : report.exitStatus }
}

extension Diagnostics {
    /// Stands for "--archive without a path": `<root>/logs/diagnostics-<resource>-<time>.tar.gz`.
    public static let defaultArchiveMarker = "@default"

    /// `archive`: nil for none, `defaultArchiveMarker`, a file, or a directory (the default name inside it).
    public func run(archive: String?) -> DiagnosticsOutcome {
        let result = run()
        let redactor = result.redactor
        let report = result.report.redacted(by: redactor)
        var outcome = DiagnosticsOutcome(report: report, archivePath: nil, archiveError: nil, redactor: redactor)
        guard let archive else { return outcome }
        var path = archive == Self.defaultArchiveMarker
            ? DiagnosticsArchive.defaultPath(root: context.root, resourceID: report.resourceID, time: report.time) : archive
        // An existing directory, or any path ending in "/", gets the default file name inside it.
        if path.hasSuffix("/") || FileIO.isDirectory(path) {
            while path.count > 1 && path.hasSuffix("/") { path.removeLast() }
            path += "/" + DiagnosticsArchive.baseName(resourceID: report.resourceID, time: report.time) + ".tar.gz"
        }
        // The archive holds the report as printed, so it names itself.
        let entries = DiagnosticsArchive.entries(result, reportText: report.text(archive: path),
                                                 reportJSON: report.json(archive: path).rendered)
        do {
            try DiagnosticsArchive.write(entries, to: path, time: report.time)
            outcome.archivePath = path
        } catch {
            outcome.archiveError = error
        }
        return outcome
    }
}
