import Foundation
import Testing

/// pv_monitor against the peers production may bring (issue 27, sections 3 and 4): dnstap writers
/// that never finish their handshake or offer thousands of content types, a user that is not the
/// DNS component, Knot and Kea control sockets that answer too slowly or not at all. Every
/// legitimate frame is still counted, each interval ends on time, and a stop takes under 5 s.
extension LabIntegration.MonitorIntegrationTests {
    static let hostileWriters = Lab.repo.path + "/Tests/Fixtures/hostile_dnstap_writers.py"
    static let slowControlSockets = Lab.repo.path + "/Tests/Fixtures/slow_control_sockets.py"
    static let dnstapSender = Lab.repo.path + "/Scripts/dnstap_sender.py"

    /// SIGTERM, then the seconds until the process is gone (waited for at most `bound` s, then SIGKILL).
    func secondsToStop(_ server: Server, bound: Double = 15) -> Double {
        let began = Date()
        server.process.terminate()
        while server.process.isRunning && Date().timeIntervalSince(began) < bound { usleep(10_000) }
        let took = Date().timeIntervalSince(began)
        if server.process.isRunning { kill(server.process.processIdentifier, SIGKILL); server.process.waitUntilExit() }
        return took
    }

    /// What a server printed so far, read without waiting: its pipe never fills (a daemon that
    /// writes its journal lines on its reading thread would wait on it).
    func drain(_ server: Server) {
        let handle = server.stdout.fileHandleForReading
        var pfd = pollfd(fd: handle.fileDescriptor, events: Int16(POLLIN), revents: 0)
        while poll(&pfd, 1, 0) > 0 {
            let data = handle.availableData
            if data.isEmpty { break }
            server.unread += String(decoding: data, as: UTF8.self)
        }
    }

    /// The last sample as JSON, when there is one that parses.
    func lastSample(_ root: String) -> [String: Any]? {
        FileManager.default.contents(atPath: root + "/state/monitor/last.json")
            .flatMap { try? JSONSerialization.jsonObject(with: $0) as? [String: Any] }
    }

    /// One JSON line a fixture printed (waited for, bounded).
    func jsonLine(_ server: Server, timeout: Double = 10) throws -> [String: Any] {
        try server.waitForLine("{", timeout: timeout)
        return try JSONSerialization.jsonObject(with: Data(server.lastLine.utf8)) as? [String: Any] ?? [:]
    }

    /// The DNS component's Knot must always get a slot: 64 writers that trickle their READY frame a
    /// byte a second (and reconnect at once when closed) hold every slot the cap allows when Knot
    /// restarts; Knot's new connection is accepted, every query after it counted, no such writer
    /// kept past the handshake bound, and pv_monitor stops under them in under 5 s.
    @Test func writersThatNeverFinishTheirHandshakeNeverKeepKnotOut() throws {
        try Lab.requireUp()
        defer { try? Lab.restoreInstance() }
        let (root, monitor) = try monitoredDNS("monitor-slow-writers", ["monitor_interval": "1", "monitor_push": "off"])
        defer { monitor.stop(); try? FileManager.default.removeItem(atPath: root) }
        let hostile = try Server("hostile writers", "/usr/bin/python3", [Self.hostileWriters, "slow", root + "/run/monitor/dnstap.sock", "64"])
        defer { hostile.stop() }
        try hostile.waitForLine("holding")
        let restart = try run("/usr/local/bin/docker", ["restart", "-t", "10", Lab.instance["container_prefix"]! + "dns"],
                              environment: ["DOCKER_HOST": Lab.dockerHost])
        #expect(restart.status == 0, "\(restart.output)")
        // Knot connects when it starts: asked until a query of it is counted (bounded), then counted exactly.
        let warm = "warm-\(UUID().uuidString.prefix(8).lowercased()).pvverify.test."
        let reconnected = Date()
        var warmCounted = false
        func warmIn(_ samples: [Int: [String: Any]]) -> Bool {
            samples.values.contains { ($0["records"] as? [[String: Any]] ?? []).contains { $0["name"] as? String == warm } }
        }
        while !warmCounted && Date().timeIntervalSince(reconnected) < 20 {
            // Unanswered while Knot is still starting: asked again.
            _ = try run("/usr/bin/kdig", ["@127.0.0.1", "-p", Lab.dnsPort, "+time=1", "+retry=0", "A", warm])
            warmCounted = warmIn(dnsSamples(root, timeout: 1.5, until: warmIn))
        }
        #expect(warmCounted, "Knot's queries counted within 20 s of its restart (last sample: \(String(describing: lastSample(root)?["dns"])))")
        let probe = "slow-\(UUID().uuidString.prefix(8).lowercased()).pvverify.test."
        for _ in 0..<5 { try kdig("A", probe) }
        let samples = try collect(root, until: { self.hits($0, probe, "A") >= 5 }, timeout: 10)
        #expect(hits(samples, probe, "A") == 5, "\(samples.values.flatMap { $0 }.filter { $0["name"] as? String == probe })")
        #expect((lastSample(root)?["dns"] as? [String: Any])?["connections"] as? Int ?? 99 <= 64)
        // No such writer kept past the handshake bound (5 s; the fixture looks every 50 ms).
        kill(hostile.process.processIdentifier, SIGUSR1)
        let held = try jsonLine(hostile)
        #expect((held["longest_held"] as? Double ?? 99) < 7, "\(held)")
        let stop = secondsToStop(monitor)
        #expect(stop < 5, "pv_monitor stopped in \(stop) s under the writers")
        print("slow writers: \(held); Knot counted \(warmCounted) after \(Date().timeIntervalSince(reconnected)) s; stop \(stop) s")
    }

