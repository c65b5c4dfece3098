#if canImport(FoundationEssentials)
import FoundationEssentials
#else
import Foundation
#endif
import PVCore
import PVHTTP

/// The image registry's HTTP API v2, through libcurl: which tags a
/// repository has, and the digest a tag points at.
public struct RegistryClient: Sendable {
    public var registry: String
    public var transport: any HTTPTransport
    public var connectTimeout: Double
    public var totalTimeout: Double

    public init(registry: String, transport: any HTTPTransport,
                connectTimeout: Double = 3, totalTimeout: Double = 15) {
        self.registry = registry
        self.transport = transport
        self.connectTimeout = connectTimeout
        self.totalTimeout = totalTimeout
    }

    /// Docker itself talks plain HTTP only to loopback registries unless told
    /// otherwise; everything else is HTTPS with certificate checks.
    public var baseURL: String {
        let host = registry.split(separator: ":").first.map(String.init) ?? registry
        let loopback = host == "localhost" || host.hasPrefix("127.")
        return (loopback ? "http://" : "https://") + registry
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
        let response = try send(tagsRequest(repository), what: "the tags of \(repository)")
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
        let response = try send(digestRequest(repository, tag: tag), what: "\(repository):\(tag)")
        if response.status == 404 {
            throw PVError(.notFound, "\(repository):\(tag) is not in the registry \(registry)")
        }
        try expectOK(response, what: "\(repository):\(tag)")
        guard let digest = response.header("Docker-Content-Digest"), digest.hasPrefix("sha256:"), digest.count == 71 else {
            throw PVError(.unavailable, "the registry \(registry) did not give a digest for \(repository):\(tag)")
        }
        return digest
    }

    func send(_ request: HTTPRequest, what: String) throws(PVError) -> HTTPResponse {
        do { return try transport.perform(request) } catch {
            throw PVError(.unavailable, "cannot reach the registry \(registry) for \(what)",
                          hint: "check that the registry runs and that `registry` in the configuration is right; nothing was changed",
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
