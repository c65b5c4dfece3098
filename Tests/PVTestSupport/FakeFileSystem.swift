import Foundation
import PVCore

/// Files in memory. Anything not listed does not exist; a listed file belongs to root unless
/// `owners` says otherwise.
public struct FakeFileSystem: FileSystem {
    public var texts: [String: String] = [:]
    public var modified: [String: Double] = [:]
    public var modes: [String: mode_t] = [:]
    public var owners: [String: uid_t] = [:]
    public var others: Set<String> = []
    public var unwritable: Set<String> = []

    public init() {}

    public func readText(_ path: String, limit: Int) -> Result<String, FileIOError> {
        guard let t = texts[path] else { return .failure(FileIOError(path: path, operation: "open", errno: ENOENT)) }
        return .success(t)
    }
    public func readConfiguration(_ root: InstallRoot) -> Result<ConfigFile, FileIOError> {
        let path = root.configFile
        return readText(path, limit: ConfigFile.limit).map { ConfigFile(path: path, text: $0, mode: modes[path] ?? 0o600) }
    }
    public func modificationTime(_ path: String) -> Double? { texts[path] != nil || others.contains(path) ? modified[path] ?? 0 : nil }
    public func exists(_ path: String) -> Bool { texts[path] != nil || others.contains(path) }
    public func mode(_ path: String) -> mode_t? { exists(path) ? modes[path] ?? 0o600 : nil }
    public func owner(_ path: String) -> uid_t? { exists(path) ? owners[path] ?? 0 : nil }
    public func isWritable(_ path: String) -> Bool { exists(path) && !unwritable.contains(path) }
    public func list(_ directory: String) -> [String] {
        texts.keys.filter { FileIO.directoryName($0) == directory }.map { String($0.split(separator: "/").last!) }
    }
}
