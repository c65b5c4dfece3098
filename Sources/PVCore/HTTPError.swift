/// Why an exchange produced no HTTP response. The kinds are what a caller
/// acts on: retry a lost connection, tell an operator to fix a CA file,
/// report an unreachable server.
public struct HTTPError: Error, Sendable, Equatable, CustomStringConvertible {
    public enum Kind: String, Sendable {
        /// The request itself is unusable (bad URL, unsupported scheme, bad option).
        case invalidRequest = "invalid request"
        /// The host name did not resolve.
        case resolveFailed = "name resolution failed"
        /// No connection: refused, unreachable, or not established within the connect timeout.
        case connectFailed = "connect failed"
        /// Connected, but no complete response within the total timeout.
        case timedOut = "timed out"
        /// TLS failed: certificate not trusted, wrong host name, handshake refused.
        case tlsFailed = "TLS failed"
        /// The peer reset or closed the connection before a complete response.
        case connectionLost = "connection lost"
        /// The response body exceeded `HTTPRequest.maxResponseBytes`.
        case responseTooLarge = "response too large"
        /// Anything else libcurl reports.
        case other = "failed"
    }

    public var kind: Kind
    /// libcurl's own code and message, kept for the operator.
    public var curlCode: Int32
    public var detail: String

    public init(_ kind: Kind, curlCode: Int32 = 0, detail: String) {
        self.kind = kind
        self.curlCode = curlCode
        self.detail = detail
    }

    /// Worth one more try: the network or the peer may be fine a moment later.
    /// TLS and request errors are not: trying again gives the same answer.
    public var isTransient: Bool {
        switch kind {
        case .resolveFailed, .connectFailed, .timedOut, .connectionLost: return true
        case .invalidRequest, .tlsFailed, .responseTooLarge, .other: return false
        }
    }

    public var description: String { "\(kind.rawValue): \(detail)" }
}
