import Foundation
import Testing
import PVCore
import PVTestSupport
@testable import PVRegistry

/// A registry that asks for credentials, as vendors run them: Basic (Debian's docker-registry
/// with htpasswd) and the distribution token flow (hosted registries), scripted.
@Suite struct RegistryAuthTests {
    let tags = HTTPResponse(status: 200, body: Array(#"{"name":"pv-dns","tags":["1.0.0"]}"#.utf8))
    let credentials = RegistryCredentials(username: "pvpull", password: "s3cret-pw", source: "the configuration")

    func challenge(_ value: String) -> HTTPResponse {
        HTTPResponse(status: 401, reason: "Unauthorized", headers: [HTTPHeader("WWW-Authenticate", value)])
    }

    func authorization(_ r: HTTPRequest) -> String? { r.headers.first { $0.name == "Authorization" }?.value }

    @Test func basicIsAnsweredWithTheCredentials() throws {
        let t = FakeHTTPTransport([.success(challenge(#"Basic realm="Registry Realm""#)), .success(tags)])
        let client = RegistryClient(registry: "registry.example:5000", transport: t, credentials: credentials)
        #expect(try client.tags("pv-dns") == ["1.0.0"])
        #expect(authorization(t.requests[0]) == nil, "nothing is sent before the registry asks")
        #expect(authorization(t.requests[1]) == "Basic " + Data("pvpull:s3cret-pw".utf8).base64EncodedString())
    }

    @Test func theTokenFlowAsksTheRealmOnceForTheScopeAndReusesTheToken() throws {
        let bearer = #"Bearer realm="https://auth.example/token",service="registry.example",scope="repository:pv-dns:pull""#
        let token = HTTPResponse(status: 200, body: Array(#"{"token":"T1","expires_in":300}"#.utf8))
        let digest = HTTPResponse(status: 200, headers: [HTTPHeader("Docker-Content-Digest", "sha256:" + String(repeating: "a", count: 64))])
        let t = FakeHTTPTransport([.success(challenge(bearer)), .success(token), .success(tags), .success(digest)])
        let clock = TestClock()
        let client = RegistryClient(registry: "registry.example", transport: t, credentials: credentials,
                                    tokens: RegistryTokens(now: clock.agentClock.now))
        #expect(try client.tags("pv-dns") == ["1.0.0"])
        #expect(t.requests[1].url == "https://auth.example/token?service=registry.example&scope=repository%3Apv-dns%3Apull")
        #expect(authorization(t.requests[1])?.hasPrefix("Basic ") == true, "the token service gets the credentials")
        #expect(authorization(t.requests[2]) == "Bearer T1")
        _ = try client.digest("pv-dns", tag: "1.0.0")
        #expect(t.requests.count == 4 && authorization(t.requests[3]) == "Bearer T1", "the cached token goes with the next request")
    }

    @Test func anExpiredTokenIsAskedForAgain() throws {
        let bearer = #"Bearer realm="https://auth.example/token",service="registry.example""#
        let t = FakeHTTPTransport([
            .success(challenge(bearer)), .success(HTTPResponse(status: 200, body: Array(#"{"token":"T1","expires_in":60}"#.utf8))), .success(tags),
            .success(challenge(bearer)), .success(HTTPResponse(status: 200, body: Array(#"{"access_token":"T2"}"#.utf8))), .success(tags),
        ])
        let clock = TestClock()
        let client = RegistryClient(registry: "registry.example", transport: t, credentials: credentials,
                                    tokens: RegistryTokens(now: clock.agentClock.now))
        _ = try client.tags("pv-dns")
        clock.advance(61)
        _ = try client.tags("pv-dns")
        #expect(authorization(t.requests[3]) == nil, "an expired token is not sent")
        #expect(authorization(t.requests[5]) == "Bearer T2")
    }

    @Test func aWrongPasswordIsAClearRefusalNamingWhereTheCredentialsCameFrom() {
        let t = FakeHTTPTransport([.success(challenge(#"Basic realm="r""#)), .success(HTTPResponse(status: 401, reason: "Unauthorized"))])
        let client = RegistryClient(registry: "registry.example", transport: t, credentials: credentials)
        let error = failure { () throws(PVError) in _ = try client.tags("pv-dns") }
        #expect(error?.code == .noPermission)
        #expect(error?.message == "the registry registry.example refused the credentials from the configuration for the tags of pv-dns (401 Unauthorized)")
        #expect(error?.hint?.contains("registry_username and registry_password") == true)
        #expect(!(error?.description.contains("s3cret-pw") ?? true))
    }

    @Test func noCredentialsForARegistryThatWantsThemSaysWhatToSet() {
        let t = FakeHTTPTransport([.success(challenge(#"Basic realm="r""#))])
        let error = failure { () throws(PVError) in _ = try RegistryClient(registry: "registry.example", transport: t).tags("pv-dns") }
        #expect(error?.message == "the registry registry.example requires credentials for the tags of pv-dns")
        #expect(error?.hint?.contains("docker login registry.example") == true)
    }

    @Test func aTokenServiceRefusalIsNamed() {
        let t = FakeHTTPTransport([.success(challenge(#"Bearer realm="https://auth.example/token""#)),
                                   .success(HTTPResponse(status: 401, reason: "Unauthorized"))])
        let error = failure { () throws(PVError) in
            _ = try RegistryClient(registry: "registry.example", transport: t, credentials: credentials).tags("pv-dns")
        }
        #expect(error?.code == .noPermission && error?.message.hasPrefix("the registry's token service https://auth.example/token refused") == true)
    }

    @Test func anUntrustedCertificateNamesTheKeyToSet() {
        let t = FakeHTTPTransport([.failure(HTTPError(.tlsFailed, detail: "unable to get local issuer certificate"))])
        let error = failure { () throws(PVError) in _ = try RegistryClient(registry: "registry.example", transport: t).tags("pv-dns") }
        #expect(error?.hint?.contains("set registry_ca_file") == true, "\(String(describing: error))")
    }

    @Test func aPrivateCAMeansHTTPSEvenOnLoopbackAndIsTrusted() throws {
        let t = FakeHTTPTransport([.success(tags)])
        let client = RegistryClient(registry: "127.0.0.1:5443", transport: t, caFile: "/etc/pv/registry-ca.pem")
        _ = try client.tags("pv-dns")
        #expect(t.requests[0].url == "https://127.0.0.1:5443/v2/pv-dns/tags/list" && t.requests[0].caFile == "/etc/pv/registry-ca.pem")
    }

    @Test(arguments: [
        (#"Bearer realm="https://a/t",service="reg",scope="repository:x:pull""#, "bearer", ["realm": "https://a/t", "service": "reg", "scope": "repository:x:pull"]),
        (#"Basic realm="Registry Realm""#, "basic", ["realm": "Registry Realm"]),
        (#"bearer realm="a\"b",error="invalid_token""#, "bearer", ["realm": "a\"b", "error": "invalid_token"]),
    ])
    func challengesParse(header: String, scheme: String, parameters: [String: String]) {
        let c = RegistryChallenge.parse(header)
        #expect(c?.scheme.rawValue == scheme && c?.parameters == parameters)
    }

    @Test(arguments: [#"Digest realm="x""#, #"Bearer realm="unterminated"#, "Bearer =x"])
    func otherChallengesAreNotTaken(header: String) {
        #expect(RegistryChallenge.parse(header) == nil)
    }

    @Test func credentialsFromTheConfigurationComeFirstElseDockerLogin() {
        var config = testConfig
        var files = FakeFileSystem()
        files.texts["/home/pv/.docker/config.json"] = #"{"auths":{"https://127.0.0.1:5000/v1/":{"auth":"\#(Data("u:p4ss".utf8).base64EncodedString())"}}}"#
        let fromLogin = RegistryCredentials.resolve(config: config, files: files, environment: ["HOME": "/home/pv"])
        #expect(fromLogin == RegistryCredentials(username: "u", password: "p4ss", source: "/home/pv/.docker/config.json"))
        config.registryUsername = "cfg"
        config.registryPassword = "cfg-pass"
        #expect(RegistryCredentials.resolve(config: config, files: files, environment: ["HOME": "/home/pv"])?.source == "the configuration")
        #expect(config.secrets.contains("cfg-pass"), "the password is masked like the token")
    }
}
