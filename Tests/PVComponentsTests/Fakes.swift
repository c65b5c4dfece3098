import PVCore
import PVTestSupport
import PVDocker
@testable import PVComponents
import PVState
#if canImport(Glibc)
import Glibc
#endif

struct FakeProbe: ReadinessProbe {
    var result: Readiness = .ready("ok")
    func check(_ component: Component, container: ContainerInfo?, config: ServerConfig) -> Readiness { result }
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




func makeContext(_ runner: FakeRunner, root: String, probe: FakeProbe = FakeProbe(), ports: FakePorts = FakePorts(),
                 catalog: FakeCatalog? = nil) -> ComponentContext {
    ComponentContext(environment: .test(root: root, processes: runner), config: testConfig, readiness: probe, ports: ports,
                     registry: catalog, progress: { _ in })
}
