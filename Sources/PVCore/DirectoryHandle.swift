#if canImport(Glibc)
import Glibc
#endif

/// A directory opened without following links, for what root does inside a tree that another
/// user owns (the install root belongs to the agent's user). Every operation is relative to the
/// opened directory and never follows a link: a user who swaps `data` for a link to a root file,
/// or plants a link under a temporary name, makes the operation fail, naming the path; it never
/// makes root chown, chmod or write the link's target.
public final class DirectoryHandle {
    public let path: String
    let fd: Int32

    /// Takes over `fd`, an open directory (closed with the handle).
    public init(path: String, fd: Int32) {
        self.path = path
        self.fd = fd
    }

    deinit { close(fd) }

    /// Opens (creating it when missing) the directory at `path`; the path itself may not be a link.
    public static func open(_ path: String, create: Bool = true, mode: mode_t = 0o755) throws(PVError) -> DirectoryHandle {
        if create {
            do { try FileIO.makeDirectories(FileIO.directoryName(path)) } catch {
                throw PVError(.cantCreate, "cannot create \(FileIO.directoryName(path))", cause: error.message)
            }
            if mkdir(path, mode) != 0 && errno != EEXIST {
                throw PVError(.cantCreate, "cannot create \(path)", cause: String(cString: strerror(errno)))
            }
        }
        let fd = Glibc.open(path, O_RDONLY | O_DIRECTORY | O_NOFOLLOW | O_CLOEXEC)
        guard fd >= 0 else { throw refusal(path, errno) }
        return DirectoryHandle(path: path, fd: fd)
    }

    public static func refusal(_ path: String, _ e: Int32, expected: String = "directory") -> PVError {
        if e == ELOOP || e == ENOTDIR {
            return PVError(.cantCreate, "\(path) is a symbolic link or not a \(expected), where a \(expected) must be",
                           hint: "remove it (as root: rm \(path)) and run the step again")
        }
        return PVError(.cantCreate, "cannot open \(path)", cause: String(cString: strerror(e)))
    }

    /// The subdirectory `name`, created when missing, opened without following a link.
    public func subdirectory(_ name: String, mode: mode_t = 0o755) throws(PVError) -> DirectoryHandle {
        let full = path + "/" + name
        if mkdirat(fd, name, mode) != 0 && errno != EEXIST {
            throw PVError(.cantCreate, "cannot create \(full)", cause: String(cString: strerror(errno)))
        }
        let sub = openat(fd, name, O_RDONLY | O_DIRECTORY | O_NOFOLLOW | O_CLOEXEC)
        guard sub >= 0 else { throw Self.refusal(full, errno) }
        return DirectoryHandle(path: full, fd: sub)
    }

    /// Who owns the directory (through its descriptor).
    public var owner: (uid: uid_t, gid: gid_t)? {
        var st = stat()
        guard fstat(fd, &st) == 0 else { return nil }
        return (st.st_uid, st.st_gid)
    }

    /// The regular file `name`, created when missing, opened for reading and writing without
    /// following a link (a link or anything but a regular file is refused, naming it). When
    /// `owner` is given, the file is made theirs: root creating a file in the agent's tree leaves
    /// it usable by the agent. Returns the descriptor, which the caller closes.
    public func openRegularFile(_ name: String, mode: mode_t, owner: (uid: uid_t, gid: gid_t)? = nil) throws(PVError) -> Int32 {
        let full = path + "/" + name
        let file = openat(fd, name, O_RDWR | O_CREAT | O_NOFOLLOW | O_NONBLOCK | O_CLOEXEC, mode)
        guard file >= 0 else { throw Self.refusal(full, errno, expected: "regular file") }
        var st = stat()
        guard fstat(file, &st) == 0, st.st_mode & S_IFMT == S_IFREG else {
            close(file)
            throw PVError(.cantCreate, "\(full) is not a regular file, where a regular file must be",
                          hint: "remove it (as root: rm \(full)) and run the tool again")
        }
        if let owner, st.st_uid != owner.uid || st.st_gid != owner.gid, fchown(file, owner.uid, owner.gid) != 0 {
            let e = errno
            close(file)
            throw PVError(.cantCreate, "cannot chown \(full)", cause: String(cString: strerror(e)))
        }
        return file
    }

