import PVCore
import CRabbitMQ
#if canImport(Glibc)
import Glibc
#endif

/// Where and as whom to log in, parsed from `rabbitmq_uri` by rabbitmq-c's own
/// `amqp_parse_url` (which also percent-decodes: `%2F` is the default vhost `/`).
public struct AMQPEndpoint: Sendable, Equatable {
    public var host: String
    public var port: Int
    public var user: String
    public var password: String
    public var vhost: String
    public var tls: Bool

    public init(host: String, port: Int, user: String, password: String, vhost: String, tls: Bool) {
        self.host = host
        self.port = port
        self.user = user
        self.password = password
        self.vhost = vhost
        self.tls = tls
    }

    /// Parses an `amqp://` or `amqps://` URI. The error never repeats the URI:
    /// it holds the password.
    public static func parse(_ uri: String) throws(AMQPError) -> AMQPEndpoint {
        // amqp_parse_url writes into the buffer and points the fields into it.
        var buffer = Array(uri.utf8CString)
        var info = amqp_connection_info()
        let status = buffer.withUnsafeMutableBufferPointer { amqp_parse_url($0.baseAddress, &info) }
        guard status == Int32(AMQP_STATUS_OK.rawValue) else {
            throw AMQPError(.invalidURI, "rabbitmq_uri is not a valid amqp:// or amqps:// URI (\(AMQPError.libraryMessage(status)))")
        }
        func text(_ p: UnsafeMutablePointer<CChar>?) -> String { p.map { String(cString: $0) } ?? "" }
        // The pointers point into `buffer`, which is alive for this whole scope.
        return withExtendedLifetime(buffer) {
            AMQPEndpoint(host: text(info.host), port: Int(info.port), user: text(info.user),
                         password: text(info.password), vhost: text(info.vhost), tls: info.ssl != 0)
        }
    }

    /// The endpoint as an operator may see it: user, host, port and vhost, never the password.
    public var display: String {
        let hostPart = host.contains(":") ? "[\(host)]" : host
        return "\(tls ? "amqps" : "amqp")://\(user.isEmpty ? "" : user + "@")\(hostPart):\(port)/\(Self.encodeVhost(vhost))"
    }

    static func encodeVhost(_ vhost: String) -> String {
        PercentEncoding.encode(vhost)
    }
}
