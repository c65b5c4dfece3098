import CArchive
import PVCore
#if canImport(Glibc)
import Glibc
#endif

/// Extracts an archive from an untrusted source (an install bundle copied
/// over SSH) without ever writing outside the target directory.
///
/// libarchive's own extraction is relative to the process-wide working
/// directory and its SECURE_* flags check entry paths but not link targets
/// (hardlink escapes were CVE-2016-5418). So: a first pass reads and
/// validates every entry (type, path, size, and that the archive is complete);
/// only then a second pass writes regular files and directories, each opened
/// relative to the target directory with O_NOFOLLOW and O_EXCL.
public struct SafeExtractor: Sendable {
    public var maxEntries = 10_000
    public var maxTotalBytes = 1 << 30

    public init() {}

    public struct Entry: Equatable, Sendable {
        public var path: String
        public var isDirectory: Bool
        public var mode: Int32
        public var size: Int
    }

    /// Validates the whole archive; returns its entries.
    public func validate(_ archivePath: String) throws(PVError) -> [Entry] {
        var entries: [Entry] = []
        try read(archivePath) { (entry, _) throws(PVError) in entries.append(entry) }
        return entries
    }

    /// Validates, then extracts into `directory` (which must exist and be empty of the archive's names).
    ///
    /// With `validatingFirst` false the archive is read once: each entry is still validated before
    /// anything of it is written, but a bad entry late in the archive leaves the earlier ones
    /// written. Only for a private staging directory that the caller removes on failure (it halves
    /// the time of a large compressed archive).
    @discardableResult
    public func extract(_ archivePath: String, into directory: String, validatingFirst: Bool = true) throws(PVError) -> [Entry] {
        let validated = validatingFirst ? try validate(archivePath) : nil
        let dirfd = open(directory, O_RDONLY | O_DIRECTORY | O_CLOEXEC)
        guard dirfd >= 0 else { throw PVError(.cantCreate, "cannot open \(directory)", cause: String(cString: strerror(errno))) }
        defer { close(dirfd) }
        var entries: [Entry] = []
        try read(archivePath) { (entry, archive) throws(PVError) in
            try write(entry, from: archive, under: dirfd, directory: directory)
            entries.append(entry)
        }
        return validated ?? entries
    }

    /// The bytes of the regular files named in `names` (at most `limit` bytes each), read while the
    /// whole archive is validated as `validate` does; nothing is written. The bundle's manifest and
    /// signature are checked this way before any of the archive reaches the disk.
    public func readFiles(_ archivePath: String, named names: Set<String>, limit: Int) throws(PVError) -> [String: [UInt8]] {
        var found: [String: [UInt8]] = [:]
        try read(archivePath) { (entry, archive) throws(PVError) in
            guard !entry.isDirectory, names.contains(entry.path) else { return }
            guard entry.size <= limit, found[entry.path] == nil else {
                throw refuse(archivePath, "'\(entry.path)' is larger than \(limit) bytes or appears twice")
            }
            var bytes = [UInt8](repeating: 0, count: entry.size)
            var off = 0
            while off < bytes.count {
                let n = bytes.withUnsafeMutableBytes { archive_read_data(archive, $0.baseAddress! + off, $0.count - off) }
                guard n > 0 else { throw refuse(archivePath, "damaged or truncated at '\(entry.path)' (\(ArchiveWriter.message(archive)))") }
                off += n
            }
            found[entry.path] = bytes
        }
        return found
    }

    func refuse(_ archivePath: String, _ why: String) -> PVError {
        PVError(.dataError, "refusing the archive \(archivePath): \(why)",
                hint: "nothing was installed; download the bundle again from ProVision and check its size")
    }

    /// Rejects absolute paths, `..`, empty or odd components and control characters.
    public static func safeRelativePath(_ raw: String) -> String? {
        var path = raw
        while path.hasPrefix("./") { path.removeFirst(2) }
        while path.hasSuffix("/") { path.removeLast() }
        guard !path.isEmpty, !path.hasPrefix("/"), path.utf8.count < 1024 else { return nil }
        let parts = path.split(separator: "/", omittingEmptySubsequences: false)
        for p in parts {
            if p.isEmpty || p == "." || p == ".." { return nil }
            if p.unicodeScalars.contains(where: { $0.value < 0x20 || $0.value == 0x7f }) { return nil }
        }
        return path
    }

