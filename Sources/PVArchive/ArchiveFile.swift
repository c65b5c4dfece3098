import PVCore
#if canImport(Glibc)
import Glibc
#endif

/// A tar.gz of files given as bytes, for people to read later (pv_diagnostics' archive for support,
/// pv_uninstall's record of a deleted server). Written into a temporary file beside `path`, mode
/// 0600 (logs and configuration are not for every local user), then renamed, so a reader never
/// sees half an archive. Redacting is the caller's: the entries arrive ready to keep.
public enum ArchiveFile {
    public struct Entry: Sendable, Equatable {
        public var name: String
        public var bytes: [UInt8]
        public init(name: String, bytes: [UInt8]) {
            self.name = name
            self.bytes = bytes
        }
        public var text: String { String(decoding: bytes, as: UTF8.self) }
    }

    public static func write(_ entries: [Entry], to path: String, time: Double) throws(PVError) {
        let directory = FileIO.directoryName(path)
        do { try FileIO.makeDirectories(directory) } catch {
            throw PVError(.cantCreate, "cannot create \(directory) for the archive", cause: error.message)
        }
        let temporary = "\(path).tmp.\(getpid())"
        let fd = open(temporary, O_WRONLY | O_CREAT | O_TRUNC | O_NOFOLLOW | O_CLOEXEC, 0o600)
        guard fd >= 0 else {
            throw PVError(.cantCreate, "cannot create the archive \(path)", hint: "choose a writable place with --archive PATH",
                          cause: String(cString: strerror(errno)))
        }
        close(fd)
        do {
            let writer = try ArchiveWriter(path: temporary, format: .tarGzip)
            var directories: Set<String> = []
            for entry in entries {
                var parts = entry.name.split(separator: "/").dropLast()
                var prefixes: [String] = []
                while !parts.isEmpty { prefixes.insert(parts.joined(separator: "/"), at: 0); parts = parts.dropLast() }
                for dir in prefixes where !directories.contains(dir) {
                    directories.insert(dir)
                    try writer.addDirectory(dir + "/", mode: 0o755, mtime: Int(time))
                }
                try writer.addFile(entry.name, bytes: entry.bytes, mode: 0o644, mtime: Int(time))
            }
            try writer.close()
        } catch {
            unlink(temporary)
            throw error
        }
        chmod(temporary, 0o600)
        if rename(temporary, path) != 0 {
            let e = errno
            unlink(temporary)
            throw PVError(.cantCreate, "cannot move the archive into place at \(path)", cause: String(cString: strerror(e)))
        }
    }
}
