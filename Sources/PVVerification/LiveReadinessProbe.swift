import PVCore
import PVDNS
import PVDocker
import PVComponents
#if canImport(Glibc)
import Glibc
#endif

/// The real probes: DNS answers a query, DHCP holds its packet socket,
/// monitoring is running.
public struct LiveReadinessProbe: ReadinessProbe {
    public init() {}

    public func check(_ component: Component, container: ContainerInfo?, config: ServerConfig) -> Readiness {
        switch component {
        case .dns:
            // Any DNS answer proves the server is up; whether it is the right
            // answer is verification's job (pv_verify / pv_update).
            // Short: nothing listening is refused at once; a server still loading answers within this.
            let r = LDNSResolver(server: config.dnsVerifyServer, port: config.dnsVerifyPort, timeoutSeconds: 0.05, attempts: 1)
            switch r.queryTXT("pvverify.test.") {
            case .success(let a): return .ready("answers on \(config.dnsVerifyServer) port \(config.dnsVerifyPort) (\(DNSAnswer.rcodeName(a.rcode)))")
            // A truncated reply over UDP is an answer too (TCP's is verification's to judge).
            case .failure(.truncated): return .ready("answers on \(config.dnsVerifyServer) port \(config.dnsVerifyPort) (truncated over UDP)")
            case .failure: return .notYet("no DNS answer on \(config.dnsVerifyServer) port \(config.dnsVerifyPort) yet")
            }
        case .dhcp:
            let interface = config.dhcpServerInterface ?? "pvv-srv"
            return Self.holdsPacketSocket(pid: container?.pid ?? 0, interface: interface)
                ? .ready("listening on its raw socket") : .notYet("the DHCP server has not opened its socket yet")
        case .monitoring:
            return container?.isRunning == true ? .ready("running") : .notYet("not running yet")
        }
    }

    /// True when process `pid` has an AF_PACKET socket open. Only root (or the process's owner)
    /// may read /proc/<pid>/fd: the agent's user, starting the component itself, cannot see Kea's
    /// (a root process in its container), and then a packet socket bound to the DHCP server
    /// interface answers it (/proc/net/packet's Iface column: nothing else binds one there, and
    /// the component's previous container is gone before this one starts).
    static func holdsPacketSocket(pid: Int, interface: String) -> Bool {
        guard pid > 0 else { return false }
        // sk RefCnt Type Proto Iface R Rmem User Inode
        let sockets = ((try? FileIO.readText("/proc/net/packet", limit: 1 << 20)) ?? "")
            .split(separator: "\n").dropFirst().map { $0.split(separator: " ") }.filter { $0.count >= 9 }
        guard !sockets.isEmpty else { return false }
        guard let fds = FileIO.listDirectory("/proc/\(pid)/fd") else {
            let index = if_nametoindex(interface)
            return index != 0 && sockets.contains { $0[4] == String(index) }
        }
        let packetInodes = Set(sockets.map { String($0[8]) })
        var buffer = [CChar](repeating: 0, count: 128)
        for name in fds {
            let n = readlink("/proc/\(pid)/fd/\(name)", &buffer, buffer.count - 1)
            guard n > 0 else { continue }
            let target = String(decoding: buffer[0..<n].map { UInt8(bitPattern: $0) }, as: UTF8.self)
            if target.hasPrefix("socket:["), packetInodes.contains(String(target.dropFirst(8).dropLast())) { return true }
        }
        return false
    }
}
