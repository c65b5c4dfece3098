#if canImport(FoundationEssentials)
import FoundationEssentials
#else
import Foundation
#endif
import PVCore
#if canImport(Glibc)
import Glibc
#endif

/// The Docker client configuration that gives `docker pull` the registry credentials of the
/// server's configuration: `<root>/state/docker-client/config.json` (directory 0700, file 0600,
/// the agent's), `{"auths": {"<registry>": {"auth": base64(user:password)}}}`, as `docker login`
/// would write it. Only the tools pass it (`docker --config`); the user's own ~/.docker is left alone.
public enum DockerClientConfig {
    public static func directory(_ root: InstallRoot) -> String { root.join("state", "docker-client") }

    /// The directory to pass to `--config`, when the configuration names registry credentials.
    public static func directory(for config: ServerConfig, root: InstallRoot) -> String? {
        config.registryUsername != nil && config.registryPassword != nil ? directory(root) : nil
    }

    public static func text(registry: String, username: String, password: String) -> String {
        let auth = Data("\(username):\(password)".utf8).base64EncodedString()
        return "{\"auths\":{\"\(registry)\":{\"auth\":\"\(auth)\"}}}\n"
    }

    /// Writes it (replacing what was there) before a pull that needs it. `owner`: the agent's user
    /// when root writes in the agent's tree (`AgentTree`), so that the agent's next pull can too.
    public static func write(for config: ServerConfig, root: InstallRoot, owner: (uid: uid_t, gid: gid_t)? = nil) throws(PVError) {
        guard let user = config.registryUsername, let password = config.registryPassword else { return }
        let directory = try DirectoryHandle.open(root.join("state")).subdirectory("docker-client", mode: 0o700)
        if let owner { try directory.changeOwner(uid: owner.uid, gid: owner.gid) }
        try directory.writeAtomically("config.json", Array(text(registry: config.registry, username: user, password: password).utf8),
                                      mode: 0o600, owner: owner)
    }
}
