import Foundation
import PVCore
import PVState
import PVHTTP
import Testing
import PVSystem
import PVTestSupport
@testable import PVHeartbeat

@Suite struct HeartbeatBeatTests {
    @Test func endpointJoinsWithoutDoubleSlash() {
        #expect(Heartbeat.endpoint(managementURL: "https://p.example/") == "https://p.example/api/v1/heartbeat")
        #expect(Heartbeat.endpoint(managementURL: "https://p.example/prov") == "https://p.example/prov/api/v1/heartbeat")
    }

    @Test func aBeatSavesTheNextSequenceBeforeSendingAndSendsThePayload() throws {
        let clock = FakeClock()
        let transport = FakeTransport([.status(200, "OK", seconds: 0.003)], clock: clock)
        let store = FakeHeartbeatStateStore(HeartbeatState(sequence: 41, cpu: CPUSample(totalTicks: 900, idleTicks: 760, uptime: 970.5),
                                                    dockerRootDir: "/var/lib/docker"))
        var system = FakeSystem()
        system.disks["/var/lib/docker"] = DiskUsage(totalBytes: 10, availableBytes: 4, usedBytes: 6)
        let outcome = Heartbeat(config: testConfig()).beat(context(transport: transport, store: store, system: system))
        #expect(outcome.exitStatus == HeartbeatExit.sent)
        #expect(outcome.resultName == "sent")
        #expect(outcome.payload.sequence == 42)
        let beforeSending = HeartbeatState(sequence: 42, cpu: CPUSample(totalTicks: 1000, idleTicks: 800, uptime: 1000.5),
                                           dockerRootDir: "/var/lib/docker")
        var afterSending = beforeSending
        afterSending.lastResult = "sent"
        #expect(store.saves == [beforeSending, afterSending], "the sequence before sending, the result after")
        let request = try #require(transport.requests.first)
        #expect(request.url == "https://provision.example.com/api/v1/heartbeat")
        let body = try #require(JSONSerialization.jsonObject(with: Data(request.body ?? [])) as? [String: Any])
        #expect(body["sequence"] as? Int == 42)
        #expect(body["resource_id"] as? String == "42")
        #expect(body["hostname"] as? String == "dns-01")
        #expect(body["timestamp"] as? String == "2026-11-18T11:06:40.250Z")
        #expect(body["state"] as? String == "running")
        let sys = try #require(body["system"] as? [String: Any])
        #expect((sys["cpu"] as? [String: Any])?["busy_percent"] as? Double == 60)
        #expect((sys["disks"] as? [[String: Any]])?.map { $0["name"] as? String } == ["root", "docker"])
    }

    /// pv_monitor's health rides along: its last sample and the spool of samples the broker has not
    /// confirmed (what ProVision needs to see that monitoring data is late); null without a sample.
    @Test func theBeatCarriesTheMonitorsHealthAndSpool() throws {
        let clock = FakeClock()
        var files = FakeFileSystem()
        files.texts["/unit/heartbeat/state/monitor/last.json"] = """
            {"sequence": 7, "end": "2026-11-18T11:06:30.000Z", "dns": {"problem": null}, "dns_aggregate": {"problem": null},
             "dhcp": {"problem": null}, "push": {"broker": "amqp://u@h:5672/%2F", "problem": "samples are not delivered to amqp://u@h:5672/%2F: nothing accepts connections on h:5672",
             "last_confirm": "2026-11-18T11:05:00.000Z", "spool_depth": 9, "dropped": 0}}
            """
        let transport = FakeTransport([.status(200, "OK", seconds: 0.003)], clock: clock)
        let outcome = Heartbeat(config: testConfig()).beat(context(transport: transport, store: FakeHeartbeatStateStore(nil), files: files))
        let sent = try #require(transport.requests.first?.body)
        let body = try #require(JSONSerialization.jsonObject(with: Data(sent)) as? [String: Any])
        let monitor = try #require(body["monitor"] as? [String: Any], "\(outcome.payload.json.rendered)")
        #expect(monitor["sequence"] as? Int == 7 && monitor["last_sample"] as? String == "2026-11-18T11:06:30.000Z")
        #expect(monitor["last_sample_age_seconds"] as? Double == 10.3)
        let push = try #require(monitor["push"] as? [String: Any])
        #expect(push["spool_depth"] as? Int == 9 && push["last_confirm"] as? String == "2026-11-18T11:05:00.000Z")
        #expect((monitor["problems"] as? [String])?.first?.contains("nothing accepts connections") == true)
        // No sample: null, not a made-up healthy monitor.
        let none = FakeTransport([.status(200, "OK", seconds: 0.003)], clock: clock)
        _ = Heartbeat(config: testConfig()).beat(context(transport: none, store: FakeHeartbeatStateStore(nil)))
        let bareBody = try #require(none.requests.first?.body)
        let bare = try #require(JSONSerialization.jsonObject(with: Data(bareBody)) as? [String: Any])
        #expect(bare["monitor"] is NSNull)
    }

