import Dispatch
import FlyingFox
import FlyingSocks
import Foundation
import PVCore
import PVMonitor
import Synchronization

/// pv_monitor's pull endpoint on `monitor_listen` (FlyingFox's HTTP server):
/// - `GET /metrics`: the last sample in the Prometheus text format (`MetricsExposition`);
/// - `GET /api/v1/rps?name=NAME`: the RPS tab's search over the kept history (`MonitorHistory`), as
///   JSON; over the last intervals kept in memory when the history cannot be read.
/// It serves from what the daemon's loop published last, so a slow or stuck client never delays
/// an interval; each connection is bounded by FlyingFox's timeout.
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
    let server: HTTPServer
    let published = Mutex(Published())

    public init(listen: MonitorListen, historyLimit: Int = 360, historyPath: String? = nil, timeout: Double = 10) throws(PVError) {
        self.listen = listen
        self.historyPath = historyPath
        self.historyLimit = max(1, historyLimit)
        do {
            if listen.isIPv6 {
                server = HTTPServer(address: try sockaddr_in6.inet6(ip6: listen.address, port: listen.port), timeout: timeout, logger: .disabled)
            } else {
                server = HTTPServer(address: try sockaddr_in.inet(ip4: listen.address, port: listen.port), timeout: timeout, logger: .disabled)
            }
        } catch {
            throw PVError(.usage, "monitor_listen \(listen) is not an address pv_monitor can listen on", cause: "\(error)")
        }
    }

    /// A new interval: its metrics replace the last ones; it joins the searched intervals.
    public func publish(_ sample: MonitorSample) {
        let text = MetricsExposition(sample: sample).text()
        published.withLock { state in
            state.metrics = text
            state.samples.append(sample)
            if state.samples.count > historyLimit { state.samples.removeFirst(state.samples.count - historyLimit) }
        }
    }

    /// Starts serving; nil once it listens, or why it cannot (the address taken, not this host's),
    /// within `timeout` seconds.
    public func start(timeout: Double = 5) -> PVError? {
        let failure = StartFailure()
        let settled = DispatchSemaphore(value: 0)
        let server = self.server
        Task {
            await self.addRoutes()
            do { try await server.run() } catch {
                failure.cause.withLock { $0 = "\(error)" }
                settled.signal()
            }
        }
        Task {
            do { try await server.waitUntilListening(timeout: timeout) } catch { failure.cause.withLock { $0 = $0 ?? "not listening after \(timeout) s" } }
            settled.signal()
        }
        if settled.wait(timeout: .now() + timeout + 1) == .timedOut { failure.cause.withLock { $0 = $0 ?? "not listening after \(timeout) s" } }
        if let cause = failure.cause.withLock({ $0 }) {
            return PVError(.unavailable, "cannot serve /metrics on \(listen)", hint: "free the port, or set monitor_listen to another ADDRESS:PORT (or off)",
                           cause: cause)
        }
        return nil
    }

    /// Stops listening (connections in flight end at their timeout).
    public func stop() {
        let done = DispatchSemaphore(value: 0)
        let server = self.server
        Task { await server.stop(timeout: 1); done.signal() }
        _ = done.wait(timeout: .now() + 3)
    }

    func addRoutes() async {
        await server.appendRoute("GET /metrics") { [self] _ in
            let text = published.withLock { $0.metrics }
            return FlyingFox.HTTPResponse(statusCode: .ok, headers: [.contentType: "text/plain; version=0.0.4; charset=utf-8"], body: Data(text.utf8))
        }
        await server.appendRoute("GET /api/v1/rps") { [self] request in
            guard let name = request.query["name"], let wanted = RecordSearch.normalized(name) else {
                return Self.json(.badRequest, PVCore.JSONValue.object([("error", PVCore.JSONValue.string("name a DNS record: /api/v1/rps?name=www.example.com"))]))
            }
            // The kept history when it can be read; the intervals in memory otherwise.
            if let historyPath, let history = try? MonitorHistory(path: historyPath, readOnly: true),
               let samples = try? history.samples(named: wanted) {
                return Self.json(.ok, RecordSearch.answer(name: wanted, samples: samples, searched: history.intervalCount()))
            }
            let samples = published.withLock { $0.samples }
            return Self.json(.ok, RecordSearch.answer(name: wanted, samples: samples))
        }
    }

    static func json(_ status: HTTPStatusCode, _ value: PVCore.JSONValue) -> FlyingFox.HTTPResponse {
        FlyingFox.HTTPResponse(statusCode: status, headers: [.contentType: "application/json"], body: Data((value.rendered + "\n").utf8))
    }
}

/// Why the server did not start, set by whichever of its tasks learns it first.
final class StartFailure: Sendable {
    let cause = Mutex<String?>(nil)
}
