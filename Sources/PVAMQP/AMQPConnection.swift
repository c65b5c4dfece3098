import CRabbitMQ
import PVCore
#if canImport(Glibc)
import Glibc
#endif

/// An open AMQP 0-9-1 connection through rabbitmq-c with channel 1 open: TCP (or TLS, verified)
/// connected within a connect timeout, logged in with PLAIN (announcing the connection.blocked
/// capability), every phase bounded by what is left of a total: rabbitmq-c's own defaults are 12 s
/// for the handshake and no limit at all for RPCs and writes, so its socket guard shuts the socket
/// down at the bound whatever rabbitmq-c waits on. The diagnostics' check (`AMQPLogin`) and the
/// monitoring publisher (`AMQPPublisher`) open theirs here.
/// One owner at a time (not shared between threads; only the guard is); closed and freed on deinit.
public final class AMQPConnection {
    let state: amqp_connection_state_t
    public let socketGuard: AMQPSocketGuard
    /// The socket's descriptor once connected (-1 before).
    var fd: Int32 = -1
    public let endpoint: AMQPEndpoint
    /// `host:port` as messages name it (never the password).
    public let target: String
    /// `RabbitMQ` and its version, from the broker's connection.start properties.
    public private(set) var product: String?
    public private(set) var version: String?
    var open = true

    /// OpenSSL once per process, without the host's openssl.cnf (see CCurl's shim).
    static let openSSLSetup: Bool = pv_amqp_openssl_init_without_config() == 1

    private init(state: amqp_connection_state_t, endpoint: AMQPEndpoint, target: String, socketGuard: AMQPSocketGuard) {
        self.state = state
        self.endpoint = endpoint
        self.target = target
        self.socketGuard = socketGuard
    }

    deinit {
        socketGuard.detach(fd)
        amqp_destroy_connection(state)
    }

    /// Connects, logs in and opens channel 1, or says why not. `socketGuard`: one the caller can
    /// cut from another thread (a stop), or a connection's own.
    public static func open(_ endpoint: AMQPEndpoint, connectTimeout: Double, totalTimeout: Double, caFile: String?,
                            trustStore: TrustStore = .system, socketGuard: AMQPSocketGuard = AMQPSocketGuard()) -> Result<AMQPConnection, AMQPError> {
        let deadline = Deadline(secondsFromNow: totalTimeout)
        guard !socketGuard.isCut else { return .failure(AMQPError(.other, phase: .connect, "stopping")) }
        guard let state = amqp_new_connection() else { return .failure(AMQPError(.other, phase: .connect, "out of memory")) }
        let target = "\(endpoint.host.contains(":") ? "[\(endpoint.host)]" : endpoint.host):\(endpoint.port)"
        let connection = AMQPConnection(state: state, endpoint: endpoint, target: target, socketGuard: socketGuard)
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

        connection.fd = amqp_get_sockfd(state)
        socketGuard.attach(connection.fd)

        // Login: the handshake (protocol header, start/tune/open) within what is left; its writes
        // too (the guard, a little later than rabbitmq-c's own timeouts, which name the phase).
        connection.bound(by: deadline)
        socketGuard.arm(Double(deadline.remainingMilliseconds) / 1000 + Self.guardGrace)
        defer { socketGuard.disarm() }
        let login = pv_amqp_login_plain(state, endpoint.vhost, 1, Int32(AMQP_DEFAULT_FRAME_SIZE), 0, endpoint.user, endpoint.password)
        if login.reply_type != AMQP_RESPONSE_NORMAL {
            return .failure(connection.failure(login, phase: .login))
        }
        connection.open = true
        connection.product = AMQPLogin.serverProperty(state, "product")
        connection.version = AMQPLogin.serverProperty(state, "version")

        connection.bound(by: deadline)
        if amqp_channel_open(state, 1) == nil {
            return .failure(connection.failure(amqp_get_rpc_reply(state), phase: .channel))
        }
        return .success(connection)
    }

    /// How much later than rabbitmq-c's own handshake and RPC timeouts the guard cuts: those come
    /// first when the broker is silent (and say so); the guard bounds what they do not (writes).
    static let guardGrace = 0.5

    /// Why an RPC failed: stopping (the guard was cut), no answer in time (the guard's deadline
    /// shut the socket), or the broker's or the library's reason.
    func failure(_ reply: amqp_rpc_reply_t, phase: AMQPError.Phase) -> AMQPError {
        if socketGuard.isCut { return AMQPError(.other, phase: phase, "stopping") }
        if socketGuard.expired {
            return AMQPLogin.classify(libraryStatus: Int32(AMQP_STATUS_TIMEOUT.rawValue), phase: phase, endpoint: endpoint, target: target)
        }
        return AMQPLogin.replyFailure(reply, phase: phase, endpoint: endpoint, target: target)
    }