    @Test func theLastResultIsRecordedForDiagnostics() throws {
        let clock = FakeClock()
        let store = FakeHeartbeatStateStore(HeartbeatState(sequence: 7))
        let outcome = Heartbeat(config: testConfig()).beat(context(transport: FakeTransport([.status(401, "Unauthorized", seconds: 0.001)], clock: clock), store: store))
        #expect(outcome.resultName == "rejected")
        #expect(store.current?.lastResult == "rejected")
        let text = try #require(store.current?.text)
        #expect(text.contains("last_result = rejected"))
        #expect(HeartbeatState.parse(text) == store.current, "what is written reads back")
    }

    @Test func theFirstBeatIsOneAndAsksForDockersDataDirectory() {
        let store = FakeHeartbeatStateStore()
        let outcome = Heartbeat(config: testConfig()).beat(context(
            transport: FakeTransport([.status(200, "OK", seconds: 0)], clock: FakeClock()), store: store))
        #expect(outcome.payload.sequence == 1)
        // The fake disk does not answer for /var/lib/docker, so it is asked again next beat.
        #expect(store.current?.dockerRootDir == nil)
    }

    @Test func dockerDownStillBeatsAndSaysSo() throws {
        let transport = FakeTransport([.status(200, "OK", seconds: 0)], clock: FakeClock())
        let report = ComponentReport.dockerDown("the Docker engine at unix:///var/run/docker.sock is not reachable (connect failed)",
                                                recorded: nil)
        let outcome = Heartbeat(config: testConfig()).beat(context(transport: transport, store: FakeHeartbeatStateStore(), report: report))
        #expect(outcome.exitStatus == HeartbeatExit.sent)
        #expect(outcome.payload.report.overallState == "unknown")
        #expect(outcome.warnings.first?.contains("is not reachable (connect failed); components are reported as unknown") == true)
        let body = try #require(JSONSerialization.jsonObject(with: Data(transport.requests[0].body ?? [])) as? [String: Any])
        #expect((body["docker"] as? [String: Any])?["reachable"] as? Bool == false)
        #expect((body["warnings"] as? [String])?.count == 1)
    }

    @Test func aStateThatCannotBeSavedIsAWarningNotASilentRepeat() {
        let store = FakeHeartbeatStateStore()
        store.saveError = PVError(.cantCreate, "cannot write the heartbeat state /p/state/heartbeat.state", cause: "Permission denied")
        let outcome = Heartbeat(config: testConfig()).beat(context(
            transport: FakeTransport([.status(200, "OK", seconds: 0)], clock: FakeClock()), store: store))
        #expect(outcome.exitStatus == HeartbeatExit.sent)
        #expect(outcome.warnings == ["cannot write the heartbeat state /p/state/heartbeat.state (Permission denied): the next beat may repeat sequence 1"])
    }

