import Testing
import PVCore
import PVHTTP
@testable import PVRegistry

final class FakeTransport: HTTPTransport, @unchecked Sendable {
    var requests: [HTTPRequest] = []
    var answer: (HTTPRequest) throws(HTTPError) -> HTTPResponse
    init(_ answer: @escaping (HTTPRequest) throws(HTTPError) -> HTTPResponse) { self.answer = answer }
    func perform(_ request: HTTPRequest) throws(HTTPError) -> HTTPResponse {
        requests.append(request)
        return try answer(request)
    }
}

@Suite struct RegistryClientTests {
    @Test func tagsListRequestAndParse() throws {
        let t = FakeTransport { _ throws(HTTPError) in HTTPResponse(status: 200, body: Array(#"{"name":"pv-dns","tags":["1.10.0","latest","1.9.0","1.2.0-rc.1"]}"#.utf8)) }
        let client = RegistryClient(registry: "127.0.0.1:5000", transport: t)
        let tags = try client.tags("pv-dns")
        #expect(t.requests[0].url == "http://127.0.0.1:5000/v2/pv-dns/tags/list")
        #expect(t.requests[0].totalTimeout > 0 && t.requests[0].connectTimeout > 0)
        #expect(VersionSelection.versions(in: tags, includePrereleases: false).map(\.description) == ["1.9.0", "1.10.0"])
        #expect(VersionSelection.newest(in: tags, includePrereleases: false) == Version("1.10.0"))
        #expect(VersionSelection.newest(in: tags, includePrereleases: false, skipping: [Version("1.10.0")!]) == Version("1.9.0"))
        #expect(VersionSelection.newest(in: ["1.0.0", "1.1.0-rc.1"], includePrereleases: true) == Version("1.1.0-rc.1"))
    }

    @Test func remoteRegistriesUseHTTPS() {
        #expect(RegistryClient(registry: "registry.example.com:5000", transport: NoHTTPTransport()).baseURL == "https://registry.example.com:5000")
        #expect(RegistryClient(registry: "localhost:5000", transport: NoHTTPTransport()).baseURL == "http://localhost:5000")
    }

    @Test func digestFromHeader() throws {
        let digest = "sha256:" + String(repeating: "ab", count: 32)
        let t = FakeTransport { _ throws(HTTPError) in HTTPResponse(status: 200, headers: [HTTPHeader("docker-content-digest", digest)]) }
        #expect(try RegistryClient(registry: "127.0.0.1:5000", transport: t).digest("pv-dns", tag: "1.0.0") == digest)
        #expect(t.requests[0].method == "HEAD")
        #expect(t.requests[0].headers.contains { $0.name == "Accept" && $0.value.contains("manifest.v2+json") })
    }

    @Test(arguments: [
        ("down", 0, "cannot reach the registry"),
        ("500", 500, "answered 500"),
        ("garbage", 200, "invalid tags list"),
    ])
    func failuresAreUnavailableErrors(name: String, status: Int, expected: String) {
        let t = FakeTransport { _ throws(HTTPError) in
            if status == 0 { throw HTTPError(.connectFailed, detail: "Connection refused") }
            return HTTPResponse(status: status, body: Array("<html>oops".utf8))
        }
        do {
            _ = try RegistryClient(registry: "127.0.0.1:5000", transport: t).tags("pv-dns")
            Issue.record("\(name) accepted")
        } catch {
            #expect(error.code == .unavailable)
            #expect(error.message.contains(expected), "\(error.message)")
            #expect(error.hint?.contains("nothing was changed") == true)
        }
    }

    @Test func unknownRepositoryHasNoTags() throws {
        let t = FakeTransport { _ throws(HTTPError) in HTTPResponse(status: 404) }
        #expect(try RegistryClient(registry: "127.0.0.1:5000", transport: t).tags("nope") == [])
    }
}
