import PVArchive
import PVCore
#if canImport(Glibc)
import Glibc
#endif

/// The file support downloads: a tar.gz with the report (text and JSON), the
/// last lines of each component container's log, the files of `<root>/state`
/// and the configuration, every one of them redacted.
public enum DiagnosticsArchive {
    public typealias Entry = ArchiveFile.Entry

    /// `diagnostics-lab-1-20261126T022047Z`: the archive's top directory and file name.
    public static func baseName(resourceID: String?, time: Double) -> String {
        let stamp = ClockCheck.formatISO(time).filter { $0 != "-" && $0 != ":" }
        return "diagnostics-\(resourceID ?? "unknown")-\(stamp)"
    }

    /// Where `--archive` without a path writes: `<root>/logs/<base name>.tar.gz`.
    public static func defaultPath(root: InstallRoot, resourceID: String?, time: Double) -> String {
        root.join("logs", baseName(resourceID: resourceID, time: time) + ".tar.gz")
    }

    /// Every file of the archive, already redacted. Pure, so tests can look
    /// for a planted secret without writing anything.
    public static func entries(_ run: DiagnosticsRun, reportText: String, reportJSON: String) -> [Entry] {
        let top = baseName(resourceID: run.report.resourceID, time: run.report.time)
        let r = run.redactor
        var entries: [Entry] = []
        func add(_ name: String, _ text: String) { entries.append(Entry(name: "\(top)/\(name)", bytes: Array(r.apply(text).utf8))) }

        add("README.txt", """
            ProVision diagnostics archive (pv_diagnostics).
            report.txt, report.json   the checks, as printed
            logs/<container>.log      the last lines of each component container (stdout and stderr, with timestamps;
                                      lines from stderr start with "stderr: ")
            state/                    the files of the install root's state directory
            etc/provision.conf        the configuration; secrets are replaced by \(Redactor.mask)
            Every file has had the configuration's secrets replaced by \(Redactor.mask).

            """)
        add("report.txt", reportText)
        add("report.json", reportJSON + "\n")
        for log in run.logs {
            if let text = log.text {
                add("logs/\(log.container).log", text.isEmpty ? "# the container logged nothing\n" : text)
            } else {
                add("logs/\(log.container).log", "# no log: \(log.problem ?? "unknown")\n")
            }
        }
        if run.logs.isEmpty {
            add("logs/NONE.txt", "# no container logs: the Docker engine was not asked (see the docker engine check in report.txt)\n")
        }
        for file in run.stateFiles { add("state/\(file.name)", file.text) }
        if let config = run.configText {
            add("etc/provision.conf", Redactor.configurationText(config))
        } else {
            add("etc/provision.conf.missing", "# the configuration could not be read (see the configuration check in report.txt)\n")
        }
        return entries
    }

    /// Writes the entries as a tar.gz (`ArchiveFile`: mode 0600, renamed into place when whole).
    public static func write(_ entries: [Entry], to path: String, time: Double) throws(PVError) {
        try ArchiveFile.write(entries, to: path, time: time)
    }
}
