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
            emit(.start(step: step, component: Self.component(of: step), index: index, total: total))
        } else {
            output.partial("[\(index)/\(total)] \(step) ...")
            lineOpen = true
        }
    }

    /// What the step does: on a terminal only its downloads (a layer bar) and rollbacks show;
    /// with --json the milestones go to the popup. The step's log has every event.
    func detail(_ step: String, _ event: ProgressEvent) {
        if json {
            emit(.progress(step: step, component: Self.component(of: step), event))
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
            emit(.finished(step: step, component: Self.component(of: step), index: index, total: total, ok: ok, seconds: seconds, detail: detail))
        } else {
            let result = "\(ok ? "ok" : "FAILED") (\(s) s): \(detail)"
            if lineOpen { output.line(" " + result) } else { output.line("[\(index)/\(total)] \(step) ... " + result) }
            lineOpen = false
        }
    }

    func skipped(_ index: Int, _ step: String, _ reason: String) {
        if json {
            emit(.skipped(step: step, component: Self.component(of: step), index: index, total: total, reason: reason))
        } else {
            output.line("[\(index)/\(total)] \(step) ... skipped: \(reason)")
        }
    }

    /// A detail line below the open step line.
    func show(_ text: String) {
        if lineOpen { output.line(""); lineOpen = false }
        output.line(text)
    }

    /// The install's end, for the popup: the last JSON line (the entry script's PVOK follows on success).
    func result(_ error: PVError?) {
        guard json else { return }
        emit(.result(ok: error == nil, exitStatus: error?.code.rawValue ?? 0, detail: error.map { $0.message } ?? "installed"))
    }

    static func component(of step: String) -> Component? { Steps.named(step)?.component }

    func emit(_ event: ProgressFeed) { if let line = event.json { output.line(line.rendered) } }
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
