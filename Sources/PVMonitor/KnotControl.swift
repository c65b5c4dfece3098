import CKnot
import PVCore
import Synchronization
#if canImport(Glibc)
import Glibc
#endif

/// Knot's control socket through libknot's own client (`knot_ctl`, what knotc uses): the zones it
/// serves, and the `stats` and `zone-stats` counters of the server and of mod-stats (request
/// protocol, operation, response code, query type, sizes), by name: `mod-stats.request-protocol[udp4]`.
public enum KnotControl {
    /// One data item of an answer (libknot's `knot_ctl_data_t`, the fields pv_monitor reads).
    public struct Row: Sendable, Equatable {
        public var zone: String?
        public var section: String?
        public var item: String?
        public var id: String?
        public var value: String?
    }

    /// The server's counters (`stats`), zero ones included.
    public static func stats(socket path: String, timeout: Double = 2) -> Result<[String: Int64], PVError> {
        request("stats", socket: path, timeout: timeout).map { counters($0.filter { $0.zone == nil }) }
    }

    /// Each zone's mod-stats counters (`zone-stats` of every zone), only those above zero: a server
    /// with thousands of zones would otherwise send a hundred zeros for each.
    public static func zoneStats(socket path: String, timeout: Double = 2) -> Result<[String: [String: Int64]], PVError> {
        request("zone-stats", socket: path, timeout: timeout, force: false).map { rows in
            Dictionary(grouping: rows.filter { $0.zone != nil }, by: { $0.zone! }).mapValues(counters)
        }
    }

    /// The zones Knot serves (`zone-status`), as their names end with the root label: `example.com.`.
    public static func zones(socket path: String, timeout: Double = 2) -> Result<[String], PVError> {
        request("zone-status", socket: path, timeout: timeout, force: false).map { rows in
            Array(Set(rows.compactMap(\.zone))).sorted()
        }
    }

    /// `section.item[id]` = value, for the rows whose value is a number.
    static func counters(_ rows: [Row]) -> [String: Int64] {
        var out: [String: Int64] = [:]
        for row in rows {
            guard let section = row.section, let item = row.item, let value = row.value.flatMap({ Int64($0) }) else { continue }
            out["\(section).\(item)" + (row.id.map { "[\($0)]" } ?? "")] = value
        }
        return out
    }

    /// One command and its whole answer (at most `maxRows` items), all of it within `timeout`
    /// seconds: libknot bounds each read (set to the same), a `RequestDeadline` the whole (a peer
    /// that sends a row every 1.5 s would otherwise hold the interval loop for ever).
    /// `force`: the F flag, which for the stats commands also lists the counters that are zero,
    /// so a quiet server says 0, not nothing.
    public static func request(_ command: String, socket path: String, timeout: Double = 2, force: Bool = true,
                               maxRows: Int = 200_000) -> Result<[Row], PVError> {
        // One at a time: the deadline finds the request's socket as the one client socket that
        // appeared while libknot connected.
        requests.withLock { _ in requestAlone(command, socket: path, timeout: timeout, force: force, maxRows: maxRows) }
    }

    static let requests = Mutex(())

    static func requestAlone(_ command: String, socket path: String, timeout: Double, force: Bool, maxRows: Int) -> Result<[Row], PVError> {
        guard let ctx = knot_ctl_alloc() else { return .failure(PVError(.osError, "knot_ctl_alloc failed")) }
        let deadline = RequestDeadline(seconds: timeout)
        let result = exchange(ctx, command, socket: path, timeout: timeout, force: force, maxRows: maxRows, deadline: deadline)
        // Ended before its socket is closed (by knot_ctl_free), so that the deadline never shuts
        // down a descriptor that has become another's.
        deadline.finish()
        knot_ctl_free(ctx)
        return result
    }

