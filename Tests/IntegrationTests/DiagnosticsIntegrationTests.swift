import Foundation
import Testing

/// A Docker engine of the test's own (its own data and exec roots under /tmp,
/// no bridge, no iptables), so a test can stop a component without touching
/// the lab's engine that other suites use. Ended, and its mounts and files
/// removed, by the test that started it.
final class PrivateDockerd {
    let dir: String
    let process = Process()
    var socket: String { dir + "/d.sock" }
    var host: String { "unix://" + socket }

    init() throws {
        // Short: containerd's sockets live under the exec root and paths are limited to 108 bytes.
        dir = "/tmp/pvd-" + UUID().uuidString.prefix(8).lowercased()
        try FileManager.default.createDirectory(atPath: dir, withIntermediateDirectories: true)
        try Data("{}".utf8).write(to: URL(fileURLWithPath: dir + "/daemon.json"))
        process.executableURL = URL(fileURLWithPath: "/usr/sbin/dockerd")
        process.arguments = ["--config-file", dir + "/daemon.json", "--host", host, "--data-root", dir + "/data",
                             "--exec-root", dir + "/x", "--pidfile", dir + "/d.pid", "--iptables=false", "--ip6tables=false",
                             "--ip-masq=false", "--bridge=none", "--storage-driver", "overlay2", "--log-level", "warn"]
        process.standardOutput = FileHandle.nullDevice
        process.standardError = FileHandle.nullDevice
        try process.run()
        let deadline = Date().addingTimeInterval(15)
        while Date() < deadline {
            if FileManager.default.fileExists(atPath: socket), (try? docker(["version", "--format", "{{.Server.Version}}"]).status) == 0 { return }
            guard process.isRunning else { break }
            usleep(50_000)
        }
        stop()
        throw LabError("the private dockerd in \(dir) did not come up")
    }

    @discardableResult
    func docker(_ arguments: [String], timeout: Double = 60) throws -> RunResult {
        try run("/usr/local/bin/docker", ["--host", host] + arguments, timeout: timeout)
    }

    func stop() {
        if process.isRunning {
            if let ids = try? docker(["ps", "-aq"], timeout: 20).stdout.split(separator: "\n").map(String.init), !ids.isEmpty {
                _ = try? docker(["rm", "-f"] + ids, timeout: 20)
            }
            process.terminate()
            let deadline = Date().addingTimeInterval(10)
            while process.isRunning && Date() < deadline { usleep(20_000) }
            if process.isRunning { kill(process.processIdentifier, SIGKILL); process.waitUntilExit() }
        }
        // Whatever the engine left mounted under its directories, deepest first.
        if let mounts = try? String(contentsOfFile: "/proc/mounts", encoding: .utf8) {
            let points = mounts.split(separator: "\n").compactMap { line -> String? in
                let fields = line.split(separator: " ")
                return fields.count > 1 && fields[1].hasPrefix(dir + "/") ? String(fields[1]) : nil
            }
            for point in points.sorted(by: { $0.count > $1.count }) { _ = try? run("/usr/bin/umount", ["-l", point], timeout: 10) }
        }
        try? FileManager.default.removeItem(atPath: dir)
    }

    deinit { stop() }
}

/// A unix socket that accepts connections (into its backlog) and never answers:
/// a Docker engine that hangs.
final class SilentSocket {
    let path: String
    let fd: Int32

    init() throws {
        path = "/tmp/pvsilent-\(UUID().uuidString.prefix(8)).sock"
        fd = socket(AF_UNIX, Int32(SOCK_STREAM.rawValue), 0)
        var addr = sockaddr_un()
        addr.sun_family = sa_family_t(AF_UNIX)
        withUnsafeMutableBytes(of: &addr.sun_path) { raw in
            for (i, b) in path.utf8.enumerated() { raw[i] = b }
        }
        let ok = withUnsafePointer(to: &addr) {
            $0.withMemoryRebound(to: sockaddr.self, capacity: 1) { bind(fd, $0, socklen_t(MemoryLayout<sockaddr_un>.size)) }
        }
        guard ok == 0, listen(fd, 64) == 0 else { close(fd); throw LabError("cannot listen on \(path)") }
    }

    deinit {
        close(fd)
        unlink(path)
    }
}

/// A TCP listener on 127.0.0.1 that accepts (into its backlog) and never speaks: a
/// "broker" that hangs after the TCP handshake.
final class SilentTCPListener {
    let fd: Int32
    let port: UInt16

