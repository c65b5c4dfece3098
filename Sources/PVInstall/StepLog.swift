import PVCore
#if canImport(Glibc)
import Glibc
#endif

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
