/// Why a dnstap connection, or what it sent, was given up: how the sample counts it (the keys of
/// `dns.drops`, the `reason` label of `pv_monitor_dns_dropped_frames`). A fixed set whatever the
/// peers send: 3,000 senders with 3,000 content types are one key counted 3,000 times, and what
/// each sent (its content type, a length, its pid) goes to the journal, rate-limited.
public enum DnstapDropReason: Sendable, Hashable {
    /// A frame that gives no record (not dnstap, no DNS message, ...): the frame is dropped.
    case frame(DnstapDrop)
    /// A connection closed or refused, and whatever it would have sent with it.
    case connection(DnstapStreamDrop)

    public var key: String {
        switch self {
        case .frame(let drop): return drop.rawValue
        case .connection(let drop): return drop.rawValue
        }
    }

    /// Every key a sample may carry.
    public static var allKeys: [String] { DnstapDrop.allCases.map(\.rawValue) + DnstapStreamDrop.allCases.map(\.rawValue) }
}

/// Why a connection to the dnstap socket was closed or refused.
public enum DnstapStreamDrop: String, Sendable, CaseIterable, Equatable {
    /// Its READY (or START) named content types, none of them dnstap's.
    case otherContentType = "a sender offering another content type"
    /// A control frame out of order, of an unknown type, too long or malformed.
    case badControlFrame = "a bad Frame Streams control frame"
    case frameTooLong = "a data frame over the size limit"
    case dataBeforeStart = "a data frame before START"
    /// READY and START not both read within the handshake bound (`DnstapListener.Limits`).
    case noHandshake = "a handshake not finished in time"
    /// Nothing read for the silence bound: a writer that is not the DNS component, or one stuck
    /// in the middle of a frame.
    case silent = "a connection silent too long"
    /// Closed for a newer connection while every slot was taken (its handshake unfinished, or a
    /// writer that is not the DNS component).
    case evicted = "a connection closed to make room"
    /// Refused: every slot taken by connections that may not be closed for it.
    case tooManyConnections = "too many dnstap connections"
}
