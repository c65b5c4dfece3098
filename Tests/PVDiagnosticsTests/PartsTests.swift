import Foundation
import PVAMQP
@testable import PVCore
import PVState
import PVHTTP
import Testing
import PVTestSupport
@testable import PVDiagnostics
#if canImport(Glibc)
import Glibc
#endif

@Suite struct DockerLogStreamTests {
    @Test func framesAreSplitByStreamAndLinesReassembled() {
        // One stdout line split over two frames, with a stderr line between them.
        let body = frame(1, "hello wo") + frame(2, "oops\n") + frame(1, "rld\nsecond\n")
        #expect(DockerLogStream.frames(body)?.map(\.stream) == [.stdout, .stderr, .stdout])
        #expect(DockerLogStream.text(body, contentType: nil) == "stderr: oops\nhello world\nsecond\n")
    }

    @Test func aLastLineWithoutNewlineIsKept() {
        #expect(DockerLogStream.text(frame(1, "a\nb"), contentType: nil) == "a\nb\n")
    }

    @Test func aTTYStreamIsRawText() {
        let tty = Array("2026-11-26T02:21:07Z plain tty output\n".utf8)
        #expect(DockerLogStream.frames(tty) == nil)
        #expect(DockerLogStream.text(tty, contentType: nil) == "2026-11-26T02:21:07Z plain tty output\n")
    }

    @Test func theContentTypeDecidesWhenTheEngineSendsIt() {
        // Raw output that happens to look like a frame header is kept as it is.
        let looksFramed = frame(1, "x")
        #expect(DockerLogStream.text(looksFramed, contentType: "application/vnd.docker.raw-stream") ==
                String(decoding: looksFramed, as: UTF8.self))
        #expect(DockerLogStream.text(looksFramed, contentType: "application/vnd.docker.multiplexed-stream") == "x\n")
    }

    @Test func damagedFramesFallBackToRaw() {
        var badPadding = frame(1, "abc")
        badPadding[2] = 7
        #expect(DockerLogStream.frames(badPadding) == nil)
        let truncated = Array(frame(1, "abcdef").dropLast(2))
        #expect(DockerLogStream.frames(truncated) == nil)
        #expect(DockerLogStream.frames([1, 0, 0]) == nil)
        var badStream = frame(1, "abc")
        badStream[0] = 3
        #expect(DockerLogStream.frames(badStream) == nil)
        #expect(DockerLogStream.frames([]) == [])
        // A size larger than the body must not overflow or crash.
        #expect(DockerLogStream.frames([1, 0, 0, 0, 0xff, 0xff, 0xff, 0xff, 65]) == nil)
    }
}

@Suite struct RedactorTests {
    @Test func configurationKeepsKeysAndMasksValues() {
        let out = Redactor.configurationText(sampleConfigText)
        #expect(out.contains("management_token = <redacted>"))
        #expect(out.contains("rabbitmq_uri = amqp://pvlab:<redacted>@127.0.0.1:5672/%2F"))
        #expect(out.contains("resource_id = unit-1"))
        #expect(out.contains("# test configuration"))
        #expect(!out.contains(sampleToken) && !out.contains("pa55"))
        #expect(out.split(separator: "\n").count == sampleConfigText.split(separator: "\n").count)
    }

    @Test func onlyKeysKnownToHoldNoSecretKeepTheirValues() {
        // A mistyped key with a password, and a token in management_url's user info.
        let out = Redactor.configurationText("resource_id = a\nrabbitmq_url = amqp://u:AUDITPW@h/\nmanagement_url = https://x:AUDITTOKEN@h/\ndns_verify_port = 53\n")
        #expect(out == "resource_id = a\nrabbitmq_url = <redacted>\nmanagement_url = https://x:<redacted>@h/\ndns_verify_port = 53\n")
    }

    @Test func aCRLFConfigurationIsRedactedLineByLine() {
        let crlf = sampleConfigText.split(separator: "\n", omittingEmptySubsequences: false).joined(separator: "\r\n")
        let out = Redactor.configurationText(crlf)
        #expect(!out.contains(sampleToken) && !out.contains("pa55"))
        #expect(out.contains("management_token = <redacted>"))
    }

    @Test func aLineThatIsNotKeyValueIsDroppedWhole() {
        let out = Redactor.configurationText("resource_id = a\nmanagement_token: \(sampleToken)\n")
        #expect(out == "resource_id = a\n# line 2 removed by pv_diagnostics: not 'key = value'\n")
    }