    /// 3,000 connections that each offer a content type of their own, a line feed and a forged log
    /// line in it, beside a sender that streams 20,000 frames: every frame counted, the drops counted
    /// under one fixed kind (a small sample, a few /metrics series), the forged line never printed
    /// raw (journal, `pv_monitor show`), the journal rate-limited, and a stop in under 5 s.
    @Test func thousandsOfContentTypesAreOneDropKindAndNeverAForgedLine() throws {
        try Lab.requireUp()
        let port = freePort(SOCK_STREAM)
        let root = try Lab.scratchRoot("monitor-types", overriding: ["monitor_interval": "1", "monitor_max_names": "2000",
                                                                     "monitor_listen": "127.0.0.1:\(port)", "monitor_push": "off"])
        defer { try? FileManager.default.removeItem(atPath: root) }
        let monitor = try Server("pv_monitor", Lab.binDir + "/pv_monitor", ["run", "--root", root], withStandardError: true)
        defer { monitor.stop() }
        try monitor.waitForLine("serving http://127.0.0.1:\(port)/metrics")
        let before = dnsSamples(root, timeout: 5) { !$0.isEmpty }.keys.max() ?? 0
        let socket = root + "/run/monitor/dnstap.sock"
        let sender = try Server("dnstap sender", "/usr/bin/python3", [Self.dnstapSender, socket, "20000", "1000", "4000"])
        defer { sender.stop() }
        var largest = 0, largestDrops = 0, dropSeries = 0
        var drops: [Int: [String: Int]] = [:]
        let hostile = try Server("hostile writers", "/usr/bin/python3", [Self.hostileWriters, "types", socket, "3000"])
        defer { hostile.stop() }
        let deadline = Date().addingTimeInterval(60)
        var offered: [String: Any] = [:]
        var sent: [String: Any] = [:]
        // Every sample looked at while they run: its size and its drops.
        func look() {
            drain(monitor)
            guard let data = FileManager.default.contents(atPath: root + "/state/monitor/last.json"),
                  let doc = try? JSONSerialization.jsonObject(with: data) as? [String: Any], let sequence = doc["sequence"] as? Int,
                  sequence > before else { return }
            largest = max(largest, data.count)
            let dropped = (doc["dns"] as? [String: Any])?["drops"] as? [String: Int] ?? [:]
            largestDrops = max(largestDrops, (try? JSONSerialization.data(withJSONObject: dropped).count) ?? 0)
            // Each sample with drops scraped once, as Prometheus would.
            if drops[sequence] == nil, !dropped.isEmpty, let metrics = try? get(port, "/metrics").stdout {
                dropSeries = max(dropSeries, metrics.split(separator: "\n").filter { $0.hasPrefix("pv_monitor_dns_dropped_frames{") }.count)
            }
            drops[sequence] = dropped
        }
        while (offered.isEmpty || sent.isEmpty) && Date() < deadline {
            look()
            if offered.isEmpty, !hostile.process.isRunning { offered = try jsonLine(hostile, timeout: 1) }
            if sent.isEmpty, !sender.process.isRunning { sent = try jsonLine(sender, timeout: 1) }
            usleep(50_000)
        }
        #expect(offered["closed_by_reader"] as? Int == 3000, "\(offered)")
        #expect(sent["sent"] as? Int == 20000, "\(sent)")
        // The interval the stream ended in is kept once the next one began: every frame, none twice.
        var kept = try keptQueries(root).filter { $0.key > before }
        while kept.values.reduce(0, +) < 20000 && Date() < deadline {
            look()
            usleep(100_000)
            kept = try keptQueries(root).filter { $0.key > before }
        }
        look()
        #expect(kept.values.reduce(0, +) == 20000, "per interval: \(kept.sorted { $0.key < $1.key })")
        let kinds = Set(drops.values.flatMap(\.keys))
        let contentTypeDrops = drops.values.reduce(0) { $0 + ($1["a sender offering another content type"] ?? 0) }
        #expect(kinds == ["a sender offering another content type"], "drop kinds: \(kinds.prefix(5)) (\(kinds.count))")
        #expect(contentTypeDrops == 3000, "by interval: \(drops.mapValues { $0.values.reduce(0, +) })")
        // The 100 top records of the stream take about 15 kB of a sample; the drops under 100 bytes.
        #expect(largestDrops < 100 && largest < 20_000, "the largest sample: \(largest) bytes, its drops \(largestDrops) bytes")
        #expect(dropSeries == 1, "\(dropSeries) drop series on /metrics")
        let show = try tool("pv_monitor", ["show", "--root", root])
        #expect(show.status == 0 && !show.stdout.split(separator: "\n").contains { $0.hasPrefix("forged") }, "\(show.stdout.suffix(600))")
        let stop = secondsToStop(monitor)
        #expect(stop < 5, "pv_monitor stopped in \(stop) s")
        let journal = monitor.unread + String(decoding: monitor.stdout.fileHandleForReading.readDataToEndOfFile(), as: UTF8.self)
        let lines = journal.split(separator: "\n")
        #expect(!lines.contains { $0.hasPrefix("forged") }, "a forged line in the journal: \(lines.first { $0.hasPrefix("forged") } ?? "")")
        let about = lines.filter { $0.contains("hostile") || $0.contains("content type") || $0.contains("dnstap sender") }
        #expect(about.count <= 80, "\(about.count) journal lines about the 3,000 connections: \(about.suffix(3))")
        print("content types: largest sample \(largest) bytes (drops \(largestDrops) bytes), \(kinds.count) drop kinds, \(dropSeries) drop series, "
              + "\(about.count) journal lines, \(kept.values.reduce(0, +)) of 20000 frames counted, stop \(stop) s")
    }

