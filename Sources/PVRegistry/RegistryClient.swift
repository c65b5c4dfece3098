#if canImport(FoundationEssentials)
import FoundationEssentials
#else
import Foundation
#endif
import PVCore
import PVHTTP

/// The image registry's HTTP API v2, through libcurl: which tags a repository has, and the digest
/// a tag points at. A registry that asks for credentials gets them: HTTP Basic, or the
/// distribution token flow (a Bearer token from the challenge's realm, scope
/// `repository:NAME:pull`, kept for its lifetime). A private CA is trusted through `caFile`.
public struct RegistryClient: Sendable {
    public var registry: String
    public var transport: any HTTPTransport
    public var connectTimeout: Double
    public var totalTimeout: Double
    /// Looked up only when the registry asks (a registry without auth never makes the client
    /// read the agent user's config.json).
    public var lookUpCredentials: @Sendable () -> RegistryCredentials?
    public var credentials: RegistryCredentials? { lookUpCredentials() }
    /// The registry's CA (PEM); with one, the registry is spoken to over HTTPS, loopback or not.
    public var caFile: String?
    public var tokens: RegistryTokens

    public init(registry: String, transport: any HTTPTransport, connectTimeout: Double = 3, totalTimeout: Double = 15,
                credentials: RegistryCredentials? = nil, caFile: String? = nil,
                tokens: RegistryTokens = RegistryTokens(now: AgentClock.system.now)) {
        self.registry = registry
        self.transport = transport
        self.connectTimeout = connectTimeout
        self.totalTimeout = totalTimeout
        self.lookUpCredentials = { credentials }
        self.caFile = caFile
        self.tokens = tokens
    }

    /// The client this server uses: its registry, credentials and CA, over the environment's HTTP.
    public static func forServer(_ config: ServerConfig, environment: AgentEnvironment,
                                 connectTimeout: Double = 3, totalTimeout: Double = 15) -> RegistryClient {
        var client = RegistryClient(registry: config.registry, transport: environment.http, connectTimeout: connectTimeout,
                                    totalTimeout: totalTimeout, caFile: config.registryCAFile, tokens: RegistryTokens(now: environment.clock.now))
        let files = environment.files
        client.lookUpCredentials = { RegistryCredentials.resolve(config: config, files: files, environment: ProcessEnvironmentBlock.current) }
        return client
    }

    /// Docker itself talks plain HTTP only to loopback registries unless told
    /// otherwise; everything else is HTTPS with certificate checks.
    public var baseURL: String {
        let host = registry.split(separator: ":").first.map(String.init) ?? registry
        let loopback = host == "localhost" || host.hasPrefix("127.")
        return (loopback && caFile == nil ? "http://" : "https://") + registry
    }

    public static let manifestTypes = [
        "application/vnd.docker.distribution.manifest.v2+json",
        "application/vnd.docker.distribution.manifest.list.v2+json",
        "application/vnd.oci.image.manifest.v1+json",
        "application/vnd.oci.image.index.v1+json",
    ].joined(separator: ", ")

    public func tagsRequest(_ repository: String) -> HTTPRequest {
        HTTPRequest(url: "\(baseURL)/v2/\(repository)/tags/list", headers: [HTTPHeader("Accept", "application/json")],
                    connectTimeout: connectTimeout, totalTimeout: totalTimeout, maxResponseBytes: 1 << 20)
    }

    public func digestRequest(_ repository: String, tag: String) -> HTTPRequest {
        HTTPRequest(method: "HEAD", url: "\(baseURL)/v2/\(repository)/manifests/\(tag)",
                    headers: [HTTPHeader("Accept", Self.manifestTypes)],
                    connectTimeout: connectTimeout, totalTimeout: totalTimeout, maxResponseBytes: 1 << 16)
    }

    /// Every tag of a repository, as the registry lists them (unsorted).
    public func tags(_ repository: String) throws(PVError) -> [String] {
        let response = try send(tagsRequest(repository), repository: repository, what: "the tags of \(repository)")
        if response.status == 404 { return [] }
        try expectOK(response, what: "the tags of \(repository)")
        struct TagList: Decodable { var tags: [String]? }
        do {
            return try JSONDecoder().decode(TagList.self, from: Data(response.body)).tags ?? []
        } catch {
            throw PVError(.unavailable, "the registry \(registry) sent an invalid tags list for \(repository)",
                          hint: "check the registry's health; nothing was changed", cause: String(response.bodyText.prefix(80)))
        }
    }

    /// The manifest digest (`sha256:...`) a tag points at.
    public func digest(_ repository: String, tag: String) throws(PVError) -> String {
        let response = try send(digestRequest(repository, tag: tag), repository: repository, what: "\(repository):\(tag)")
        if response.status == 404 {
            throw PVError(.notFound, "\(repository):\(tag) is not in the registry \(registry)")
        }
        try expectOK(response, what: "\(repository):\(tag)")
        guard let digest = response.header("Docker-Content-Digest"), digest.hasPrefix("sha256:"), digest.count == 71 else {
            throw PVError(.unavailable, "the registry \(registry) did not give a digest for \(repository):\(tag)")
        }
        return digest
    }

