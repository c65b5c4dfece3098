import ArgumentParser
import PVCore
#if canImport(Glibc)
import Glibc
#endif

/// Every tool's `main`: ArgumentParser's parse and run, with whatever it prints on the way out (a
/// parse error echoing an argument, `Unexpected argument '...'`; help; a thrown error) going
/// through `Output`, which shows each terminal control escaped (`\x1B`) as every other message
/// is. ArgumentParser's own `main` would print an argument's ESC and BEL raw.
extension ParsableCommand {
    public static func runAsTool(_ arguments: [String]? = nil) -> Never {
        do {
            var command = try parseAsRoot(arguments)
            try command.run()
        } catch {
            exitAsTool(error)
        }
        Glibc.exit(ExitCode.success.rawValue)
    }

    /// ArgumentParser's `exit(withError:)` through `Output`.
    public static func exitAsTool(_ error: any Error) -> Never {
        let report = toolReport(error)
        if !report.text.isEmpty {
            if report.toStandardOutput { Output.line(report.text) } else { Output.error(report.text) }
        }
        Glibc.exit(report.code)
    }

    /// What `exitAsTool` prints and where, and the exit code: help and other clean exits on stdout
    /// (code 0), everything else on stderr. The text is escaped.
    public static func toolReport(_ error: any Error, columns: Int? = nil) -> (text: String, toStandardOutput: Bool, code: Int32) {
        let code = exitCode(for: error)
        return (fullMessage(for: error, columns: columns).escapingTerminalControls, code == .success, code.rawValue)
    }
}
