import CArchive
import PVCore
#if canImport(Glibc)
import Glibc
#endif

/// Writes a tar or tar.gz archive through libarchive. Entries are added from
/// bytes or from files; owner and group are always root (0) so an archive
/// never leaks the builder's user names.
public final class ArchiveWriter {
    public enum Format: Sendable { case tar, tarGzip }

    let archive: OpaquePointer
    public let path: String
    var closed = false

    public init(path: String, format: Format) throws(PVError) {
        self.path = path
        guard let a = archive_write_new() else { throw PVError(.osError, "archive_write_new failed") }
        archive = a
        // POSIX pax (restricted): ustar where it fits, long names where needed.
        var rc = archive_write_set_format_pax_restricted(a)
        if rc == ARCHIVE_OK, format == .tarGzip { rc = archive_write_add_filter_gzip(a) }
        if rc == ARCHIVE_OK { rc = archive_write_open_filename(a, path) }
        guard rc == ARCHIVE_OK else {
            let why = Self.message(a)
            // Freed here, and marked so: deinit runs for a fully initialised object whose init throws,
            // and freeing twice crashed pv_bundle --output with a missing directory.
            archive_write_free(a)
            closed = true
            throw PVError(.cantCreate, "cannot create the archive \(path)",
                          hint: FileIO.isDirectory(FileIO.directoryName(path)) ? nil : "create the directory \(FileIO.directoryName(path)) first",
                          cause: why)
        }
    }

    deinit { if !closed { archive_write_free(archive) } }

    static func message(_ a: OpaquePointer) -> String {
        archive_error_string(a).map { String(cString: $0) } ?? "libarchive error \(archive_errno(a))"
    }

    public func addDirectory(_ name: String, mode: Int32 = 0o755, mtime: Int = Int(time(nil))) throws(PVError) {
        try header(name, type: PV_AE_IFDIR, mode: mode, size: 0, mtime: mtime)
    }

    public func addFile(_ name: String, bytes: [UInt8], mode: Int32 = 0o644, mtime: Int = Int(time(nil))) throws(PVError) {
        try header(name, type: PV_AE_IFREG, mode: mode, size: bytes.count, mtime: mtime)
        var offset = 0
        while offset < bytes.count {
            let n = bytes.withUnsafeBytes { archive_write_data(archive, $0.baseAddress! + offset, $0.count - offset) }
            guard n > 0 else { throw PVError(.cantCreate, "cannot write \(name) into \(path)", cause: Self.message(archive)) }
            offset += n
        }
    }

    public func addFile(_ name: String, text: String, mode: Int32 = 0o644) throws(PVError) {
        try addFile(name, bytes: Array(text.utf8), mode: mode)
    }

    /// Adds a file from disk (content and permission bits; never follows it if it is a symlink).
    public func addFile(_ name: String, from source: String, mode: Int32? = nil, limit: Int = 256 << 20) throws(PVError) {
        var st = stat()
        guard lstat(source, &st) == 0, st.st_mode & S_IFMT == S_IFREG else {
            throw PVError(.notFound, "\(source) is not a regular file")
        }
        let bytes: [UInt8]
        do { bytes = try FileIO.readBytes(source, limit: limit) } catch {
            throw PVError(.osError, "cannot read \(source)", cause: error.message)
        }
        try addFile(name, bytes: bytes, mode: mode ?? Int32(st.st_mode & 0o777), mtime: Int(st.st_mtim.tv_sec))
    }

    func header(_ name: String, type: UInt32, mode: Int32, size: Int, mtime: Int) throws(PVError) {
        guard let entry = archive_entry_new() else { throw PVError(.osError, "archive_entry_new failed") }
        defer { archive_entry_free(entry) }
        archive_entry_set_pathname(entry, name)
        archive_entry_set_filetype(entry, type)
        archive_entry_set_perm(entry, mode_t(mode))
        archive_entry_set_size(entry, la_int64_t(size))
        archive_entry_set_mtime(entry, time_t(mtime), 0)
        archive_entry_set_uid(entry, 0)
        archive_entry_set_gid(entry, 0)
        archive_entry_set_uname(entry, "root")
        archive_entry_set_gname(entry, "root")
        guard archive_write_header(archive, entry) == ARCHIVE_OK else {
            throw PVError(.cantCreate, "cannot add \(name) to \(path)", cause: Self.message(archive))
        }
    }

    /// Finishes the archive (writes the end blocks and flushes the compressor).
    public func close() throws(PVError) {
        guard !closed else { return }
        closed = true
        let rc = archive_write_close(archive)
        let why = Self.message(archive)
        archive_write_free(archive)
        guard rc == ARCHIVE_OK else { throw PVError(.cantCreate, "cannot finish the archive \(path)", cause: why) }
    }
}
