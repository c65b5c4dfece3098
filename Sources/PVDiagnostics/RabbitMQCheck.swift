import PVAMQP
import PVCore

/// `rabbitmq`: log in with the configured URI and open a channel, as the
/// monitoring component does. Each failure kind has its own next step.
public enum RabbitMQCheck {
    public static let name = "rabbitmq"

    public static func evaluate(uri: String, configFile: String,
                                login: (AMQPEndpoint) -> Result<AMQPSession, AMQPError>) -> CheckResult {
        let endpoint: AMQPEndpoint
        do { endpoint = try AMQPEndpoint.parse(uri) } catch {
            return CheckResult(name: name, status: .fail, detail: error.detail, hint: "fix rabbitmq_uri in \(configFile)")
        }
        switch login(endpoint) {
        case .success(let session):
            var broker = ""
            if let product = session.product { broker = " (\(product)\(session.version.map { " " + $0 } ?? ""))" }
            let detail = "logged in as '\(endpoint.user)' to \(endpoint.display)\(broker), opened channel 1"
            if let alarm = session.blockedBy {
                return CheckResult(name: name, status: .fail, detail: detail + ", but the broker blocks publishers (its alarm: \(alarm))",
                                   hint: blockedHint(alarm))
            }
            if !session.closedCleanly {
                return CheckResult(name: name, status: .warn, detail: detail + ", but the connection did not close cleanly",
                                   hint: "read the broker's log")
            }
            return CheckResult(name: name, status: .ok, detail: detail + " and closed it")
        case .failure(let error):
            return CheckResult(name: name, status: .fail, detail: "\(endpoint.display): \(error.kind.rawValue): \(error.detail)",
                               hint: hint(error, endpoint: endpoint, configFile: configFile))
        }
    }

    /// What to do about a broker that blocks publishers (a resource alarm: it takes no message until it clears).
    static func blockedHint(_ alarm: String) -> String {
        "the broker is short of \(alarm) and takes no messages until its alarm clears: free \(alarm) on the broker's host "
            + "(rabbitmqctl status lists the alarms); pv_monitor keeps its samples in its spool meanwhile and sends them then"
    }

    static func hint(_ error: AMQPError, endpoint: AMQPEndpoint, configFile: String) -> String {
        switch error.kind {
        case .blocked: return blockedHint("memory or disk")
        case .invalidURI: return "fix rabbitmq_uri in \(configFile)"
        case .resolveFailed: return "check the host name in rabbitmq_uri (\(configFile)) and this server's DNS resolver"
        case .refused:
            return "start RabbitMQ on \(endpoint.host) (or open port \(endpoint.port) in its firewall), or fix host and port in rabbitmq_uri (\(configFile))"
        case .timedOut:
            return error.phase == .connect
                ? "a firewall drops the traffic or \(endpoint.host) is down: check the route and port \(endpoint.port)"
                : "the broker accepted the connection but did not answer: check that port \(endpoint.port) is RabbitMQ's AMQP port and that the broker is not overloaded"
        case .tlsFailed: return "check the broker's certificate against this server's CA certificates, or rabbitmq_ca_file when a private CA signed it (amqps://)"
        case .authFailed:
            return "the user or password in rabbitmq_uri (\(configFile)) is wrong: compare with the broker (rabbitmqctl authenticate_user \(endpoint.user) ...)"
        case .vhostRefused:
            return "create the virtual host or grant the user access to it (rabbitmqctl set_permissions -p VHOST \(endpoint.user) ...), or fix the vhost in rabbitmq_uri; the default vhost is written %2F"
        case .channelFailed: return "the broker refused a channel: read its log (channel_max, resource alarms)"
        case .connectionLost:
            return error.phase == .login
                ? "check the user and password in rabbitmq_uri (\(configFile)), and that port \(endpoint.port) is RabbitMQ's AMQP port"
                : "read the broker's log"
        case .other: return "read the broker's log"
        }
    }
}
