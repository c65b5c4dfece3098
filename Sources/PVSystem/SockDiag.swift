#if canImport(Glibc)
import Glibc
#endif

/// Counts established TCP connections through the kernel's sock_diag netlink
/// interface (what `ss` uses). Reading /proc/net/tcp instead makes the kernel
/// walk the whole established hash table on every read: on a host with a lot
/// of memory that table has 256k+ buckets and the read cost ~10 ms of system
/// time per beat, more than everything else a beat does.
public enum SockDiag {
    static let netlinkSockDiag: Int32 = 4        // NETLINK_SOCK_DIAG
    static let sockDiagByFamily: UInt16 = 20     // SOCK_DIAG_BY_FAMILY
    static let nlmsgDone: UInt16 = 3             // NLMSG_DONE
    static let nlmsgError: UInt16 = 2            // NLMSG_ERROR
    static let requestDumpFlags: UInt16 = 0x301  // NLM_F_REQUEST | NLM_F_DUMP
    static let tcpEstablished: UInt32 = 1        // TCP_ESTABLISHED

    /// An `nlmsghdr` plus `inet_diag_req_v2` asking for every TCP socket of
    /// one address family in state ESTABLISHED (host byte order, as netlink wants).
    public static func request(family: UInt8, sequence: UInt32) -> [UInt8] {
        var bytes: [UInt8] = []
        func u16(_ v: UInt16) { withUnsafeBytes(of: v.littleEndian) { bytes += $0 } }
        func u32(_ v: UInt32) { withUnsafeBytes(of: v.littleEndian) { bytes += $0 } }
        u32(72); u16(sockDiagByFamily); u16(requestDumpFlags); u32(sequence); u32(0)   // nlmsghdr
        bytes += [family, UInt8(IPPROTO_TCP), 0, 0]                                      // family, protocol, ext, pad
        u32(1 << tcpEstablished)                                                         // idiag_states
        bytes += [UInt8](repeating: 0, count: 48)                                        // inet_diag_sockid: any
        return bytes
    }

    public enum Chunk: Equatable { case more(Int), done(Int), failed }

    /// Counts the socket entries in one datagram of the kernel's answer.
    public static func parse(_ bytes: ArraySlice<UInt8>, sequence: UInt32) -> Chunk {
        var offset = bytes.startIndex
        var count = 0
        func u32(_ at: Int) -> UInt32 {
            UInt32(bytes[at]) | UInt32(bytes[at + 1]) << 8 | UInt32(bytes[at + 2]) << 16 | UInt32(bytes[at + 3]) << 24
        }
        while offset + 16 <= bytes.endIndex {
            let length = Int(u32(offset))
            let type = UInt16(bytes[offset + 4]) | UInt16(bytes[offset + 5]) << 8
            guard length >= 16, offset + length <= bytes.endIndex else { return .failed }
            guard u32(offset + 8) == sequence else { return .failed }
            switch type {
            case nlmsgDone: return .done(count)
            case nlmsgError: return .failed
            case sockDiagByFamily: count += 1
            default: break
            }
            offset += (length + 3) & ~3
        }
        return offset == bytes.endIndex ? .more(count) : .failed
    }

    /// Established TCP connections over IPv4 and IPv6, or nil when the kernel
    /// does not answer (no sock_diag, a sandbox without AF_NETLINK).
    public static func establishedTCPCount() -> Int? {
        let fd = socket(AF_NETLINK, Int32(SOCK_RAW.rawValue) | Int32(SOCK_CLOEXEC.rawValue), netlinkSockDiag)
        guard fd >= 0 else { return nil }
        defer { close(fd) }
        var timeout = timeval(tv_sec: 1, tv_usec: 0)
        _ = setsockopt(fd, SOL_SOCKET, SO_RCVTIMEO, &timeout, socklen_t(MemoryLayout<timeval>.size))
        var total = 0
        var buffer = [UInt8](repeating: 0, count: 32 << 10)
        for (index, family) in [AF_INET, AF_INET6].enumerated() {
            let sequence = UInt32(index + 1)
            let message = request(family: UInt8(family), sequence: sequence)
            guard message.withUnsafeBytes({ send(fd, $0.baseAddress, $0.count, 0) }) == message.count else { return nil }
            receiving: while true {
                let n = buffer.withUnsafeMutableBytes { recv(fd, $0.baseAddress, $0.count, 0) }
                if n < 0 && errno == EINTR { continue }
                guard n > 0 else { return nil }
                switch parse(buffer[0..<n], sequence: sequence) {
                case .more(let c): total += c
                case .done(let c): total += c; break receiving
                case .failed: return nil
                }
            }
        }
        return total
    }
}
