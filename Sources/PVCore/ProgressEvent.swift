/// What an operation reports while it works, as values: the text renderer prints `text`, the
/// install's renderer draws a layer bar from `.pullOutput` and sends `isMilestone` events to the
/// management application's popup as JSON. No layer reads another's text back.
public enum ProgressEvent: Sendable, Equatable {
    /// An update's download while the old version keeps serving.
    case downloading(image: String)
    case alreadyDownloaded(image: String)
    /// One line of `docker pull`'s own progress ("<layer>: Pull complete").
    case pullOutput(String)
    case downloaded(milliseconds: Int)
    /// A start's download of an image that is missing.
    case pulling(image: String)
    case stopping(container: String, version: String?)
    case starting(container: String, image: String)
    case rollingBack(Component, to: Version)
    /// The new version runs; its verification starts.
    case verifying(Component, Version)
    /// What the verification found.
    case verification(CheckResult)
    /// What was done to finish or undo an update that a crash interrupted.
    case recovered(String)
    /// Anything else worth a line: a command run by an install step and its output, a check's line.
    case note(String)

    /// The line an operator reads.
    public var text: String {
        switch self {
        case .downloading(let image): return "downloading \(image) (the running version keeps serving)"
        case .alreadyDownloaded(let image): return "\(image) is already downloaded"
        case .pullOutput(let line): return "  " + line
        case .downloaded(let ms): return "downloaded in \(ms) ms"
        case .pulling(let image): return "pulling \(image)"
        case .stopping(let container, let version): return "stopping \(container)\(version.map { " (\($0))" } ?? "")"
        case .starting(let container, let image): return "starting \(container) from \(image)"
        case .rollingBack(let component, let version): return "rolling back \(component.rawValue) to \(version)"
        case .verifying(let component, let version): return "verifying \(component.rawValue) \(version)"
        case .verification(let check): return check.line.trimmingWhitespace()
        case .recovered(let text), .note(let text): return text
        }
    }

    /// The events a progress popup shows (the rest go to the step's log only).
    public var isMilestone: Bool {
        switch self {
        case .downloading, .downloaded, .rollingBack, .starting, .verifying, .verification, .recovered: return true
        default: return false
        }
    }

    /// What kind of event this is, for a machine reading the progress feed.
    public var kind: String {
        switch self {
        case .downloading: return "downloading"
        case .alreadyDownloaded: return "already_downloaded"
        case .pullOutput: return "pull_output"
        case .downloaded: return "downloaded"
        case .pulling: return "pulling"
        case .stopping: return "stopping"
        case .starting: return "starting"
        case .rollingBack: return "rolling_back"
        case .verifying: return "verifying"
        case .verification(let check): return check.passed ? "verified" : "verification_failed"
        case .recovered: return "recovered"
        case .note: return "note"
        }
    }
}
