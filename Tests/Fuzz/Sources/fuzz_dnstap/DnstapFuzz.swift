import PVMonitor

/// Any bytes as one dnstap frame: a record or a drop with its reason, never a crash; a record's
/// name and type are printable (binary labels escaped), so no table or log line can be forged.
@_cdecl("LLVMFuzzerTestOneInput")
public func fuzzDnstap(_ data: UnsafePointer<UInt8>, _ size: Int) -> Int32 {
    let frame = Array(UnsafeBufferPointer(start: data, count: size))
    if case .success(let record) = DnstapDecoder.decode(frame) {
        for text in [record.question.name, record.question.type, record.zone ?? ""] {
            precondition(text.unicodeScalars.allSatisfy { $0.value >= 0x20 && $0.value < 0x7f }, "unprintable: \(text.debugDescription)")
        }
    }
    return 0
}
