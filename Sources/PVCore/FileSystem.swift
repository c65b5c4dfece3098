#if canImport(Glibc)
import Glibc
#endif

/// The questions the tools ask of files they do not own (units in /etc/systemd, sockets, the
/// install root as another process left it): the agent environment's file-system seam, so a unit
/// test answers them without a host. What a tool writes under its own root goes through `FileIO`,
/// which the tests point at a scratch root.
public protocol FileSystem: Sendable {
    func readText(_ path: String, limit: Int) -> Result<String, FileIOError>
    /// The configuration file as every tool reads it (`ConfigFile.read`).
    func readConfiguration(_ root: InstallRoot) -> Result<ConfigFile, FileIOError>
    /// Seconds since the epoch of the last change, nil when the file does not exist.
    func modificationTime(_ path: String) -> Double?
    func exists(_ path: String) -> Bool
    /// Permission bits, nil when the file does not exist.
    func mode(_ path: String) -> mode_t?
    /// The owner's user ID, nil when the file does not exist.
    func owner(_ path: String) -> uid_t?
    /// Whether this process may connect to (write) a socket or file.
    func isWritable(_ path: String) -> Bool
    /// Names of the regular files in a directory (empty when there is none).
    func list(_ directory: String) -> [String]
}

/// This host's files.
public struct LiveFileSystem: FileSystem {
    public init() {}
    public func readText(_ path: String, limit: Int) -> Result<String, FileIOError> {
        do { return .success(try FileIO.readText(path, limit: limit)) } catch { return .failure(error) }
    }
    public func readConfiguration(_ root: InstallRoot) -> Result<ConfigFile, FileIOError> { ConfigFile.read(root: root) }
    public func modificationTime(_ path: String) -> Double? {
        var st = stat()
        guard stat(path, &st) == 0 else { return nil }
        return Double(st.st_mtim.tv_sec) + Double(st.st_mtim.tv_nsec) / 1e9
    }
    public func exists(_ path: String) -> Bool { FileIO.exists(path) }
    public func mode(_ path: String) -> mode_t? { FileIO.modeAndOwner(path)?.mode }
    public func owner(_ path: String) -> uid_t? { FileIO.modeAndOwner(path)?.uid }
    public func isWritable(_ path: String) -> Bool { access(path, W_OK) == 0 }
    public func list(_ directory: String) -> [String] {
        (FileIO.listDirectory(directory) ?? []).filter { name in
            var st = stat()
            return lstat(directory + "/" + name, &st) == 0 && st.st_mode & S_IFMT == S_IFREG
        }
    }
}

/// Fails every question: a unit test that looks at files must say what they hold.
struct FailingFileSystem: FileSystem {
    func readText(_ path: String, limit: Int) -> Result<String, FileIOError> { fail(path) }
    func readConfiguration(_ root: InstallRoot) -> Result<ConfigFile, FileIOError> { fail(root.configFile) }
    func modificationTime(_ path: String) -> Double? { fail(path) }
    func exists(_ path: String) -> Bool { fail(path) }
    func mode(_ path: String) -> mode_t? { fail(path) }
    func owner(_ path: String) -> uid_t? { fail(path) }
    func isWritable(_ path: String) -> Bool { fail(path) }
    func list(_ directory: String) -> [String] { fail(directory) }
    private func fail(_ path: String) -> Never { fatalError("unit test looked at \(path) without a fake file system") }
}
