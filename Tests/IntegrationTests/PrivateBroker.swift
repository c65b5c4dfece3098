import Foundation

/// A RabbitMQ node of a test's own, for what the lab's shared broker must not undergo: stopped for
/// minutes, killed (SIGKILL) under a publishing client, restarted on the same data (durable queues
/// and persistent messages survive), frozen. Loopback only, a user with a random password
/// (`default_user`), an amqp:// port and an amqps:// port (also on 127.0.0.2) whose certificate a throwaway CA signed
/// (Tests/Fixtures/make_test_pki.sh: `ca.pem` trusted, `other-ca.pem` not). It registers with the
/// lab's epmd under a node name of its own; everything else lives in its directory, removed at the end.
final class PrivateBroker {
    let dir: String
    let node: String
    let port = freePort(SOCK_STREAM)
    let tlsPort = freePort(SOCK_STREAM)
    let distributionPort = freePort(SOCK_STREAM)
    let user = "pvtest"
    let password = UUID().uuidString.replacingOccurrences(of: "-", with: "").lowercased()
    private var server: Server?

    var caFile: String { dir + "/pki/ca.pem" }
    var otherCAFile: String { dir + "/pki/other-ca.pem" }
    /// `host`: 127.0.0.1 (in the certificate, as an IP address), localhost (as a name), or 127.0.0.2
    /// (the same broker, but a name the certificate does not carry).
    func uri(tls: Bool = false, host: String = "127.0.0.1") -> String {
        "\(tls ? "amqps" : "amqp")://\(user):\(password)@\(host):\(tls ? tlsPort : port)/%2F"
    }

    init() throws {
        let tag = UUID().uuidString.prefix(8).lowercased()
        dir = FileManager.default.temporaryDirectory.appendingPathComponent("pvit-broker-\(tag)").path
        node = "pvit-\(tag)@localhost"
        for sub in ["home", "mnesia", "log"] {
            try FileManager.default.createDirectory(atPath: dir + "/" + sub, withIntermediateDirectories: true)
        }
        let pki = try run("/bin/bash", [Lab.repo.path + "/Tests/Fixtures/make_test_pki.sh", dir + "/pki"])
        guard pki.status == 0 else { throw LabError("make_test_pki.sh failed: \(pki.output)") }
        try """
        listeners.tcp.1 = 127.0.0.1:\(port)
        listeners.ssl.1 = 127.0.0.1:\(tlsPort)
        listeners.ssl.2 = 127.0.0.2:\(tlsPort)
        ssl_options.cacertfile = \(dir)/pki/ca.pem
        ssl_options.certfile = \(dir)/pki/server.pem
        ssl_options.keyfile = \(dir)/pki/server.key
        ssl_options.verify = verify_none
        default_user = \(user)
        default_pass = \(password)
        default_permissions.configure = .*
        default_permissions.read = .*
        default_permissions.write = .*

        """.write(toFile: dir + "/rabbitmq.conf", atomically: true, encoding: .utf8)
        try "[].\n".write(toFile: dir + "/enabled_plugins", atomically: true, encoding: .utf8)
        try "".write(toFile: dir + "/rabbitmq-env.conf", atomically: true, encoding: .utf8)
        try start()
    }

    /// Starts the node on its data and waits (bounded) until it accepts connections (~5 s).
    func start() throws {
        var environment = ProcessInfo.processInfo.environment
        for (key, value) in [
            "HOME": dir + "/home", "RABBITMQ_NODENAME": node, "RABBITMQ_MNESIA_BASE": dir + "/mnesia",
            "RABBITMQ_LOG_BASE": dir + "/log", "RABBITMQ_PID_FILE": dir + "/rabbitmq.pid",
            "RABBITMQ_CONFIG_FILE": dir + "/rabbitmq.conf", "RABBITMQ_ENABLED_PLUGINS_FILE": dir + "/enabled_plugins",
            "RABBITMQ_CONF_ENV_FILE": dir + "/rabbitmq-env.conf", "RABBITMQ_DIST_PORT": "\(distributionPort)",
            "RABBITMQ_SERVER_ADDITIONAL_ERL_ARGS": "-kernel inet_dist_use_interface {127,0,0,1}",
            "ERL_EPMD_ADDRESS": "127.0.0.1", "ERL_EPMD_PORT": "4369",
            // The script then execs the Erlang VM (as under systemd) instead of waiting on it as a
            // child: the process the test holds is the broker, and a broker killed is reaped at once.
            "RUNNING_UNDER_SYSTEMD": "true",
        ] { environment[key] = value }
        let server = try Server("rabbitmq \(node)", "/usr/lib/rabbitmq/bin/rabbitmq-server", [], environment: environment)
        self.server = server
        try server.waitForLine("Starting broker... completed", timeout: 90)
    }

    /// rabbitmqctl against this node (its own cookie, under its HOME): `set_vm_memory_high_watermark
    /// 0.0001` raises a memory alarm, as a broker short of memory does; `list_connections` shows who is connected.
    func ctl(_ arguments: [String], timeout: Double = 30) throws -> RunResult {
        try run("/usr/lib/rabbitmq/bin/rabbitmqctl", ["-n", node] + arguments,
                environment: ["HOME": dir + "/home", "ERL_EPMD_ADDRESS": "127.0.0.1", "ERL_EPMD_PORT": "4369",
                              "RABBITMQ_CONF_ENV_FILE": dir + "/rabbitmq-env.conf"], timeout: timeout)
    }

    /// Signals the broker (its Erlang VM).
    func signal(_ number: Int32) {
        if let server, server.process.isRunning { kill(server.process.processIdentifier, number) }
    }

    /// Ends the node with `number` (SIGTERM: an orderly stop; SIGKILL: killed) and waits (bounded) until it is gone.
    func end(_ number: Int32 = SIGTERM) {
        guard let server, server.process.isRunning else { return }
        signal(number)
        if number != SIGKILL { signal(SIGCONT) }  // a frozen node must run to stop
        let deadline = Date().addingTimeInterval(30)
        while server.process.isRunning && Date() < deadline { usleep(20_000) }
        if server.process.isRunning { signal(SIGKILL); server.stop() }
        self.server = nil
    }

    deinit {
        end()
        try? FileManager.default.removeItem(atPath: dir)
    }
}
