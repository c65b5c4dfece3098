import PVDHCP

/// Any bytes as a DHCP reply, and as an IPv4 packet carrying one: parse or refuse, never crash.
@_cdecl("LLVMFuzzerTestOneInput")
public func fuzzDHCP(_ data: UnsafePointer<UInt8>, _ size: Int) -> Int32 {
    let bytes = Array(UnsafeBufferPointer(start: data, count: size))
    if let message = try? DHCPMessage.parse(bytes) {
        _ = (message.kind, message.serverID)
        // What parses re-encodes and parses again to the same message.
        precondition((try? DHCPMessage.parse(message.encode())) == message, "does not round-trip")
    }
    if let (_, payload) = UDPFrame.payload(ofIPPacket: bytes, destinationPort: 68) {
        _ = try? DHCPMessage.parse(payload)
    }
    return 0
}