    @Test func aDamagedStateRestartsTheSequenceAndSaysSo() {
        let store = FakeHeartbeatStateStore()
        store.loadError = PVError(.dataError, "the heartbeat state /p/state/heartbeat.state is damaged")
        let outcome = Heartbeat(config: testConfig()).beat(context(
            transport: FakeTransport([.status(200, "OK", seconds: 0)], clock: FakeClock()), store: store))
        #expect(outcome.payload.sequence == 1)
        #expect(outcome.warnings.first == "the heartbeat state /p/state/heartbeat.state is damaged; the sequence restarts at 1")
    }

    @Test func dryRunSendsNothingAndKeepsTheSequence() {
        let transport = FakeTransport([], clock: FakeClock())
        let store = FakeHeartbeatStateStore(HeartbeatState(sequence: 7))
        let outcome = Heartbeat(config: testConfig()).beat(context(transport: transport, store: store), send: false)
        #expect(outcome.payload.sequence == 8)
        #expect(outcome.resultName == "dry-run")
        #expect(transport.count == 0)
        #expect(store.saves.isEmpty)
    }

    @Test(arguments: [
        (FakeTransport.Answer.status(200, "OK", seconds: 0), 0, "sent"),
        (.status(204, "No Content", seconds: 0), 0, "sent"),
        (.status(401, "Unauthorized", seconds: 0), 2, "rejected"),
        (.status(404, "Not Found", seconds: 0), 2, "rejected"),
        (.status(500, "Internal Server Error", seconds: 0), 4, "server-error"),
        (.status(302, "Found", seconds: 0), 4, "server-error"),
        (.error(.connectFailed, seconds: 0), 3, "unreachable"),
        (.error(.resolveFailed, seconds: 0), 3, "unreachable"),
        (.error(.connectionLost, seconds: 0), 3, "unreachable"),
        (.hang, 3, "unreachable"),
        (.error(.tlsFailed, seconds: 0), 5, "tls-failed"),
        (.error(.invalidRequest, seconds: 0), 78, "invalid"),
    ])
    func exitCodes(answer: FakeTransport.Answer, code: Int32, name: String) {
        let transport = FakeTransport([answer, answer], clock: FakeClock())
        let outcome = Heartbeat(config: testConfig(), totalTimeout: 2).beat(context(transport: transport, store: FakeHeartbeatStateStore()))
        #expect(outcome.exitStatus.rawValue == code)
        #expect(outcome.resultName == name)
    }
}

@Suite struct HeartbeatStateTests {
    @Test func roundTrip() {
        let s = HeartbeatState(sequence: 123_456_789_012, cpu: CPUSample(totalTicks: 5, idleTicks: 3, uptime: 12.25),
                               dockerRootDir: "/var/lib/docker")
        #expect(HeartbeatState.parse(s.text) == s)
        #expect(HeartbeatState.parse(HeartbeatState(sequence: 1).text) == HeartbeatState(sequence: 1))
    }

    @Test func damagedOrForeignTextIsRefused() {
        #expect(HeartbeatState.parse("") == nil)
        #expect(HeartbeatState.parse("sequence = -1\n") == nil)
        #expect(HeartbeatState.parse("sequence = 12abc\n") == nil)
        #expect(HeartbeatState.parse("sequence = 3\nfuture_key = x\ndocker_root_dir = relative\n") == HeartbeatState(sequence: 3))
    }

    @Test func fileStoreWritesAtomicallyAndReadsBack() throws {
        var template = Array("/tmp/pvhb.XXXXXX".utf8CString)
        let dir = String(cString: mkdtemp(&template)!)
        defer { try? FileManager.default.removeItem(atPath: dir) }
        let store = LiveHeartbeatStateStore(root: InstallRoot(path: dir))
        #expect(try store.load() == HeartbeatState())
        try store.save(HeartbeatState(sequence: 9))
        #expect(try store.load().sequence == 9)
        #expect(try FileManager.default.contentsOfDirectory(atPath: dir + "/state") == ["heartbeat.state"])
        try "garbage".write(toFile: store.path, atomically: false, encoding: .utf8)
        #expect(throws: PVError.self) { try store.load() }
    }

