#if canImport(Glibc)
import Glibc
#endif

public struct FileIOError: Error, Sendable {
    public var path: String
    public var operation: String
    public var errno: Int32
    public var message: String { "\(operation) \(path): \(String(cString: strerror(errno)))" }

    public init(path: String, operation: String, errno: Int32) {
        self.path = path
        self.operation = operation
        self.errno = errno
    }
}

/// Small POSIX file helpers. No Foundation: these run in every tool,
/// including the 30-second heartbeat, and must stay cheap and explicit.
public enum FileIO {
    /// Reads a whole regular file, refusing anything larger than `limit` bytes.
    /// `followLinks: false` refuses a symbolic link as the last component (a file another user
    /// controls, such as the agent's configuration read by root, must not point elsewhere).
    public static func readText(_ path: String, limit: Int, followLinks: Bool = true) throws(FileIOError) -> String {
        let bytes = try readBytes(path, limit: limit, followLinks: followLinks)
        return String(decoding: bytes, as: UTF8.self)
    }

    public static func readBytes(_ path: String, limit: Int, followLinks: Bool = true) throws(FileIOError) -> [UInt8] {
        // O_NONBLOCK: a FIFO put in a file's place must not hang the open; it is refused below.
        let fd = open(path, O_RDONLY | O_CLOEXEC | O_NONBLOCK | (followLinks ? 0 : O_NOFOLLOW))
        guard fd >= 0 else {
            let e = errno
            throw FileIOError(path: path, operation: e == ELOOP && !followLinks ? "open (a symbolic link, refused)" : "open", errno: e)
        }
        defer { close(fd) }
        var st = stat()
        guard fstat(fd, &st) == 0 else { throw FileIOError(path: path, operation: "stat", errno: errno) }
        guard st.st_mode & S_IFMT == S_IFREG else { throw FileIOError(path: path, operation: "open (not a regular file)", errno: EINVAL) }
        var result: [UInt8] = []
        var buffer = [UInt8](repeating: 0, count: 65536)
        while true {
            let n = buffer.withUnsafeMutableBytes { read(fd, $0.baseAddress, $0.count) }
            if n < 0 {
                if errno == EINTR { continue }
                throw FileIOError(path: path, operation: "read", errno: errno)
            }
            if n == 0 { break }
            result.append(contentsOf: buffer[0..<n])
            if result.count > limit { throw FileIOError(path: path, operation: "read (file too large)", errno: EFBIG) }
        }
        return result
    }

    /// Writes a file so that a crash leaves either the old or the new
    /// content, never a mix: temp file in the same directory, fsync, rename,
    /// fsync of the directory.
    public static func writeAtomically(_ path: String, _ bytes: [UInt8], mode: mode_t = 0o644) throws(FileIOError) {
        try writeAtomically(path, bytes, mode: mode, durableRename: true)
    }

    /// `durableRename: false` skips the directory fsync (a journal commit,
    /// ~1-4 ms): still old-or-new after a crash, but a power cut may bring back
    /// the previous version (fine for the heartbeat's 30-second state).
    public static func writeAtomically(_ path: String, _ bytes: [UInt8], mode: mode_t, durableRename: Bool) throws(FileIOError) {
        let tmp = "\(path).tmp.\(getpid())"
        // A leftover of an earlier run with this pid, or a link planted under this name: removed
        // (unlink never follows), then created afresh, never through a link.
        unlink(tmp)
        let fd = open(tmp, O_WRONLY | O_CREAT | O_EXCL | O_NOFOLLOW | O_CLOEXEC, mode)
        guard fd >= 0 else { throw FileIOError(path: tmp, operation: "create", errno: errno) }
        var offset = 0
        while offset < bytes.count {
            let n = bytes.withUnsafeBytes { write(fd, $0.baseAddress! + offset, $0.count - offset) }
            if n < 0 {
                if errno == EINTR { continue }
                let e = errno; close(fd); unlink(tmp)
                throw FileIOError(path: tmp, operation: "write", errno: e)
            }
            offset += n
        }
        fchmod(fd, mode)
        if fsync(fd) != 0 { let e = errno; close(fd); unlink(tmp); throw FileIOError(path: tmp, operation: "fsync", errno: e) }
        close(fd)
        if rename(tmp, path) != 0 { let e = errno; unlink(tmp); throw FileIOError(path: path, operation: "rename", errno: e) }
        removeAbandonedTemporaries(of: path)
        guard durableRename else { return }
        let dir = directoryName(path)
        let dfd = open(dir, O_RDONLY | O_DIRECTORY | O_CLOEXEC)
        if dfd >= 0 { fsync(dfd); close(dfd) }
    }

    /// `<file>.tmp.<pid>` left by a writer that was killed between create and rename: removed once
    /// that process is gone (a live writer's is left alone), so kills do not pile them up.
    static func removeAbandonedTemporaries(of path: String) {
        let dir = directoryName(path)
        let prefix = String(path.split(separator: "/").last ?? "") + ".tmp."
        for name in listDirectory(dir) ?? [] where name.hasPrefix(prefix) {
            guard let pid = Int32(name.dropFirst(prefix.count)), pid > 0, pid != getpid() else { continue }
            if kill(pid, 0) != 0 && errno == ESRCH { unlink(dir + "/" + name) }
        }
    }

    public static func writeAtomically(_ path: String, _ text: String, mode: mode_t = 0o644) throws(FileIOError) {
        try writeAtomically(path, Array(text.utf8), mode: mode)
    }

    public static func writeAtomically(_ path: String, _ text: String, mode: mode_t, durableRename: Bool) throws(FileIOError) {
        try writeAtomically(path, Array(text.utf8), mode: mode, durableRename: durableRename)
    }

    /// `mkdir -p`.
    public static func makeDirectories(_ path: String, mode: mode_t = 0o755) throws(FileIOError) {
        var current = path.hasPrefix("/") ? "" : "."
        for part in path.split(separator: "/") {
            current += "/" + part
            if mkdir(current, mode) != 0 && errno != EEXIST {
                throw FileIOError(path: current, operation: "mkdir", errno: errno)
            }
        }
    }

    public static func exists(_ path: String) -> Bool { access(path, F_OK) == 0 }

    /// The names in a directory (without . and ..), sorted; nil when it cannot be read.
    public static func listDirectory(_ path: String) -> [String]? {
        guard let d = opendir(path) else { return nil }
        defer { closedir(d) }
        var names: [String] = []
        while let e = readdir(d) {
            let name = withUnsafeBytes(of: e.pointee.d_name) { String(decoding: $0.prefix(while: { $0 != 0 }), as: UTF8.self) }
            if name != "." && name != ".." { names.append(name) }
        }
        return names.sorted()
    }

    public static func isDirectory(_ path: String) -> Bool {
        var st = stat()
        return stat(path, &st) == 0 && (st.st_mode & S_IFMT) == S_IFDIR
    }

    /// Permission bits and owner, for checks such as "a config holding a token must not be world-readable".
    public static func modeAndOwner(_ path: String) -> (mode: mode_t, uid: uid_t)? {
        var st = stat()
        guard stat(path, &st) == 0 else { return nil }
        return (st.st_mode & 0o7777, st.st_uid)
    }

    public static func directoryName(_ path: String) -> String {
        guard let slash = path.lastIndex(of: "/") else { return "." }
        let dir = String(path[..<slash])
        return dir.isEmpty ? "/" : dir
    }

    /// The last component of a path.
    public static func baseName(_ path: String) -> String {
        guard let slash = path.lastIndex(of: "/") else { return path }
        return String(path[path.index(after: slash)...])
    }
}
