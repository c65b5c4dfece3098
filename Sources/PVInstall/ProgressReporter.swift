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
    var layers = LayerProgress()
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
            layers = LayerProgress()
            show("      \(line)")
        } else if downloading != nil, line.hasPrefix("  ") {
            // docker pull's layer lines ("<id>: Pulling fs layer" ... "<id>: Pull complete") drive a bar.
            if let bar = layers.update(line.trimmingWhitespace()) { show("      " + bar) }
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

    /// `directory` is <root>/logs/install, inside the agent's tree: opened without following a
    /// link, and the log created afresh (a link planted as <step>.log is removed, never written through).
    init(directory: String, step: String) {
        path = directory + "/" + step + ".log"
        let parent = try? DirectoryHandle.open(FileIO.directoryName(directory))
        let logs = try? parent?.subdirectory(String(directory.split(separator: "/").last ?? "install"))
        fd = logs?.createFile(step + ".log", mode: 0o640) ?? -1
    }

    func write(_ line: String) {
        guard fd >= 0 else { return }
        // A log is read on a terminal too (less, tail -f): controls escaped, as on the screen.
        let text = line.escapingTerminalControls + "\n"
        _ = text.withCString { Glibc.write(fd, $0, strlen($0)) }
    }

    deinit { if fd >= 0 { close(fd) } }
}

/// Counts a `docker pull`'s layers as its output reports them and draws
/// `[#####---------------] 1/4 layers` whenever one more is complete.
struct LayerProgress {
    var seen: [String] = []
    var done: Set<String> = []

    /// A bar line when this output line completes a layer, else nil.
    mutating func update(_ line: String) -> String? {
        guard let colon = line.firstIndex(of: ":") else { return nil }
        let id = String(line[..<colon])
        guard id.count == 12, id.allSatisfy(\.isHexDigit) else { return nil }
        if !seen.contains(id) { seen.append(id) }
        // A layer already on disk counts as done but is not worth a line of its own.
        if line.hasSuffix("Already exists") { done.insert(id); return nil }
        guard line.hasSuffix("Pull complete"), !done.contains(id) else { return nil }
        done.insert(id)
        return Self.bar(done: done.count, total: seen.count)
    }

    static func bar(done: Int, total: Int, width: Int = 20) -> String {
        let filled = total == 0 ? 0 : min(width, done * width / total)
        return "[" + String(repeating: "#", count: filled) + String(repeating: "-", count: width - filled) + "] \(done)/\(total) layers"
    }
}
