import PVMonitor

/// Any bytes as what a dnstap sender writes, fed whole and then in small pieces: both ways give
/// the same frames or the same refusal, every frame is within the bound, nothing crashes.
@_cdecl("LLVMFuzzerTestOneInput")
public func fuzzFrameStreams(_ data: UnsafePointer<UInt8>, _ size: Int) -> Int32 {
    let bytes = Array(UnsafeBufferPointer(start: data, count: size))
    var whole = FrameStreamsReceiver(maxFrame: 4096)
    let wholeEvents: Result<[FrameStreamsReceiver.Event], FrameStreamsReceiver.Failure>
    do { wholeEvents = .success(try whole.feed(bytes)) } catch { wholeEvents = .failure(error) }
    var pieces = FrameStreamsReceiver(maxFrame: 4096)
    var pieceEvents: [FrameStreamsReceiver.Event] = []
    var pieceFailure: FrameStreamsReceiver.Failure? = nil
    var i = 0
    while i < bytes.count && pieceFailure == nil {
        let end = min(bytes.count, i + 1 + Int(bytes[i] % 7))
        do { pieceEvents += try pieces.feed(Array(bytes[i..<end])) } catch { pieceFailure = error }
        i = end
    }
    switch wholeEvents {
    case .success(let events):
        precondition(pieceFailure == nil && events == pieceEvents, "fed in pieces, the stream reads differently")
        for case .frame(let f) in events { precondition(f.count <= 4096, "a frame over the bound") }
    case .failure(let failure):
        precondition(pieceFailure == failure, "fed in pieces, the stream fails differently")
    }
    return 0
}
