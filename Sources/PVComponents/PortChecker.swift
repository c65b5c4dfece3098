import PVCore
import PVState
#if canImport(Glibc)
import Glibc
#endif

/// Is a port we are about to serve on already taken by someone else?
public protocol PortChecker: Sendable {
    /// nil when free; otherwise a description of the holder.
    func udpPortHolder(address: String, port: UInt16) -> String?
}

public struct LivePortChecker: PortChecker {
    public init() {}

    public func udpPortHolder(address: String, port: UInt16) -> String? {
        var v4 = in_addr()
        guard inet_pton(AF_INET, address, &v4) == 1 else { return nil }  // IPv6: let the server report it
        let fd = socket(AF_INET, Int32(SOCK_DGRAM.rawValue) | Int32(SOCK_CLOEXEC.rawValue), 0)
        guard fd >= 0 else { return nil }
        defer { close(fd) }
        var addr = sockaddr_in()
        addr.sin_family = sa_family_t(AF_INET)
        addr.sin_port = port.bigEndian
        addr.sin_addr = v4
        let rc = withUnsafePointer(to: &addr) {
            $0.withMemoryRebound(to: sockaddr.self, capacity: 1) { bind(fd, $0, socklen_t(MemoryLayout<sockaddr_in>.size)) }
        }
        if rc == 0 || errno != EADDRINUSE { return nil }
        return "UDP \(address):\(port) is in use by another process (see: ss -lunp 'sport = :\(port)')"
    }
}
