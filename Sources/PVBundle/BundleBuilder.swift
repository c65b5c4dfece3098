import PVArchive
import PVCore
#if canImport(Glibc)
import Glibc
#endif

/// Builds setup-<ID>.tar: the bundle ProVision hands to a server (or an
/// admin copies there). Plain tar at the top level, as the documented manual
/// install expects (`tar -xf setup-<ID>.tar && sudo /bin/bash install_python3.sh`),
/// with a SHA256SUMS manifest the entry script and pv_install check first.
public struct BundleBuilder {
    public var resourceID: String
    public var configText: String
    /// Bundle/ in the repository: scripts, units, sudoers, wrappers.
    public var templates: String
    /// Where the tools come from.
    public enum Tools: Sendable {
        /// A directory of built executables (pv_*), shipped as they are in bin/.
        case unpacked(String)
        /// A directory from Scripts/pack-tools: pv_install.gz, tools.tar.xz and TOOLS.SHA256SUMS
        /// (see PVInstall's BundleTools for why they ship so).
        case packed(String)
    }
    public var tools: Tools
    /// An Ed25519 private key (PEM): the manifest is signed (SHA256SUMS.sig).
    public var signingKey: [UInt8]?

    public init(resourceID: String, configText: String, templates: String, tools: Tools, signingKey: [UInt8]? = nil) {
        self.resourceID = resourceID
        self.configText = configText
        self.templates = templates
        self.tools = tools
        self.signingKey = signingKey
    }

    /// (path in the bundle, name in a Scripts/pack-tools directory)
    public static let packedFiles = [("bin/pv_install.gz", "pv_install.gz"), ("lib/tools.tar.xz", "tools.tar.xz"),
                                     ("TOOLS.SHA256SUMS", "TOOLS.SHA256SUMS")]

    /// The tools a bundle ships: `tools.list` in the templates (Bundle/), the one list the scripts read too.
    public static func tools(templates: String) throws(PVError) -> [String] {
        let path = templates + "/tools.list"
        let text: String
        do { text = try FileIO.readText(path, limit: 1 << 16) } catch {
            throw PVError(.notFound, "cannot read the tool list \(path)", hint: "pass --templates with this repository's Bundle/", cause: error.message)
        }
        return text.split(separator: "\n").map { $0.trimmingWhitespace() }.filter { !$0.isEmpty && !$0.hasPrefix("#") }
    }

    /// (path in the bundle, source file, mode)
    public func layout() throws(PVError) -> [(String, String, Int32)] {
        var files: [(String, String, Int32)] = []
        for script in ["install_python3.sh", "install_docker.sh", "network_config.sh"] {
            files.append((script, templates + "/" + script, 0o755))
        }
        for c in Component.allCases {
            files.append(("libs/start_pv_\(c.rawValue).sh", templates + "/start_pv_\(c.rawValue).sh", 0o755))
            files.append(("libs/stop_pv_\(c.rawValue).sh", templates + "/stop_pv_\(c.rawValue).sh", 0o755))
        }
        files.append(("libs/pv_update.py", templates + "/pv_update.py", 0o755))
        files.append(("libs/pv_install.py", templates + "/pv_install.py", 0o755))
        files.append(("libs/heartbeat.schema.json", templates + "/heartbeat.schema.json", 0o644))
        files.append(("libs/provision.conf.example", templates + "/provision.conf.example", 0o644))
        for unit in ["pv_heartbeat.service", "pv_heartbeat.timer", "pv_monitor.service"] { files.append(("systemd/" + unit, templates + "/" + unit, 0o644)) }
        for family in ["ubuntu", "centos"] { files.append(("sudoers/provision." + family, templates + "/sudoers/provision." + family, 0o644)) }
        switch tools {
        case .unpacked(let binaries):
            for tool in try Self.tools(templates: templates) where FileIO.exists(binaries + "/" + tool) { files.append(("bin/" + tool, binaries + "/" + tool, 0o755)) }
            guard files.contains(where: { $0.0 == "bin/pv_install" }) else {
                throw PVError(.notFound, "no pv_install in \(binaries)", hint: "build first: swift build -c release")
            }
        case .packed(let directory):
            for (path, name) in Self.packedFiles {
                guard FileIO.exists(directory + "/" + name) else {
                    throw PVError(.notFound, "no \(name) in \(directory)", hint: "pack the tools first: Scripts/pack-tools BIN_DIR \(directory)")
                }
                files.append((path, directory + "/" + name, 0o644))
            }
        }
        for (_, source, _) in files where !FileIO.exists(source) {
            throw PVError(.notFound, "the bundle needs \(source), which does not exist")
        }
        return files.sorted { $0.0 < $1.0 }
    }

    /// Writes `<directory>/setup-<ID>.tar` and returns its path.
    public func write(to directory: String) throws(PVError) -> String {
        guard Syntax.isIdentifier(resourceID) else { throw PVError(.usage, "'\(resourceID)' is not a resource ID") }
        let config: ServerConfig
        do { config = try ConfigParser.parse(configText, file: "the bundle's configuration") } catch { throw error.asPVError }
        guard config.resourceID == resourceID else {
            throw PVError(.config, "the configuration is for resource \(config.resourceID), not \(resourceID)")
        }
        let files = try layout()
        var sums: [(path: String, sha256: String)] = [("provision.conf", SHA256.hex(Array(configText.utf8)))]
        for (path, source, _) in files { sums.append((path, try SHA256.hex(file: source))) }
        let manifest = Manifest(sums: sums)
        var signature: [UInt8]? = nil
        if let signingKey {
            do { signature = try ManifestSignature.sign(Array(manifest.text.utf8), privateKeyPEM: signingKey) } catch {
                throw PVError(.dataError, error.kind == .notEd25519 ? "the signing key is not an Ed25519 key" : "the signing key cannot be read as a PEM private key",
                              hint: "make one with: openssl genpkey -algorithm ed25519 -out bundle-signing.pem")
            }
        }

        let path = directory + "/setup-\(resourceID).tar"
        let tmp = path + ".partial"
        let writer = try ArchiveWriter(path: tmp, format: .tar)
        try writer.addFile(Manifest.fileName, text: manifest.text)
        if let signature { try writer.addFile(ManifestSignature.fileName, bytes: signature, mode: 0o644) }
        // Secrets inside: readable by the owner only once extracted.
        try writer.addFile("provision.conf", bytes: Array(configText.utf8), mode: 0o600)
        var dirs = Set<String>()
        for (name, source, mode) in files {
            let dir = FileIO.directoryName(name)
            if dir != "." && !dirs.contains(dir) { try writer.addDirectory(dir); dirs.insert(dir) }
            try writer.addFile(name, from: source, mode: mode)
        }
        try writer.close()
        chmod(tmp, 0o600)
        guard rename(tmp, path) == 0 else { throw PVError(.cantCreate, "cannot write \(path)", cause: String(cString: strerror(errno))) }
        return path
    }
}
