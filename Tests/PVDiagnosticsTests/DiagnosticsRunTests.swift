import PVAMQP
@testable import PVCore
import PVHTTP
import Testing
import PVTestSupport
@testable import PVDiagnostics
#if canImport(Glibc)
import Glibc
#endif

/// The whole run against fakes: which checks exist, that a broken piece fails
/// alone, that time limits hold, and that secrets never get out.
@Suite struct DiagnosticsRunTests {
    func run(_ context: DiagnosticsContext, timeout: Double = 10, archive: Bool = false,
             timeouts: CheckTimeouts = CheckTimeouts()) -> DiagnosticsRun {
        Diagnostics(context: context, options: DiagnosticsOptions(totalTimeout: timeout, collectArchive: archive, timeouts: timeouts)).run()
    }

    func status(_ r: DiagnosticsReport, _ name: String) -> CheckResult.Status? { r.checks.first { $0.name == name }?.status }

    @Test func everythingHealthyPassesEveryCheckInOrder() {
        let r = run(healthyContext()).report
        #expect(r.checks.map(\.name) == Diagnostics.names)
        for check in r.checks { #expect(check.status == .ok, "\(check.name): \(check.detail)") }
        #expect(r.exitStatus == .ok)
        #expect(r.resourceID == "unit-1")
        #expect(r.checks.first { $0.name == "container monitoring" }?.detail == "pv-monitoring running 1.1.0 (Up 5 minutes)")
        #expect(r.checks.first { $0.name == "docker engine" }?.detail.contains("Docker 20.10.24, API 1.41") == true)
        #expect(r.checks.first { $0.name == "disk docker" }?.detail.hasSuffix("on /var/lib/docker") == true)
        #expect(r.checks.filter { $0.name != "configuration" }.allSatisfy { $0.milliseconds != nil })
    }

    @Test func dockerDownFailsItsChecksAloneAndTheOthersStillRun() {
        var engine = FakeEngineAPI.healthy
        engine.down = true
        // The socket file is there but nobody answers.
        let r = run(healthyContext(engine: engine)).report
        #expect(status(r, "docker engine") == .fail)
        for c in ["container dns", "container dhcp", "container monitoring", "disk docker"] {
            #expect(status(r, c) == .fail, "\(c)")
        }
        #expect(r.checks.first { $0.name == "container dns" }?.detail == "unknown: the Docker engine does not answer (connect failed)")
        for c in ["configuration", "rabbitmq", "verify dns", "verify dhcp", "disk root", "heartbeat"] {
            #expect(status(r, c) == .ok, "\(c)")
        }
        #expect(r.exitStatus == .checkFailed)
    }

    @Test func aMissingSocketIsNamed() {
        var engine = FakeEngineAPI.healthy
        engine.down = true
        var ctx = healthyContext(engine: engine)
        var files = FakeFileSystem()
        files.texts[fakeRoot.configFile] = sampleConfigText
        ctx.files = files
        let r = run(ctx).report
        #expect(r.checks.first { $0.name == "docker engine" }?.detail == "not running: the socket /fake/docker.sock does not exist")
    }

    @Test func theDockerDirectoryComesFromTheHeartbeatWhenTheEngineIsDown() {
        var engine = FakeEngineAPI.healthy
        engine.down = true
        let ctx = healthyContext(engine: engine)
        var files = ctx.files as! FakeFileSystem
        files.texts[fakeRoot.join("state", "heartbeat.state")] = "sequence = 3\ndocker_root_dir = /srv/docker\n"
        var c = ctx
        c.files = files
        let check = run(c).report.checks.first { $0.name == "disk docker" }!
        #expect(check.status == .ok)
        #expect(check.detail.contains("on /srv/docker (the engine does not answer"))
    }

    @Test func aHangingCheckFailsAtItsLimitWhileTheOthersFinish() {
        let ctx = healthyContext(amqp: { _, _, _ in
            usleep(3_000_000)
            return .success(AMQPSession(product: nil, version: nil, closedCleanly: true, milliseconds: 3000))
        })
        var timeouts = CheckTimeouts()
        timeouts.rabbitmq = 0.3
        let start = Monotonic.nanoseconds()
        let r = run(ctx, timeouts: timeouts).report
        let elapsed = Monotonic.milliseconds(since: start)
        let rabbit = r.checks.first { $0.name == "rabbitmq" }!
        #expect(rabbit.status == .fail)
        #expect(rabbit.detail == "did not finish within 0.3 s")
        #expect(elapsed < 1500, "took \(elapsed) ms")
        #expect(r.checks.filter { $0.status == .fail }.count == 1)
    }

    @Test func theWholeRunStaysWithinItsBound() {
        // Every engine request takes 2 s; the run is bounded at 1 s.
        var engine = FakeEngineAPI.healthy
        engine.delay = 2
        let start = Monotonic.nanoseconds()
        let r = run(healthyContext(engine: engine), timeout: 1).report
        let elapsed = Monotonic.milliseconds(since: start)
        #expect(elapsed < 1400, "took \(elapsed) ms")
        #expect(r.checks.first { $0.name == "docker engine" }?.detail == "did not finish within 1.0 s")
        #expect(status(r, "rabbitmq") == .ok)
        #expect(r.checks.count == Diagnostics.names.count)
    }

    @Test func anInvalidConfigurationIsReportedAndExits78() {
        var files = FakeFileSystem()
        files.texts[fakeRoot.configFile] = sampleConfigText.replacingOccurrences("dns_verify_port = 5353", "dns_verify_port = x")
        var ctx = healthyContext()
        ctx.files = files
        let r = run(ctx, archive: true)
        #expect(r.report.exitStatus == .config)
        #expect(r.report.checks.first!.detail.contains("key 'dns_verify_port'"))
        #expect(r.report.checks.first { $0.name == "rabbitmq" }?.detail == "not run: it needs a valid configuration")
        #expect(status(r.report, "disk root") == .ok)
        // The archive is still made, and still redacted by key.
        let entries = DiagnosticsArchive.entries(r, reportText: r.report.text(), reportJSON: r.report.json().rendered)
        let config = entries.first { $0.name.hasSuffix("etc/provision.conf") }!.text
        #expect(!config.contains(sampleToken))
        #expect(!config.contains("pa55"))
        #expect(config.contains("dns_verify_port = x"))
    }

    @Test func aConfigurationOthersCanReadFails() {
        var ctx = healthyContext()
        var files = ctx.files as! FakeFileSystem
        files.modes[fakeRoot.configFile] = 0o644
        ctx.files = files
        let check = run(ctx).report.checks.first!
        #expect(check.status == .fail)
        #expect(check.hint == "chmod 600 /fake/root/etc/provision.conf")
    }

    @Test func aPlantedSecretNeverLeavesInOutputOrArchive() {
        var files = healthyContext().files as! FakeFileSystem
        // The secret also sits in a comment and in a state file.
        files.texts[fakeRoot.configFile] = sampleConfigText + "\n# old token: \(sampleToken)\n"
        files.texts[fakeRoot.join("state", "notes")] = "token \(sampleToken) and pa55-w0rd@x\n"
        var ctx = healthyContext(amqp: { e, _, _ in
            // A broker error that echoes what it was given.
            .failure(AMQPError(.authFailed, phase: .login, "refused \(e.user):\(e.password)"))
        })
        ctx.files = files
        let r = run(ctx, archive: true)
        let text = r.redactor.apply(r.report.text(archive: "/x.tar.gz"))
        let json = r.redactor.apply(r.report.json(archive: "/x.tar.gz").rendered)
        let entries = DiagnosticsArchive.entries(r, reportText: text, reportJSON: json)
        #expect(entries.contains { $0.name.hasSuffix("logs/pv-monitoring.log") })
        #expect(entries.contains { $0.name.hasSuffix("state/notes") })
        for (what, body) in [("text", text), ("json", json)] + entries.map({ ($0.name, $0.text) }) {
            for secret in [sampleToken, samplePassword, "pa55-w0rd@x"] {
                #expect(!body.contains(secret), "\(what) holds \(secret)")
            }
        }
        #expect(text.contains("<redacted>"))
    }

    @Test func aSecretWithJSONSpecialCharactersIsMaskedBeforeEscaping() {
        let token = #"tok"en\x-1234"#
        var files = healthyContext().files as! FakeFileSystem
        files.texts[fakeRoot.configFile] = sampleConfigText.replacingOccurrences(sampleToken, token)
        var ctx = healthyContext(amqp: { _, _, _ in .failure(AMQPError(.other, phase: .login, "broker said \(token)")) })
        ctx.files = files
        let r = run(ctx, archive: true)
        let report = r.report.redacted(by: r.redactor)
        let json = report.json().rendered
        #expect(!json.contains(token))
        #expect(!json.contains(JSONValue.quote(token).dropFirst().dropLast()))
        #expect(json.contains("broker said <redacted>"))
        let entries = DiagnosticsArchive.entries(r, reportText: report.text(), reportJSON: json)
        #expect(entries.allSatisfy { !$0.text.contains(token) })
    }

    @Test func archiveEntriesHaveOneTopDirectoryAndTheLogsDemultiplexed() {
        let r = run(healthyContext(), archive: true)
        let entries = DiagnosticsArchive.entries(r, reportText: "t", reportJSON: "{}")
        let top = "diagnostics-unit-1-20261118T110640Z/"
        #expect(entries.allSatisfy { $0.name.hasPrefix(top) })
        #expect(Set(entries.map { String($0.name.dropFirst(top.count)) }) == [
            "README.txt", "report.txt", "report.json", "logs/pv-dns.log", "logs/pv-dhcp.log", "logs/pv-monitoring.log",
            "state/heartbeat.state", "state/components.json", "etc/provision.conf",
        ])
        let log = entries.first { $0.name.hasSuffix("pv-dns.log") }!.text
        #expect(log == "dns started with amqp://pvlab:<redacted>@broker\nstderr: a warning\n")
    }

    @Test func logsThatDoNotComeAreExplainedInTheArchive() {
        var engine = FakeEngineAPI.healthy
        engine.responses["/containers/pv-dhcp/logs"] = nil
        let r = run(healthyContext(engine: engine), archive: true)
        let entries = DiagnosticsArchive.entries(r, reportText: "t", reportJSON: "{}")
        let log = entries.first { $0.name.hasSuffix("pv-dhcp.log") }!.text
        #expect(log.hasPrefix("# no log: the Docker engine at unix:///fake/docker.sock answered 404"))
    }

    @Test func writtenArchiveIsPrivateAndComplete() throws {
        let dir = "/tmp/pvdiag-unit-\(getpid())-\(UInt32.random(in: 0...UInt32.max))"
        defer { _ = try? ProcessRunnerless.removeTree(dir) }
        let r = run(healthyContext(), archive: true)
        let entries = DiagnosticsArchive.entries(r, reportText: "t", reportJSON: "{}")
        let path = dir + "/sub/a.tar.gz"
        try DiagnosticsArchive.write(entries, to: path, time: fakeNow)
        #expect(FileIO.modeAndOwner(path)?.mode == 0o600)
        let bytes = try FileIO.readBytes(path, limit: 1 << 20)
        #expect(bytes.prefix(2) == [0x1f, 0x8b])  // gzip
        #expect(!FileIO.exists(path + ".tmp.\(getpid())"))
    }
}

extension String {
    func replacingOccurrences(_ a: String, _ b: String) -> String {
        var s = self
        while let r = s.firstRange(of: a) { s.replaceSubrange(r, with: b) }
        return s
    }
}

/// Removes a scratch directory tree this test created (no Foundation here).
enum ProcessRunnerless {
    static func removeTree(_ path: String) throws {
        guard let names = FileIO.listDirectory(path) else { unlink(path); return }
        for name in names {
            let child = path + "/" + name
            if FileIO.isDirectory(child) { try removeTree(child) } else { unlink(child) }
        }
        rmdir(path)
    }
}
