#if canImport(FoundationEssentials)
import FoundationEssentials
#else
import Foundation
#endif
import PVCore

extension DockerEngine {
    /// `GET /containers/{name}/json`: one container's state, start time, image and labels; nil
    /// when the engine has no container of that name (404).
    public func container(_ name: String) throws(DockerEngineError) -> DockerContainerDetails? {
        guard let response = try send(request("/containers/" + PercentEncoding.encode(name) + "/json"), notFoundIsNil: true) else { return nil }
        return try decode(DockerContainerDetails.self, from: response)
    }

    /// `GET /images/json`: every local image's ID and registry digests, in one request.
    public func images() throws(DockerEngineError) -> [DockerImageSummary] {
        try decode([DockerImageSummary].self, from: send(request("/images/json")))
    }
}

/// The fields of `GET /containers/{name}/json` the agent reads (what `docker container inspect` prints).
public struct DockerContainerDetails: Sendable, Equatable, Decodable {
    /// Without Docker's leading slash.
    public var name: String
    /// `created`, `running`, `paused`, `restarting`, `removing`, `exited` or `dead`.
    public var status: String
    /// RFC 3339, as the engine sends it.
    public var startedAt: String
    public var pid: Int
    public var exitCode: Int
    public var restartCount: Int
    /// The image's ID (`sha256:...`).
    public var imageID: String
    /// The image as the container was created from it (`registry/pv-dns:1.1.0`).
    public var imageReference: String
    public var labels: [String: String]

    public init(name: String, status: String, startedAt: String = "", pid: Int = 0, exitCode: Int = 0, restartCount: Int = 0,
                imageID: String, imageReference: String, labels: [String: String] = [:]) {
        self.name = name
        self.status = status
        self.startedAt = startedAt
        self.pid = pid
        self.exitCode = exitCode
        self.restartCount = restartCount
        self.imageID = imageID
        self.imageReference = imageReference
        self.labels = labels
    }

    enum Keys: String, CodingKey {
        case name = "Name", state = "State", image = "Image", config = "Config", restartCount = "RestartCount"
        case status = "Status", startedAt = "StartedAt", pid = "Pid", exitCode = "ExitCode", labels = "Labels"
    }

    public init(from decoder: any Decoder) throws {
        let c = try decoder.container(keyedBy: Keys.self)
        let raw = try c.decode(String.self, forKey: .name)
        name = raw.hasPrefix("/") ? String(raw.dropFirst()) : raw
        imageID = try c.decodeIfPresent(String.self, forKey: .image) ?? ""
        restartCount = try c.decodeIfPresent(Int.self, forKey: .restartCount) ?? 0
        let state = try c.nestedContainer(keyedBy: Keys.self, forKey: .state)
        status = try state.decodeIfPresent(String.self, forKey: .status) ?? ""
        startedAt = try state.decodeIfPresent(String.self, forKey: .startedAt) ?? ""
        pid = try state.decodeIfPresent(Int.self, forKey: .pid) ?? 0
        exitCode = try state.decodeIfPresent(Int.self, forKey: .exitCode) ?? 0
        if c.contains(.config), try !c.decodeNil(forKey: .config) {
            let config = try c.nestedContainer(keyedBy: Keys.self, forKey: .config)
            imageReference = try config.decodeIfPresent(String.self, forKey: .image) ?? ""
            labels = try config.decodeIfPresent([String: String].self, forKey: .labels) ?? [:]
        } else {
            imageReference = ""
            labels = [:]
        }
    }
}

/// One entry of `GET /images/json`, with only the fields the agent reads.
public struct DockerImageSummary: Sendable, Equatable, Decodable {
    public var id: String
    /// `repo@sha256:...`, one per registry the image came from; empty for a local build.
    public var repoDigests: [String]

    public init(id: String, repoDigests: [String]) {
        self.id = id
        self.repoDigests = repoDigests
    }

    enum CodingKeys: String, CodingKey { case id = "Id", repoDigests = "RepoDigests" }

    public init(from decoder: any Decoder) throws {
        let c = try decoder.container(keyedBy: CodingKeys.self)
        id = try c.decode(String.self, forKey: .id)
        repoDigests = try c.decodeIfPresent([String].self, forKey: .repoDigests) ?? []
    }
}
