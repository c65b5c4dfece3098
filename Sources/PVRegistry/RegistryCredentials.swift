#if canImport(FoundationEssentials)
import FoundationEssentials
#else
import Foundation
#endif
import PVCore

/// A user and password for the registry: from the configuration (`registry_username`,
/// `registry_password`), else from the agent user's Docker client config.json, as `docker login`
/// writes it (`auths.<registry>.auth`, base64 of `user:password`). A credential helper
/// (`credsStore`, `credHelpers`) is not asked: put the credentials in the configuration instead.
public struct RegistryCredentials: Sendable, Equatable {
    public var username: String
    public var password: String
    /// Where they came from, for messages: `the configuration` or the config.json path.
    public var source: String

    public init(username: String, password: String, source: String) {
        self.username = username
        self.password = password
        self.source = source
    }

    /// `Basic dXNlcjpwYXNz`.
    public var basicAuthorization: String { "Basic " + auth }
    /// base64 of `user:password`, as config.json's `auth` holds it.
    public var auth: String { Data("\(username):\(password)".utf8).base64EncodedString() }

    public static func resolve(config: ServerConfig, files: any FileSystem, environment: [String: String]) -> RegistryCredentials? {
        if let user = config.registryUsername, let password = config.registryPassword {
            return RegistryCredentials(username: user, password: password, source: "the configuration")
        }
        let path = dockerConfigPath(environment)
        guard let path, case .success(let text) = files.readText(path, limit: 1 << 20) else { return nil }
        return fromDockerConfig(text, registry: config.registry, path: path)
    }

    /// `$DOCKER_CONFIG/config.json`, else `$HOME/.docker/config.json`.
    static func dockerConfigPath(_ environment: [String: String]) -> String? {
        if let dir = environment["DOCKER_CONFIG"], !dir.isEmpty { return dir + "/config.json" }
        if let home = environment["HOME"], !home.isEmpty { return home + "/.docker/config.json" }
        return nil
    }

    static func fromDockerConfig(_ text: String, registry: String, path: String) -> RegistryCredentials? {
        struct File: Decodable { var auths: [String: Entry]? }
        struct Entry: Decodable { var auth: String? }
        guard let file = try? JSONDecoder().decode(File.self, from: Data(text.utf8)), let auths = file.auths else { return nil }
        // docker login keys an entry by host[:port], sometimes with a scheme or a /v1/ or /v2/ path.
        let entry = auths.first { key, _ in
            var k = Substring(key)
            for scheme in ["https://", "http://"] where k.hasPrefix(scheme) { k = k.dropFirst(scheme.count) }
            if let slash = k.firstIndex(of: "/") { k = k[..<slash] }
            return k == registry
        }?.value
        guard let encoded = entry?.auth, let decoded = Data(base64Encoded: encoded),
              let pair = String(data: decoded, encoding: .utf8), let colon = pair.firstIndex(of: ":") else { return nil }
        return RegistryCredentials(username: String(pair[..<colon]), password: String(pair[pair.index(after: colon)...]), source: path)
    }
}
