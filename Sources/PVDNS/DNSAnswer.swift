/// What a DNS server said, reduced to the facts a health check needs.
public struct DNSAnswer: Sendable, Equatable {
    /// The RCODE (0 NOERROR, 2 SERVFAIL, 3 NXDOMAIN, 5 REFUSED ...).
    public var rcode: UInt8
    /// Each TXT record owned by the query name, as its list of character strings.
    public var txtRecords: [[String]]
    /// The reply over UDP was truncated (TC), and this is the one asked again over TCP.
    public var overTCP: Bool

    public init(rcode: UInt8, txtRecords: [[String]], overTCP: Bool = false) {
        self.rcode = rcode
        self.txtRecords = txtRecords
        self.overTCP = overTCP
    }

    public static func rcodeName(_ rcode: UInt8) -> String {
        switch rcode {
        case 0: return "NOERROR"
        case 1: return "FORMERR"
        case 2: return "SERVFAIL"
        case 3: return "NXDOMAIN"
        case 4: return "NOTIMP"
        case 5: return "REFUSED"
        default: return "RCODE\(rcode)"
        }
    }
}

/// Why a query produced no answer at all.
public enum DNSQueryError: Error, Sendable, Equatable {
    case invalidServer(String)
    /// No matching reply in time. `ignored` counts replies that did not match the query (another
    /// ID, no QR bit, another question, unparseable): forged or stray, never taken as the answer.
    case timeout(tries: Int, seconds: Double, ignored: Int = 0)
    case network(String)
    /// The reply over UDP was truncated (TC) and the retry over TCP gave no answer: why.
    case truncated(String)
}
