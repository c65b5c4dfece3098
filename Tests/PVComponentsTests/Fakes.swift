import PVCore
import PVTestSupport
import PVDocker
@testable import PVComponents
import PVState
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
    func digest(for component: Component, tag: String) throws(PVError) -> String {
        guard tags.contains(tag) else { throw PVError(.notFound, "\(component.rawValue):\(tag) is not in the registry") }
        return "sha256:" + String(repeating: "0", count: 64)
    }
}

func inspectLine(name: String, status: String = "running", version: String, image: String? = nil, pid: Int = 42) -> String {
    [ "/" + name, status, "2026-11-26T01:00:00.5Z", String(pid), "sha256:abc", image ?? "127.0.0.1:5000/pv-dns:\(version)",
      "dns", version, "0", "0" ].joined(separator: "\u{1f}")
}


func scratchDirectory() -> String {
    var template = Array("/tmp/pvunit.XXXXXX".utf8CString)
    return String(cString: mkdtemp(&template)!)
}

func makeContext(_ runner: FakeRunner, root: String, probe: FakeProbe = FakeProbe(), ports: FakePorts = FakePorts(),
                 catalog: FakeCatalog? = nil) -> ComponentContext {
    ComponentContext(environment: .test(root: root, processes: runner), config: testConfig, readiness: probe, ports: ports,
                     registry: catalog, progress: { _ in })
}
