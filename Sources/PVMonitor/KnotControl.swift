import CKnot
import PVCore
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

    /// One command and its whole answer (at most `maxRows` items), bounded by `timeout` per read.
    /// `force`: the F flag, which for the stats commands also lists the counters that are zero,
    /// so a quiet server says 0, not nothing.
    public static func request(_ command: String, socket path: String, timeout: Double = 2, force: Bool = true,
                               maxRows: Int = 200_000) -> Result<[Row], PVError> {
        guard let ctx = knot_ctl_alloc() else { return .failure(PVError(.osError, "knot_ctl_alloc failed")) }
        defer { knot_ctl_free(ctx) }
        knot_ctl_set_timeout(ctx, Int32(timeout * 1000))
        let connected = knot_ctl_connect(ctx, path)
        guard connected == KNOT_EOK.rawValue else {
            return .failure(PVError(.unavailable, "cannot connect to Knot's control socket \(path): \(describe(connected))"))
        }
        defer { knot_ctl_close(ctx) }
        let commandText = strdup(command), flags = strdup(force ? "F" : "")
        defer { free(commandText); free(flags) }
        var request: knot_ctl_data_t = (nil, nil, nil, nil, nil, nil, nil, nil, nil, nil, nil, nil)
        request.0 = UnsafePointer(commandText)
        request.1 = UnsafePointer(flags)
        guard knot_ctl_send(ctx, KNOT_CTL_TYPE_DATA, &request) == KNOT_EOK.rawValue,
              knot_ctl_send(ctx, KNOT_CTL_TYPE_BLOCK, nil) == KNOT_EOK.rawValue else {
            return .failure(PVError(.unavailable, "cannot send to Knot's control socket \(path)"))
        }
        var rows: [Row] = []
        while rows.count < maxRows {
            var type = KNOT_CTL_TYPE_END
            var data: knot_ctl_data_t = (nil, nil, nil, nil, nil, nil, nil, nil, nil, nil, nil, nil)
            let received = knot_ctl_receive(ctx, &type, &data)
            guard received == KNOT_EOK.rawValue else {
                return .failure(PVError(.unavailable, "Knot's control socket \(path): \(describe(received))"))
            }
            if type == KNOT_CTL_TYPE_BLOCK || type == KNOT_CTL_TYPE_END { break }
            func text(_ p: UnsafePointer<CChar>?) -> String? { p.map { String(cString: $0) } }
            if let error = text(data.2) {
                // A zone's own error (a zone without mod-stats) leaves the others' answer whole.
                if data.6 != nil { continue }
                return .failure(PVError(.unavailable, "Knot refused \(command): \(error)"))
            }
            rows.append(Row(zone: text(data.6), section: text(data.3), item: text(data.4), id: text(data.5), value: text(data.10)))
        }
        _ = knot_ctl_send(ctx, KNOT_CTL_TYPE_END, nil)
        return .success(rows)
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