    @Test func lockIsExclusive() throws {
        var template = Array("/tmp/pvhb.XXXXXX".utf8CString)
        let dir = String(cString: mkdtemp(&template)!)
        defer { try? FileManager.default.removeItem(atPath: dir) }
        let path = dir + "/state/heartbeat.lock"
        func held() -> Bool {
            guard case .acquired(let first) = FileLock.acquire(path) else { return false }
            defer { withExtendedLifetime(first) {} }
            if case .busy = FileLock.acquire(path) { return true }
            return false
        }
        #expect(held(), "a second lock while the first is held must be busy")
        // The first lock ended with held(): the lock is free again.
        guard case .acquired = FileLock.acquire(path) else { Issue.record("lock must be free again"); return }
    }
}

@Suite struct PayloadAndReportTests {
    @Test func timestampIsRFC3339UTCWithMilliseconds() {
        #expect(RFC3339.format(0) == "1970-01-01T00:00:00.000Z")
        #expect(RFC3339.format(1_795_000_000.2509) == "2026-11-18T11:06:40.250Z")
        #expect(RFC3339.format(951_782_400.999_9) == "2000-02-29T00:00:00.999Z")
    }

    @Test func configReadableByOthersIsRefused() {
        #expect(ConfigPermissions.problem(mode: 0o600) == nil)
        #expect(ConfigPermissions.problem(mode: 0o400) == nil)
        #expect(ConfigPermissions.problem(mode: 0o640) == "mode 640 lets group or others read it")
        #expect(ConfigPermissions.problem(mode: 0o644) == "mode 644 lets group or others read it")
        #expect(ConfigPermissions.problem(mode: 0o622) == "mode 622 lets group or others read or change it")
    }

    func outcome(_ answers: [FakeTransport.Answer], report: ComponentReport = runningReport()) -> BeatOutcome {
        Heartbeat(config: testConfig(), totalTimeout: 2).beat(context(
            transport: FakeTransport(answers, clock: FakeClock()), store: FakeHeartbeatStateStore(), report: report))
    }

    func report(_ o: BeatOutcome) -> BeatReport {
        BeatReport(outcome: o, secrets: testConfig().secrets, configFile: "/provision/etc/provision.conf")
    }

