import PVCore

/// What a failed `docker` CLI call means. The CLI has no machine-readable errors, so its stderr is
/// read here, once, into a value; nothing above PVDocker looks at docker's text.
public enum DockerFailure: Equatable, Sendable {
    /// The named container does not exist (stop, rm, inspect of a missing name).
    case noSuchContainer
    /// The registry has no such image or tag (pull).
    case imageNotInRegistry
    /// The image is not on this host (`docker run --pull never`).
    case noSuchImage
    /// A container of that name exists already (`docker run --name`).
    case nameInUse
    /// The CLI could not reach the engine (not running, wrong docker_host, no permission on its socket).
    case engineUnreachable(String)
    case timedOut
    case interrupted
    /// Anything else: docker's last line, for the operator.
    case other(String)

    /// nil when the call succeeded.
    public init?(_ out: ProcessOutput) {
        if out.succeeded { return nil }
        if out.interrupted { self = .interrupted; return }
        if out.timedOut { self = .timedOut; return }
        let last = Self.lastMeaningfulLine(out.stderr)
        if Self.isNoSuchContainer(last) {
            self = .noSuchContainer
        } else if let line = out.stderr.split(separator: "\n").first(where: Self.isEngineUnreachable) {
            self = .engineUnreachable(line.trimmingWhitespace())
        } else if last.contains("No such image") {
            self = .noSuchImage
        } else if last.contains("Conflict. The container name") {
            self = .nameInUse
        } else if last.contains("manifest unknown") || last.contains("not found") || last.contains("manifest for") {
            self = .imageNotInRegistry
        } else {
            self = .other(last)
        }
    }

    /// A line of docker's stderr that says the CLI never reached the engine: the tools ask no
    /// `docker version` first, the first real call tells (the CLI's wording since 1.x).
    public static func isEngineUnreachable<S: StringProtocol>(_ line: S) -> Bool {
        line.contains("Cannot connect to the Docker daemon") || line.contains("Is the docker daemon running")
            || line.contains("error during connect") || line.contains("permission denied while trying to connect to the Docker daemon")
    }

    /// docker's last line that says something: `docker run` ends a failure with a blank line and
    /// "Run 'docker run --help' for more information", which is never the cause.
    public static func lastMeaningfulLine(_ stderr: String) -> String {
        stderr.split(separator: "\n").map { $0.trimmingWhitespace() }
            .last { !$0.isEmpty && !($0.hasPrefix("Run 'docker ") && $0.hasSuffix("for more information")) } ?? ""
    }

    /// One line of docker's stderr that only says a named container is absent.
    public static func isNoSuchContainer<S: StringProtocol>(_ line: S) -> Bool { line.contains("No such container") }

    /// The failure as an operator reads it (the `cause` of an error).
    public var text: String {
        switch self {
        case .noSuchContainer: return "no such container"
        case .imageNotInRegistry: return "not in the registry"
        case .noSuchImage: return "no such image on this host"
        case .nameInUse: return "a container of that name exists"
        case .engineUnreachable(let line): return line
        case .timedOut: return "timed out"
        case .interrupted: return "interrupted"
        case .other(let line): return line
        }
    }
}
