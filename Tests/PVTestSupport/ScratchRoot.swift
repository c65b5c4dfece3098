import Foundation
import PVCore
#if canImport(Glibc)
import Glibc
#endif

/// A fresh directory under /tmp for one test.
public func scratchDirectory() -> String {
    var template = Array("/tmp/pvunit.XXXXXX".utf8CString)
    return template.withUnsafeMutableBufferPointer { String(cString: mkdtemp($0.baseAddress!)!) }
}

/// Runs `body` with a fresh install root holding the test configuration (mode 0600), and removes
/// the root afterwards, whatever happens.
public func withScratchRoot<T>(configuration: String = testConfigText, _ body: (String) throws -> T) throws -> T {
    let root = scratchDirectory()
    defer { removeTree(root) }
    try FileManager.default.createDirectory(atPath: root + "/etc", withIntermediateDirectories: true)
    _ = FileManager.default.createFile(atPath: root + "/etc/provision.conf", contents: Data(configuration.utf8),
                                   attributes: [.posixPermissions: 0o600])
    return try body(root)
}

/// Removes a scratch tree: files, links and directories below `path`, then `path` (links are
/// removed, never followed).
public func removeTree(_ path: String) {
    var st = stat()
    guard lstat(path, &st) == 0 else { return }
    if st.st_mode & S_IFMT == S_IFDIR, let dir = opendir(path) {
        var names: [String] = []
        while let entry = readdir(dir) {
            let name = withUnsafeBytes(of: entry.pointee.d_name) { String(decoding: $0.prefix { $0 != 0 }, as: UTF8.self) }
            if name != "." && name != ".." { names.append(name) }
        }
        closedir(dir)
        for name in names { removeTree(path + "/" + name) }
        rmdir(path)
    } else {
        unlink(path)
    }
}
