import CRabbitMQ
import PVCore
#if canImport(Glibc)
import Glibc
#endif

/// What a successful check learned about the broker.
public struct AMQPSession: Sendable, Equatable {
    /// `RabbitMQ`, from the broker's connection.start properties.
    public var product: String?
    public var version: String?
    /// False when channel.close or connection.close did not complete (the check still passed).
    public var closedCleanly: Bool
    public var milliseconds: Double
    /// The broker's alarm ("memory", "disk") when it blocked the check's probe publish: it takes
    /// no messages until the alarm clears.
    public var blockedBy: String?

    public init(product: String?, version: String?, closedCleanly: Bool, milliseconds: Double, blockedBy: String? = nil) {
        self.product = product
        self.version = version
        self.closedCleanly = closedCleanly
        self.milliseconds = milliseconds
        self.blockedBy = blockedBy
    }
}

/// One AMQP 0-9-1 round trip through rabbitmq-c: TCP (or TLS) connect with a
/// connect timeout, login with PLAIN, open channel 1, publish an empty message to nowhere (a broker
/// under a resource alarm blocks a connection only once it publishes, and then says so), close the
/// channel and the connection. Every phase is bounded by what is left of `totalTimeout`:
/// rabbitmq-c's own defaults are 12 s for the handshake and no limit at all
/// for RPCs. Nothing is shared between calls, so this is safe on any thread.
public struct AMQPLogin: Sendable {
    public var connectTimeout: Double
    public var totalTimeout: Double
    /// CA certificates for amqps:// (PEM); the system bundle when nil.
    public var caFile: String?

    public init(connectTimeout: Double = 2, totalTimeout: Double = 4, caFile: String? = nil) {
        self.connectTimeout = connectTimeout
        self.totalTimeout = totalTimeout
        self.caFile = caFile
    }

    /// Where amqps without its own CA file finds one.
    public var trustStore: TrustStore = .system

    public func check(_ endpoint: AMQPEndpoint) -> Result<AMQPSession, AMQPError> {
        let start = Monotonic.nanoseconds()
        let deadline = Deadline(secondsFromNow: totalTimeout)
        switch AMQPConnection.open(endpoint, connectTimeout: connectTimeout, totalTimeout: totalTimeout, caFile: caFile, trustStore: trustStore) {
        case .failure(let error): return .failure(error)
        case .success(let connection):
            let probe = connection.probeBlocked(within: max(0.001, Double(deadline.remainingMilliseconds) / 1000))
            // Close politely; a failure here does not undo a good login. A broker that blocks reads nothing: not waited for.
            let closed = probe.blockedBy == nil
                && connection.close(within: max(0.001, Double(deadline.remainingMilliseconds) / 1000), channelOpen: !probe.channelClosed)
            return .success(AMQPSession(product: connection.product, version: connection.version, closedCleanly: closed,
                                        milliseconds: Monotonic.milliseconds(since: start), blockedBy: probe.blockedBy))
        }
    }

    static func timeval(seconds: Double) -> Glibc.timeval {
        let s = max(0, seconds)
        return Glibc.timeval(tv_sec: Int(s), tv_usec: Int((s - s.rounded(.down)) * 1_000_000))
    }

    static func serverProperty(_ conn: amqp_connection_state_t, _ key: String) -> String? {
        var value: UnsafePointer<CChar>?
        var length = 0
        guard pv_amqp_server_property(conn, key, &value, &length) != 0, let value else { return nil }
        return value.withMemoryRebound(to: UInt8.self, capacity: length) {
            String(decoding: UnsafeBufferPointer(start: $0, count: length), as: UTF8.self)
        }
    }

    /// A failed `amqp_socket_open_noblock`. rabbitmq-c reports a refused or
    /// unreachable peer as a generic socket error; errno, when it survived,
    /// says which.
    public static func connectFailure(status: Int32, errno code: Int32, target: String, timeout: Double) -> AMQPError {
        switch status {
        case Int32(AMQP_STATUS_TIMEOUT.rawValue):
            return AMQPError(.timedOut, phase: .connect, "no TCP connection to \(target) within \(format(timeout)) s")
        case Int32(AMQP_STATUS_HOSTNAME_RESOLUTION_FAILED.rawValue):
            return AMQPError(.resolveFailed, phase: .connect, "cannot resolve the host of \(target)")
        case Int32(AMQP_STATUS_SSL_PEER_VERIFY_FAILED.rawValue), Int32(AMQP_STATUS_SSL_HOSTNAME_VERIFY_FAILED.rawValue):
            // rabbitmq-c does not say which check failed; OpenSSL checks the chain, the dates and the name together.
            return AMQPError(.tlsFailed, phase: .connect,
                             "TLS with \(target): the broker's certificate did not verify (not signed by a trusted CA, expired, or not issued for the name in rabbitmq_uri)")
        case Int32(AMQP_STATUS_SSL_ERROR.rawValue), Int32(AMQP_STATUS_SSL_CONNECTION_FAILED.rawValue):
            return AMQPError(.tlsFailed, phase: .connect, "TLS with \(target): \(AMQPError.libraryMessage(status))")
        default:
            switch code {
            case ECONNREFUSED: return AMQPError(.refused, phase: .connect, "nothing accepts connections on \(target)")
            case EHOSTUNREACH, ENETUNREACH:
                return AMQPError(.refused, phase: .connect, "\(target) is unreachable (\(String(cString: strerror(code))))")
            default:
                // rabbitmq-c reads the failure with SO_ERROR and leaves errno alone: what is
                // certain is that the peer (or a router) rejected the connection before the timeout.
                return AMQPError(.refused, phase: .connect,
                                 "\(target) refused the connection (nothing listens there, or a firewall rejects it)")
            }
        }
    }

