import PVCore
import PVMonitor
import Synchronization

/// pv_monitor's pull endpoint on `monitor_listen` (`PullServer`: POSIX sockets, GET only):
/// - `GET /metrics`: the last sample in the Prometheus text format (`MetricsExposition`);
/// - `GET /api/v1/rps?name=NAME`: the RPS tab's search over the kept history (`MonitorHistory`), as
///   JSON; over the last intervals kept in memory when the history cannot be read.
/// It serves from what the daemon's loop published last, so a slow or stuck client never delays
/// an interval; each connection is bounded by `timeout` seconds, 8 KiB of request and 16 at once.
public final class MonitorEndpoint: Sendable {
    struct Published {
        var metrics = "# no sample yet: pv_monitor publishes one per interval\n"
        var samples: [MonitorSample] = []
    }

    public let listen: MonitorListen
    /// Intervals kept in memory for the RPS search when the history cannot be read.
    public let historyLimit: Int
    /// The kept history the RPS search reads (its own read-only connection per request), when there is one.
    public let historyPath: String?
    let server: PullServer
    /// What the loop published last, shared with the server's connections.
    final class Box: Sendable { let state = Mutex(Published()) }
    let published: Box

    public init(listen: MonitorListen, historyLimit: Int = 360, historyPath: String? = nil, timeout: Double = 10) throws(PVError) {
        self.listen = listen
        self.historyPath = historyPath
        self.historyLimit = max(1, historyLimit)
        guard PullServer.isAddress(listen.address, ipv6: listen.isIPv6) else {
            throw PVError(.usage, "monitor_listen \(listen) is not an address pv_monitor can listen on")
        }
        let published = Box()
        self.published = published
        server = PullServer(timeout: timeout) { request in Self.answer(request, published: published, historyPath: historyPath) }
    }

    /// A new interval: its metrics replace the last ones; it joins the searched intervals.
    public func publish(_ sample: MonitorSample) {
        let text = MetricsExposition(sample: sample).text()
        published.state.withLock { state in
            state.metrics = text
            state.samples.append(sample)
            if state.samples.count > historyLimit { state.samples.removeFirst(state.samples.count - historyLimit) }
        }
    }

    /// Starts serving; nil once it listens, or why it cannot (the address taken, not this host's).
    public func start() -> PVError? {
        guard let cause = server.start(address: listen.address, port: listen.port, ipv6: listen.isIPv6) else { return nil }
        return PVError(.unavailable, "cannot serve /metrics on \(listen)", hint: "free the port, or set monitor_listen to another ADDRESS:PORT (or off)",
                       cause: cause)
    }

    /// The port it listens on (the kernel's choice when `listen` says port 0); nil when not listening.
    public var boundPort: UInt16? { server.boundPort }

    /// Stops listening (connections in flight end at their timeout).
    public func stop() { server.stop() }

    static func answer(_ request: PullServer.Request, published: Box, historyPath: String?) -> PullServer.Response {
        switch request.path {
        case "/metrics":
            return PullServer.Response(200, "text/plain; version=0.0.4; charset=utf-8", published.state.withLock { $0.metrics })
        case "/api/v1/rps":
            guard let name = request.query["name"], let wanted = RecordSearch.normalized(name) else {
                return json(400, .object([("error", .string("name a DNS record: /api/v1/rps?name=www.example.com"))]))
            }
            // The kept history when it can be read; the intervals in memory otherwise.
            if let historyPath, let history = try? MonitorHistory(path: historyPath, readOnly: true),
               let samples = try? history.samples(named: wanted) {
                return json(200, RecordSearch.answer(name: wanted, samples: samples, searched: history.intervalCount()))
            }
            return json(200, RecordSearch.answer(name: wanted, samples: published.state.withLock { $0.samples }))
        default:
            return .text(404, "not found: /metrics and /api/v1/rps?name= are served")
        }
    }

    static func json(_ status: Int, _ value: PVCore.JSONValue) -> PullServer.Response {
        PullServer.Response(status, "application/json", value.rendered + "\n")
    }
}
