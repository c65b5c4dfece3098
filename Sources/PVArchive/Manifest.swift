import PVCore
#if canImport(Glibc)
import Glibc
#endif

/// The bundle's manifest: `SHA256SUMS`, one `<hex>  <path>` line per file,
/// the format `sha256sum -c` reads, so the shell entry script and the Swift
/// installer check the same thing.
public struct Manifest: Equatable, Sendable {
    public static let fileName = "SHA256SUMS"
    public var sums: [(path: String, sha256: String)]

    public static func == (a: Manifest, b: Manifest) -> Bool { a.text == b.text }

    public init(sums: [(path: String, sha256: String)]) { self.sums = sums.sorted { $0.path < $1.path } }

    public var text: String { sums.map { "\($0.sha256)  \($0.path)\n" }.joined() }

    public static func parse(_ text: String) throws(PVError) -> Manifest {
        var sums: [(String, String)] = []
        for (i, line) in text.split(separator: "\n").enumerated() {
            let parts = line.split(separator: " ", maxSplits: 1)
            guard parts.count == 2, parts[0].count == 64, parts[0].allSatisfy(\.isHexDigit), parts[1].hasPrefix(" "),
                  let path = SafeExtractor.safeRelativePath(String(parts[1].dropFirst())) else {
                throw PVError(.dataError, "\(fileName) line \(i + 1) is malformed", hint: "download the bundle again")
            }
            sums.append((path, String(parts[0]).lowercased()))
        }
        return Manifest(sums: sums)
    }

    /// Checks every listed file under `directory`: a regular file, reached through no link, with
    /// its listed digest. With `files` (an archive's entries), also that none of them is unlisted:
    /// an archive holds exactly the bundle. A directory may hold other files (a home directory):
    /// they are not the bundle's, and an install never reads them.
    public func verify(directory: String, files: [String]? = nil) throws(PVError) {
        let listed = Set(sums.map(\.path))
        // The signature cannot list itself; it is checked against the manifest, not by it.
        if let extra = files?.first(where: { $0 != Self.fileName && $0 != ManifestSignature.fileName && !listed.contains($0) }) {
            throw PVError(.dataError, "the bundle holds \(extra), which its manifest does not list", hint: "download the bundle again")
        }
        for (path, expected) in sums {
            var st = stat()
            if lstat(directory + "/" + path, &st) == 0, st.st_mode & S_IFMT != S_IFREG {
                throw PVError(.dataError, "the bundle's \(path) is not a regular file (a link or a directory)", hint: "extract setup-<ID>.tar again into a directory of its own")
            }
            let actual: String
            do { actual = try SHA256.hex(file: directory + "/" + path) } catch {
                throw PVError(.dataError, "the bundle lacks \(path), which its manifest lists", hint: "download the bundle again")
            }
            guard actual == expected else {
                throw PVError(.dataError, "\(path) does not match the bundle's manifest (damaged or altered)", hint: "download the bundle again")
            }
        }
    }
}
