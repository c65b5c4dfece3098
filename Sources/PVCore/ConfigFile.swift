#if canImport(Glibc)
import Glibc
#endif

/// `<root>/etc/provision.conf` as every tool reads it: opened without following a link (neither
/// `etc` nor the file may be one), a regular file only (a link, a directory, a FIFO or a device in
/// its place is refused, naming it), at most 1 MiB, and its permission bits from that same
/// descriptor, never from the path looked at again.
/// The agent's user owns the file and root reads it too (pv_install), so no tool may take it
/// from wherever a link points. One reader, so that every tool refuses the same file with the
/// same words (exit 78), and the heartbeat's privacy rule (exit 77) applies only to a file that
/// was read.
public struct ConfigFile: Sendable, Equatable {
    public var path: String
    public var text: String
    /// The permission bits of the file that was read.
    public var mode: mode_t

    public init(path: String, text: String, mode: mode_t) {
        self.path = path
        self.text = text
        self.mode = mode
    }

    public static let limit = 1 << 20

    /// `<root>/etc/provision.conf`: the root opened as named (an administrator's link to it is
    /// theirs), then `etc` and the file each opened relative to the one above without following
    /// a link.
    public static func read(root: InstallRoot) -> Result<ConfigFile, FileIOError> {
        let path = root.configFile
        let rootFD = open(root.path, O_RDONLY | O_DIRECTORY | O_CLOEXEC)
        guard rootFD >= 0 else { return .failure(FileIOError(path: path, operation: "open", errno: errno)) }
        defer { close(rootFD) }
        let etcFD = openat(rootFD, "etc", O_RDONLY | O_DIRECTORY | O_NOFOLLOW | O_CLOEXEC)
        guard etcFD >= 0 else {
            let e = errno
            guard e == ELOOP || e == ENOTDIR else { return .failure(FileIOError(path: path, operation: "open", errno: e)) }
            // O_DIRECTORY with O_NOFOLLOW says ENOTDIR for a link too: ask what is there.
            var st = stat()
            let isLink = fstatat(rootFD, "etc", &st, AT_SYMLINK_NOFOLLOW) == 0 && st.st_mode & S_IFMT == S_IFLNK
            return .failure(refusal(root.join("etc"), isLink || e == ELOOP ? "a symbolic link" : "not a directory"))
        }
        defer { close(etcFD) }
        // O_NONBLOCK: a FIFO in the file's place must not hang the open; it is refused below.
        let fd = openat(etcFD, "provision.conf", O_RDONLY | O_CLOEXEC | O_NONBLOCK | O_NOFOLLOW)
        guard fd >= 0 else {
            let e = errno
            return .failure(e == ELOOP ? refusal(path, "a symbolic link") : FileIOError(path: path, operation: "open", errno: e))
        }
        defer { close(fd) }
        var st = stat()
        guard fstat(fd, &st) == 0 else { return .failure(FileIOError(path: path, operation: "stat", errno: errno)) }
        guard st.st_mode & S_IFMT == S_IFREG else {
            return .failure(refusal(path, st.st_mode & S_IFMT == S_IFDIR ? "a directory" : "not a regular file"))
        }
        var bytes: [UInt8] = []
        var buffer = [UInt8](repeating: 0, count: 65536)
        while true {
            let n = buffer.withUnsafeMutableBytes { Glibc.read(fd, $0.baseAddress, $0.count) }
            if n < 0 {
                if errno == EINTR { continue }
                return .failure(FileIOError(path: path, operation: "read", errno: errno))
            }
            if n == 0 { break }
            bytes.append(contentsOf: buffer[0..<n])
            if bytes.count > limit { return .failure(FileIOError(path: path, operation: "read (file too large)", errno: EFBIG)) }
        }
        return .success(ConfigFile(path: path, text: String(decoding: bytes, as: UTF8.self), mode: st.st_mode & 0o7777))
    }

    /// A path that is not what it must be: `what` says what it is instead.
    static func refusal(_ path: String, _ what: String) -> FileIOError {
        FileIOError(path: path, operation: "\(what), refused", errno: EINVAL)
    }

    /// Why the file could not be read, as every tool says it (exit 78), with the next step:
    /// `cannot read the configuration: /provision/etc/provision.conf is a symbolic link, refused`.
    public static func unreadable(_ error: FileIOError, root: InstallRoot) -> PVError {
        if error.operation.hasSuffix(", refused") {
            return PVError(.config, "cannot read the configuration: \(error.path) is \(error.operation)",
                           hint: "put the configuration itself at \(root.configFile), a regular file (neither it nor \(root.join("etc")) a symbolic link), then run the command again")
        }
        return PVError(.config, "cannot read the configuration \(error.path)",
                       hint: "create it from Bundle/provision.conf.example, or pass --root / PV_ROOT pointing at the install root",
                       cause: error.message)
    }
}

/// The configuration holds the management token: a file that group or others can read (or
/// write) is refused where the token is sent (pv_heartbeat, exit 77) and reported by diagnostics.
public enum ConfigPermissions {
    public static func problem(mode: mode_t) -> String? {
        guard mode & 0o077 != 0 else { return nil }
        return "mode \(String(mode & 0o777, radix: 8, uppercase: false)) lets group or others \(mode & 0o022 != 0 ? "read or change" : "read") it"
    }

    public static func requirePrivate(_ file: ConfigFile) throws(PVError) {
        if let why = problem(mode: file.mode) {
            throw PVError(.noPermission, "\(file.path) holds the management token, but its \(why)", hint: "chmod 600 \(file.path)")
        }
    }
}
