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
    /// `owner`: the agent's user when root writes in the agent's tree (`AgentTree`), so that the
    /// agent's later runs can replace these logs.
    init(directory: String, step: String, owner: (uid: uid_t, gid: gid_t)? = nil) {
        path = directory + "/" + step + ".log"
        let parent = try? DirectoryHandle.open(FileIO.directoryName(directory))
        let logs = try? parent?.subdirectory(FileIO.baseName(directory))
        if let owner {
            try? parent?.changeOwner(uid: owner.uid, gid: owner.gid)
            try? logs?.changeOwner(uid: owner.uid, gid: owner.gid)
        }
        fd = logs?.createFile(step + ".log", mode: 0o640) ?? -1
        if let owner, fd >= 0 { fchown(fd, owner.uid, owner.gid) }
    }

    func write(_ line: String) {
        guard fd >= 0 else { return }
        // A log is read on a terminal too (less, tail -f): controls escaped, as on the screen.
        let text = line.escapingTerminalControls + "\n"
        _ = text.withCString { Glibc.write(fd, $0, strlen($0)) }
    }

    deinit { if fd >= 0 { close(fd) } }
}
