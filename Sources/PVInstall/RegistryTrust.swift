import PVCore

/// The registry's private CA where the Docker engine reads it: `/etc/docker/certs.d/<registry>/ca.crt`
/// (under `<root>/system` in a sandbox). `registry_ca_file` is a path the agent's configuration
/// names and root reads it: only the PEM certificate blocks found there are written (certificates
/// are public), so pointing it at a secret file discloses nothing.
enum RegistryTrust {
    static func target(_ config: ServerConfig, _ ctx: InstallContext) -> String {
        ctx.systemPath("/etc/docker/certs.d/\(config.registry)/ca.crt")
    }

    /// The `-----BEGIN CERTIFICATE-----` ... `-----END CERTIFICATE-----` blocks of a PEM text.
    static func certificates(_ text: String) -> [String] {
        var blocks: [String] = []
        var current: [Substring]? = nil
        for line in text.split(separator: "\n", omittingEmptySubsequences: false) {
            let trimmed = line.trimmingWhitespace()
            if trimmed == "-----BEGIN CERTIFICATE-----" { current = [Substring(trimmed)]; continue }
            guard current != nil else { continue }
            let isBase64 = trimmed.allSatisfy { $0.isASCII && ($0.isLetter || $0.isNumber || "+/=".contains($0)) }
            if trimmed == "-----END CERTIFICATE-----" {
                current!.append(Substring(trimmed))
                blocks.append(current!.joined(separator: "\n") + "\n")
                current = nil
            } else if isBase64 {
                current!.append(Substring(trimmed))
            } else {
                current = nil  // not a certificate after all: dropped
            }
        }
        return blocks
    }

    /// As root: written (root's, 0644). Without root: checked, with the admin's command.
    static func install(_ config: ServerConfig, _ ctx: InstallContext) throws(PVError) -> String? {
        guard let source = config.registryCAFile else { return nil }
        let target = target(config, ctx)
        let text: String
        do { text = try FileIO.readText(source, limit: 1 << 20) } catch {
            throw PVError(.notFound, "cannot read registry_ca_file \(source)", hint: "put the registry's CA (PEM) there, or fix the key",
                          cause: error.message)
        }
        let blocks = certificates(text)
        guard !blocks.isEmpty else {
            throw PVError(.config, "registry_ca_file \(source) holds no PEM certificate", hint: "point it at the registry's CA certificate (PEM)")
        }
        let wanted = blocks.joined()
        if (try? FileIO.readText(target, limit: 1 << 20)) == wanted { return "the registry's CA in \(target)" }
        guard ctx.isRoot else {
            throw PVError(.noPermission, "the Docker engine does not trust the registry's CA yet (\(target) is missing or differs)",
                          hint: "as root: install -D -m 0644 \(source) \(target)")
        }
        do {
            try FileIO.makeDirectories(FileIO.directoryName(target))
            try FileIO.writeAtomically(target, wanted, mode: 0o644)
        } catch {
            throw PVError(.cantCreate, "cannot write \(target)", cause: error.message)
        }
        return "the registry's CA written to \(target)"
    }
}
