import PVCore

/// Any bytes as provision.conf: the parser must return a configuration or a ConfigError, and
/// an error must never carry a line's text beyond the 40-character key excerpt.
@_cdecl("LLVMFuzzerTestOneInput")
public func fuzzConfig(_ data: UnsafePointer<UInt8>, _ size: Int) -> Int32 {
    let text = String(decoding: UnsafeBufferPointer(start: data, count: size), as: UTF8.self)
    do {
        let config = try ConfigParser.parse(text, file: "fuzz.conf")
        _ = config.image(for: .dns)
    } catch {
        let message = "\(error)"
        // No raw terminal control ever reaches a message.
        precondition(!message.unicodeScalars.contains(where: \.isTerminalControl), "a control character in: \(message.escapingTerminalControls)")
    }
    return 0
}
