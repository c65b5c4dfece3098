import CDHCP

/// Any bytes as a DHCP reply, and as an IPv4 packet carrying one: parse or refuse, never crash
/// (CDHCP's C, the one implementation the tools and the cap_net_raw helper run).
@_cdecl("LLVMFuzzerTestOneInput")
public func fuzzDHCP(_ data: UnsafePointer<UInt8>, _ size: Int) -> Int32 {
    var message = pv_dhcp_message()
    var failure = pv_dhcp_parse_failure()
    var text = [CChar](repeating: 0, count: 128)
    if pv_dhcp_parse(data, size, &message, &failure) == 0 {
        _ = pv_dhcp_message_kind(&message)
        var server: UInt32 = 0
        _ = pv_dhcp_server_id(&message, &server)
        // What parses re-encodes and parses again to the same message.
        var bytes = [UInt8](repeating: 0, count: 4096)
        let n = pv_dhcp_encode(&message, &bytes, bytes.count)
        precondition(n > 0, "does not re-encode")
        var again = pv_dhcp_message()
        precondition(pv_dhcp_parse(bytes, n, &again, &failure) == 0 && pv_dhcp_message_equal(&message, &again) == 1, "does not round-trip")
    } else {
        _ = pv_dhcp_describe_parse_failure(&failure, &text, text.count)
    }
    var payload: UnsafePointer<UInt8>? = nil
    var length = 0
    var source: UInt32 = 0
    if pv_dhcp_udp_payload(data, size, 68, &payload, &length, &source) == 0, let payload {
        precondition(payload >= data && payload + length <= data + size, "a payload outside the packet")
        _ = pv_dhcp_parse(payload, length, &message, &failure)
    }
    return 0
}
