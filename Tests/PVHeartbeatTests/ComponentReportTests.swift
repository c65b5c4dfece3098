import PVCore
import PVState
import PVHTTP
import PVTestSupport
import Testing
@testable import PVHeartbeat

@Suite struct ComponentReportTests {
    func container(_ name: String, _ component: String?, _ state: String, version: String? = nil, image: String = "img",
                   created: Int = 0) -> DockerContainerSummary {
        var labels: [String: String] = [:]
        if let component { labels["org.provision.component"] = component }
        if let version { labels["org.provision.version"] = version }
        return DockerContainerSummary(id: name + "id", names: ["/" + name], image: image, state: state, created: created, labels: labels)
    }

    @Test func mapsRunningStoppedAbsent() {
        let r = ComponentReport.from(containers: [
            container("pv-dns", "dns", "running", version: "1.1.0"),
            container("pv-dhcp", "dhcp", "exited", image: "127.0.0.1:5000/pv-dhcp:1.0.0"),
            container("other", nil, "running"),
        ])
        #expect(r.components[.dns] == ReportedComponent(state: .running, version: "1.1.0", container: "pv-dns"))
        #expect(r.components[.dhcp] == ReportedComponent(state: .stopped, version: "1.0.0", container: "pv-dhcp"))
        #expect(r.components[.monitoring] == ReportedComponent(state: .absent))
        #expect(r.overallState == "running")
        #expect(r.summary == "dns running 1.1.0, dhcp stopped 1.0.0, monitoring absent")
        #expect(r.warnings.isEmpty)
    }

    @Test func runningWinsThenNewest() {
        let r = ComponentReport.from(containers: [
            container("old", "dns", "exited", version: "1.0.0", created: 5),
            container("new", "dns", "running", version: "1.1.0", created: 1),
            container("newer-stopped", "dhcp", "exited", version: "2.0.0", created: 9),
            container("older-stopped", "dhcp", "exited", version: "1.0.0", created: 2),
        ])
        #expect(r.components[.dns]?.container == "new")
        #expect(r.components[.dhcp]?.version == "2.0.0")
    }

    @Test func twoRunningContainersForOneComponentIsAWarning() {
        let r = ComponentReport.from(containers: [
            container("a", "monitoring", "running", created: 1), container("b", "monitoring", "running", created: 2),
        ])
        #expect(r.components[.monitoring]?.container == "b")
        #expect(r.warnings == ["monitoring: 2 containers running (b, a)"])
    }

    /// During a DNS handoff both containers run for about half a second: the old one serves and
    /// is reported (the new version is not verified yet); the new one is named, not counted.
    @Test func anUpdatesNextContainerIsNotTheComponentWhileTheOldOneRuns() {
        let r = ComponentReport.from(containers: [
            container("pv-dns", "dns", "running", version: "1.1.0", created: 1),
            container("pv-dns-next", "dns", "running", version: "1.2.0", created: 2),
        ])
        #expect(r.components[.dns] == ReportedComponent(state: .running, version: "1.1.0", container: "pv-dns"))
        #expect(r.warnings.count == 1 && r.warnings[0].hasPrefix("dns: pv-dns-next (1.2.0) also runs: an update is handing over"), "\(r.warnings)")
        // The old one gone, not yet renamed: the new one is what runs.
        let between = ComponentReport.from(containers: [container("pv-dns-next", "dns", "running", version: "1.2.0", created: 2)])
        #expect(between.components[.dns] == ReportedComponent(state: .running, version: "1.2.0", container: "pv-dns-next"))
        #expect(between.warnings.isEmpty)
        // A prepared swap's created (never started) container is neither reported nor a warning.
        let prepared = ComponentReport.from(containers: [
            container("pv-dhcp", "dhcp", "running", version: "1.0.0", created: 1),
            container("pv-dhcp-next", "dhcp", "created", version: "1.1.0", created: 2),
        ])
        #expect(prepared.components[.dhcp]?.version == "1.0.0" && prepared.warnings.isEmpty)
    }

