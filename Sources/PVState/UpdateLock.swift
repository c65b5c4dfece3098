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
    public var path: String { lock.path }
    let lock: FileLock

    public static func path(root: InstallRoot) -> String { root.join("state", "update.lock") }

    /// Takes the lock or fails at once (no waiting: a second update must not queue up behind the first).
    public convenience init(root: InstallRoot, purpose: String) throws(PVError) {
        try self.init(root: root, purpose: purpose, whenBusy: {})
    }

    /// `whenBusy`: see `FileLock.acquire(_:owner:whenBusy:)`.
    init(root: InstallRoot, purpose: String, whenBusy: () -> Void) throws(PVError) {
        let path = Self.path(root: root)
        switch FileLock.acquire(path, owner: AgentTree.ownerForRoot(root), whenBusy: whenBusy) {
        case .acquired(let lock):
            self.lock = lock
            lock.write("pid \(getpid()): \(purpose)\n")
        case .busy(let holder):
            // The holder as the locked file says, read through the descriptor that found it locked.
            let holder = holder ?? "unknown"
            throw PVError(.tempFail, "another run is changing the components (\(holder))",
                          hint: "wait for it to finish and try again; the lock is released when that process ends")
        case .unavailable(let why):
            throw PVError(.cantCreate, "cannot take the update lock \(path)", cause: why)
        }
    }

    deinit { lock.write("") }
}