    private func read(_ archivePath: String, _ each: (Entry, OpaquePointer) throws(PVError) -> Void) throws(PVError) {
        guard let a = archive_read_new() else { throw PVError(.osError, "archive_read_new failed") }
        defer { archive_read_free(a) }
        archive_read_support_filter_gzip(a)
        // The bundle's tools ship as one tar.xz: a large dictionary shares their common runtime.
        archive_read_support_filter_xz(a)
        archive_read_support_format_tar(a)
        guard archive_read_open_filename(a, archivePath, 1 << 16) == ARCHIVE_OK else {
            throw refuse(archivePath, ArchiveWriter.message(a))
        }
        var count = 0, total = 0
        var entry: OpaquePointer? = nil
        while true {
            let rc = archive_read_next_header(a, &entry)
            if rc == ARCHIVE_EOF { break }
            guard rc == ARCHIVE_OK || rc == ARCHIVE_WARN, let entry else {
                throw refuse(archivePath, "damaged or truncated (\(ArchiveWriter.message(a)))")
            }
            count += 1
            guard count <= maxEntries else { throw refuse(archivePath, "more than \(maxEntries) entries") }
            let rawName = archive_entry_pathname(entry).map { String(cString: $0) } ?? ""
            guard let path = Self.safeRelativePath(rawName) else {
                throw refuse(archivePath, "unsafe path '\(rawName.prefix(100))' (absolute, '..', or control characters)")
            }
            if archive_entry_hardlink(entry) != nil {
                throw refuse(archivePath, "'\(path)' is a hard link (links are not allowed in a bundle)")
            }
            let type = archive_entry_filetype(entry)
            guard type == PV_AE_IFREG || type == PV_AE_IFDIR else {
                let kind = type == PV_AE_IFLNK ? "a symbolic link" : "a device, FIFO or socket"
                throw refuse(archivePath, "'\(path)' is \(kind) (only files and directories are allowed)")
            }
            let size = Int(archive_entry_size(entry))
            total += size
            guard size >= 0, total <= maxTotalBytes else { throw refuse(archivePath, "larger than \(maxTotalBytes) bytes") }
            let mode = Int32(archive_entry_perm(entry)) & 0o755  // never setuid/setgid/sticky, never world-writable
            try each(Entry(path: path, isDirectory: type == PV_AE_IFDIR, mode: mode, size: size), a)
            // Reading the data (or skipping it) is what detects a truncated archive.
            if archive_read_data_skip(a) != ARCHIVE_OK {
                throw refuse(archivePath, "damaged or truncated at '\(path)' (\(ArchiveWriter.message(a)))")
            }
        }
    }

    private func write(_ entry: Entry, from a: OpaquePointer, under dirfd: Int32, directory: String) throws(PVError) {
        let parts = entry.path.split(separator: "/").map(String.init)
        // Walk (and create) the parent directories without following symlinks.
        var fd = dup(dirfd)
        defer { close(fd) }
        for (i, part) in parts.enumerated() {
            let last = i == parts.count - 1
            if last && !entry.isDirectory { break }
            if mkdirat(fd, part, mode_t(last ? entry.mode | 0o700 : 0o755)) != 0 && errno != EEXIST {
                throw PVError(.cantCreate, "cannot create \(directory)/\(entry.path)", cause: String(cString: strerror(errno)))
            }
            let next = openat(fd, part, O_RDONLY | O_DIRECTORY | O_NOFOLLOW | O_CLOEXEC)
            guard next >= 0 else {
                throw PVError(.dataError, "refusing to extract through \(directory)/\(parts[0...i].joined(separator: "/"))",
                              cause: String(cString: strerror(errno)))
            }
            close(fd)
            fd = next
        }
        guard !entry.isDirectory else { return }
        let out = openat(fd, parts.last!, O_WRONLY | O_CREAT | O_EXCL | O_NOFOLLOW | O_CLOEXEC, mode_t(entry.mode))
        guard out >= 0 else {
            throw PVError(.cantCreate, "cannot create \(directory)/\(entry.path)",
                          hint: errno == EEXIST ? "extract into an empty directory" : nil, cause: String(cString: strerror(errno)))
        }
        defer { close(out) }
        var buffer = [UInt8](repeating: 0, count: 1 << 16)
        while true {
            let n = buffer.withUnsafeMutableBytes { archive_read_data(a, $0.baseAddress, $0.count) }
            if n == 0 { break }
            guard n > 0 else { throw refuse("bundle", "damaged at '\(entry.path)' (\(ArchiveWriter.message(a)))") }
            var off = 0
            while off < n {
                let w = buffer.withUnsafeBytes { Glibc.write(out, $0.baseAddress! + off, n - off) }
                guard w > 0 else { throw PVError(.cantCreate, "cannot write \(directory)/\(entry.path)", cause: String(cString: strerror(errno))) }
                off += w
            }
        }
        fchmod(out, mode_t(entry.mode))
    }
}
