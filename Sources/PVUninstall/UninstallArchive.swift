import PVArchive
import PVCore
#if canImport(Glibc)
import Glibc
#endif

/// What a deleted server leaves for the record: its configuration, state and logs, with the
/// configuration's secrets masked as in the diagnostics archive. Files are read without following
/// a link (the tree is the agent's and this may run as root) and each is bounded.
enum UninstallArchive {
    static let fileLimit = 8 << 20

    static func entries(_ environment: AgentEnvironment) -> [ArchiveFile.Entry] {
        let root = environment.root
        let configText = try? FileIO.readText(root.configFile, limit: 1 << 20, followLinks: false)
        // A configuration that no longer parses still names its secrets by key.
        let secrets = (try? environment.configuration())?.secrets ?? configText.map(secretsByKey) ?? []
        let redactor = Redactor(secrets: secrets)
        let top = FileIO.baseName(root.path.hasSuffix("/") ? String(root.path.dropLast()) : root.path)
        var entries: [ArchiveFile.Entry] = []
        func add(_ name: String, _ bytes: [UInt8]) {
            // Text is redacted; a binary file (a diagnostics archive, already redacted) is kept as it is.
            if let text = String(validating: bytes, as: UTF8.self) {
                entries.append(.init(name: "\(top)/\(name)", bytes: Array(redactor.apply(text).utf8)))
            } else {
                entries.append(.init(name: "\(top)/\(name)", bytes: bytes))
            }
        }
        add("README.txt", Array("""
            The record of a ProVision managed server removed by pv_uninstall (Delete Managed Server).
            etc/provision.conf   its configuration; secrets are replaced by \(Redactor.mask)
            state/               the components' state, the update journal, the heartbeat's state
            logs/                the install's step logs and anything else the tools left there
            Every text file has had the configuration's secrets replaced by \(Redactor.mask).

            """.utf8))
        if let configText { add("etc/provision.conf", Array(Redactor.configurationText(configText).utf8)) }
        for directory in ["state", "logs"] {
            // The Docker client configuration holds the registry password base64-encoded: never kept.
            for (name, bytes) in files(under: root.join(directory)) where !name.hasPrefix("docker-client/") {
                add("\(directory)/\(name)", bytes)
            }
        }
        return entries
    }

    /// Regular files under `directory`, by path relative to it; links and other kinds are skipped.
    static func files(under directory: String, depth: Int = 0) -> [(String, [UInt8])] {
        guard depth < 8, let names = FileIO.listDirectory(directory) else { return [] }
        var out: [(String, [UInt8])] = []
        for name in names.sorted() {
            let path = directory + "/" + name
            var st = stat()
            guard lstat(path, &st) == 0 else { continue }
            switch st.st_mode & S_IFMT {
            case S_IFDIR:
                out += files(under: path, depth: depth + 1).map { (name + "/" + $0.0, $0.1) }
            case S_IFREG:
                if let bytes = try? FileIO.readBytes(path, limit: fileLimit, followLinks: false) { out.append((name, bytes)) }
            default:
                continue
            }
        }
        return out
    }

    /// The values of the secret keys of a configuration text, parsed or not.
    static func secretsByKey(_ text: String) -> [String] {
        var secrets: [String] = []
        for line in text.split(separator: "\n") {
            let parts = line.split(separator: "=", maxSplits: 1).map { String($0).trimmingWhitespace() }
            guard parts.count == 2, !parts[1].isEmpty else { continue }
            if parts[0] == "management_token" || parts[0] == "registry_password" { secrets.append(parts[1]) }
            if parts[0] == "rabbitmq_uri", let password = AMQPURI.password(in: parts[1]), !password.isEmpty { secrets.append(password) }
        }
        return secrets
    }
}
