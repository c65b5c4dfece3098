#if canImport(Glibc)
import Glibc
#endif
import PVCLI
import PVCore

/// Step progress for a terminal (`[6/12] install_libs ... ok (0.4 s)`) or,
/// with --json, one JSON object per line for the management application.
final class ProgressReporter: @unchecked Sendable {
    let json: Bool
    let total: Int
    var downloading: String? = nil
    /// A "[n/N] step ..." line waits for its result.
    var lineOpen = false

    init(json: Bool, total: Int) {
        self.json = json
        self.total = total
    }

    func begin(_ index: Int, _ step: String) {
        if json {
            emit([("event", .string("start")), ("step", .string(step)), ("index", .int(index)), ("total", .int(total))])
        } else {
            Output.partial("[\(index)/\(total)] \(step) ...")
            lineOpen = true
        }
    }

    /// A line from the step's work: shown only when it is download progress.
    func detail(_ step: String, _ line: String) {
        if json {
            if line.hasPrefix("downloading ") || line.hasPrefix("downloaded ") || line.hasPrefix("rolling back") || line.hasPrefix("starting ") {
                emit([("event", .string("progress")), ("step", .string(step)), ("message", .string(line))])
            }
            return
        }
        if line.hasPrefix("downloading ") {
            downloading = line
            show("      \(line)")
        } else if downloading != nil, line.hasPrefix("  "), line.contains("Pull complete") || line.contains("Download complete") {
            show("      " + line.trimmingWhitespace())
        } else if line.hasPrefix("downloaded ") || line.hasPrefix("rolling back") || line.hasPrefix("Error:") {
            downloading = nil
            show("      \(line)")
        }
    }

    func end(_ index: Int, _ step: String, ok: Bool, seconds: Double, detail: String) {
        let s = (seconds * 10).rounded() / 10
        if json {
            emit([("event", .string(ok ? "ok" : "failed")), ("step", .string(step)), ("index", .int(index)), ("total", .int(total)),
                  ("seconds", .number(s)), ("detail", .string(detail))])
        } else {
            let result = "\(ok ? "ok" : "FAILED") (\(s) s): \(detail)"
            if lineOpen { Output.line(" " + result) } else { Output.line("[\(index)/\(total)] \(step) ... " + result) }
            lineOpen = false
        }
    }

    /// A detail line below the open step line.
    func show(_ text: String) {
        if lineOpen { Output.line(""); lineOpen = false }
        Output.line(text)
    }

    func emit(_ pairs: [(String, JSONValue)]) { Output.line(JSONValue.object(pairs).rendered) }
}

/// A step's log file under <root>/logs/install.
final class StepLog: @unchecked Sendable {
    let path: String
    let fd: Int32

    init(directory: String, step: String) {
        path = directory + "/" + step + ".log"
        try? FileIO.makeDirectories(directory)
        fd = open(path, O_WRONLY | O_CREAT | O_TRUNC | O_CLOEXEC, 0o640)
    }

    func write(_ line: String) {
        guard fd >= 0 else { return }
        let text = line + "\n"
        _ = text.withCString { Glibc.write(fd, $0, strlen($0)) }
    }

    deinit { if fd >= 0 { close(fd) } }
}
