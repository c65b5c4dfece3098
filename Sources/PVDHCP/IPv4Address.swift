import CDHCP

/// An IPv4 address as a host-order integer, printable in dotted form.
public struct IPv4Address: Hashable, Sendable, CustomStringConvertible, Comparable {
    public var value: UInt32
    public init(_ value: UInt32) { self.value = value }
    public init(_ a: UInt8, _ b: UInt8, _ c: UInt8, _ d: UInt8) {
        value = UInt32(a) << 24 | UInt32(b) << 16 | UInt32(c) << 8 | UInt32(d)
    }
    public init?(_ text: String) {
        let parts = text.split(separator: ".", omittingEmptySubsequences: false)
        guard parts.count == 4 else { return nil }
        var v: UInt32 = 0
        for part in parts {
            guard !part.isEmpty, part.count <= 3, let n = UInt8(part) else { return nil }
            v = v << 8 | UInt32(n)
        }
        value = v
    }
    public init?(bytes: ArraySlice<UInt8>) {
        guard bytes.count == 4 else { return nil }
        let b = Array(bytes)
        self.init(b[0], b[1], b[2], b[3])
    }
    public static let zero = IPv4Address(0)
    public static let broadcast = IPv4Address(0xffff_ffff)

    public var bytes: [UInt8] { [UInt8(value >> 24), UInt8(value >> 16 & 0xff), UInt8(value >> 8 & 0xff), UInt8(value & 0xff)] }
    public var description: String { bytes.map(String.init).joined(separator: ".") }
    public static func < (a: IPv4Address, b: IPv4Address) -> Bool { a.value < b.value }
}

/// An IPv4 network such as 198.51.100.0/24.
public struct IPv4Network: Sendable, Equatable, CustomStringConvertible {
    public var base: IPv4Address
    public var prefix: Int
    public init?(_ text: String) {
        let parts = text.split(separator: "/")
        guard parts.count == 2, let base = IPv4Address(String(parts[0])), let p = Int(parts[1]), (0...32).contains(p) else { return nil }
        self.base = IPv4Address(base.value & IPv4Network.mask(p))
        self.prefix = p
    }
    static func mask(_ p: Int) -> UInt32 { p == 0 ? 0 : ~UInt32(0) << UInt32(32 - p) }
    public func contains(_ a: IPv4Address) -> Bool { a.value & Self.mask(prefix) == base.value }
    public var description: String { "\(base)/\(prefix)" }

    /// The verification pool of every managed server (198.51.100.0/24): CDHCP's, which judges a lease.
    public static let verificationPool = IPv4Network("\(IPv4Address(PV_DHCP_POOL_BASE))/\(PV_DHCP_POOL_PREFIX)")!
}
