#if canImport(Glibc)
import Glibc
#endif
import PVArchive
import PVCore

/// The tools of a release bundle ship packed. They are fully static executables that share most
/// of their bytes (the Swift runtime, OpenSSL), so one xz stream with a dictionary larger than a
/// tool (`lib/tools.tar.xz`) holds all nine in about 15 MB (eight of them took 59 MB as
/// gzip); `bin/pv_install.gz` is there so that the entry script can start one tool with nothing but
/// gzip. `TOOLS.SHA256SUMS` (itself in SHA256SUMS) lists each unpacked tool as `bin/<tool>`.
///
/// Before any step, pv_install makes the bundle's bin/ hold exactly the listed tools, each checked
/// against that list; a development bundle (tools unpacked in bin/, no TOOLS.SHA256SUMS) is left
/// as it is.
public enum BundleTools {
    public static let manifestName = "TOOLS.SHA256SUMS"
    public static let archiveName = "lib/tools.tar.xz"

    /// The paths TOOLS.SHA256SUMS lists (bin/<tool>), or none for a development bundle (or a
    /// list that prepare refuses).
    public static func listedTools(bundle: String) -> [String] {
        ((try? toolsManifest(bundle: bundle)) ?? nil)?.sums.map(\.path) ?? []
    }

    /// TOOLS.SHA256SUMS, checked to list tools as bin/<tool> only; nil when the bundle has none.
    static func toolsManifest(bundle: String) throws(PVError) -> Manifest? {
        let manifestPath = bundle + "/" + manifestName
        guard FileIO.exists(manifestPath) else { return nil }
        let text: String
        do { text = try FileIO.readText(manifestPath, limit: 1 << 16, followLinks: false) } catch {
            throw PVError(.dataError, "cannot read \(manifestPath)", hint: "download the bundle again", cause: error.message)
        }
        let manifest = try Manifest.parse(text)
        guard !manifest.sums.isEmpty, manifest.sums.allSatisfy({ $0.path.hasPrefix("bin/") && !$0.path.dropFirst(4).contains("/") }) else {
            throw PVError(.dataError, "\(manifestPath) must list tools as bin/<tool>", hint: "download the bundle again")
        }
        return manifest
    }

    /// Unpacks what is missing or differs; returns how many tools it wrote (0: bin/ was ready).
    @discardableResult
    public static func prepare(bundle: String) throws(PVError) -> Int {
        guard let manifest = try toolsManifest(bundle: bundle) else { return 0 }
        if manifest.sums.allSatisfy({ (try? SHA256.hex(file: bundle + "/" + $0.path)) == $0.sha256 }) { return 0 }

        let archive = bundle + "/" + archiveName
        guard FileIO.exists(archive) else {
            throw PVError(.dataError, "the bundle lacks \(archiveName), which holds its tools", hint: "download the bundle again")
        }
        let bin = bundle + "/bin"
        let staging = bin + "/.unpack-\(getpid())"
        _ = BundleArchive.removeTree(staging)
        do { try FileIO.makeDirectories(staging, mode: 0o700) } catch {
            throw PVError(.cantCreate, "cannot create \(staging)", hint: "is there free space in \(bundle)?", cause: error.message)
        }
        defer { _ = BundleArchive.removeTree(staging) }
        let expected = Dictionary(uniqueKeysWithValues: manifest.sums.map { (String($0.path.dropFirst(4)), $0.sha256) })
        // One pass into the private staging directory, removed whatever happens: nothing reaches
        // bin/ before every entry is in and checked.
        let entries = try SafeExtractor().extract(archive, into: staging, validatingFirst: false).filter { !$0.isDirectory }
        // Every entry must be a listed tool with its listed digest, and every listed tool must be there.
        for entry in entries {
            guard let sha = expected[entry.path] else {
                throw PVError(.dataError, "\(archiveName) holds \(entry.path), which \(manifestName) does not list", hint: "download the bundle again")
            }
            guard try SHA256.hex(file: staging + "/" + entry.path) == sha else {
                throw PVError(.dataError, "\(entry.path) in \(archiveName) does not match \(manifestName) (damaged or altered)", hint: "download the bundle again")
            }
        }
        if let missing = expected.keys.sorted().first(where: { name in !entries.contains { $0.path == name } }) {
            throw PVError(.dataError, "\(archiveName) lacks \(missing), which \(manifestName) lists", hint: "download the bundle again")
        }
        // Rename into place: a tool that is running (pv_install itself) keeps its old inode.
        for entry in entries {
            chmod(staging + "/" + entry.path, 0o755)
            guard rename(staging + "/" + entry.path, bin + "/" + entry.path) == 0 else {
                throw PVError(.cantCreate, "cannot write \(bin)/\(entry.path)", cause: String(cString: strerror(errno)))
            }
        }
        return entries.count
    }
}
