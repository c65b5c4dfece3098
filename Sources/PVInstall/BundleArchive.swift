#if canImport(Glibc)
import Glibc
#endif
import PVArchive
import PVCore

/// Opening a setup-<ID>.tar safely: validate every entry, extract into an
/// empty directory, then check every file against the manifest before
/// anything from it runs.
public enum BundleArchive {
    public static func extractAndCheck(_ archive: String, into directory: String) throws(PVError) -> String {
        if FileIO.exists(directory) {
            // A previous extraction: start clean so stale files cannot mix in.
            let old = directory + ".old.\(Monotonic.nanoseconds())"
            if rename(directory, old) != 0 {
                throw PVError(.cantCreate, "cannot move the previous bundle \(directory) aside")
            }
            _ = removeTree(old)
        }
        do { try FileIO.makeDirectories(directory, mode: 0o700) } catch {
            throw PVError(.cantCreate, "cannot create \(directory)", cause: error.message)
        }
        let entries = try SafeExtractor().extract(archive, into: directory)
        try checkManifest(directory: directory, files: entries.filter { !$0.isDirectory }.map(\.path))
        return directory
    }

    public static func checkManifest(directory: String, files: [String]? = nil) throws(PVError) {
        let text: String
        do { text = try FileIO.readText(directory + "/" + Manifest.fileName, limit: 1 << 20) } catch {
            throw PVError(.dataError, "the bundle has no readable \(Manifest.fileName)", hint: "download the bundle again", cause: error.message)
        }
        let manifest = try Manifest.parse(text)
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
