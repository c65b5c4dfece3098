import PVCore
#if canImport(Glibc)
import Glibc
#endif

/// One change of the components at a time per server (update, install,
/// start, stop): an exclusive flock on
/// `<root>/state/update.lock`, holding the owner's pid for the message a
/// second run prints. The kernel drops the lock when the holder dies, even
/// by kill -9, so a crash never leaves a stale lock.
public final class UpdateLock {
    public let path: String
    let fd: Int32

    public static func path(root: InstallRoot) -> String { root.join("state", "update.lock") }

    /// Takes the lock or fails at once (no waiting: a second update must not queue up behind the first).
    public init(root: InstallRoot, purpose: String) throws(PVError) {
        path = Self.path(root: root)
        do { try FileIO.makeDirectories(FileIO.directoryName(path)) } catch {
            throw PVError(.cantCreate, "cannot create \(FileIO.directoryName(path))", cause: error.message)
        }
        let fd = open(path, O_RDWR | O_CREAT | O_CLOEXEC, 0o644)
        guard fd >= 0 else {
            throw PVError(.cantCreate, "cannot open the update lock \(path)", cause: String(cString: strerror(errno)))
        }
        if flock(fd, LOCK_EX | LOCK_NB) != 0 {
            let holder = (try? FileIO.readText(path, limit: 200))?.split(separator: "\n").first.map(String.init) ?? "unknown"
            close(fd)
            throw PVError(.tempFail, "another run is changing the components (\(holder))",
                          hint: "wait for it to finish and try again; the lock is released when that process ends")
        }
        self.fd = fd
        let text = "pid \(getpid()): \(purpose)\n"
        ftruncate(fd, 0)
        _ = text.withCString { pwrite(fd, $0, strlen($0), 0) }
    }

    deinit {
        ftruncate(fd, 0)
        flock(fd, LOCK_UN)
        close(fd)
    }
}
