import CPacket
#if canImport(Glibc)
import Glibc
#endif

/// The real link: an AF_PACKET/SOCK_DGRAM socket bound to one interface, as
/// udhcpc and dhclient use. A UDP socket cannot do this job: with no address
/// on the interface it misses broadcasts, and traffic to a local address
/// would go through `lo` instead of the wire.
public final class PacketSocketLink: DHCPLink {
    let fd: Int32
    let ifindex: Int32
    public let interface: String

    public init(interface: String) throws(DHCPFailure) {
        self.interface = interface
        let index = if_nametoindex(interface)
        guard index != 0 else {
            throw .link("interface \(interface) does not exist (create the verification link, or fix dhcp_verify_interface)")
        }
        ifindex = Int32(index)
        let s = socket(AF_PACKET, Int32(SOCK_DGRAM.rawValue) | Int32(SOCK_CLOEXEC.rawValue), Int32(PV_ETH_P_IP.bigEndian))
        guard s >= 0 else {
            let e = errno
            if e == EPERM || e == EACCES {
                throw .noPermission("opening a packet socket needs root or CAP_NET_RAW (\(String(cString: strerror(e))))")
            }
            throw .link("socket(AF_PACKET): \(String(cString: strerror(e)))")
        }
        fd = s
        let flags = pv_interface_flags(fd, interface)
        if flags >= 0 && flags & Int32(IFF_UP) == 0 {
            close(fd)
            throw .link("interface \(interface) is down (ip link set \(interface) up)")
        }
        var addr = sockaddr_ll()
        addr.sll_family = UInt16(AF_PACKET)
        addr.sll_protocol = PV_ETH_P_IP.bigEndian
        addr.sll_ifindex = ifindex
        let rc = withUnsafePointer(to: &addr) {
            $0.withMemoryRebound(to: sockaddr.self, capacity: 1) { bind(fd, $0, socklen_t(MemoryLayout<sockaddr_ll>.size)) }
        }
        guard rc == 0 else {
            let e = errno
            close(fd)
            throw .link("bind to \(interface): \(String(cString: strerror(e)))")
        }
    }

    deinit { close(fd) }

    public func send(_ ipPacket: [UInt8], toMAC mac: [UInt8]) throws(DHCPFailure) {
        var addr = sockaddr_ll()
        addr.sll_family = UInt16(AF_PACKET)
        addr.sll_protocol = PV_ETH_P_IP.bigEndian
        addr.sll_ifindex = ifindex
        addr.sll_halen = 6
        withUnsafeMutableBytes(of: &addr.sll_addr) { raw in
            for (i, b) in mac.prefix(6).enumerated() { raw[i] = b }
        }
        let sent = ipPacket.withUnsafeBytes { buf in
            withUnsafePointer(to: &addr) {
                $0.withMemoryRebound(to: sockaddr.self, capacity: 1) {
                    sendto(fd, buf.baseAddress, buf.count, 0, $0, socklen_t(MemoryLayout<sockaddr_ll>.size))
                }
            }
        }
        guard sent == ipPacket.count else {
            throw .link("send on \(interface): \(String(cString: strerror(errno)))")
        }
    }

    public func receive(milliseconds: Int) throws(DHCPFailure) -> (packet: [UInt8], sourceMAC: [UInt8])? {
        var pfd = pollfd(fd: fd, events: Int16(POLLIN), revents: 0)
        let ready = poll(&pfd, 1, Int32(clamping: milliseconds))
        if ready < 0 {
            if errno == EINTR { return nil }
            throw .link("poll on \(interface): \(String(cString: strerror(errno)))")
        }
        if ready == 0 { return nil }
        var buffer = [UInt8](repeating: 0, count: 2048)
        var from = sockaddr_ll()
        var fromLength = socklen_t(MemoryLayout<sockaddr_ll>.size)
        let n = buffer.withUnsafeMutableBytes { buf in
            withUnsafeMutablePointer(to: &from) {
                $0.withMemoryRebound(to: sockaddr.self, capacity: 1) {
                    recvfrom(fd, buf.baseAddress, buf.count, Int32(MSG_DONTWAIT), $0, &fromLength)
                }
            }
        }
        if n < 0 {
            if errno == EAGAIN || errno == EINTR { return nil }
            throw .link("receive on \(interface): \(String(cString: strerror(errno)))")
        }
        // A packet socket also sees our own transmissions.
        if from.sll_pkttype == UInt8(PACKET_OUTGOING) { return nil }
        let mac = withUnsafeBytes(of: from.sll_addr) { Array($0.prefix(6)) }
        return (Array(buffer[0..<n]), mac)
    }
}
