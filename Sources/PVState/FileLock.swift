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
        /// Another process holds it.
        case busy
        /// The file could not be made or opened: the reason.
        case unavailable(String)
    }

    public let path: String
    let fd: Int32

    init(path: String, fd: Int32) {
        self.path = path
        self.fd = fd
    }

    /// Takes the lock or says at once why not (no waiting: a second run must not queue up).
    public static func acquire(_ path: String) -> Outcome {
        do { try FileIO.makeDirectories(FileIO.directoryName(path)) } catch { return .unavailable(error.message) }
        let fd = open(path, O_RDWR | O_CREAT | O_CLOEXEC, 0o644)
        guard fd >= 0 else { return .unavailable("open \(path): \(String(cString: strerror(errno)))") }
        if flock(fd, LOCK_EX | LOCK_NB) != 0 {
            let e = errno
            close(fd)
            return e == EWOULDBLOCK ? .busy : .unavailable("flock \(path): \(String(cString: strerror(e)))")
        }
        return .acquired(FileLock(path: path, fd: fd))
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