    /// A reply that is not NORMAL: the broker closed the connection or channel
    /// with a code (403 ACCESS_REFUSED, 530 NOT_ALLOWED, ...), or the library
    /// gave up (timeout, closed socket).
    static func replyFailure(_ reply: amqp_rpc_reply_t, phase: AMQPError.Phase, endpoint: AMQPEndpoint, target: String) -> AMQPError {
        var code: UInt16 = 0
        var textPointer: UnsafePointer<CChar>?
        var textLength = 0
        let closed = pv_amqp_close_reply(reply, &code, &textPointer, &textLength)
        var text = ""
        if closed != 0, let textPointer {
            text = textPointer.withMemoryRebound(to: UInt8.self, capacity: textLength) {
                String(decoding: UnsafeBufferPointer(start: $0, count: textLength), as: UTF8.self)
            }
        }
        if reply.reply_type == AMQP_RESPONSE_SERVER_EXCEPTION {
            return classify(serverCode: code, text: text, phase: phase, endpoint: endpoint, target: target)
        }
        if reply.reply_type == AMQP_RESPONSE_LIBRARY_EXCEPTION {
            return classify(libraryStatus: reply.library_error, phase: phase, endpoint: endpoint, target: target)
        }
        return AMQPError(.other, phase: phase, "no reply from \(target)")
    }

    /// The broker's own close codes, as an operator should read them.
    public static func classify(serverCode code: UInt16, text: String, phase: AMQPError.Phase, endpoint: AMQPEndpoint,
                                target: String) -> AMQPError {
        let said = text.isEmpty ? "" : ": \(text)"
        switch code {
        case 403 where phase == .login:
            return AMQPError(.authFailed, phase: phase, "\(target) refused the login of user '\(endpoint.user)'\(said)")
        case 530, 403:
            if phase == .channel {
                return AMQPError(.channelFailed, phase: phase, "\(target) refused channel 1 (\(code))\(said)")
            }
            return AMQPError(.vhostRefused, phase: phase,
                             "\(target) refused virtual host '\(endpoint.vhost)' for user '\(endpoint.user)' (\(code))\(said)")
        default:
            let kind: AMQPError.Kind = phase == .channel ? .channelFailed : .connectionLost
            return AMQPError(kind, phase: phase, "\(target) closed the \(phase == .channel ? "channel" : "connection") (\(code))\(said)")
        }
    }

    public static func classify(libraryStatus status: Int32, phase: AMQPError.Phase, endpoint: AMQPEndpoint, target: String) -> AMQPError {
        switch status {
        case Int32(AMQP_STATUS_TIMEOUT.rawValue):
            return AMQPError(.timedOut, phase: phase, "\(target) accepted the connection but did not complete the \(phase.rawValue) in time")
        case Int32(AMQP_STATUS_CONNECTION_CLOSED.rawValue), Int32(AMQP_STATUS_SOCKET_CLOSED.rawValue),
             Int32(AMQP_STATUS_SOCKET_ERROR.rawValue), Int32(AMQP_STATUS_TCP_ERROR.rawValue):
            // Brokers without authentication_failure_close drop the socket on a bad password.
            let hint = phase == .login ? " (a broker that drops the connection during login usually refused the user or password)" : ""
            return AMQPError(.connectionLost, phase: phase, "\(target) closed the connection during \(phase.rawValue)\(hint)")
        case Int32(AMQP_STATUS_BROKER_UNSUPPORTED_SASL_METHOD.rawValue):
            return AMQPError(.authFailed, phase: phase, "\(target) does not offer the PLAIN login mechanism")
        case Int32(AMQP_STATUS_INCOMPATIBLE_AMQP_VERSION.rawValue), Int32(AMQP_STATUS_BAD_AMQP_DATA.rawValue),
             Int32(AMQP_STATUS_UNEXPECTED_STATE.rawValue), Int32(AMQP_STATUS_WRONG_METHOD.rawValue):
            return AMQPError(.connectionLost, phase: phase, "\(target) does not speak AMQP 0-9-1 (\(AMQPError.libraryMessage(status)))")
        case Int32(AMQP_STATUS_SSL_ERROR.rawValue), Int32(AMQP_STATUS_SSL_CONNECTION_FAILED.rawValue):
            return AMQPError(.tlsFailed, phase: phase, "TLS with \(target): \(AMQPError.libraryMessage(status))")
        default:
            return AMQPError(.other, phase: phase, "\(target): \(AMQPError.libraryMessage(status))")
        }
    }

    static func format(_ seconds: Double) -> String {
        let tenths = Int((seconds * 10).rounded())
        return "\(tenths / 10).\(tenths % 10)"
    }
}