    @Test(arguments: [
        ("amqp://u:p@h:5672/%2F", "amqp://u:<redacted>@h:5672/%2F"),
        ("amqps://u:p:q@h/v", "amqps://u:<redacted>@h/v"),
        ("amqp://u@h/v", "amqp://u@h/v"),
        ("amqp://h", "amqp://h"),
        ("garbage with secret", "<redacted>"),
        ("amqp://u:p%40ss@h/path@x", "amqp://u:<redacted>@h/path@x"),
    ])
    func uriPasswords(uri: String, expected: String) {
        #expect(Redactor.redactedURI(uri) == expected)
    }

    @Test func secretsAreMaskedAsWrittenAndPercentDecoded() {
        let r = Redactor(secrets: [sampleToken, samplePassword])
        #expect(r.apply("a \(sampleToken) b pa55-w0rd@x c \(samplePassword)") == "a <redacted> b <redacted> c <redacted>")
    }

    @Test func shortSecretsAreLeftToKeyRedaction() {
        let r = Redactor(secrets: ["abc", ""])
        #expect(r.apply("abcdef") == "abcdef")
        #expect(Redactor.tooShort(["abc"]))
        #expect(!Redactor.tooShort(["abcd", ""]))
    }

    @Test func aSecretContainingAnotherIsMaskedWhole() {
        let r = Redactor(secrets: ["secret", "my-secret-long"])
        #expect(r.apply("x my-secret-long y") == "x <redacted> y")
    }
}

@Suite struct DiskThresholdTests {
    func usage(freeGiB: Double, totalGiB: Double, inodesFree: UInt64 = 900) -> Result<DiskUsage, DiskUsageError> {
        .success(DiskUsage(totalBytes: UInt64(totalGiB * 1_073_741_824), availableBytes: UInt64(freeGiB * 1_073_741_824),
                           totalInodes: 1000, availableInodes: inodesFree))
    }

    @Test(arguments: [
        (50.0, 100.0, 900 as UInt64, CheckResult.Status.ok),
        (9.0, 100.0, 900, .warn),     // under 10 %
        (4.0, 100.0, 900, .fail),     // under 5 %
        (1.5, 4.0, 900, .warn),       // 37 % free but under 2 GiB
        (0.4, 1.0, 900, .fail),       // under 512 MiB
        (200.0, 4000.0, 900, .warn),  // exactly 5 %: not under the failure limit
        (50.0, 100.0, 80, .warn),     // inodes under 10 %
        (50.0, 100.0, 40, .fail),     // inodes under 5 %
    ])
    func thresholds(free: Double, total: Double, inodes: UInt64, expected: CheckResult.Status) {
        let r = DiskCheck.evaluate(name: "disk root", what: "the install root", path: "/p", usage: usage(freeGiB: free, totalGiB: total, inodesFree: inodes))
        #expect(r.status == expected, "\(r.detail)")
    }

    @Test func detailAndFailureText() {
        let ok = DiskCheck.evaluate(name: "disk root", what: "x", path: "/p", usage: usage(freeGiB: 78.7, totalGiB: 252))
        #expect(ok.detail == "78.7 GiB free of 252 GiB (31.2 % free), 90.0 % inodes free on /p")
        let missing = DiskCheck.evaluate(name: "disk docker", what: "x", path: "/nope", usage: .failure(DiskUsageError(path: "/nope", errno: ENOENT)))
        #expect(missing.status == .fail)
        #expect(missing.detail.contains("statvfs /nope: No such file or directory"))
    }

    @Test func byteFormatting() {
        #expect(DiskCheck.bytes(512) == "512 B")
        #expect(DiskCheck.bytes(512 << 20) == "512 MiB")
        #expect(DiskCheck.bytes(2 << 30) == "2.0 GiB")
        #expect(DiskCheck.bytes(1_610_612_736) == "1.5 GiB")
    }
}

@Suite struct ReportFormattingTests {
    let report = DiagnosticsReport(
        resourceID: "lab-1", hostname: "h", time: 1_795_000_000, root: "/provision",
        checks: [
            CheckResult(name: "configuration", status: .ok, detail: "valid"),
            CheckResult(name: "container monitoring", status: .fail, detail: "no container pv-monitoring", hint: "start it", milliseconds: 1.25),
            CheckResult(name: "clock", status: .warn, detail: "not synchronised", hint: "start NTP", milliseconds: 1234),
            CheckResult(name: "rabbitmq", status: .ok, detail: "logged in", hint: "unused", milliseconds: 18.4),
        ],
        elapsedMilliseconds: 1250, boundSeconds: 10, configurationInvalid: false)

