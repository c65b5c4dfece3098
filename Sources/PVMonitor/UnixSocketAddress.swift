#if canImport(Glibc)
import Glibc
#endif

/// A Unix socket's address for bind(2) and connect(2): the one place its path is copied into
/// `sun_path` (the callers check the 107-byte bound first).
enum UnixSocketAddress {
    /// Calls `body` with the address of `path` as a `sockaddr` and its length.
    static func with<T>(_ path: String, _ body: (UnsafePointer<sockaddr>, socklen_t) -> T) -> T {
        var address = sockaddr_un()
        address.sun_family = sa_family_t(AF_UNIX)
        withUnsafeMutableBytes(of: &address.sun_path) { raw in
            for (i, byte) in path.utf8.prefix(raw.count - 1).enumerated() { raw[i] = byte }
            raw[min(path.utf8.count, raw.count - 1)] = 0
        }
        return withUnsafePointer(to: &address) {
            $0.withMemoryRebound(to: sockaddr.self, capacity: 1) { body($0, socklen_t(MemoryLayout<sockaddr_un>.size)) }
        }
    }
}
