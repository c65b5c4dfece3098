import PVArchive
import PVCore
#if canImport(Glibc)
import Glibc
#endif

/// The file support downloads: a tar.gz with the report (text and JSON), the
/// last lines of each component container's log, the files of `<root>/state`
/// and the configuration, every one of them redacted.
public enum DiagnosticsArchive {
    public struct Entry: Sendable, Equatable {
        public var name: String
        public var bytes: [UInt8]
        public init(name: String, bytes: [UInt8]) {
            self.name = name
            self.bytes = bytes
        }
        public var text: String { String(decoding: bytes, as: UTF8.self) }
    }

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

    /// Writes the entries as a tar.gz: into a temporary file beside `path`,
    /// mode 0600 (logs are for support, not for every local user), then renamed,
    /// so a reader never sees half an archive.
    public static func write(_ entries: [Entry], to path: String, time: Double) throws(PVError) {
        let directory = FileIO.directoryName(path)
        do { try FileIO.makeDirectories(directory) } catch {
            throw PVError(.cantCreate, "cannot create \(directory) for the archive", cause: error.message)
        }
        let temporary = "\(path).tmp.\(getpid())"
        let fd = open(temporary, O_WRONLY | O_CREAT | O_TRUNC | O_CLOEXEC, 0o600)
        guard fd >= 0 else {
            throw PVError(.cantCreate, "cannot create the archive \(path)", hint: "choose a writable place with --archive PATH",
                          cause: String(cString: strerror(errno)))
        }
        close(fd)
        do {
            let writer = try ArchiveWriter(path: temporary, format: .tarGzip)
            var directories: Set<String> = []
            for entry in entries {
                var parts = entry.name.split(separator: "/").dropLast()
                var prefixes: [String] = []
                while !parts.isEmpty { prefixes.insert(parts.joined(separator: "/"), at: 0); parts = parts.dropLast() }
                for dir in prefixes where !directories.contains(dir) {
                    directories.insert(dir)
                    try writer.addDirectory(dir + "/", mode: 0o755, mtime: Int(time))
                }
                try writer.addFile(entry.name, bytes: entry.bytes, mode: 0o644, mtime: Int(time))
            }
            try writer.close()
        } catch {
            unlink(temporary)
            throw error
        }
        chmod(temporary, 0o600)
        if rename(temporary, path) != 0 {
            let e = errno
            unlink(temporary)
            throw PVError(.cantCreate, "cannot move the archive into place at \(path)", cause: String(cString: strerror(e)))
        }
    }
}