    init() throws {
        let s = socket(AF_INET, Int32(SOCK_STREAM.rawValue), 0)
        var addr = sockaddr_in()
        addr.sin_family = sa_family_t(AF_INET)
        addr.sin_addr.s_addr = inet_addr("127.0.0.1")
        var len = socklen_t(MemoryLayout<sockaddr_in>.size)
        let bound = withUnsafePointer(to: &addr) { $0.withMemoryRebound(to: sockaddr.self, capacity: 1) { bind(s, $0, len) } }
        guard bound == 0, listen(s, 64) == 0 else { close(s); throw LabError("cannot listen on 127.0.0.1") }
        _ = withUnsafeMutablePointer(to: &addr) { $0.withMemoryRebound(to: sockaddr.self, capacity: 1) { getsockname(s, $0, &len) } }
        fd = s
        port = UInt16(bigEndian: addr.sin_port)
    }

    deinit { close(fd) }
}

extension LabIntegration {
    /// pv_diagnostics against the lab: everything up, then each thing support
    /// meets broken, one at a time (scratch roots, never the lab's own pieces).
    @Suite struct DiagnosticsIntegrationTests {
        /// A scratch root that looks installed: the heartbeat units in its unit
        /// directory (enabled) and one real beat sent to a management stand-in.
        func installedRoot(_ standIn: ManagementStandIn, overriding: [String: String] = [:]) throws -> String {
            let root = try heartbeatRoot(standIn, overriding: overriding)
            // Where pv_install's sandbox puts system files.
            let units = root + "/system/etc/systemd/system"
            try FileManager.default.createDirectory(atPath: units + "/timers.target.wants", withIntermediateDirectories: true)
            for unit in ["pv_heartbeat.service", "pv_heartbeat.timer"] {
                try FileManager.default.copyItem(atPath: Lab.repo.path + "/Bundle/" + unit, toPath: units + "/" + unit)
            }
            try FileManager.default.createSymbolicLink(atPath: units + "/timers.target.wants/pv_heartbeat.timer",
                                                       withDestinationPath: "../pv_heartbeat.timer")
            let beat = try tool("pv_heartbeat", ["--root", root], timeout: 30)
            guard beat.status == 0 else { throw LabError("pv_heartbeat failed: \(beat.output)") }
            return root
        }

        /// Other suites stop and start the lab's components (one at a time, under the lab's
        /// lock); a test that needs all three running waits, bounded, until they are.
        func waitForLabComponents(timeout: Double = 60) throws {
            let deadline = Date().addingTimeInterval(timeout)
            var last = ""
            while Date() < deadline {
                let r = try run("/usr/local/bin/docker", ["ps", "--format", "{{.Names}}"], environment: ["DOCKER_HOST": Lab.dockerHost])
                let names = Set(r.stdout.split(separator: "\n").map(String.init))
                if names.isSuperset(of: ["pvit-dns", "pvit-dhcp", "pvit-monitoring"]) { return }
                last = r.output
                usleep(200_000)
            }
            throw LabError("the lab's components are not all running: \(last)")
        }

        func checks(_ stdout: String) throws -> [String: [String: Any]] {
            let doc = try JSONSerialization.jsonObject(with: Data(stdout.utf8)) as! [String: Any]
            var byName: [String: [String: Any]] = [:]
            for c in doc["checks"] as! [[String: Any]] { byName[c["name"] as! String] = c }
            return byName
        }

        func status(_ c: [String: [String: Any]], _ name: String) -> String { c[name]?["status"] as? String ?? "missing" }
        func detail(_ c: [String: [String: Any]], _ name: String) -> String { c[name]?["detail"] as? String ?? "" }