    @Test func imageTagIsTheFallbackVersionButNotARegistryPort() {
        #expect(ComponentReport.version(of: container("x", "dns", "running", image: "reg:5000/pv-dns:1.2.0")) == "1.2.0")
        #expect(ComponentReport.version(of: container("x", "dns", "running", image: "reg:5000/pv-dns")) == nil)
    }

    @Test func anotherInstallsContainersAreNotCounted() {
        var theirs = container("pvit-dns", "dns", "running", version: "9.9.9")
        theirs.labels["org.provision.prefix"] = "pvit-"
        let r = ComponentReport.from(containers: [theirs, container("pv-dns", "dns", "exited", version: "1.1.0")])
        #expect(r.components[.dns] == ReportedComponent(state: .stopped, version: "1.1.0", container: "pv-dns"))
        #expect(ComponentReport.from(containers: [theirs], prefix: "pvit-").components[.dns]?.version == "9.9.9")
    }

    @Test func nothingRunningIsStopped() {
        let r = ComponentReport.from(containers: [])
        #expect(r.overallState == "stopped")
        #expect(Component.allCases.allSatisfy { r.components[$0]?.state == .absent })
    }

    @Test func dockerDownIsUnknownWithRecordedVersions() {
        var recorded = ServerState()
        recorded[.dns].running = Version("1.1.0")
        let r = ComponentReport.dockerDown("the Docker engine at unix:///x is not reachable", recorded: recorded)
        #expect(!r.dockerReachable)
        #expect(r.overallState == "unknown")
        #expect(r.components[.dns] == ReportedComponent(state: .unknown, version: "1.1.0", source: "state-file"))
        #expect(r.components[.dhcp] == ReportedComponent(state: .unknown, source: "state-file"))
        #expect(ComponentReport.dockerDown("x", recorded: nil).components[.dns]?.source == "none")
    }

    @Test func liveProbeFallsBackToTheStateFileWhenTheEngineIsDown() throws {
        let transport = FakeHTTPTransport([.failure(HTTPError(.connectFailed, detail: "/x.sock: Couldn't connect to server"))])
        let engine = try DockerEngine(dockerHost: "unix:///x.sock", transport: transport)
        // A root that does not exist: the state file is missing, so nothing is recorded.
        let probe = LiveComponentProbe(engine: engine, stateStore: StateStore(root: InstallRoot(path: "/nonexistent-pv-root")))
        let r = probe.probe(wantRootDir: true)
        #expect(!r.dockerReachable)
        #expect(r.dockerError?.contains("not reachable") == true)
        #expect(transport.requests.count == 1)  // no /info when the list failed
    }

    @Test func liveProbeAsksForTheDataDirectoryOnlyWhenWanted() throws {
        let list = HTTPResponse(status: 200, body: Array("[]".utf8))
        let info = HTTPResponse(status: 200, body: Array(#"{"DockerRootDir":"/srv/docker","ServerVersion":"20.10"}"#.utf8))
        let transport = FakeHTTPTransport([.success(list), .success(info), .success(list)])
        let probe = LiveComponentProbe(engine: try DockerEngine(dockerHost: "unix:///x.sock", transport: transport),
                                         stateStore: StateStore(root: InstallRoot(path: "/nonexistent-pv-root")))
        #expect(probe.probe(wantRootDir: true).dockerRootDir == "/srv/docker")
        #expect(probe.probe(wantRootDir: false).dockerRootDir == nil)
        #expect(transport.requests.map(\.url) == [
            "http://docker/containers/json?all=1&filters=%7B%22label%22%3A%5B%22org.provision.component%22%5D%7D",
            "http://docker/info",
            "http://docker/containers/json?all=1&filters=%7B%22label%22%3A%5B%22org.provision.component%22%5D%7D",
        ])
    }
}