    static func exchange(_ ctx: OpaquePointer, _ command: String, socket path: String, timeout: Double, force: Bool, maxRows: Int,
                         deadline: RequestDeadline) -> Result<[Row], PVError> {
        func timedOut(_ received: Int) -> PVError {
            PVError(.unavailable, "Knot's control socket \(path) did not answer \(command) within \(Self.seconds(timeout)) s"
                    + (received > 0 ? " (\(received) rows by then)" : ""))
        }
        knot_ctl_set_timeout(ctx, Int32(max(1, timeout * 1000)))
        let before = ClientSockets.connectedUnnamed()
        let connected = knot_ctl_connect(ctx, path)
        guard connected == KNOT_EOK.rawValue else {
            return .failure(PVError(.unavailable, "cannot connect to Knot's control socket \(path): \(describe(connected))"))
        }
        let appeared = ClientSockets.connectedUnnamed().subtracting(before)
        if appeared.count == 1, let fd = appeared.first { deadline.watch(fd) }
        let commandText = strdup(command), flags = strdup(force ? "F" : "")
        defer { free(commandText); free(flags) }
        var request: knot_ctl_data_t = (nil, nil, nil, nil, nil, nil, nil, nil, nil, nil, nil, nil)
        request.0 = UnsafePointer(commandText)
        request.1 = UnsafePointer(flags)
        guard knot_ctl_send(ctx, KNOT_CTL_TYPE_DATA, &request) == KNOT_EOK.rawValue,
              knot_ctl_send(ctx, KNOT_CTL_TYPE_BLOCK, nil) == KNOT_EOK.rawValue else {
            return .failure(deadline.expired ? timedOut(0) : PVError(.unavailable, "cannot send to Knot's control socket \(path)"))
        }
        var rows: [Row] = []
        while rows.count < maxRows {
            // Between rows too: where the socket could not be found, the reads' own bound is all.
            if deadline.expired { return .failure(timedOut(rows.count)) }
            var type = KNOT_CTL_TYPE_END
            var data: knot_ctl_data_t = (nil, nil, nil, nil, nil, nil, nil, nil, nil, nil, nil, nil)
            let received = knot_ctl_receive(ctx, &type, &data)
            guard received == KNOT_EOK.rawValue else {
                if deadline.expired || received == KNOT_ETIMEOUT.rawValue { return .failure(timedOut(rows.count)) }
                return .failure(PVError(.unavailable, "Knot's control socket \(path): \(describe(received))"))
            }
            if type == KNOT_CTL_TYPE_BLOCK || type == KNOT_CTL_TYPE_END { break }
            func text(_ p: UnsafePointer<CChar>?) -> String? { p.map { String(cString: $0) } }
            if let error = text(data.2) {
                // A zone's own error (a zone without mod-stats) leaves the others' answer whole.
                if data.6 != nil { continue }
                return .failure(PVError(.unavailable, "Knot refused \(command): \(String(error.prefix(200)).escapingControlsInline)"))
            }
            rows.append(Row(zone: text(data.6), section: text(data.3), item: text(data.4), id: text(data.5), value: text(data.10)))
        }
        _ = knot_ctl_send(ctx, KNOT_CTL_TYPE_END, nil)
        return .success(rows)
    }

    /// Seconds as the messages say them: 2, 0.5.
    static func seconds(_ value: Double) -> String {
        value == value.rounded() ? String(Int(value)) : String((value * 100).rounded() / 100)
    }

    /// libknot's error code as text, without knot_strerror: that one's object also names LMDB's
    /// and libdnssec's messages, which a static pv_monitor (the bundle's) cannot link. Codes
    /// above -500 are negated errno values; the control client's own are timeout and connection.
    static func describe(_ code: Int32) -> String {
        if code > KNOT_ERRNO_ERROR.rawValue { return String(cString: strerror(-code)) }
        if code == KNOT_ETIMEOUT.rawValue { return "timed out" }
        if code == KNOT_ECONN.rawValue { return "connection failed" }
        return "libknot error \(code)"
    }
}
