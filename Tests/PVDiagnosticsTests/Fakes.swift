import PVAMQP
@testable import PVCore
import PVHTTP
import Testing
import PVTestSupport
@testable import PVDiagnostics
#if canImport(Glibc)
import Glibc
#endif

/// A configuration like the lab's, with secrets worth looking for.
let sampleToken = "tok-5ecret-7f3a9c"
let samplePassword = "pa55-w0rd%40x"  // as written in the URI; `pa55-w0rd@x` decoded
let sampleConfigText = """
    # test configuration
    resource_id = unit-1
    management_url = https://pv.example:8443
    management_token = \(sampleToken)
    registry = 127.0.0.1:5000
    image_dns = pv-dns
    image_dhcp = pv-dhcp
    image_monitoring = pv-monitoring
    docker_host = unix:///fake/docker.sock
    dns_verify_server = 127.0.0.1
    dns_verify_port = 5353
    dhcp_verify_interface = pvv-cli
    rabbitmq_uri = amqp://pvlab:\(samplePassword)@127.0.0.1:5672/%2F
    """

/// Answers Engine API paths from a table; unknown paths are a 404. `down` makes
/// every request fail as a refused connection; `delay` makes each one slow.
struct FakeEngineAPI: HTTPTransport {
    var responses: [String: HTTPResponse] = [:]
    var down = false
    var delay: Double = 0

    func perform(_ request: HTTPRequest) throws(HTTPError) -> HTTPResponse {
        if delay > 0 { usleep(useconds_t(delay * 1e6)) }
        if down { throw HTTPError(.connectFailed, curlCode: 7, detail: "\(request.unixSocketPath ?? ""): Couldn't connect to server") }
        let path = String(request.url.dropFirst("http://docker".count))
        let key = path.split(separator: "?").first.map(String.init) ?? path
        return responses[path] ?? responses[key] ?? HTTPResponse(status: 404, body: Array("{\"message\":\"No such container\"}".utf8))
    }

    static func json(_ text: String, headers: [HTTPHeader] = []) -> HTTPResponse {
        HTTPResponse(status: 200, reason: "OK", headers: headers, body: Array(text.utf8))
    }

    /// An engine with the three components running and healthy answers.
    static var healthy: FakeEngineAPI {
        var e = FakeEngineAPI()
        e.responses["/_ping"] = HTTPResponse(status: 200, headers: [HTTPHeader("Server", "Docker/20.10.24 (linux)"),
                                                                    HTTPHeader("Api-Version", "1.41")], body: Array("OK".utf8))
        let containers = Component.allCases.map { c in
            "{\"Id\":\"\(c.rawValue)id\",\"Names\":[\"/pv-\(c.rawValue)\"],\"Image\":\"127.0.0.1:5000/pv-\(c.rawValue):1.1.0\","
                + "\"State\":\"running\",\"Status\":\"Up 5 minutes\",\"Labels\":{\"org.provision.version\":\"1.1.0\"}}"
        }
        e.responses["/containers/json"] = json("[" + containers.joined(separator: ",") + "]")
        e.responses["/info"] = json("{\"DockerRootDir\":\"/var/lib/docker\",\"ServerVersion\":\"20.10.24\",\"SystemTime\":\"\(ClockCheck.formatISO(fakeNow))\"}")
        for c in Component.allCases {
            e.responses["/containers/pv-\(c.rawValue)/logs"] = HTTPResponse(
                status: 200, body: frame(1, "\(c.rawValue) started with amqp://pvlab:\(samplePassword)@broker\n") + frame(2, "a warning\n"))
        }
        return e
    }
}

func frame(_ stream: UInt8, _ text: String) -> [UInt8] {
    let payload = Array(text.utf8)
    let n = UInt32(payload.count)
    return [stream, 0, 0, 0, UInt8(n >> 24), UInt8(n >> 16 & 0xff), UInt8(n >> 8 & 0xff), UInt8(n & 0xff)] + payload
}

let fakeRoot = InstallRoot(path: "/fake/root")
let fakeNow = 1_795_000_000.0  // 2026-11-18

/// A context where everything works; tests break one piece at a time.
func healthyContext(engine: FakeEngineAPI = .healthy, files: FakeFileSystem? = nil,
                    amqp: @escaping @Sendable (AMQPEndpoint, String?, Double) -> Result<AMQPSession, AMQPError> = { _, _, _ in
                        .success(AMQPSession(product: "RabbitMQ", version: "3.10.8", closedCleanly: true, milliseconds: 3))
                    }) -> DiagnosticsContext {
    var f = FakeFileSystem()
    f.texts[fakeRoot.configFile] = sampleConfigText
    f.texts[fakeRoot.join("state", "heartbeat.state")] = "sequence = 12\n"
    f.modified[fakeRoot.join("state", "heartbeat.state")] = fakeNow - 10
    f.texts[fakeRoot.join("state", "components.json")] = "{\"components\":{}}\n"
    f.others.insert("/fake/root/etc/systemd/system/pv_heartbeat.service")
    f.others.insert("/fake/root/etc/systemd/system/pv_heartbeat.timer")
    f.others.insert("/fake/root/etc/systemd/system/timers.target.wants/pv_heartbeat.timer")
    f.others.insert("/fake/docker.sock")
    f.others.insert("/fake/root/etc/systemd/system/pv_monitor.service")
    f.texts[fakeRoot.join("state", "monitor", "last.json")] =
        #"{"sequence": 9, "end": "2026-11-18T11:06:35Z", "dns": {"problem": null}, "dns_aggregate": {"problem": null}, "dhcp": {"problem": null}}"#
    var environment = AgentEnvironment.failing(root: fakeRoot)
    environment.http = engine
    environment.files = files ?? f
    environment.host.name = { "unit-host" }
    var context = DiagnosticsContext(
        environment: environment, systemdDirectory: "/fake/root/etc/systemd/system", amqpLogin: amqp,
        verifyDNS: { _ in CheckResult(name: "dns", status: .ok, detail: "TXT pvverify.test. = \"PVOK\"") },
        verifyDHCP: { _ in CheckResult(name: "dhcp", status: .ok, detail: "leased 198.51.100.10, released") },
        diskUsage: { _ in .success(DiskUsage(totalBytes: 100 << 30, availableBytes: 50 << 30, totalInodes: 1000, availableInodes: 900)) },
        kernelClock: { KernelClock(now: fakeNow, synchronised: true, maxErrorMicroseconds: 16000) },
        programsIn: { _, _, _ in .success(Set(MonitoringToolsCheck.tools.map(\.program))) })
    context.monitorLockHolder = { _ in 4242 }
    return context
}