    /// Every RPC and the handshake from now on within what is left of `deadline`.
    func bound(by deadline: Deadline) {
        var tv = Self.timeval(seconds: max(0.001, Double(deadline.remainingMilliseconds) / 1000))
        _ = amqp_set_handshake_timeout(state, &tv)
        _ = amqp_set_rpc_timeout(state, &tv)
    }

    /// Closes channel 1 (unless `channelOpen` is false: already closed) and the connection politely
    /// within `seconds`; false when either did not complete.
    @discardableResult
    public func close(within seconds: Double, channelOpen: Bool = true) -> Bool {
        guard open else { return false }
        open = false
        bound(by: Deadline(secondsFromNow: seconds))
        socketGuard.arm(seconds + Self.guardGrace)
        defer { socketGuard.disarm() }
        let channelClosed = !channelOpen || amqp_channel_close(state, 1, AMQP_REPLY_SUCCESS).reply_type == AMQP_RESPONSE_NORMAL
        return channelClosed && amqp_connection_close(state, AMQP_REPLY_SUCCESS).reply_type == AMQP_RESPONSE_NORMAL
    }

    /// The broker's alarm ("memory", "disk") when it blocks this connection's publishing, else nil:
    /// an empty message to nowhere (a broker under a resource alarm blocks a connection only once
    /// it publishes), then channel 1 closed and its close-ok awaited, within `seconds`. A broker
    /// that blocks answers connection.blocked instead (and reads nothing more: the connection is
    /// then only dropped, not closed politely). `channelClosed`: the close-ok came.
    public func probeBlocked(within seconds: Double) -> (blockedBy: String?, channelClosed: Bool) {
        let deadline = Deadline(secondsFromNow: seconds)
        socketGuard.arm(seconds + Self.guardGrace)
        defer { socketGuard.disarm() }
        guard pv_amqp_publish_probe(state, 1, "pv_diagnostics.probe") == Int32(AMQP_STATUS_OK.rawValue),
              pv_amqp_send_channel_close(state, 1) == Int32(AMQP_STATUS_OK.rawValue) else { return (nil, false) }
        while !deadline.hasPassed {
            var frame = amqp_frame_t()
            var tv = Self.timeval(seconds: max(0.001, Double(deadline.remainingMilliseconds) / 1000))
            guard amqp_simple_wait_frame_noblock(state, &frame, &tv) == Int32(AMQP_STATUS_OK.rawValue) else { break }
            var tag: UInt64 = 0
            var multiple: Int32 = 0
            var reason: UnsafePointer<CChar>?
            var length = 0
            let kind = pv_amqp_frame_confirm(&frame, &tag, &multiple, &reason, &length)
            let text = reason.map { AMQPConnection.text($0, length) } ?? ""
            amqp_maybe_release_buffers(state)
            switch kind {
            case 5:
                open = false
                return (Self.alarm(text), false)
            case 7: return (nil, true)
            case 4 where frame.channel == 1:
                // The broker closed the channel (it refused the probe: no write permission on the
                // default exchange, say): it does not block, and the channel is closed once answered.
                return (nil, pv_amqp_send_channel_close_ok(state, 1) == Int32(AMQP_STATUS_OK.rawValue))
            case 4:
                open = false
                return (nil, false)
            default: continue
            }
        }
        return (nil, false)
    }

    /// The resource of a connection.blocked reason ("low on memory" -> "memory", "low on memory &
    /// disk" -> "memory and disk"); a reason of another form as the broker gave it, printable and short.
    public static func alarm(_ reason: String) -> String {
        let printable = String(reason.unicodeScalars.filter { $0.value >= 0x20 && $0.value < 0x7f }.prefix(80).map(Character.init))
        let resource = printable.hasPrefix("low on ") ? printable.dropFirst(7).split(separator: " & ").joined(separator: " and ") : printable
        return resource.isEmpty ? "not named" : resource
    }

    static func text(_ pointer: UnsafePointer<CChar>, _ length: Int) -> String {
        pointer.withMemoryRebound(to: UInt8.self, capacity: length) {
            String(decoding: UnsafeBufferPointer(start: $0, count: length), as: UTF8.self)
        }
    }

    static func timeval(seconds: Double) -> Glibc.timeval { AMQPLogin.timeval(seconds: seconds) }
}
