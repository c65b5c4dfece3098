import PVCore

/// What a failed `docker` CLI call means. The CLI has no machine-readable errors, so its stderr is
/// read here, once, into a value; nothing above PVDocker looks at docker's text.
public enum DockerFailure: Equatable, Sendable {
    /// The named container does not exist (stop, rm, inspect of a missing name).
    case noSuchContainer
    /// The registry has no such image or tag (pull).
    case imageNotInRegistry
    case timedOut
    case interrupted
    /// Anything else: docker's last line, for the operator.
    case other(String)

    /// nil when the call succeeded.
    public init?(_ out: ProcessOutput) {
        if out.succeeded { return nil }
        if out.interrupted { self = .interrupted; return }
        if out.timedOut { self = .timedOut; return }
        let last = out.stderr.split(separator: "\n").last.map { $0.trimmingWhitespace() } ?? ""
        if Self.isNoSuchContainer(last) {
            self = .noSuchContainer
        } else if last.contains("manifest unknown") || last.contains("not found") || last.contains("manifest for") {
            self = .imageNotInRegistry
        } else {
            self = .other(last)
        }
    }

    /// One line of docker's stderr that only says a named container is absent.
    public static func isNoSuchContainer<S: StringProtocol>(_ line: S) -> Bool { line.contains("No such container") }

    /// The failure as an operator reads it (the `cause` of an error).
    public var text: String {
        switch self {
        case .noSuchContainer: return "no such container"
        case .imageNotInRegistry: return "not in the registry"
        case .timedOut: return "timed out"
        case .interrupted: return "interrupted"
        case .other(let line): return line
        }
    }
}