        @Test func everythingUpPassesWithinTwoSeconds() throws {
            let standIn = try ManagementStandIn()
            defer { standIn.stop() }
            let root = try installedRoot(standIn, overriding: ["monitor_interval": "1", "monitor_listen": "off"])
            defer { try? FileManager.default.removeItem(atPath: root) }
            try waitForLabComponents()
            // This root's pv_monitor, with its first sample (no component of this root sends to it).
            let monitor = try Server("pv_monitor", Lab.binDir + "/pv_monitor", ["run", "--root", root])
            defer { monitor.stop() }
            let deadline = Date().addingTimeInterval(10)
            while !FileManager.default.fileExists(atPath: root + "/state/monitor/last.json") && Date() < deadline { usleep(100_000) }

            let start = Date()
            let r = try tool("pv_diagnostics", ["--json", "--root", root], timeout: 30)
            let elapsed = Date().timeIntervalSince(start)
            #expect(r.status == 0, "\(r.output)")
            let c = try checks(r.stdout)
            #expect(c.count == 14)
            for (name, check) in c where name != "clock" && name != "monitor" {
                #expect(check["status"] as? String == "ok", "\(name): \(check["detail"] ?? "")")
            }
            // This VM's kernel clock is not disciplined by any time service: warn is the honest answer here.
            #expect(["ok", "warn"].contains(status(c, "clock")), "\(detail(c, "clock"))")
            #expect(detail(c, "rabbitmq").contains("opened channel 1 and closed it"))
            #expect(detail(c, "container monitoring").hasPrefix("pvit-monitoring running "))
            // The seed's debug tools, in the lab's monitoring image (Debian's: dhcping for dhtest).
            #expect(detail(c, "monitoring tools") == "pvit-monitoring has mysql, dhcping, dig, nslookup, nsupdate, telnet")
            #expect(detail(c, "heartbeat").contains("last beat #1 "))
            // Running, but no DNS or DHCP component of this root sends to it: said, as a warning.
            #expect(status(c, "monitor") == "warn", "\(detail(c, "monitor"))")
            #expect(detail(c, "monitor").hasPrefix("pv_monitor runs (pid \(monitor.process.processIdentifier)), last sample #"), "\(detail(c, "monitor"))")
            #expect(detail(c, "monitor").contains("no monitoring data from dns: no dnstap sender is connected"), "\(detail(c, "monitor"))")
            #expect(elapsed < 2, "a full run took \(elapsed) s")

            let text = try tool("pv_diagnostics", ["--root", root])
            #expect(text.status == 0)
            #expect(text.stdout.contains("CHECK                 STATUS      TIME  DETAIL"))
            #expect(text.stdout.contains("14 checks in "))
        }

        @Test func rabbitMQNotListeningIsRefusedAndTheRestStillRuns() throws {
            let lab = try Lab.configText()
            let uri = lab.split(separator: "\n").first { $0.hasPrefix("rabbitmq_uri") }!.split(separator: "=", maxSplits: 1)[1]
                .trimmingCharacters(in: .whitespaces)
            let root = try Lab.scratchRoot("diag-rmq", overriding: ["rabbitmq_uri": uri.replacingOccurrences(of: ":5672/", with: ":\(freeTCPPort())/")])
            defer { try? FileManager.default.removeItem(atPath: root) }
            try waitForLabComponents()
            let r = try tool("pv_diagnostics", ["--json", "--root", root])
            #expect(r.status == 1, "\(r.output)")
            let c = try checks(r.stdout)
            #expect(status(c, "rabbitmq") == "fail")
            #expect(detail(c, "rabbitmq").contains("connection refused: 127.0.0.1:"), "\(detail(c, "rabbitmq"))")
            #expect((c["rabbitmq"]?["hint"] as? String)?.contains("start RabbitMQ") == true)
            for name in ["docker engine", "container dns", "container dhcp", "container monitoring", "verify dns", "verify dhcp"] {
                #expect(status(c, name) == "ok", "\(name): \(detail(c, name))")
            }
        }

        @Test func aWrongRabbitMQPasswordIsALoginRefusalAndIsNeverShown() throws {
            let wrong = "wrong-\(UUID().uuidString.prefix(12))"
            let root = try Lab.scratchRoot("diag-pw", overriding: ["rabbitmq_uri": "amqp://pvlab:\(wrong)@127.0.0.1:5672/%2F"])
            defer { try? FileManager.default.removeItem(atPath: root) }
            let r = try tool("pv_diagnostics", ["--root", root])
            #expect(r.status == 1, "\(r.output)")
            let row = r.stdout.split(separator: "\n").first { $0.hasPrefix("rabbitmq ") }.map(String.init) ?? ""
            #expect(row.contains("FAIL"))
            #expect(row.contains("login refused"), "\(row)")
            #expect(row.contains("ACCESS_REFUSED"), "\(row)")
            #expect(r.stdout.contains("the user or password in rabbitmq_uri"))
            #expect(!r.output.contains(wrong))
        }

        @Test func aBrokerThatNeverAnswersTimesOutDuringLoginWithinItsLimit() throws {
            let silent = try SilentTCPListener()
            let root = try Lab.scratchRoot("diag-rmq-hang", overriding: ["rabbitmq_uri": "amqp://pvlab:x-\(UUID().uuidString)@127.0.0.1:\(silent.port)/%2F"])
            defer { try? FileManager.default.removeItem(atPath: root) }
            let start = Date()
            let r = try tool("pv_diagnostics", ["--json", "--root", root])
            let elapsed = Date().timeIntervalSince(start)
            let c = try checks(r.stdout)
            #expect(status(c, "rabbitmq") == "fail")
            #expect(detail(c, "rabbitmq").contains("timed out: 127.0.0.1:\(silent.port) accepted the connection but did not complete the login in time"),
                    "\(detail(c, "rabbitmq"))")
            let ms = c["rabbitmq"]?["ms"] as? Double ?? 0
            #expect(ms > 3000 && ms < 4200, "the RabbitMQ check has 4 s: \(ms) ms")
            #expect(elapsed < 5, "took \(elapsed) s")
        }

