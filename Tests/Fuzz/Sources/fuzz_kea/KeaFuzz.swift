import PVMonitor

/// Any bytes as Kea's answer to statistic-get-all (what a DHCP container's control socket sends):
/// figures or a refusal naming why, never a crash; figures only from an answer whose result is 0,
/// and their names printable, so a table or a metric name cannot be forged from them.
@_cdecl("LLVMFuzzerTestOneInput")
public func fuzzKea(_ data: UnsafePointer<UInt8>, _ size: Int) -> Int32 {
    let answer = Array(UnsafeBufferPointer(start: data, count: size))
    switch KeaControl.parse(answer) {
    case .success(let figures):
        for name in figures.keys {
            precondition(name.unicodeScalars.allSatisfy { $0.value >= 0x20 && $0.value < 0x7f }, "unprintable: \(name.debugDescription)")
        }
    case .failure(let error):
        precondition(!error.message.isEmpty)
    }
    return 0
}
