#if canImport(Glibc)
import Glibc
#endif

/// What the tools ask about the host itself: its name, and its network interfaces (the install
/// checks the DHCP verification link by them).
public struct HostFacts: Sendable {
    public var name: @Sendable () -> String
    public var interfaceExists: @Sendable (String) -> Bool
    /// The IPv4 addresses of an interface, as text.
    public var interfaceAddresses: @Sendable (String) -> [String]
    /// The name of a user ID, nil when the host has no such user.
    public var userName: @Sendable (uid_t) -> String?
    public var userExists: @Sendable (String) -> Bool

    public init(name: @escaping @Sendable () -> String, interfaceExists: @escaping @Sendable (String) -> Bool,
                interfaceAddresses: @escaping @Sendable (String) -> [String],
                userName: @escaping @Sendable (uid_t) -> String? = { _ in nil }, userExists: @escaping @Sendable (String) -> Bool = { _ in false }) {
        self.name = name
        self.interfaceExists = interfaceExists
        self.interfaceAddresses = interfaceAddresses
        self.userName = userName
        self.userExists = userExists
    }

    /// gethostname, if_nametoindex, getifaddrs.
    public static let live = HostFacts(
        name: {
            var buffer = [CChar](repeating: 0, count: 256)
            guard gethostname(&buffer, buffer.count - 1) == 0 else { return "unknown" }
            return String(decoding: buffer.prefix { $0 != 0 }.map { UInt8(bitPattern: $0) }, as: UTF8.self)
        },
        interfaceExists: { if_nametoindex($0) != 0 },
        interfaceAddresses: { name in
            var list: UnsafeMutablePointer<ifaddrs>? = nil
            guard getifaddrs(&list) == 0 else { return [] }
            defer { freeifaddrs(list) }
            var addresses: [String] = []
            var entry = list
            while let a = entry {
                if String(cString: a.pointee.ifa_name) == name, let sa = a.pointee.ifa_addr, sa.pointee.sa_family == sa_family_t(AF_INET) {
                    var buffer = [CChar](repeating: 0, count: 64)
                    var sin = UnsafeRawPointer(sa).load(as: sockaddr_in.self)
                    inet_ntop(AF_INET, &sin.sin_addr, &buffer, 64)
                    addresses.append(String(decoding: buffer.prefix { $0 != 0 }.map { UInt8(bitPattern: $0) }, as: UTF8.self))
                }
                entry = a.pointee.ifa_next
            }
            return addresses
        },
        userName: { uid in getpwuid(uid).map { String(cString: $0.pointee.pw_name) } },
        userExists: { getpwnam($0) != nil })

    static let failing = HostFacts(name: { fatalError("unit test asked the host name without fake host facts") },
                                   interfaceExists: { fatalError("unit test asked for interface \($0) without fake host facts") },
                                   interfaceAddresses: { fatalError("unit test asked for the addresses of \($0) without fake host facts") },
                                   userName: { fatalError("unit test asked for the name of uid \($0) without fake host facts") },
                                   userExists: { fatalError("unit test asked whether user \($0) exists without fake host facts") })
}
