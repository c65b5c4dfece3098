#if canImport(FoundationEssentials)
import FoundationEssentials
#else
import Foundation
#endif
import PVCore

/// A client of the Docker Engine API over its unix socket (or tcp://), through
/// libcurl. One request per question and no `docker` process: the heartbeat
/// asks every 30 s, forever, and must stay cheap.
public struct DockerEngine: Sendable {
    /// `docker_host` as configured: `unix:///var/run/docker.sock` or `tcp://host:port`.
    public let dockerHost: String
    /// The URL prefix of every request; the host part is only a Host header for a unix socket.
    public let baseURL: String
    public let socketPath: String?
    public var transport: any HTTPTransport
    public var connectTimeout: Double
    public var totalTimeout: Double

    public init(dockerHost: String, transport: any HTTPTransport,
                connectTimeout: Double = 1, totalTimeout: Double = 3) throws(DockerEngineError) {
        if dockerHost.hasPrefix("unix:///") {
            socketPath = String(dockerHost.dropFirst("unix://".count))
            baseURL = "http://docker"
        } else if dockerHost.hasPrefix("tcp://") {
            socketPath = nil
            baseURL = "http://" + dockerHost.dropFirst("tcp://".count)
        } else {
            throw DockerEngineError(dockerHost: dockerHost, problem: .invalidHost)
        }
        self.dockerHost = dockerHost
        self.transport = transport
        self.connectTimeout = connectTimeout
        self.totalTimeout = totalTimeout
    }

    /// The request for an API path such as `/_ping`; public so tests can assert it as a value.
    public func request(_ pathAndQuery: String, method: String = "GET") -> HTTPRequest {
        HTTPRequest(method: method, url: baseURL + pathAndQuery, headers: [HTTPHeader("Accept", "application/json")],
                    connectTimeout: connectTimeout, totalTimeout: totalTimeout, unixSocketPath: socketPath,
                    maxResponseBytes: 8 << 20)
    }

    /// `GET /_ping`: the engine answers `OK` when it is up.
    public func ping() throws(DockerEngineError) -> String {
        try send(request("/_ping")).bodyText
    }

    /// `GET /containers/json`, optionally every container (`all=1`) and only
    /// those carrying each of `labels` (`key` or `key=value`).
    public func containers(all: Bool = true, labels: [String] = []) throws(DockerEngineError) -> [DockerContainerSummary] {
        try decode([DockerContainerSummary].self, from: send(request(Self.containersPath(all: all, labels: labels))))
    }

    /// `GET /info`: the engine's data directory and version.
    public func info() throws(DockerEngineError) -> DockerEngineInfo {
        try decode(DockerEngineInfo.self, from: send(request("/info")))
    }

    public static func containersPath(all: Bool, labels: [String]) -> String {
        var path = "/containers/json"
        var query: [String] = []
        if all { query.append("all=1") }
        if !labels.isEmpty {
            let filter = JSONValue.object([("label", .array(labels.map(JSONValue.string)))]).rendered
            query.append("filters=" + percentEncoded(filter))
        }
        if !query.isEmpty { path += "?" + query.joined(separator: "&") }
        return path
    }

    func send(_ request: HTTPRequest) throws(DockerEngineError) -> HTTPResponse {
        try send(request, notFoundIsNil: false)!
    }

    /// `notFoundIsNil`: a 404 (no such container or image) is an answer, nil, not an error.
    func send(_ request: HTTPRequest, notFoundIsNil: Bool) throws(DockerEngineError) -> HTTPResponse? {
        let response: HTTPResponse
        do { response = try transport.perform(request) } catch {
            throw DockerEngineError(dockerHost: dockerHost, problem: .unreachable(error))
        }
        if notFoundIsNil && response.status == 404 { return nil }
        guard (200..<300).contains(response.status) else {
            throw DockerEngineError(dockerHost: dockerHost, problem: .status(response.status, String(response.bodyText.prefix(200))))
        }
        return response
    }

    func decode<T: Decodable>(_ type: T.Type, from response: HTTPResponse) throws(DockerEngineError) -> T {
        do { return try JSONDecoder().decode(type, from: Data(response.body)) } catch {
            throw DockerEngineError(dockerHost: dockerHost, problem: .malformedResponse("\(error)"))
        }
    }

    static func percentEncoded(_ s: String) -> String {
        PercentEncoding.encode(s)
    }
}

/// One entry of `GET /containers/json`, with only the fields the agent reads.
public struct DockerContainerSummary: Sendable, Equatable, Decodable {
    public var id: String
    public var names: [String]
    public var image: String
    /// `created`, `running`, `paused`, `restarting`, `removing`, `exited` or `dead`.
    public var state: String
    /// Human text such as `Up 3 minutes`.
    public var status: String
    /// Seconds since the epoch.
    public var created: Int
    public var labels: [String: String]

    public init(id: String, names: [String], image: String, state: String, status: String = "", created: Int = 0,
                labels: [String: String] = [:]) {
        self.id = id
        self.names = names
        self.image = image
        self.state = state
        self.status = status
        self.created = created
        self.labels = labels
    }

    enum CodingKeys: String, CodingKey {
        case id = "Id", names = "Names", image = "Image", state = "State", status = "Status", created = "Created", labels = "Labels"
    }

    public init(from decoder: any Decoder) throws {
        let c = try decoder.container(keyedBy: CodingKeys.self)
        id = try c.decode(String.self, forKey: .id)
        names = try c.decodeIfPresent([String].self, forKey: .names) ?? []
        image = try c.decodeIfPresent(String.self, forKey: .image) ?? ""
        state = try c.decodeIfPresent(String.self, forKey: .state) ?? ""
        status = try c.decodeIfPresent(String.self, forKey: .status) ?? ""
        created = try c.decodeIfPresent(Int.self, forKey: .created) ?? 0
        labels = try c.decodeIfPresent([String: String].self, forKey: .labels) ?? [:]
    }

    /// The container's name without Docker's leading slash.
    public var name: String {
        guard let first = names.first else { return String(id.prefix(12)) }
        return first.hasPrefix("/") ? String(first.dropFirst()) : first
    }
}

/// The fields of `GET /info` the agent reads.
public struct DockerEngineInfo: Sendable, Equatable, Decodable {
    public var dockerRootDir: String
    public var serverVersion: String

    enum CodingKeys: String, CodingKey { case dockerRootDir = "DockerRootDir", serverVersion = "ServerVersion" }

    public init(dockerRootDir: String, serverVersion: String) {
        self.dockerRootDir = dockerRootDir
        self.serverVersion = serverVersion
    }
}

public struct DockerEngineError: Error, Sendable, CustomStringConvertible {
    public enum Problem: Sendable {
        case invalidHost
        case unreachable(HTTPError)
        case status(Int, String)
        case malformedResponse(String)
    }

    public var dockerHost: String
    public var problem: Problem

    public var description: String {
        switch problem {
        case .invalidHost: return "'\(dockerHost)' is not unix:///path or tcp://host:port"
        case .unreachable(let e): return "the Docker engine at \(dockerHost) is not reachable (\(e))"
        case .status(let code, let body): return "the Docker engine at \(dockerHost) answered \(code)\(body.isEmpty ? "" : ": \(body)")"
        case .malformedResponse(let why): return "the Docker engine at \(dockerHost) sent a malformed answer (\(why))"
        }
    }
}