    /// One request, answering the registry's challenge once: a 401 with credentials already
    /// sent is their refusal, said as such.
    func send(_ request: HTTPRequest, repository: String, what: String) throws(PVError) -> HTTPResponse {
        var request = request
        request.caFile = caFile
        let scope = "repository:\(repository):pull"
        // A token of this scope still valid is sent at once: one run asks the token service once.
        var firstRequest = request
        if let cached = tokens.valid(scope) { firstRequest.headers.append(HTTPHeader("Authorization", "Bearer " + cached)) }
        let first = try perform(firstRequest, what: what)
        guard first.status == 401 else { return first }
        tokens.forget(scope)
        guard let challenge = first.header("WWW-Authenticate").flatMap(RegistryChallenge.parse) else {
            throw PVError(.noPermission, "the registry \(registry) refused \(what) (401) without saying how to log in",
                          hint: credentialsHint)
        }
        // Looked up once per challenge (the agent user's config.json is read at most once here).
        let credentials = self.credentials
        var retry = request
        switch challenge.scheme {
        case .basic:
            guard let credentials else {
                throw PVError(.noPermission, "the registry \(registry) requires credentials for \(what)", hint: credentialsHint)
            }
            retry.headers.append(HTTPHeader("Authorization", credentials.basicAuthorization))
        case .bearer:
            let token = try bearerToken(challenge, scope: scope, what: what, credentials: credentials)
            retry.headers.append(HTTPHeader("Authorization", "Bearer " + token.value))
            let second = try perform(retry, what: what)
            guard second.status == 401 else { return second }
            // A cached token the registry no longer takes (revoked, expired early): once more, afresh.
            tokens.forget(token.key)
            let fresh = try bearerToken(challenge, scope: scope, what: what, credentials: credentials)
            retry.headers.removeLast()
            retry.headers.append(HTTPHeader("Authorization", "Bearer " + fresh.value))
        }
        let answer = try perform(retry, what: what)
        if answer.status == 401 || answer.status == 403 {
            // A token refused as soon as given says why in its challenge (error="invalid_token": expired).
            let why = answer.header("WWW-Authenticate").flatMap(RegistryChallenge.parse)?.parameters["error"].map { ", \($0)" } ?? ""
            throw PVError(.noPermission, "the registry \(registry) refused the credentials from \(credentials?.source ?? "nowhere (none are set)") for \(what) (\(answer.statusLine)\(why))",
                          hint: credentialsHint)
        }
        return answer
    }

    var credentialsHint: String {
        "set registry_username and registry_password in the configuration, or run docker login \(registry) as the agent's user; nothing was changed"
    }

    /// A token for `scope` from the challenge's realm: the cached one while it lasts, else asked
    /// for (with the credentials, when there are any: a public repository needs none).
    func bearerToken(_ challenge: RegistryChallenge, scope: String, what: String,
                     credentials: RegistryCredentials?) throws(PVError) -> (value: String, key: String) {
        guard let realm = challenge.realm, realm.hasPrefix("https://") || realm.hasPrefix("http://") else {
            throw PVError(.unavailable, "the registry \(registry) sent a Bearer challenge without a usable realm for \(what)")
        }
        let asked = challenge.parameters["scope"] ?? scope
        let key = scope
        if let cached = tokens.valid(key) { return (cached, key) }
        var query = ["scope=" + PercentEncoding.encode(asked)]
        if let service = challenge.parameters["service"] { query.insert("service=" + PercentEncoding.encode(service), at: 0) }
        var headers = [HTTPHeader("Accept", "application/json")]
        if let credentials { headers.append(HTTPHeader("Authorization", credentials.basicAuthorization)) }
        let request = HTTPRequest(url: realm + (realm.contains("?") ? "&" : "?") + query.joined(separator: "&"), headers: headers,
                                  connectTimeout: connectTimeout, totalTimeout: totalTimeout, caFile: caFile, maxResponseBytes: 1 << 20)
        let response: HTTPResponse
        do { response = try transport.perform(request) } catch {
            throw PVError(.unavailable, "cannot reach the registry's token service \(realm) for \(what)",
                          hint: error.kind == .tlsFailed ? "its certificate is not trusted: set registry_ca_file to the CA (PEM); nothing was changed"
                                                         : "check that it runs; nothing was changed",
                          cause: error.description)
        }
        if response.status == 401 || response.status == 403 {
            throw PVError(.noPermission, "the registry's token service \(realm) refused the credentials from \(credentials?.source ?? "nowhere (none are set)") (\(response.statusLine))",
                          hint: credentialsHint)
        }
        struct TokenAnswer: Decodable { var token: String?; var access_token: String?; var expires_in: Double? }
        guard response.status == 200, let answer = try? JSONDecoder().decode(TokenAnswer.self, from: Data(response.body)),
              let token = answer.token ?? answer.access_token, !token.isEmpty else {
            throw PVError(.unavailable, "the registry's token service \(realm) gave no token (\(response.statusLine))",
                          hint: "check the token service; nothing was changed")
        }
        // The distribution spec: 60 s when the service says nothing.
        tokens.store(token, key: key, lifetime: answer.expires_in ?? 60)
        return (token, key)
    }

    func perform(_ request: HTTPRequest, what: String) throws(PVError) -> HTTPResponse {
        do { return try transport.perform(request) } catch {
            throw PVError(.unavailable, "cannot reach the registry \(registry) for \(what)",
                          hint: error.kind == .tlsFailed
                              ? "the registry's certificate is not trusted: set registry_ca_file to its CA (PEM); nothing was changed"
                              : "check that the registry runs and that `registry` in the configuration is right; nothing was changed",
                          cause: error.description)
        }
    }

    func expectOK(_ response: HTTPResponse, what: String) throws(PVError) {
        guard response.status == 200 else {
            throw PVError(.unavailable, "the registry \(registry) answered \(response.statusLine) for \(what)",
                          hint: response.status == 401 ? "the registry requires credentials" : "retry later; nothing was changed")
        }
    }
}