        @Test func theMonitoringContainerStoppedFailsItsCheck() throws {
            let engine = try PrivateDockerd()
            defer { engine.stop() }
            let image = "127.0.0.1:5000/pv-monitoring:1.1.0"
            try #require(engine.docker(["pull", "-q", image]).status == 0)
            let started = try engine.docker(["run", "-d", "--name", "pvit-monitoring", "--network", "none",
                                             "--label", "org.provision.component=monitoring", "--label", "org.provision.version=1.1.0", image])
            try #require(started.status == 0, "\(started.output)")
            try #require(engine.docker(["stop", "-t", "5", "pvit-monitoring"]).status == 0)

            let root = try Lab.scratchRoot("diag-mon", overriding: ["docker_host": engine.host])
            defer { try? FileManager.default.removeItem(atPath: root) }
            let archive = root + "/out.tar.gz"
            let r = try tool("pv_diagnostics", ["--json", "--root", root, "--archive", archive])
            #expect(r.status == 1, "\(r.output)")
            let c = try checks(r.stdout)
            #expect(status(c, "docker engine") == "ok", "\(detail(c, "docker engine"))")
            #expect(status(c, "container monitoring") == "fail")
            #expect(detail(c, "container monitoring").hasPrefix("pvit-monitoring 1.1.0 is exited (Exited (0)"), "\(detail(c, "container monitoring"))")
            #expect(detail(c, "container monitoring").contains("debug tools"))
            #expect((c["container monitoring"]?["hint"] as? String)?.contains("start_pv_monitoring.sh") == true)
            // Its log (what it printed before it stopped) is in the archive, demultiplexed and timestamped.
            let listing = try run("/usr/bin/tar", ["-xzOf", archive, "--wildcards", "*/logs/pvit-monitoring.log"])
            #expect(listing.stdout.contains("pv-monitoring 1.1.0: up"), "\(listing.output)")
            #expect(listing.stdout.hasPrefix("20"), "a timestamp first: \(listing.stdout.prefix(60))")
        }

        @Test func dockerEngineDownFailsAloneAndTheRunStaysQuick() throws {
            let root = try Lab.scratchRoot("diag-nodocker", overriding: ["docker_host": "unix:///tmp/pv-no-engine-\(UUID().uuidString.prefix(8))/docker.sock"])
            defer { try? FileManager.default.removeItem(atPath: root) }
            let start = Date()
            let r = try tool("pv_diagnostics", ["--json", "--timeout", "5", "--root", root, "--archive", root + "/a.tar.gz"])
            let elapsed = Date().timeIntervalSince(start)
            #expect(r.status == 1, "\(r.output)")
            let c = try checks(r.stdout)
            #expect(detail(c, "docker engine").hasPrefix("not running: the socket /tmp/pv-no-engine-"), "\(detail(c, "docker engine"))")
            for name in ["container dns", "container dhcp", "container monitoring", "disk docker"] { #expect(status(c, name) == "fail", "\(name)") }
            for name in ["configuration", "rabbitmq", "verify dns", "verify dhcp", "disk root"] {
                #expect(status(c, name) == "ok", "\(name): \(detail(c, name))")
            }
            #expect(elapsed < 5, "took \(elapsed) s")
            #expect(FileManager.default.fileExists(atPath: root + "/a.tar.gz"))
        }

        @Test func aHangingDockerEngineIsCutAtTheRunsBound() throws {
            let silent = try SilentSocket()
            let root = try Lab.scratchRoot("diag-hang", overriding: ["docker_host": "unix://" + silent.path])
            defer { try? FileManager.default.removeItem(atPath: root) }
            let start = Date()
            let r = try tool("pv_diagnostics", ["--json", "--timeout", "1.5", "--root", root, "--archive", root + "/a.tar.gz"])
            let elapsed = Date().timeIntervalSince(start)
            #expect(r.status == 1, "\(r.output)")
            let c = try checks(r.stdout)
            #expect(status(c, "docker engine") == "fail")
            #expect(detail(c, "docker engine").hasPrefix("did not finish within 1.5 s") || detail(c, "docker engine").contains("timed out"),
                    "\(detail(c, "docker engine"))")
            #expect(status(c, "rabbitmq") == "ok")
            #expect(status(c, "verify dns") == "ok")
            #expect(elapsed < 2.5, "bound 1.5 s, took \(elapsed) s")
            let log = try run("/usr/bin/tar", ["-xzOf", root + "/a.tar.gz", "--wildcards", "*/logs/pvit-dns.log"])
            #expect(log.stdout.hasPrefix("# no log: "), "\(log.stdout)")
        }

