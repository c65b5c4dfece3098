#if canImport(Glibc)
import Glibc
#endif

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