    @Test func sentIsOneLineForTheJournal() {
        let r = report(outcome([.status(200, "OK", seconds: 0.0042)]))
        #expect(r.lines == ["beat 1 sent to https://provision.example.com/api/v1/heartbeat: 200 OK in 4.2 ms",
                            "state running: dns running 1.1.0, dhcp stopped 1.0.0, monitoring absent"])
        #expect(r.error == nil)
    }

    @Test func rejectedNamesTheTokenAsTheNextStep() throws {
        let error = try #require(report(outcome([.status(401, "Unauthorized", seconds: 0)])).error)
        #expect(error.hasPrefix("beat 1 to https://provision.example.com/api/v1/heartbeat was rejected: 401 Unauthorized"))
        #expect(error.contains("Next step: check management_token in /provision/etc/provision.conf"))
    }

    @Test func tlsNamesTheCAFile() throws {
        let error = try #require(report(outcome([.error(.tlsFailed, seconds: 0)])).error)
        #expect(error.contains("failed TLS verification"))
        #expect(error.contains("management_ca_file"))
    }

    @Test func unreachableListsDifferingAttempts() throws {
        let error = try #require(report(outcome([.error(.connectionLost, seconds: 0), .error(.connectFailed, seconds: 0)])).error)
        #expect(error.contains("was not delivered: connect failed"))
        #expect(error.contains("after 2 attempts (connection lost: scripted connection lost; connect failed: scripted connect failed)"))
    }

    @Test func secretsNeverReachTheOutput() {
        var o = outcome([.status(401, "Unauthorized", seconds: 0)])
        o.delivery = Delivery(result: .rejected(HTTPResponse(status: 401, reason: "Unauthorized",
                                                             body: Array("bad token s3cret-token".utf8))),
                              attempts: [DeliveryAttempt(milliseconds: 1, outcome: "401 s3cret-token")])
        let r = report(o)
        #expect(r.error?.contains("s3cret-token") == false)
        #expect(r.error?.contains("bad token <redacted>") == true)
        #expect(!r.json.rendered.contains("s3cret-token"))
    }

    @Test func jsonResultHasTheFieldsScriptsRead() {
        let json = report(outcome([.status(500, "Internal Server Error", seconds: 0), .status(200, "OK", seconds: 0.001)])).json.rendered
        #expect(json.hasPrefix(#"{"result":"sent","exit_code":0,"sequence":1,"url":"https://provision.example.com/api/v1/heartbeat","status":200,"attempts":[{"ms":0,"outcome":"500 Internal Server Error"},{"ms":1,"outcome":"200 OK"}],"state":"running""#), "\(json)")
    }

    @Test func aServerWithoutDHCPSaysSoAndSendsNoDHCPVersion() {
        var config = testConfig()
        config.enabledComponents = [.dns, .monitoring]
        var report = runningReport()
        report.components[.dhcp] = ReportedComponent(state: .running, version: "1.0.0", container: "pv-dhcp")
        let o = Heartbeat(config: config, totalTimeout: 2).beat(context(
            transport: FakeTransport([.status(200, "OK", seconds: 0)], clock: FakeClock()), store: FakeHeartbeatStateStore(), report: report))
        let json = o.payload.json.rendered
        #expect(json.contains(#""enabled_components":["dns","monitoring"]"#), "\(json)")
        #expect(json.contains(#""dhcp":{"state":"disabled","version":null,"container":null,"source":"config"}"#), "\(json)")
        #expect(o.warnings == ["dhcp is not enabled, but its container pv-dhcp runs (pv_install removes it)"])
        #expect(o.payload.report.overallState == "running", "dns runs")
    }

    @Test func payloadKeysAndOrder() {
        let o = outcome([.status(200, "OK", seconds: 0)])
        guard case .object(let pairs) = o.payload.json else { Issue.record("not an object"); return }
        #expect(pairs.map(\.0) == ["schema_version", "resource_id", "hostname", "agent_version", "sequence", "timestamp", "state",
                                    "enabled_components", "docker", "components", "system", "monitor", "warnings"])
        #expect(o.payload.json.rendered.contains(#""enabled_components":["dns","dhcp","monitoring"]"#))
        #expect(o.payload.json.rendered.contains(#""components":{"dns":{"state":"running","version":"1.1.0","container":"pv-dns","source":"docker"},"dhcp":{"state":"stopped","version":"1.0.0","container":"pv-dhcp","source":"docker"},"monitoring":{"state":"absent","version":null,"container":null,"source":"docker"}}"#))
    }
}

@Suite struct TimerInvocationTests {
    @Test func theUnitsInvocationSkipsArgumentParser() {
        let env = ["PV_ROOT": "/from-env"]
        #expect(HeartbeatRun.timerInvocationRoot([], environment: env) == InstallRoot(path: "/from-env"))
        #expect(HeartbeatRun.timerInvocationRoot([], environment: [:]) == InstallRoot(path: "/provision"))
        #expect(HeartbeatRun.timerInvocationRoot(["--root", "/provision"], environment: env) == InstallRoot(path: "/provision"))
        #expect(HeartbeatRun.timerInvocationRoot(["--root=/x/"], environment: env) == InstallRoot(path: "/x"))
    }

    @Test func everythingElseGoesThroughArgumentParser() {
        for args in [["-h"], ["--help"], ["--root"], ["--root", ""], ["--root", "--json"], ["--root="], ["--json"],
                     ["--root", "/p", "--json"], ["--dry-run"], ["/p"], ["--timeout", "2"], ["--rootx", "/p"]] {
            #expect(HeartbeatRun.timerInvocationRoot(args, environment: [:]) == nil, "\(args)")
        }
    }
}
