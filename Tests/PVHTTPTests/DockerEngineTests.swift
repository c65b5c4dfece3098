import Foundation
import Testing
@testable import PVHTTP
import PVCore
import PVTestSupport

@Suite struct DockerEngineTests {
    @Test func unixSocketRequestsCarryThePathAndBounds() throws {
        let engine = try DockerEngine(dockerHost: "unix:///var/run/docker.sock", transport: FakeHTTPTransport([]))
        let r = engine.request("/_ping")
        #expect(r.url == "http://docker/_ping")
        #expect(r.unixSocketPath == "/var/run/docker.sock")
        #expect(r.connectTimeout > 0 && r.totalTimeout <= 3)
    }

    @Test func tcpHostBecomesTheBaseURL() throws {
        let engine = try DockerEngine(dockerHost: "tcp://10.0.0.5:2375", transport: FakeHTTPTransport([]))
        #expect(engine.request("/info").url == "http://10.0.0.5:2375/info")
        #expect(engine.request("/info").unixSocketPath == nil)
    }

    @Test func rejectsOtherHosts() {
        #expect(throws: DockerEngineError.self) { try DockerEngine(dockerHost: "ssh://host", transport: FakeHTTPTransport([])) }
    }

    @Test func containerListPathEncodesTheLabelFilter() {
        #expect(DockerEngine.containersPath(all: true, labels: ["org.provision.component"])
                == "/containers/json?all=1&filters=%7B%22label%22%3A%5B%22org.provision.component%22%5D%7D")
        #expect(DockerEngine.containersPath(all: false, labels: []) == "/containers/json")
    }

    @Test func decodesContainers() throws {
        let body = #"""
        [{"Id":"abc123","Names":["/pv-dns"],"Image":"127.0.0.1:5000/pv-dns:1.1.0","State":"running","Status":"Up 2 minutes",
          "Created":1700000000,"Labels":{"org.provision.component":"dns","org.provision.version":"1.1.0"},"Ports":[]},
         {"Id":"def456","Names":null,"Image":"x","State":"exited","Created":1,"Labels":null}]
        """#
        let transport = FakeHTTPTransport([.success(HTTPResponse(status: 200, body: Array(body.utf8)))])
        let containers = try DockerEngine(dockerHost: "unix:///d.sock", transport: transport).containers(labels: ["org.provision.component"])
        #expect(containers.count == 2)
        #expect(containers[0].name == "pv-dns")
        #expect(containers[0].labels["org.provision.version"] == "1.1.0")
        #expect(containers[1].name == "def456")
        #expect(containers[1].labels.isEmpty)
        #expect(transport.requests.first?.url.hasPrefix("http://docker/containers/json?all=1&filters=") == true)
    }

    @Test func reportsUnreachableBadStatusAndGarbage() throws {
        let transport = FakeHTTPTransport([
            .failure(HTTPError(.connectFailed, curlCode: 7, detail: "/d.sock: Couldn't connect to server")),
            .success(HTTPResponse(status: 500, body: Array("boom".utf8))),
            .success(HTTPResponse(status: 200, body: Array("not json".utf8))),
        ])
        let engine = try DockerEngine(dockerHost: "unix:///d.sock", transport: transport)
        for expected in ["is not reachable (connect failed: /d.sock", "answered 500: boom", "sent a malformed answer"] {
            do { _ = try engine.containers(); Issue.record("must throw") } catch {
                #expect(error.description.contains(expected), "\(error)")
            }
        }
    }

    @Test func pingAndInfo() throws {
        let transport = FakeHTTPTransport([
            .success(HTTPResponse(status: 200, body: Array("OK".utf8))),
            .success(HTTPResponse(status: 200, body: Array(#"{"DockerRootDir":"/var/lib/docker","ServerVersion":"20.10.24","Other":1}"#.utf8))),
        ])
        let engine = try DockerEngine(dockerHost: "unix:///d.sock", transport: transport)
        #expect(try engine.ping() == "OK")
        #expect(try engine.info() == DockerEngineInfo(dockerRootDir: "/var/lib/docker", serverVersion: "20.10.24"))
    }
}

/// pv_status's questions: one container by name (404: none) and the image list.
@Suite struct DockerEngineInspectTests {
    @Test func decodesOneContainerAndTakesA404ForNone() throws {
        let body = #"""
        {"Id":"abc","Name":"/pv-dns","RestartCount":2,"Image":"sha256:13f6",
         "State":{"Status":"running","StartedAt":"2026-12-07T01:44:11.818440754Z","Pid":42,"ExitCode":0},
         "Config":{"Image":"127.0.0.1:5000/pv-dns:1.1.0","Labels":{"org.provision.component":"dns","org.provision.version":"1.1.0"}}}
        """#
        let transport = FakeHTTPTransport([.success(HTTPResponse(status: 200, body: Array(body.utf8))),
                                           .success(HTTPResponse(status: 404, body: Array(#"{"message":"No such container: pv-dhcp"}"#.utf8)))])
        let engine = try DockerEngine(dockerHost: "unix:///d.sock", transport: transport)
        let dns = try engine.container("pv-dns")
        #expect(dns == DockerContainerDetails(name: "pv-dns", status: "running", startedAt: "2026-12-07T01:44:11.818440754Z", pid: 42,
                                              restartCount: 2, imageID: "sha256:13f6", imageReference: "127.0.0.1:5000/pv-dns:1.1.0",
                                              labels: ["org.provision.component": "dns", "org.provision.version": "1.1.0"]))
        #expect(try engine.container("pv-dhcp") == nil)
        #expect(transport.requests.map(\.url) == ["http://docker/containers/pv-dns/json", "http://docker/containers/pv-dhcp/json"])
    }

    @Test func anotherStatusIsAnError() throws {
        let transport = FakeHTTPTransport([.success(HTTPResponse(status: 500, body: Array("boom".utf8)))])
        #expect(throws: DockerEngineError.self) { try DockerEngine(dockerHost: "unix:///d.sock", transport: transport).container("pv-dns") }
    }

    @Test func decodesTheImageListsDigests() throws {
        let body = #"[{"Id":"sha256:a","RepoDigests":["r/pv-dns@sha256:feed"],"RepoTags":["r/pv-dns:1.1.0"]},{"Id":"sha256:b","RepoDigests":null}]"#
        let transport = FakeHTTPTransport([.success(HTTPResponse(status: 200, body: Array(body.utf8)))])
        let images = try DockerEngine(dockerHost: "unix:///d.sock", transport: transport).images()
        #expect(images == [DockerImageSummary(id: "sha256:a", repoDigests: ["r/pv-dns@sha256:feed"]), DockerImageSummary(id: "sha256:b", repoDigests: [])])
        #expect(transport.requests.map(\.url) == ["http://docker/images/json"])
    }
}
