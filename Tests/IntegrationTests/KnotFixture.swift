import Foundation

/// A real knotd on the host serving a zone a test chooses: the broken DNS
/// servers pv_verify must reject (TXT "pvok", two strings, no TXT, NXDOMAIN).
final class KnotFixture {
    let port: UInt16
    let dir: String
    let server: Server

    /// `origin` is the zone served; `records` are its lines after SOA and NS.
    init(origin: String = "pvverify.test.", records: [String]) throws {
        port = freeUDPPort()
        dir = FileManager.default.temporaryDirectory.appendingPathComponent("pvknot-\(UUID().uuidString.prefix(8))").path
        try FileManager.default.createDirectory(atPath: dir + "/run", withIntermediateDirectories: true)
        try FileManager.default.createDirectory(atPath: dir + "/db", withIntermediateDirectories: true)
        let zone = (["$ORIGIN \(origin)", "$TTL 60",
                     "@ SOA ns.\(origin) hostmaster.\(origin) 1 3600 600 86400 60", "@ NS ns.\(origin)", "ns A 127.0.0.1"] + records)
            .joined(separator: "\n") + "\n"
        try zone.write(toFile: dir + "/zone", atomically: true, encoding: .utf8)
        let conf = """
            server:
                rundir: "\(dir)/run"
                listen: 127.0.0.1@\(port)
            log:
              - target: stderr
                any: error
            database:
                storage: "\(dir)/db"
            zone:
              - domain: \(origin)
                file: "\(dir)/zone"
            """
        try conf.write(toFile: dir + "/knot.conf", atomically: true, encoding: .utf8)
        server = try Server("knotd", "/usr/sbin/knotd", ["-c", dir + "/knot.conf"])
        // Bounded readiness poll: the SOA answers once the zone is loaded.
        let deadline = Date().addingTimeInterval(10)
        while Date() < deadline {
            let r = try run("/usr/bin/kdig", ["@127.0.0.1", "-p", "\(port)", "+short", "+time=1", "+retry=0", "SOA", origin], timeout: 5)
            if r.status == 0 && !r.stdout.isEmpty { return }
            usleep(20_000)
        }
        throw LabError("knotd on port \(port) did not serve \(origin) within 10 s")
    }

    deinit {
        server.stop()
        try? FileManager.default.removeItem(atPath: dir)
    }
}
