import PVCore
#if canImport(Glibc)
import Glibc
#endif

/// An exclusive, non-blocking flock on a file: the one lock both the update lock and the
/// heartbeat's lock are made of. The kernel drops it when the holder ends, however it ends
/// (kill -9 too), so a crash never leaves a stale lock.
public final class FileLock {
    public enum Outcome {
        case acquired(FileLock)
        /// Another process holds it. `holder`: the first line of what that process wrote in the
        /// file (who it is), read through the descriptor this attempt opened, never by path again:
        /// between the attempt and a second open the agent's user could put a link at the path,
        /// and root would print the first line of the file it points at.
        case busy(holder: String?)
        /// The file could not be made or opened: the reason.
        case unavailable(String)
    }

    public let path: String
    let fd: Int32

    init(path: String, fd: Int32) {
        self.path = path
        self.fd = fd
    }

    /// Takes the lock or says at once why not (no waiting: a second run must not queue up). The
    /// lock file is opened without following a link, in its directory opened the same way: the
    /// tree belongs to the agent's user, and root must never truncate a file a link points at.
    /// `owner`: who the directory and the file must belong to when this process makes them
    /// (root working in the agent's tree), so that the agent can take the lock later.
    public static func acquire(_ path: String, owner: (uid: uid_t, gid: gid_t)? = nil) -> Outcome {
        acquire(path, owner: owner, whenBusy: {})
    }

    /// `whenBusy` runs after the lock was found held and before its holder is read: where a test
    /// swaps the path for a link, as the agent's user could.
    static func acquire(_ path: String, owner: (uid: uid_t, gid: gid_t)?, whenBusy: () -> Void) -> Outcome {
        let fd: Int32
        do {
            let directory = try DirectoryHandle.open(FileIO.directoryName(path))
            if let owner, let current = directory.owner, current.uid != owner.uid {
                try directory.changeOwner(uid: owner.uid, gid: owner.gid)
            }
            fd = try directory.openRegularFile(FileIO.baseName(path), mode: 0o644, owner: owner)
        } catch {
            return .unavailable(error.description)
        }
        if flock(fd, LOCK_EX | LOCK_NB) != 0 {
            let e = errno
            defer { close(fd) }
            guard e == EWOULDBLOCK else { return .unavailable("flock \(path): \(String(cString: strerror(e)))") }
            whenBusy()
            return .busy(holder: holderLine(fd))
        }
        return .acquired(FileLock(path: path, fd: fd))
    }

    /// The first line of the lock file open on `fd` (a regular file, opened without following a
    /// link), at most 200 bytes of it; nil when it is empty.
    static func holderLine(_ fd: Int32) -> String? {
        var buffer = [UInt8](repeating: 0, count: 200)
        let n = buffer.withUnsafeMutableBytes { pread(fd, $0.baseAddress, $0.count, 0) }
        guard n > 0 else { return nil }
        let line = buffer[..<n].split(separator: UInt8(ascii: "\n"), omittingEmptySubsequences: false).first ?? []
        let text = String(decoding: line, as: UTF8.self).messageExcerpt(limit: 120)
        return text.isEmpty ? nil : text
    }

    /// Replaces the file's text (who holds the lock, for the message a second run prints).
    public func write(_ text: String) {
        ftruncate(fd, 0)
        _ = text.withCString { pwrite(fd, $0, strlen($0), 0) }
    }

    deinit {
        flock(fd, LOCK_UN)
        close(fd)
    }
}