        @Test func aPlantedSecretAppearsNowhere() throws {
            let planted = "planted-\(UUID().uuidString)"
            let labPassword = try String(contentsOfFile: Lab.dir.path + "/rabbitmq.password", encoding: .utf8)
                .trimmingCharacters(in: .whitespacesAndNewlines)
            let root = try Lab.scratchRoot("diag-secret", overriding: ["management_token": planted])
            defer { try? FileManager.default.removeItem(atPath: root) }
            // Also in a comment and in a state file, where only the value-wide redaction can catch it.
            let config = try String(contentsOfFile: root + "/etc/provision.conf", encoding: .utf8)
            try (config + "\n# previous token: \(planted)\n").write(toFile: root + "/etc/provision.conf", atomically: true, encoding: .utf8)
            try FileManager.default.createDirectory(atPath: root + "/state", withIntermediateDirectories: true)
            try "note = \(planted) \(labPassword)\n".write(toFile: root + "/state/notes", atomically: true, encoding: .utf8)

            let archive = root + "/diag.tar.gz"
            let text = try tool("pv_diagnostics", ["--root", root, "--archive", archive])
            // Into a directory, and (bare --archive) into <root>/logs.
            let json = try tool("pv_diagnostics", ["--json", "--root", root, "--archive", root + "/elsewhere/"])
            let intoDir = try tool("pv_diagnostics", ["--json", "--root", root, "--archive"])
            let written = try FileManager.default.contentsOfDirectory(atPath: root + "/elsewhere") + FileManager.default.contentsOfDirectory(atPath: root + "/logs")
            #expect(written.count == 2 && written.allSatisfy { $0.hasPrefix("diagnostics-lab-1-") && $0.hasSuffix(".tar.gz") }, "\(written)")
            #expect(text.stdout.contains("rabbitmq "), "\(text.output)")
            #expect(text.stdout.contains("archive: \(archive)"))
            for r in [text, json, intoDir] {
                #expect(!r.output.contains(planted))
                #expect(!r.output.contains(labPassword))
            }
            let extracted = root + "/x"
            try FileManager.default.createDirectory(atPath: extracted, withIntermediateDirectories: true)
            let untar = try run("/usr/bin/tar", ["-xzf", archive, "-C", extracted])
            #expect(untar.status == 0, "\(untar.output)")
            let files = try run("/usr/bin/find", [extracted, "-type", "f"]).stdout.split(separator: "\n")
            #expect(files.contains { $0.hasSuffix("/etc/provision.conf") })
            #expect(files.contains { $0.hasSuffix("/state/notes") })
            #expect(files.contains { $0.hasSuffix("/logs/pvit-monitoring.log") })
            for secret in [planted, labPassword] {
                let grep = try run("/usr/bin/grep", ["-rlF", secret, extracted])
                #expect(grep.status == 1, "found in: \(grep.stdout)")
            }
            let confPath = try #require(files.first { $0.hasSuffix("/etc/provision.conf") })
            let conf = try String(contentsOfFile: String(confPath), encoding: .utf8)
            #expect(conf.contains("management_token = <redacted>"))
            #expect(conf.contains("rabbitmq_uri = amqp://pvlab:<redacted>@127.0.0.1:5672/%2F"))
            #expect(conf.contains("docker_host = "))
            let mode = try FileManager.default.attributesOfItem(atPath: archive)[.posixPermissions] as? Int
            #expect(mode == 0o600)
        }

        @Test func anArchiveThatCannotBeWrittenExits73AfterTheReport() throws {
            let r = try tool("pv_diagnostics", ["--json", "--root", Lab.root, "--archive", "/proc/pv-diagnostics.tar.gz"])
            #expect(r.status == 73, "\(r.output)")
            let doc = try JSONSerialization.jsonObject(with: Data(r.stdout.utf8)) as! [String: Any]
            #expect((doc["checks"] as? [Any])?.count == 14)
            #expect((doc["archive_error"] as? String)?.contains("cannot create the archive /proc/pv-diagnostics.tar.gz") == true)
            #expect(r.stderr.contains("Error: cannot create the archive"))
            let usage = try tool("pv_diagnostics", ["--timeout", "0", "--root", Lab.root])
            #expect(usage.status == 64)
        }
    }
}
