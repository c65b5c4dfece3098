import Foundation
import Testing

/// Each tool links only the C libraries its work needs (the reason the components are split into
/// ports and live checks): stop asks Docker through its CLI and needs none; status asks the Engine
/// API over its socket (libcurl, as the heartbeat does: one process instead of four docker CLIs).
@Suite struct LinkIntegrationTests {
    static let expected: [String: Set<String>] = [
        "pv_stop": [], "pv_status": ["curl", "crypto"],
        "pv_verify": ["ldns", "crypto"],
        "pv_heartbeat": ["curl", "crypto"],
        "pv_start": ["curl", "ldns", "crypto"], "pv_update": ["curl", "ldns", "crypto"],
        "pv_bundle": ["archive", "crypto"],
        "pv_install": ["curl", "ldns", "archive", "crypto"],
        "pv_diagnostics": ["curl", "ldns", "archive", "crypto", "rabbitmq"],
        "pv_uninstall": ["archive", "crypto"],
        // sqlite3 for its history; rabbitmq to publish its samples; no curl: its /metrics server is
        // its own, on POSIX sockets (FlyingFox brought FoundationNetworking, and curl with it).
        "pv_monitor": ["ldns", "crypto", "knot", "sqlite3", "rabbitmq"],
    ]

    @Test(arguments: expected.keys.sorted())
    func linksOnlyTheCLibrariesItUses(_ name: String) throws {
        let r = try run("/usr/bin/ldd", [Lab.binDir + "/" + name])
        #expect(r.status == 0, "\(r.output)")
        let linked = Set(["curl", "ldns", "archive", "crypto", "rabbitmq", "knot", "sqlite3"].filter { r.stdout.contains("lib\($0).so") })
        #expect(linked == Self.expected[name], "\(name) links \(linked.sorted())")
    }
}