    /// chown of the directory itself (through its descriptor: no path, no link).
    public func changeOwner(uid: uid_t, gid: gid_t) throws(PVError) {
        guard fchown(fd, uid, gid) == 0 else { throw PVError(.cantCreate, "cannot chown \(path)", cause: String(cString: strerror(errno))) }
    }

    /// chmod of the directory itself (through its descriptor).
    public func changeMode(_ mode: mode_t) throws(PVError) {
        guard fchmod(fd, mode) == 0 else { throw PVError(.cantCreate, "cannot chmod \(path)", cause: String(cString: strerror(errno))) }
    }

    /// A new, empty file `name` for writing (what was there, a link included, is removed first,
    /// never followed). Returns its descriptor, which the caller closes; -1 when it cannot be made.
    public func createFile(_ name: String, mode: mode_t) -> Int32 {
        _ = unlinkat(fd, name, 0)
        return openat(fd, name, O_WRONLY | O_CREAT | O_EXCL | O_NOFOLLOW | O_CLOEXEC, mode)
    }

    /// chmod (and chown, when `owner` is given) of the file `name`, opened without following a
    /// link. Returns false when there is no such file.
    public func setModeAndOwner(of name: String, mode: mode_t, owner: (uid: uid_t, gid: gid_t)?) throws(PVError) -> Bool {
        let file = openat(fd, name, O_RDONLY | O_NOFOLLOW | O_NONBLOCK | O_CLOEXEC)
        guard file >= 0 else {
            if errno == ENOENT { return false }
            throw Self.refusal(path + "/" + name, errno == ELOOP ? ELOOP : errno, expected: "file")
        }
        defer { close(file) }
        var st = stat()
        guard fstat(file, &st) == 0, st.st_mode & S_IFMT == S_IFREG else { throw Self.refusal(path + "/" + name, ELOOP, expected: "file") }
        guard fchmod(file, mode) == 0 else { throw PVError(.cantCreate, "cannot chmod \(path)/\(name)", cause: String(cString: strerror(errno))) }
        if let owner, fchown(file, owner.uid, owner.gid) != 0 {
            throw PVError(.cantCreate, "cannot chown \(path)/\(name)", cause: String(cString: strerror(errno)))
        }
        return true
    }

    /// Writes `name` atomically (temporary name, fsync, rename in this directory), created without
    /// following a link and, when `owner` is given, owned by it before it appears under its name.
    /// `finish`, when given, runs on the written file's descriptor after chown and chmod and before
    /// fsync (a file capability, which either of those would clear); it returns false on failure,
    /// with errno set, and names what it did in `finishing`.
    public func writeAtomically(_ name: String, _ bytes: [UInt8], mode: mode_t, owner: (uid: uid_t, gid: gid_t)? = nil,
                                finishing: String = "", finish: ((Int32) -> Bool)? = nil) throws(PVError) {
        let full = path + "/" + name
        let tmp = ".\(name).tmp.\(getpid())"
        _ = unlinkat(fd, tmp, 0)
        let out = openat(fd, tmp, O_WRONLY | O_CREAT | O_EXCL | O_NOFOLLOW | O_CLOEXEC, mode)
        guard out >= 0 else { throw PVError(.cantCreate, "cannot write \(full)", cause: String(cString: strerror(errno))) }
        func fail(_ what: String) -> PVError {
            let e = errno
            close(out)
            _ = unlinkat(fd, tmp, 0)
            return PVError(.cantCreate, "cannot write \(full) (\(what))", cause: String(cString: strerror(e)))
        }
        var offset = 0
        while offset < bytes.count {
            let n = bytes[offset...].withUnsafeBytes { write(out, $0.baseAddress, $0.count) }
            if n < 0 && errno == EINTR { continue }
            guard n > 0 else { throw fail("write") }
            offset += n
        }
        if let owner, fchown(out, owner.uid, owner.gid) != 0 { throw fail("chown") }
        guard fchmod(out, mode) == 0 else { throw fail("chmod") }
        if let finish, !finish(out) { throw fail(finishing) }
        guard fsync(out) == 0 else { throw fail("fsync") }
        close(out)
        guard renameat(fd, tmp, fd, name) == 0 else {
            let e = errno
            _ = unlinkat(fd, tmp, 0)
            throw PVError(.cantCreate, "cannot write \(full)", cause: String(cString: strerror(e)))
        }
        _ = fsync(fd)
    }
}
