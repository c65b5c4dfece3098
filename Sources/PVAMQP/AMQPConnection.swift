import CRabbitMQ
import PVCore
#if canImport(Glibc)
import Glibc
#endif

/// An open AMQP 0-9-1 connection through rabbitmq-c with channel 1 open: TCP (or TLS, verified)
/// connected within a connect timeout, logged in with PLAIN, every phase bounded by what is left of
/// a total: rabbitmq-c's own defaults are 12 s for the handshake and no limit at all for RPCs.
/// The diagnostics' check (`AMQPLogin`) and the monitoring publisher (`AMQPPublisher`) open theirs here.
/// One owner at a time (not shared between threads); closed and freed on deinit.
public final class AMQPConnection {
    let state: amqp_connection_state_t
    public let endpoint: AMQPEndpoint
    /// `host:port` as messages name it (never the password).
    public let target: String
    /// `RabbitMQ` and its version, from the broker's connection.start properties.
    public private(set) var product: String?
    public private(set) var version: String?
    var open = true

    /// OpenSSL once per process, without the host's openssl.cnf (see CCurl's shim).
    static let openSSLSetup: Bool = pv_amqp_openssl_init_without_config() == 1

    private init(state: amqp_connection_state_t, endpoint: AMQPEndpoint, target: String) {
        self.state = state
        self.endpoint = endpoint
        self.target = target
    }

    deinit { amqp_destroy_connection(state) }

    /// Connects, logs in and opens channel 1, or says why not.
    public static func open(_ endpoint: AMQPEndpoint, connectTimeout: Double, totalTimeout: Double, caFile: String?,
                            trustStore: TrustStore = .system) -> Result<AMQPConnection, AMQPError> {
        let deadline = Deadline(secondsFromNow: totalTimeout)
        guard let state = amqp_new_connection() else { return .failure(AMQPError(.other, phase: .connect, "out of memory")) }
        let target = "\(endpoint.host.contains(":") ? "[\(endpoint.host)]" : endpoint.host):\(endpoint.port)"
        let connection = AMQPConnection(state: state, endpoint: endpoint, target: target)
        connection.open = false

        let socket: OpaquePointer?
        if endpoint.tls {
            guard openSSLSetup else { return .failure(AMQPError(.other, phase: .connect, "OpenSSL could not be initialised")) }
            socket = amqp_ssl_socket_new(state)
            if let socket {
                amqp_ssl_socket_set_verify_peer(socket, 1)
                // The name is checked by OpenSSL in the chain verification (IP addresses too), not by rabbitmq-c.
                amqp_ssl_socket_set_verify_hostname(socket, 0)
                guard pv_amqp_ssl_expect_peer(socket, endpoint.host) == 1 else {
                    return .failure(AMQPError(.tlsFailed, phase: .connect, "cannot set the broker's name \(endpoint.host) for TLS verification"))
                }
                guard let bundle = trustStore.caFile(configured: caFile) else {
                    return .failure(AMQPError(.tlsFailed, phase: .connect, "\(trustStore.notFoundMessage); \(TrustStore.notFoundHint(setting: "rabbitmq_ca_file"))"))
                }
                if amqp_ssl_socket_set_cacert(socket, bundle) != Int32(AMQP_STATUS_OK.rawValue) {
                    return .failure(AMQPError(.tlsFailed, phase: .connect, "cannot load CA certificates from \(bundle)"))
                }
            }
        } else {
            socket = amqp_tcp_socket_new(state)
        }
        guard let socket else { return .failure(AMQPError(.other, phase: .connect, "cannot create a socket")) }

        var tv = timeval(seconds: min(connectTimeout, Double(deadline.remainingMilliseconds) / 1000))
        errno = 0
        let opened = amqp_socket_open_noblock(socket, endpoint.host, Int32(endpoint.port), &tv)
        let connectErrno = errno
        if opened != Int32(AMQP_STATUS_OK.rawValue) {
            return .failure(AMQPLogin.connectFailure(status: opened, errno: connectErrno, target: target,
                                                     timeout: min(connectTimeout, totalTimeout)))
        }

        // Login: the handshake (protocol header, start/tune/open) within what is left.
        connection.bound(by: deadline)
        let login = pv_amqp_login_plain(state, endpoint.vhost, 1, Int32(AMQP_DEFAULT_FRAME_SIZE), 0, endpoint.user, endpoint.password)
        if login.reply_type != AMQP_RESPONSE_NORMAL {
            return .failure(AMQPLogin.replyFailure(login, phase: .login, endpoint: endpoint, target: target))
        }
        connection.open = true
        connection.product = AMQPLogin.serverProperty(state, "product")
        connection.version = AMQPLogin.serverProperty(state, "version")

        connection.bound(by: deadline)
        if amqp_channel_open(state, 1) == nil {
            return .failure(AMQPLogin.replyFailure(amqp_get_rpc_reply(state), phase: .channel, endpoint: endpoint, target: target))
        }
        return .success(connection)
    }

    /// Every RPC and the handshake from now on within what is left of `deadline`.
    func bound(by deadline: Deadline) {
        var tv = Self.timeval(seconds: max(0.001, Double(deadline.remainingMilliseconds) / 1000))
        _ = amqp_set_handshake_timeout(state, &tv)
        _ = amqp_set_rpc_timeout(state, &tv)
    }

    /// Closes channel 1 and the connection politely within `seconds`; false when either did not complete.
    @discardableResult
    public func close(within seconds: Double) -> Bool {
        guard open else { return false }
        open = false
        bound(by: Deadline(secondsFromNow: seconds))
        let channelClosed = amqp_channel_close(state, 1, AMQP_REPLY_SUCCESS).reply_type == AMQP_RESPONSE_NORMAL
        return channelClosed && amqp_connection_close(state, AMQP_REPLY_SUCCESS).reply_type == AMQP_RESPONSE_NORMAL
    }

    static func timeval(seconds: Double) -> Glibc.timeval { AMQPLogin.timeval(seconds: seconds) }
}
