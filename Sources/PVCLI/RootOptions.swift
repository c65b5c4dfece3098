import ArgumentParser
import PVCore
#if canImport(Glibc)
import Glibc
#endif

/// `--root DIR`, shared by every tool. Falls back to `PV_ROOT`, then `/provision`.
public struct RootOptions: ParsableArguments {
    @Option(name: .long, help: ArgumentHelp("Install root (default: $PV_ROOT, else /provision).", valueName: "DIR"))
    public var root: String?

    public init() {}

    public func resolve(environment: [String: String] = ProcessEnvironmentBlock.current) -> InstallRoot {
        InstallRoot.resolve(option: root, environment: environment)
    }
}

/// Turns a PVError into the tool's message and exit code. Messages go to
/// stderr so that `--json` output on stdout stays machine-readable.
public enum ErrorReporting {
    public static func exit(_ error: PVError) -> ExitCode {
        Output.error("Error: \(error)")
        return ExitCode(error.code.rawValue)
    }
}

/// Unbuffered line output: progress must reach a pipe (the management
/// application's popup, a log) as it happens, not when a buffer fills.
/// Terminal controls in any message are shown escaped, never sent raw.
public enum Output {
    public static func line(_ text: String) { writeAll(STDOUT_FILENO, text.escapingTerminalControls + "\n") }
    public static func error(_ text: String) { writeAll(STDERR_FILENO, text.escapingTerminalControls + "\n") }
    /// Without a newline: the start of a line that a later call completes.
    public static func partial(_ text: String) { writeAll(STDOUT_FILENO, text.escapingTerminalControls) }

    static func writeAll(_ fd: Int32, _ text: String) {
        var bytes = Array(text.utf8)[...]
        while !bytes.isEmpty {
            let n = bytes.withUnsafeBytes { write(fd, $0.baseAddress, $0.count) }
            if n < 0 { if errno == EINTR { continue } else { return } }
            bytes = bytes.dropFirst(n)
        }
    }
}
