#if canImport(Glibc)
import Glibc
#endif
import PVCLI
import PVCore
import PVInstall

/// Step progress for a terminal (`[6/12] install_libs ... ok (0.4 s)`) or,
/// with --json, one JSON object per line for the management application.
final class ProgressReporter: @unchecked Sendable {
    let json: Bool
    let total: Int
    var downloading = false
    var layers = LayerProgress()
    /// A "[n/N] step ..." line waits for its result.
    var lineOpen = false

    /// The environment's output: stdout for progress and JSON events, stderr for the rest.
    let output: OutputSink

    init(json: Bool, total: Int, output: OutputSink) {
        self.json = json
        self.total = total
        self.output = output
    }

    /// Renders one event of the install.
    @Sendable func handle(_ event: InstallEvent) {
        switch event {
        case .bundle(let text): json ? output.error(text) : output.line(text)
        case .prepared(let text): output.line(text)
        case .stepStarted(let index, _, let step): begin(index, step)
        case .stepProgress(let step, let progress): detail(step, progress)
        case .stepFinished(let index, _, let step, let ok, let seconds, let detail): end(index, step, ok: ok, seconds: seconds, detail: detail)
        case .stepSkipped(let index, _, let step, let reason): skipped(index, step, reason)
        }
    }

    func begin(_ index: Int, _ step: String) {
        if json {
            emit([("event", .string("start")), ("step", .string(step)), ("index", .int(index)), ("total", .int(total))])
        } else {
            output.partial("[\(index)/\(total)] \(step) ...")
            lineOpen = true
        }
    }

    /// What the step does: on a terminal only its downloads (a layer bar) and rollbacks show;
    /// with --json the milestones go to the popup. The step's log has every event.
    func detail(_ step: String, _ event: ProgressEvent) {
        if json {
            if event.isMilestone {
                emit([("event", .string("progress")), ("step", .string(step)), ("message", .string(event.text))])
            }
            return
        }
        switch event {
        case .downloading:
            downloading = true
            layers = LayerProgress()
            show("      \(event.text)")
        case .pullOutput(let line) where downloading:
            // docker pull's layer lines ("<id>: Pulling fs layer" ... "<id>: Pull complete") drive a bar.
            if let bar = layers.update(line.trimmingWhitespace()) { show("      " + bar) }
        case .downloaded, .rollingBack:
            downloading = false
            show("      \(event.text)")
        default:
            break
        }
    }

    func end(_ index: Int, _ step: String, ok: Bool, seconds: Double, detail: String) {
        let s = (seconds * 10).rounded() / 10
        if json {
            emit([("event", .string(ok ? "ok" : "failed")), ("step", .string(step)), ("index", .int(index)), ("total", .int(total)),
                  ("seconds", .number(s)), ("detail", .string(detail))])
        } else {
            let result = "\(ok ? "ok" : "FAILED") (\(s) s): \(detail)"
            if lineOpen { output.line(" " + result) } else { output.line("[\(index)/\(total)] \(step) ... " + result) }
            lineOpen = false
        }
    }

    func skipped(_ index: Int, _ step: String, _ reason: String) {
        if json {
            emit([("event", .string("skipped")), ("step", .string(step)), ("index", .int(index)), ("total", .int(total)),
                  ("detail", .string(reason))])
        } else {
            output.line("[\(index)/\(total)] \(step) ... skipped: \(reason)")
        }
    }

    /// A detail line below the open step line.
    func show(_ text: String) {
        if lineOpen { output.line(""); lineOpen = false }
        output.line(text)
    }

    func emit(_ pairs: [(String, JSONValue)]) { output.line(JSONValue.object(pairs).rendered) }
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
