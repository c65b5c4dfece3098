import CRabbitMQ

/// Why an AMQP login did not get as far as an open channel. The kinds are
/// what an operator acts on: start the broker, fix the password, open the
/// firewall. No message ever contains the password or the full URI.
public struct AMQPError: Error, Sendable, Equatable, CustomStringConvertible {
    public enum Kind: String, Sendable {
        case invalidURI = "invalid URI"
        case resolveFailed = "name resolution failed"
        /// Nothing listens (RST), or the host or network is unreachable.
        case refused = "connection refused"
        /// No answer within the time allowed; `phase` says where.
        case timedOut = "timed out"
        case tlsFailed = "TLS failed"
        /// The broker refused the user name or password (ACCESS_REFUSED).
        case authFailed = "login refused"
        /// Logged in, but the virtual host does not exist or the user may not use it.
        case vhostRefused = "virtual host refused"
        /// Logged in, but channel 1 could not be opened.
        case channelFailed = "channel failed"
        /// The broker closed the connection or sent something unexpected.
        case connectionLost = "connection lost"
        /// The broker blocks publishing (connection.blocked: a memory or disk alarm); the connection stays.
        case blocked = "blocked"
        case other = "failed"
    }

    /// Where the exchange stopped.
    public enum Phase: String, Sendable { case parse, connect, login, channel, close }

    public var kind: Kind
    public var phase: Phase
    public var detail: String

    public init(_ kind: Kind, phase: Phase = .parse, _ detail: String) {
        self.kind = kind
        self.phase = phase
        self.detail = detail
    }

    public var description: String { "\(kind.rawValue) (\(phase.rawValue)): \(detail)" }

    /// rabbitmq-c's text for a status code ("a socket error occurred").
    static func libraryMessage(_ status: Int32) -> String {
        String(cString: amqp_error_string2(status))
    }
}
