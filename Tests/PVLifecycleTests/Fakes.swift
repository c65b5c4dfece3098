import PVCore
import PVDocker
@testable import PVLifecycle
#if canImport(Glibc)
import Glibc
#endif

/// A scripted docker: records every invocation and answers from a closure.
/// Anything not scripted fails loudly, so no test reaches a real engine.
final class FakeRunner: ProcessRunner, @unchecked Sendable {
    var calls: [[String]] = []
    var respond: ([String]) -> ProcessOutput

    init(_ respond: @escaping ([String]) -> ProcessOutput) { self.respond = respond }

    func run(_ command: Command, timeout: Double) throws(PVError) -> ProcessOutput {
        precondition(timeout > 0, "every run has a bound")
        calls.append(command.argv)
        return respond(Array(command.arguments.dropFirst(2)))  // drop --host H
    }

    func exec(_ command: Command) throws(PVError) -> Never { fatalError("exec in a unit test: \(command)") }

    /// The docker subcommands issued, e.g. ["version", "container inspect", "run", ...].
    var verbs: [String] {
        calls.map { argv in
            let a = Array(argv.dropFirst(3))
            return ["container", "image"].contains(a.first ?? "") ? a.prefix(2).joined(separator: " ") : (a.first ?? "")
        }
    }
}

struct FakeProbe: ReadinessProbe {
    var result: Readiness = .ready("ok")
    func check(_ component: Component, container: ContainerInfo, config: ServerConfig) -> Readiness { result }
}

struct FakePorts: PortChecker {
    var holder: String? = nil
    func udpPortHolder(address: String, port: UInt16) -> String? { holder }
}

struct FakeCatalog: RegistryCatalog {
    var tags: [String]
    func tags(for component: Component) throws(PVError) -> [String] { tags }
}

func inspectLine(name: String, status: String = "running", version: String, image: String? = nil, pid: Int = 42) -> String {
    [ "/" + name, status, "2026-11-26T01:00:00.5Z", String(pid), "sha256:abc", image ?? "127.0.0.1:5000/pv-dns:\(version)",
      "dns", version, "0", "0" ].joined(separator: "\u{1f}")
}

let testConfig = try! ConfigParser.parse("""
    resource_id = t1
    management_url = http://127.0.0.1:1
    management_token = tok
    registry = 127.0.0.1:5000
    image_dns = pv-dns
    image_dhcp = pv-dhcp
    image_monitoring = pv-monitoring
    docker_host = unix:///tmp/fake.sock
    dns_verify_server = 127.0.0.1
    dns_verify_port = 5353
    dhcp_server_interface = pvv-srv
    dhcp_verify_interface = pvv-cli
    rabbitmq_uri = amqp://u:p@127.0.0.1:5672/%2F
    """, file: "test")

func scratchDirectory() -> String {
    var template = Array("/tmp/pvunit.XXXXXX".utf8CString)
    return String(cString: mkdtemp(&template)!)
}

func makeContext(_ runner: FakeRunner, root: String, probe: FakeProbe = FakeProbe(), ports: FakePorts = FakePorts(),
                 catalog: FakeCatalog? = nil) -> LifecycleContext {
    LifecycleContext(root: InstallRoot(path: root), config: testConfig,
                     docker: DockerCLI(host: "unix:///tmp/fake.sock", runner: runner), readiness: probe, ports: ports,
                     registry: catalog, say: { _ in })
}
