import CDHCP

/// CDHCP's message and framing functions with Swift values, for the tests.
enum Wire {
    struct Refused: Error, Equatable, CustomStringConvertible {
        var description: String
    }

    static func parse(_ bytes: [UInt8]) throws(Refused) -> pv_dhcp_message {
        var message = pv_dhcp_message()
        var failure = pv_dhcp_parse_failure()
        guard pv_dhcp_parse(bytes, bytes.count, &message, &failure) == 0 else {
            var text = [CChar](repeating: 0, count: 128)
            _ = pv_dhcp_describe_parse_failure(&failure, &text, text.count)
            throw Refused(description: String(decoding: text.prefix { $0 != 0 }.map { UInt8(bitPattern: $0) }, as: UTF8.self))
        }
        return message
    }

    static func encode(_ message: pv_dhcp_message) -> [UInt8] {
        var m = message
        var out = [UInt8](repeating: 0, count: Int(PV_DHCP_FRAME_MAX))
        let n = pv_dhcp_encode(&m, &out, out.count)
        return Array(out.prefix(n))
    }

    static func option(_ message: pv_dhcp_message, _ code: UInt8) -> [UInt8]? {
        var m = message
        var data = [UInt8](repeating: 0, count: Int(PV_DHCP_FRAME_MAX))
        let n = pv_dhcp_option(&m, code, &data, data.count)
        return n < 0 ? nil : Array(data.prefix(n))
    }

    static func kind(_ message: pv_dhcp_message) -> Int {
        var m = message
        return Int(pv_dhcp_message_kind(&m))
    }

    static func chaddr(_ message: pv_dhcp_message) -> [UInt8] { withUnsafeBytes(of: message.chaddr) { Array($0) } }

    static func udp(source: UInt32, destination: UInt32, sourcePort: UInt16, destinationPort: UInt16, payload: [UInt8], id: UInt16) -> [UInt8] {
        var out = [UInt8](repeating: 0, count: Int(PV_DHCP_FRAME_MAX) + 64)
        let n = pv_dhcp_udp_build(source, destination, sourcePort, destinationPort, payload, payload.count, id, &out, out.count)
        return Array(out.prefix(n))
    }

    /// The UDP payload of an IPv4 packet to `port`, and its source address.
    static func payload(_ packet: [UInt8], port: UInt16) -> (source: UInt32, payload: [UInt8])? {
        packet.withUnsafeBufferPointer { p in
            var data: UnsafePointer<UInt8>? = nil
            var length = 0
            var source: UInt32 = 0
            guard pv_dhcp_udp_payload(p.baseAddress, p.count, port, &data, &length, &source) == 0, let data else { return nil }
            return (source, Array(UnsafeBufferPointer(start: data, count: length)))
        }
    }

    static func address(_ a: UInt8, _ b: UInt8, _ c: UInt8, _ d: UInt8) -> UInt32 {
        UInt32(a) << 24 | UInt32(b) << 16 | UInt32(c) << 8 | UInt32(d)
    }
}