    @Test func tableColumnsAlignAndHintsFollowNonOkRows() {
        #expect(report.text(archive: "/a.tar.gz") == """
            ProVision diagnostics: resource lab-1, host h, 2026-11-18 11:06:40 UTC, root /provision

            CHECK                 STATUS      TIME  DETAIL
            configuration         ok             -  valid
            container monitoring  FAIL      1.3 ms  no container pv-monitoring
                                                    next step: start it
            clock                 WARN       1.2 s  not synchronised
                                                    next step: start NTP
            rabbitmq              ok         18 ms  logged in

            4 checks in 1.3 s: 2 ok, 1 warning, 1 failed
            archive: /a.tar.gz

            """)
    }

    @Test func jsonCarriesEveryCheckAndTheSummary() {
        #expect(report.json().rendered == """
            {"ok":false,"exit_code":1,"resource_id":"lab-1","hostname":"h","time":"2026-11-18T11:06:40Z","root":"/provision",\
            "elapsed_ms":1250,"bound_seconds":10,"summary":{"ok":2,"warn":1,"fail":1},"checks":[\
            {"name":"configuration","status":"ok","detail":"valid","hint":null,"ms":null},\
            {"name":"container monitoring","status":"fail","detail":"no container pv-monitoring","hint":"start it","ms":1.3},\
            {"name":"clock","status":"warn","detail":"not synchronised","hint":"start NTP","ms":1234},\
            {"name":"rabbitmq","status":"ok","detail":"logged in","hint":"unused","ms":18.4}],"archive":null,"archive_error":null}
            """)
    }

    @Test func warningsPassFailuresDoNotAndABadConfigurationIs78() {
        var r = report
        #expect(r.exitStatus == .checkFailed)
        r.checks.removeAll { $0.status == .fail }
        #expect(r.exitStatus == .ok)
        #expect(r.passed)
        r.configurationInvalid = true
        #expect(r.exitStatus == .config)
    }
}

@Suite struct HeartbeatCheckTests {
    func facts(missing: [String] = [], enabled: Bool = true, state: String? = "sequence = 7\n", age: Double? = 12) -> HeartbeatCheck.Facts {
        HeartbeatCheck.Facts(unitDirectory: "/etc/systemd/system", missingUnits: missing, timerEnabled: enabled,
                             statePath: "/provision/state/heartbeat.state", stateText: state,
                             stateModified: age.map { 1000 - $0 }, now: 1000)
    }

    @Test func recentBeatIsOk() {
        let r = HeartbeatCheck.evaluate(facts())
        #expect(r.status == .ok)
        #expect(r.detail == "units installed in /etc/systemd/system; last beat #7 12 s ago")
    }

    @Test func missingUnitsFail() {
        let r = HeartbeatCheck.evaluate(facts(missing: ["pv_heartbeat.timer"]))
        #expect(r.status == .fail)
        #expect(r.detail == "pv_heartbeat.timer not installed in /etc/systemd/system")
    }

    @Test(arguments: [
        (true, 12.0, "sequence = 7\n", CheckResult.Status.ok),
        (false, 12.0, "sequence = 7\n", .warn),    // timer not enabled
        (true, 120.0, "sequence = 7\n", .warn),    // late
        (true, 400.0, "sequence = 7\n", .fail),    // stopped
        (true, 12.0, "garbage\n", .fail),          // damaged state
        (true, 12.0, "sequence = 7\nlast_result = sent\n", .ok),
        (true, 12.0, "sequence = 7\nlast_result = unreachable\n", .fail),
    ])
    func statuses(enabled: Bool, age: Double, state: String, expected: CheckResult.Status) {
        #expect(HeartbeatCheck.evaluate(facts(enabled: enabled, state: state, age: age)).status == expected)
    }

    @Test func noBeatYetWarns() {
        let r = HeartbeatCheck.evaluate(facts(state: nil, age: nil))
        #expect(r.status == .warn)
        #expect(r.detail.contains("no beat recorded yet"))
    }
}

@Suite struct ClockCheckTests {
    func sample(_ systemTime: String?, local: Double, rtt: Double = 2) -> Result<EngineInfoSample, DockerEngineError> {
        .success(EngineInfoSample(info: EngineInfo(dockerRootDir: "/d", serverVersion: "x", systemTime: systemTime),
                                  localTime: local, roundTripMilliseconds: rtt))
    }

    @Test(arguments: [
        ("2026-11-26T02:20:47.764470653Z", 1_795_659_647.764470653),
        ("2026-11-26T02:20:47Z", 1_795_659_647.0),
        ("2026-11-26T03:20:47.5+01:00", 1_795_659_647.5),
        ("2026-11-25T21:20:47-05:00", 1_795_659_647.0),
    ])
    func rfc3339(text: String, expected: Double) {
        let parsed = RFC3339.parse(text)
        #expect(parsed != nil && abs(parsed! - expected) < 1e-6, "\(text) -> \(String(describing: parsed))")
    }

    @Test(arguments: ["", "2026-11-26", "2026-13-26T02:20:47Z", "2026-11-26T02:20:47", "2026-11-26T02:20:47.Z", "2026-11-26T02:20:47Zjunk"])
    func malformedTimes(text: String) {
        #expect(RFC3339.parse(text) == nil)
    }

    @Test func synchronisedAndAgreeingIsOk() {
        let now = 1_795_659_647.0
        let r = ClockCheck.evaluate(kernel: KernelClock(now: now, synchronised: true, maxErrorMicroseconds: 16000),
                                    engine: sample("2026-11-26T02:20:47.0005Z", local: now))
        #expect(r.status == .ok)
        #expect(r.detail == "2026-11-26 02:20:47 UTC; synchronised (max error 16 ms); the Docker engine's clock agrees within 1 ms")
    }

    @Test func unsynchronisedWarns() {
        let r = ClockCheck.evaluate(kernel: KernelClock(now: 1_795_659_647, synchronised: false, maxErrorMicroseconds: nil),
                                    engine: .failure(.engine("x", .invalidHost)))
        #expect(r.status == .warn)
        #expect(r.hint?.contains("systemd-timesyncd") == true)
    }

    @Test func anUnsetClockFails() {
        let r = ClockCheck.evaluate(kernel: KernelClock(now: 86400, synchronised: true, maxErrorMicroseconds: 0),
                                    engine: .failure(.engine("x", .invalidHost)))
        #expect(r.status == .fail)
        #expect(r.detail == "the clock says 1970-01-02 00:00:00 UTC: it was never set")
    }

    @Test(arguments: [(0.5, CheckResult.Status.ok), (3.0, .warn), (30.0, .fail), (-30.0, .fail)])
    func engineOffsets(offset: Double, expected: CheckResult.Status) {
        let now = 1_795_659_647.0
        let engineText = ClockCheck.formatISO(now + offset.rounded(.down)) // whole seconds are enough here
        let r = ClockCheck.evaluate(kernel: KernelClock(now: now, synchronised: true, maxErrorMicroseconds: 1000),
                                    engine: sample(engineText, local: now - (offset - offset.rounded(.down))))
        #expect(r.status == expected, "\(r.detail)")
    }
}

@Suite struct EngineCheckTests {
    func summary(_ state: String, status: String = "", labels: [String: String] = ["org.provision.version": "1.1.0"]) -> DockerContainerSummary {
        DockerContainerSummary(id: "id", names: ["/pv-monitoring"], image: "127.0.0.1:5000/pv-monitoring:1.0.0", state: state,
                               status: status, labels: labels)
    }

    @Test func containerStates() {
        let running = EngineChecks.container(.monitoring, named: "pv-monitoring", containers: .success([summary("running", status: "Up 1 hour")]), recorded: nil)
        #expect(running.status == .ok)
        #expect(running.detail == "pv-monitoring running 1.1.0 (Up 1 hour)")
        let exited = EngineChecks.container(.monitoring, named: "pv-monitoring", containers: .success([summary("exited", status: "Exited (1) 2 minutes ago")]), recorded: nil)
        #expect(exited.status == .fail)
        #expect(exited.detail == "pv-monitoring 1.1.0 is exited (Exited (1) 2 minutes ago) (it holds the debug tools and the RabbitMQ connection)")
        #expect(exited.hint?.hasPrefix("start it: start_pv_monitoring.sh") == true)
        let restarting = EngineChecks.container(.monitoring, named: "pv-monitoring", containers: .success([summary("restarting", labels: [:])]), recorded: nil)
        #expect(restarting.status == .fail)
        #expect(restarting.detail.hasPrefix("pv-monitoring 1.0.0 keeps restarting"))
        var record = ComponentRecord()
        record.record("stopped", version: nil, at: 5)
        let absent = EngineChecks.container(.dns, named: "pv-dns", containers: .success([summary("running")]), recorded: record)
        #expect(absent.status == .fail)
        #expect(absent.detail == "no container pv-dns; last recorded event: stopped")
    }

    @Test func engineUpAndDown() {
        var files = FakeFileSystem()
        files.others = ["/s/docker.sock"]
        let up = EngineChecks.engine(dockerHost: "unix:///s/docker.sock", ping: .success(HTTPResponse(status: 200)), files: files, configFile: "c")
        #expect(up.status == .ok)
        let refused = EngineChecks.engine(dockerHost: "unix:///s/docker.sock",
                                          ping: .failure(.engine("unix:///s/docker.sock", .unreachable(HTTPError(.connectFailed, detail: "refused")))),
                                          files: files, configFile: "c")
        #expect(refused.detail == "not reachable: refused")
        files.unwritable = ["/s/docker.sock"]
        let denied = EngineChecks.engine(dockerHost: "unix:///s/docker.sock",
                                         ping: .failure(.engine("unix:///s/docker.sock", .unreachable(HTTPError(.connectFailed, detail: "x")))),
                                         files: files, configFile: "c")
        #expect(denied.detail == "no permission to use the socket /s/docker.sock")
    }

    @Test func logsPath() {
        #expect(EngineFacts.logsPath(container: "pv-dns", lines: 200) == "/containers/pv-dns/logs?stdout=1&stderr=1&timestamps=1&tail=200")
    }
}

@Suite struct RabbitMQCheckTests {
    let uri = "amqp://pvlab:\(samplePassword)@127.0.0.1:5672/%2F"

    @Test func endpointIsParsedByRabbitMQC() throws {
        let e = try AMQPEndpoint.parse(uri)
        #expect(e.host == "127.0.0.1" && e.port == 5672 && e.user == "pvlab" && e.vhost == "/" && !e.tls)
        #expect(e.password == "pa55-w0rd@x")
        #expect(e.display == "amqp://pvlab@127.0.0.1:5672/%2F")
        #expect(try AMQPEndpoint.parse("amqps://u:p@broker/prod").display == "amqps://u@broker:5671/prod")
    }

    @Test func aBadURINeverEchoesIt() {
        let r = RabbitMQCheck.evaluate(uri: "amqp://u:\(sampleToken)@h:99999999/", configFile: "c") { _ in fatalError("not called") }
        #expect(r.status == .fail)
        #expect(!r.detail.contains(sampleToken))
    }

    @Test(arguments: [
        (AMQPError.Kind.refused, AMQPError.Phase.connect, "start RabbitMQ"),
        (.timedOut, .connect, "firewall"),
        (.timedOut, .login, "did not answer"),
        (.authFailed, .login, "user or password"),
        (.vhostRefused, .login, "%2F"),
        (.channelFailed, .channel, "channel"),
        (.connectionLost, .login, "user and password"),
        (.resolveFailed, .connect, "host name"),
        (.tlsFailed, .connect, "certificate"),
    ])
    func eachFailureHasItsNextStep(kind: AMQPError.Kind, phase: AMQPError.Phase, hint: String) {
        let r = RabbitMQCheck.evaluate(uri: uri, configFile: "c") { _ in .failure(AMQPError(kind, phase: phase, "detail")) }
        #expect(r.status == .fail)
        #expect(r.detail == "amqp://pvlab@127.0.0.1:5672/%2F: \(kind.rawValue): detail")
        #expect(r.hint?.contains(hint) == true, "\(r.hint ?? "")")
        #expect(!r.detail.contains("pa55") && !(r.hint ?? "").contains("pa55"))
    }

    @Test func okNamesTheBroker() {
        let r = RabbitMQCheck.evaluate(uri: uri, configFile: "c") { _ in
            .success(AMQPSession(product: "RabbitMQ", version: "3.10.8", closedCleanly: true, milliseconds: 2))
        }
        #expect(r.status == .ok)
        #expect(r.detail == "logged in as 'pvlab' to amqp://pvlab@127.0.0.1:5672/%2F (RabbitMQ 3.10.8), opened channel 1 and closed it")
    }

    @Test func aBrokerThatBlocksPublishersFailsWithItsAlarm() {
        let r = RabbitMQCheck.evaluate(uri: uri, configFile: "c") { _ in
            .success(AMQPSession(product: "RabbitMQ", version: "3.10.8", closedCleanly: false, milliseconds: 2, blockedBy: "memory"))
        }
        #expect(r.status == .fail)
        #expect(r.detail.hasSuffix("opened channel 1, but the broker blocks publishers (its alarm: memory)"), "\(r.detail)")
        #expect(r.hint?.contains("rabbitmqctl status") == true, "\(r.hint ?? "")")
    }

    @Test func brokerCloseCodesAreClassified() throws {
        let e = try AMQPEndpoint.parse(uri)
        #expect(AMQPLogin.classify(serverCode: 403, text: "ACCESS_REFUSED", phase: .login, endpoint: e, target: "t").kind == .authFailed)
        #expect(AMQPLogin.classify(serverCode: 530, text: "NOT_ALLOWED - vhost x not found", phase: .login, endpoint: e, target: "t").kind == .vhostRefused)
        #expect(AMQPLogin.classify(serverCode: 530, text: "", phase: .channel, endpoint: e, target: "t").kind == .channelFailed)
        #expect(AMQPLogin.classify(serverCode: 504, text: "CHANNEL_ERROR", phase: .channel, endpoint: e, target: "t").kind == .channelFailed)
        #expect(AMQPLogin.classify(serverCode: 320, text: "CONNECTION_FORCED", phase: .login, endpoint: e, target: "t").kind == .connectionLost)
        let timeout = AMQPLogin.connectFailure(status: -0x000D, errno: 0, target: "h:1", timeout: 2)
        #expect(timeout.kind == .timedOut && timeout.detail == "no TCP connection to h:1 within 2.0 s")
        #expect(AMQPLogin.connectFailure(status: -0x0009, errno: ECONNREFUSED, target: "h:1", timeout: 2).kind == .refused)
        #expect(AMQPLogin.connectFailure(status: -0x0009, errno: EINPROGRESS, target: "h:1", timeout: 2).kind == .refused)
        #expect(AMQPLogin.connectFailure(status: -0x0005, errno: 0, target: "h:1", timeout: 2).kind == .resolveFailed)
    }
}

@Suite struct ArchivePathTests {
    @Test func defaultArchivePath() {
        #expect(DiagnosticsArchive.defaultPath(root: InstallRoot(path: "/provision"), resourceID: "lab-1", time: 1_795_000_000)
                == "/provision/logs/diagnostics-lab-1-20261118T110640Z.tar.gz")
    }
}

@Suite struct BoundedRunTests {
    @Test func eachTaskHasItsOwnLimitAndResultsKeepTheirOrder() {
        let start = Monotonic.nanoseconds()
        let outcomes = BoundedRun.run([
            BoundedTask(timeout: 5) { usleep(50_000); return 1 },
            BoundedTask(timeout: 0.2) { usleep(2_000_000); return 2 },
            BoundedTask(timeout: 5) { 3 },
        ], deadline: Deadline(secondsFromNow: 10))
        let elapsed = Monotonic.milliseconds(since: start)
        guard case .finished(1, _) = outcomes[0], case .timedOut(let limit) = outcomes[1], case .finished(3, _) = outcomes[2] else {
            Issue.record("unexpected \(outcomes)")
            return
        }
        #expect(abs(limit - 0.2) < 0.01)
        #expect(elapsed < 600, "took \(elapsed) ms")
    }

    @Test func theOverallDeadlineCutsEveryTask() {
        let start = Monotonic.nanoseconds()
        let outcomes = BoundedRun.run((0..<8).map { _ in BoundedTask(timeout: 5) { usleep(3_000_000); return 0 } },
                                      deadline: Deadline(secondsFromNow: 0.3))
        #expect(Monotonic.milliseconds(since: start) < 800)
        #expect(outcomes.allSatisfy { if case .timedOut = $0 { return true } else { return false } })
    }

    /// Twelve tasks that each wait (bounded) until all twelve have started: run one after the
    /// other, each would reach its limit waiting for the rest.
    @Test func tasksRunConcurrently() {
        let arrived = Rendezvous(count: 12)
        let outcomes = BoundedRun.run((0..<12).map { _ in BoundedTask(timeout: 5) { arrived.arriveAndWait(bound: 4) } },
                                      deadline: Deadline(secondsFromNow: 10))
        let met = outcomes.filter { if case .finished(true, _) = $0 { return true } else { return false } }
        #expect(met.count == 12, "\(outcomes)")
    }
}

/// Counts arrivals; each caller waits until `count` have arrived or `bound` seconds pass.
final class Rendezvous: @unchecked Sendable {
    private let condition = NSCondition()
    private var arrived = 0
    private let count: Int
    init(count: Int) { self.count = count }

    /// True when everyone arrived within the bound.
    func arriveAndWait(bound: Double) -> Bool {
        condition.lock()
        defer { condition.unlock() }
        arrived += 1
        condition.broadcast()
        let deadline = Date().addingTimeInterval(bound)
        while arrived < count { if !condition.wait(until: deadline) { return false } }
        return true
    }
}

/// The seed's debug tools in the monitoring component, as its running container has them.
@Suite struct MonitoringToolsCheckTests {
    @Test func allToolsPresentIsOK() {
        let r = MonitoringToolsCheck.evaluate(container: "pv-monitoring", found: .success(Set(MonitoringToolsCheck.tools.map(\.program))))
        #expect(r.status == .ok && r.detail == "pv-monitoring has mysql, dhcping, dig, nslookup, nsupdate, telnet")
    }

    @Test func aMissingToolIsNamedWithWhatItIs() {
        let r = MonitoringToolsCheck.evaluate(container: "pv-monitoring", found: .success(["dig", "nslookup", "nsupdate", "telnet"]))
        #expect(r.status == .warn)
        #expect(r.detail == "pv-monitoring lacks mysql (MySQL/MariaDB client), dhcping (DHCP test client); has dig, nslookup, nsupdate, telnet")
    }

    @Test func aStoppedContainerIsNotCheckedAndSaysSo() {
        let r = MonitoringToolsCheck.evaluate(container: "pv-monitoring", found: .failure(PVError(.unavailable, "pv-monitoring does not exist")))
        #expect(r.status == .warn && r.detail.hasPrefix("not checked: cannot run a shell in pv-monitoring"))
        #expect(r.hint?.contains("start_pv_monitoring.sh") == true)
    }
}

@Suite struct MonitorCheckTests {
    func facts(pid: Int32? = 812, age: Double? = 4, problems: [String] = [], unit: Bool = true) -> MonitorCheck.Facts {
        let now = 1_795_000_000.0
        return MonitorCheck.Facts(health: MonitorHealth(pid: pid, lastSampleEnd: age.map { now - $0 }, sequence: age == nil ? nil : 41,
                                                        problems: problems),
                                  unitInstalled: unit, unitDirectory: "/etc/systemd/system", interval: 10, now: now)
    }

    @Test func aRecentSampleWithoutProblemsPasses() {
        let r = MonitorCheck.evaluate(facts())
        #expect(r.status == .ok)
        #expect(r.detail == "pv_monitor runs (pid 812), last sample #41 4 s ago; DNS, DNS aggregate and DHCP data present")
    }

    @Test func notRunningFailsWithWhereToLook() {
        let r = MonitorCheck.evaluate(facts(pid: nil, age: 600))
        #expect(r.status == .fail)
        #expect(r.detail.hasPrefix("pv_monitor is not running, last sample 10 min ago"))
        #expect(r.hint?.contains("journalctl -u pv_monitor.service") == true)
        let uninstalled = MonitorCheck.evaluate(facts(pid: nil, age: nil, unit: false))
        #expect(uninstalled.hint == "pv_monitor.service is not installed in /etc/systemd/system: as root, pv_install -e setup_monitor")
    }

    /// Running but counting no more: three intervals (and a little) without a sample.
    @Test func aStaleSampleFails() {
        #expect(MonitorCheck.evaluate(facts(age: 34)).status == .ok)
        let r = MonitorCheck.evaluate(facts(age: 36))
        #expect(r.status == .fail)
        #expect(r.detail.contains("more than 3 intervals of 10 s"))
    }

    @Test func missingDataIsAWarningThatSaysWhich() {
        let r = MonitorCheck.evaluate(facts(problems: ["no monitoring data from dns: no dnstap sender is connected to /x"]))
        #expect(r.status == .warn)
        #expect(r.detail.hasSuffix(": no monitoring data from dns: no dnstap sender is connected to /x"))
        #expect(MonitorCheck.evaluate(facts(age: nil)).status == .warn, "started, no sample yet")
    }
}
