/// The one error type the tools show to an operator: what went wrong, what to
/// do next, and the underlying cause, plus the process exit code it maps to.
public struct PVError: Error, CustomStringConvertible, Sendable {
    public var code: ExitStatus
    public var message: String
    public var hint: String?
    public var cause: String?

    public init(_ code: ExitStatus, _ message: String, hint: String? = nil, cause: String? = nil) {
        self.code = code
        self.message = message
        self.hint = hint
        self.cause = cause
    }

    /// What went wrong and why, on one line (no next step): for a warning or a problem in a report.
    public var messageAndCause: String { cause.map { "\(message) (\($0))" } ?? message }

    public var description: String {
        var text = messageAndCause
        if let hint { text += "\nNext step: \(hint)" }
        return text
    }
}

/// Exit codes shared by every tool, so scripts and the management
/// application can tell failures apart without parsing text.
public struct ExitStatus: RawRepresentable, Hashable, Sendable {
    public var rawValue: Int32
    public init(rawValue: Int32) { self.rawValue = rawValue }

    public static let ok = ExitStatus(rawValue: 0)
    /// A check ran and did not pass (verification, diagnostics).
    public static let checkFailed = ExitStatus(rawValue: 1)
    /// Command line misuse (sysexits EX_USAGE, as ArgumentParser uses).
    public static let usage = ExitStatus(rawValue: 64)
    /// Malformed input data: a bad version string, a hostile bundle.
    public static let dataError = ExitStatus(rawValue: 65)
    /// Something required does not exist: an unknown component, a missing version.
    public static let notFound = ExitStatus(rawValue: 66)
    /// A service we depend on is unavailable: Docker, the registry.
    public static let unavailable = ExitStatus(rawValue: 69)
    /// An internal or OS error (socket, fork, write).
    public static let osError = ExitStatus(rawValue: 71)
    /// A file we need could not be created or written.
    public static let cantCreate = ExitStatus(rawValue: 73)
    /// A temporary failure: a lock held by another run, a port in use.
    public static let tempFail = ExitStatus(rawValue: 75)
    /// Not allowed: file permissions, missing root.
    public static let noPermission = ExitStatus(rawValue: 77)
    /// The configuration file is wrong (sysexits EX_CONFIG).
    public static let config = ExitStatus(rawValue: 78)
}
