#if canImport(Glibc)
import Glibc
#endif
import PVArchive
import PVCore

/// Opening a setup-<ID>.tar safely: validate every entry, extract into an
/// empty directory, then check every file against the manifest before
/// anything from it runs.
public enum BundleArchive {
    /// Extracts into a fresh directory beside `directory` and checks it there; only a bundle that
    /// passes every check replaces `directory`. A refused archive leaves nothing behind.
    /// `verify` runs on the extracted files after the manifest check, before they move into place.
    public static func extractAndCheck(_ archive: String, into directory: String,
                                       verify: (String) throws(PVError) -> Void = { _ throws(PVError) in }) throws(PVError) -> String {
        let incoming = directory + ".incoming.\(getpid())"
        _ = removeTree(incoming)
        do { try FileIO.makeDirectories(incoming, mode: 0o700) } catch {
            throw PVError(.cantCreate, "cannot create \(incoming)", cause: error.message)
        }
        do {
            let entries = try SafeExtractor().extract(archive, into: incoming)
            try checkManifest(directory: incoming, files: entries.filter { !$0.isDirectory }.map(\.path))
            try verify(incoming)
        } catch {
            _ = removeTree(incoming)
            throw error
        }
        if FileIO.exists(directory) {
            // A previous extraction: replaced whole, so stale files cannot mix in.
            let old = directory + ".old.\(Monotonic.nanoseconds())"
            guard rename(directory, old) == 0 else {
                _ = removeTree(incoming)
                throw PVError(.cantCreate, "cannot move the previous bundle \(directory) aside", cause: String(cString: strerror(errno)))
            }
            _ = removeTree(old)
        }
        guard rename(incoming, directory) == 0 else {
            _ = removeTree(incoming)
            throw PVError(.cantCreate, "cannot move the bundle into \(directory)", cause: String(cString: strerror(errno)))
        }
        return directory
    }

    /// Every file under `directory`, as paths relative to it (links and other non-files too:
    /// the manifest lists regular files only, so anything else is refused as unlisted).
    public static func allFiles(_ directory: String, under prefix: String = "") -> [String] {
        var out: [String] = []
        for name in FileIO.listDirectory(directory + (prefix.isEmpty ? "" : "/" + prefix)) ?? [] {
            let rel = prefix.isEmpty ? name : prefix + "/" + name
            var st = stat()
            guard lstat(directory + "/" + rel, &st) == 0 else { continue }
            if st.st_mode & S_IFMT == S_IFDIR { out += allFiles(directory, under: rel) } else { out.append(rel) }
        }
        return out
    }

    /// The paths SHA256SUMS lists: the bundle's own files, the only ones an install reads.
    public static func listedPaths(bundle directory: String) throws(PVError) -> [String] {
        try manifest(directory).sums.map(\.path)
    }

    static func manifest(_ directory: String) throws(PVError) -> Manifest {
        let text: String
        do { text = try FileIO.readText(directory + "/" + Manifest.fileName, limit: 1 << 20, followLinks: false) } catch {
            throw PVError(.dataError, "the bundle has no readable \(Manifest.fileName)", hint: "download the bundle again", cause: error.message)
        }
        return try Manifest.parse(text)
    }

    /// Both paths name the same file (device and inode).
    static func sameFile(_ a: String, _ b: String) -> Bool {
        var sa = stat(), sb = stat()
        return stat(a, &sa) == 0 && stat(b, &sb) == 0 && sa.st_dev == sb.st_dev && sa.st_ino == sb.st_ino
    }

    /// Checks every file the manifest lists; with `files` (an archive's entries), also that none is unlisted.
    public static func checkManifest(directory: String, files: [String]? = nil) throws(PVError) {
        let manifest = try manifest(directory)
        try manifest.verify(directory: directory, files: files ?? manifest.sums.map(\.path))
    }

    /// rm -rf without following symlinks.
    static func removeTree(_ path: String) -> Bool {
        var st = stat()
        guard lstat(path, &st) == 0 else { return true }
        if st.st_mode & S_IFMT == S_IFDIR {
            for n in FileIO.listDirectory(path) ?? [] { _ = removeTree(path + "/" + n) }
            return rmdir(path) == 0
        }
        return unlink(path) == 0
    }
}