    /// Only the DNS component may connect: with pv_monitor as an agent that is not root (the socket's
    /// directory the agent's, group root, setgid: what create_dirs makes), the socket is the agent's,
    /// group root, 0660; the component's real Knot (root in its container, without the capability
    /// to override file modes) connects and is counted; another user is refused.
    @Test func onlyTheComponentMayConnectToTheDnstapSocket() throws {
        try Lab.requireUp()
        defer { try? Lab.restoreInstance() }
        let root = try Lab.scratchRoot("monitor-owner", overriding: ["monitor_interval": "1", "monitor_listen": "off", "monitor_push": "off"])
        defer { try? FileManager.default.removeItem(atPath: root) }
        let agent = "65534"
        for dir in ["/state/monitor", "/run/monitor"] { try FileManager.default.createDirectory(atPath: root + dir, withIntermediateDirectories: true) }
        #expect(try run("/bin/chown", ["-R", "\(agent):\(agent)", root]).status == 0)
        #expect(try run("/bin/chown", ["\(agent):0", root + "/run/monitor"]).status == 0)
        #expect(try run("/bin/chmod", ["2755", root + "/run/monitor"]).status == 0)
        let monitor = try Server("pv_monitor", "/usr/bin/setpriv", ["--reuid=\(agent)", "--regid=\(agent)", "--clear-groups",
                                                                  Lab.binDir + "/pv_monitor", "run", "--root", root], withStandardError: true)
        defer { monitor.stop() }
        try monitor.waitForLine("listening for dnstap")
        let socket = root + "/run/monitor/dnstap.sock"
        let attributes = try FileManager.default.attributesOfItem(atPath: socket)
        let mode = (attributes[.posixPermissions] as? Int ?? 0) & 0o777
        #expect(mode == 0o660 && attributes[.ownerAccountID] as? Int == 65534 && attributes[.groupOwnerAccountID] as? Int == 0,
                "the socket: mode \(String(mode, radix: 8)), owner \(attributes[.ownerAccountID] ?? "?"), group \(attributes[.groupOwnerAccountID] ?? "?")")
        // Another local user (not the agent, not in group root) is refused by the socket's mode.
        let foreign = try run("/usr/bin/setpriv", ["--reuid=65533", "--regid=65533", "--clear-groups", "/usr/bin/python3", "-c",
                                                   "import socket, sys; socket.socket(socket.AF_UNIX).connect(sys.argv[1]); print('connected')", socket])
        #expect(foreign.status != 0 && foreign.stderr.contains("PermissionError"), "another user: \(foreign.output)")
        // The component's Knot connects through the group and is counted.
        #expect(try tool("pv_stop", ["dns", "--root", root]).status == 0)
        let start = try tool("pv_start", ["dns", "-v", "1.1.0", "--root", root], timeout: 60)
        #expect(start.status == 0, "\(start.output)")
        let connected = dnsSamples(root, timeout: 15) { $0.values.contains { $0["connections"] as? Int == 1 } }
        #expect(connected.values.contains { $0["connections"] as? Int == 1 }, "Knot connected: \(connected.values.map { $0["problem"] ?? "" })")
        let probe = "owner-\(UUID().uuidString.prefix(8).lowercased()).pvverify.test."
        for _ in 0..<3 { try kdig("A", probe) }
        let samples = try collect(root, until: { self.hits($0, probe, "A") >= 3 }, timeout: 10)
        #expect(hits(samples, probe, "A") == 3, "\(samples.values.flatMap { $0 }.filter { $0["name"] as? String == probe })")
        let stop = secondsToStop(monitor)
        #expect(stop < 5, "pv_monitor stopped in \(stop) s")
    }

    /// A Knot control socket that sends a valid row every 1.5 s and a Kea one that sends a byte every
    /// 1.5 s (each read within its own timeout, the whole answer never): the intervals still end on
    /// time, naming the slow socket; a hung Kea is a timeout; a stream sent meanwhile is counted
    /// whole; and a stop in the middle of it takes under 5 s.
    @Test func slowControlSocketsNeverStallTheInterval() throws {
        try Lab.requireUp()
        let root = try Lab.scratchRoot("monitor-control", overriding: ["monitor_interval": "1", "monitor_listen": "off", "monitor_push": "off"])
        defer { try? FileManager.default.removeItem(atPath: root) }
        try FileManager.default.createDirectory(atPath: root + "/run/monitor/knot", withIntermediateDirectories: true)
        let knotSocket = root + "/run/monitor/knot/knot.sock", keaSocket = root + "/run/monitor/kea4-ctrl.sock"
        var knot = try Server("slow knot", "/usr/bin/python3", [Self.slowControlSockets, "knot", knotSocket, "rows"])
        defer { knot.stop() }
        var kea = try Server("slow kea", "/usr/bin/python3", [Self.slowControlSockets, "kea", keaSocket, "drip"])
        defer { kea.stop() }
        try knot.waitForLine("ready")
        try kea.waitForLine("ready")
        let monitor = try Server("pv_monitor", Lab.binDir + "/pv_monitor", ["run", "--root", root])
        defer { monitor.stop() }
        try monitor.waitForLine("listening for dnstap")
        let sender = try Server("dnstap sender", "/usr/bin/python3", [Self.dnstapSender, root + "/run/monitor/dnstap.sock", "3000", "100", "1000"])
        defer { sender.stop() }
        // Each new sample as it is seen: when, and what it says of Knot and Kea.
        var seen: [(sequence: Int, at: Date, knot: String, kea: String)] = []
        func watch(until done: () -> Bool, timeout: Double) {
            let deadline = Date().addingTimeInterval(timeout)
            while !done() && Date() < deadline {
                if let doc = lastSample(root), let sequence = doc["sequence"] as? Int, sequence != seen.last?.sequence {
                    seen.append((sequence, Date(), (doc["dns_aggregate"] as? [String: Any])?["problem"] as? String ?? "",
                                 (doc["dhcp"] as? [String: Any])?["problem"] as? String ?? ""))
                }
                usleep(20_000)
            }
        }
        watch(until: { seen.count >= 5 }, timeout: 12)
        let gaps = zip(seen.dropFirst(), seen).map { $0.at.timeIntervalSince($1.at) }
        #expect(seen.count >= 5, "samples within 12 s: \(seen.map(\.sequence))")
        #expect(gaps.allSatisfy { $0 < 1.8 }, "between samples: \(gaps.map { ($0 * 100).rounded() / 100 })")
        #expect(seen.last?.knot.contains(knotSocket) == true && seen.last?.knot.contains("within") == true, "\(seen.last?.knot ?? "no sample")")
        #expect(seen.last?.kea.contains(keaSocket) == true && seen.last?.kea.contains("within") == true, "\(seen.last?.kea ?? "no sample")")
        knot.process.terminate()
        let rowsSide = try jsonLine(knot)
        #expect((rowsSide["longest"] as? Double ?? 99) < 2, "the longest request to the Knot that sends rows: \(rowsSide)")
        // A Knot whose one unit never ends (libknot reads it in a single call: only the whole
        // request's bound ends it) and a Kea that never answers: a timeout, not "not its JSON (0 bytes)".
        kea.stop()
        kea = try Server("hung kea", "/usr/bin/python3", [Self.slowControlSockets, "kea", keaSocket, "hang"])
        knot = try Server("endless knot", "/usr/bin/python3", [Self.slowControlSockets, "knot", knotSocket, "items"])
        try kea.waitForLine("ready")
        try knot.waitForLine("ready")
        let marker = seen.count
        watch(until: { seen.count >= marker + 4 }, timeout: 8)
        let laterGaps = zip(seen.dropFirst(marker + 1), seen.dropFirst(marker)).map { $0.at.timeIntervalSince($1.at) }
        #expect(seen.count >= marker + 4 && laterGaps.allSatisfy { $0 < 1.8 }, "between samples: \(laterGaps)")
        #expect(seen.last?.knot.contains("did not answer stats within") == true, "\(seen.last?.knot ?? "no sample")")
        #expect(seen.last?.kea.contains("did not answer") == true && seen.last?.kea.contains("not its JSON") == false, "\(seen.last?.kea ?? "no sample")")
        // The stream sent meanwhile, every frame.
        let sent = try jsonLine(sender, timeout: 40)
        #expect(sent["sent"] as? Int == 3000, "\(sent)")
        var kept = try keptQueries(root)
        let deadline = Date().addingTimeInterval(10)
        while kept.values.reduce(0, +) < 3000 && Date() < deadline { usleep(200_000); kept = try keptQueries(root) }
        #expect(kept.values.reduce(0, +) == 3000, "per interval: \(kept.sorted { $0.key < $1.key })")
        let stop = secondsToStop(monitor)
        #expect(stop < 5, "pv_monitor stopped in \(stop) s")
        knot.process.terminate()
        let itemsSide = try jsonLine(knot)
        // Cut at 0.2 s (the budget at a 1 s interval), seen by the fixture at its next item.
        #expect((itemsSide["longest"] as? Double ?? 99) < 1, "the longest request to the Knot whose unit never ends: \(itemsSide)")
        print("control sockets: \(seen.count) samples, gaps \(gaps.map { ($0 * 100).rounded() / 100 }) then \(laterGaps.map { ($0 * 100).rounded() / 100 }), "
              + "knot: \(seen.last?.knot ?? ""), kea: \(seen.last?.kea ?? ""), rows \(rowsSide), items \(itemsSide), stop \(stop) s")
    }
}
