import Foundation
import PVCore
import PVState
import PVHTTP
import PVTestSupport
@testable import PVHeartbeat

struct FakeComponentProbe: ComponentProbe {
    var report: ComponentReport
    func probe(wantRootDir: Bool) -> ComponentReport {
        var r = report
        if wantRootDir && r.dockerReachable { r.dockerRootDir = r.dockerRootDir ?? "/var/lib/docker" }
        return r
    }
}

final class FakeHeartbeatStateStore: HeartbeatStateStore, @unchecked Sendable {
    private let lock = NSLock()
    private var state: HeartbeatState?
    var loadError: PVError?
    var saveError: PVError?
    private(set) var saves: [HeartbeatState] = []

    init(_ state: HeartbeatState? = nil) { self.state = state }

    func load() throws(PVError) -> HeartbeatState {
        if let loadError { throw loadError }
        return lock.withLock { state ?? HeartbeatState() }
    }

    func save(_ s: HeartbeatState) throws(PVError) {
        if let saveError { throw saveError }
        lock.withLock { state = s; saves.append(s) }
    }

    var current: HeartbeatState? { lock.withLock { state } }
}

/// Monotonic time that moves only when a fake transport or sleep moves it.
typealias FakeClock = TestClock

/// Answers from a script; each answer takes the given seconds on the fake clock.
/// A `.hang` answer takes the whole timeout of the request, as a hanging server does.
final class FakeTransport: HTTPTransport, @unchecked Sendable {
    enum Answer { case status(Int, String, seconds: Double), error(HTTPError.Kind, seconds: Double), hang }

    private let lock = NSLock()
    private var answers: [Answer]
    let clock: FakeClock
    private(set) var requests: [HTTPRequest] = []

    init(_ answers: [Answer], clock: FakeClock) {
        self.answers = answers
        self.clock = clock
    }

    func perform(_ request: HTTPRequest) throws(HTTPError) -> HTTPResponse {
        let answer: Answer? = lock.withLock {
            requests.append(request)
            return answers.isEmpty ? nil : answers.removeFirst()
        }
        switch answer {
        case .status(let code, let reason, let seconds)?:
            clock.advance(seconds)
            return HTTPResponse(status: code, reason: reason, body: Array("{\"error\":\"x\"}".utf8), milliseconds: seconds * 1000)
        case .error(let kind, let seconds)?:
            clock.advance(seconds)
            throw HTTPError(kind, curlCode: 7, detail: "scripted \(kind.rawValue)")
        case .hang?:
            clock.advance(request.totalTimeout)
            throw HTTPError(.timedOut, curlCode: 28, detail: "Operation timed out after \(Int(request.totalTimeout * 1000)) milliseconds")
        case nil:
            throw HTTPError(.other, detail: "unscripted request")
        }
    }

    var count: Int { lock.withLock { requests.count } }
}

func runningReport() -> ComponentReport {
    ComponentReport(dockerReachable: true, components: [
        .dns: ReportedComponent(state: .running, version: "1.1.0", container: "pv-dns"),
        .dhcp: ReportedComponent(state: .stopped, version: "1.0.0", container: "pv-dhcp"),
        .monitoring: ReportedComponent(state: .absent),
    ])
}

func testConfig(url: String = "https://provision.example.com/", token: String = "s3cret-token") -> ServerConfig {
    let text = """
        resource_id = 42
        management_url = \(url)
        management_token = \(token)
        management_ca_file = /etc/pv-ca.pem
        registry = 127.0.0.1:5000
        image_dns = pv-dns
        image_dhcp = pv-dhcp
        image_monitoring = pv-monitoring
        docker_host = unix:///var/run/docker.sock
        dns_verify_server = 127.0.0.1
        dns_verify_port = 53
        dhcp_verify_interface = pvv-cli
        rabbitmq_uri = amqp://u:amqp-pass@127.0.0.1:5672/%2F
        """
    return try! ConfigParser.parse(text, file: "test.conf")
}

func context(transport: FakeTransport, store: FakeHeartbeatStateStore, report: ComponentReport = runningReport(),
             system: FakeSystem = FakeSystem(), hostName: String = "dns-01", files: FakeFileSystem = FakeFileSystem()) -> HeartbeatContext {
    let clock = transport.clock
    var environment = AgentEnvironment.failing(root: InstallRoot(path: "/unit/heartbeat"))
    // pv_monitor's files (its last sample), none unless a test says so.
    environment.files = files
    environment.clock = AgentClock(now: { 1_795_000_000.25 }, monotonic: { clock.now }, sleep: { clock.advance($0) })
    environment.http = transport
    environment.host.name = { hostName }
    return HeartbeatContext(environment: environment, system: system, probe: FakeComponentProbe(report: report), stateStore: store)
}
