import CKnot
import PVCore
#if canImport(Glibc)
import Glibc
#endif

/// Knot's control socket through libknot's own client (`knot_ctl`, what knotc uses): the `stats`
/// counters of the server and of mod-stats (request protocol, operation, response code, query
/// type, sizes), by name: `mod-stats.request-protocol[udp4]`.
public enum KnotControl {
    public static func stats(socket path: String, timeout: Double = 2) -> Result<[String: Int64], PVError> {
        guard let ctx = knot_ctl_alloc() else { return .failure(PVError(.osError, "knot_ctl_alloc failed")) }
        defer { knot_ctl_free(ctx) }
        knot_ctl_set_timeout(ctx, Int32(timeout * 1000))
        let connected = knot_ctl_connect(ctx, path)
        guard connected == KNOT_EOK.rawValue else {
            return .failure(PVError(.unavailable, "cannot connect to Knot's control socket \(path): \(String(cString: knot_strerror(connected)))"))
        }
        defer { knot_ctl_close(ctx) }
        // "stats" with the force flag: zero counters too, so a quiet server says 0, not nothing.
        let command = strdup("stats"), flags = strdup("F")
        defer { free(command); free(flags) }
        var request: knot_ctl_data_t = (nil, nil, nil, nil, nil, nil, nil, nil, nil, nil, nil, nil)
        request.0 = UnsafePointer(command)
        request.1 = UnsafePointer(flags)
        guard knot_ctl_send(ctx, KNOT_CTL_TYPE_DATA, &request) == KNOT_EOK.rawValue,
              knot_ctl_send(ctx, KNOT_CTL_TYPE_BLOCK, nil) == KNOT_EOK.rawValue else {
            return .failure(PVError(.unavailable, "cannot send to Knot's control socket \(path)"))
        }
        var counters: [String: Int64] = [:]
        while counters.count < 100_000 {
            var type = KNOT_CTL_TYPE_END
            var data: knot_ctl_data_t = (nil, nil, nil, nil, nil, nil, nil, nil, nil, nil, nil, nil)
            let received = knot_ctl_receive(ctx, &type, &data)
            guard received == KNOT_EOK.rawValue else {
                return .failure(PVError(.unavailable, "Knot's control socket \(path): \(String(cString: knot_strerror(received)))"))
            }
            if type == KNOT_CTL_TYPE_BLOCK || type == KNOT_CTL_TYPE_END { break }
            if let error = data.2 { return .failure(PVError(.unavailable, "Knot refused stats: \(String(cString: error))")) }
            guard let section = data.3, let item = data.4, let value = data.10, let number = Int64(String(cString: value)) else { continue }
            var name = "\(String(cString: section)).\(String(cString: item))"
            if let id = data.5 { name += "[\(String(cString: id))]" }
            counters[name] = number
        }
        _ = knot_ctl_send(ctx, KNOT_CTL_TYPE_END, nil)
        return .success(counters)
    }
}
