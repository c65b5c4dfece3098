import PVCore

/// `configuration`: the file every other check depends on. Diagnostics do not
/// stop on a bad configuration as the other tools do: the report (with this
/// check failed and the others marked as unable to run) and the archive (with
/// the file redacted) are exactly what support needs then.
public enum ConfigurationCheck {
    public static let name = "configuration"

    public struct Loaded: Sendable {
        public var config: ServerConfig?
        /// The file as read, before redaction; nil when it could not be read.
        public var text: String?
        public var result: CheckResult
    }

    public static func load(root: InstallRoot, files: any FileSystem) -> Loaded {
        let path = root.configFile
        // The file every other tool reads, read as they read it (no link, a regular file only).
        let file: ConfigFile
        switch files.readConfiguration(root) {
        case .failure(let e):
            let refusal = ConfigFile.unreadable(e, root: root)
            return Loaded(config: nil, text: nil, result: CheckResult(
                name: name, status: .fail, detail: refusal.messageAndCause, hint: refusal.hint))
        case .success(let read): file = read
        }
        let text = file.text
        let config: ServerConfig
        do { config = try ConfigParser.parse(text, file: path) } catch {
            return Loaded(config: nil, text: text, result: CheckResult(
                name: name, status: .fail, detail: "invalid: \(error.description)",
                hint: "fix \(path) (the commented example is Bundle/provision.conf.example)"))
        }
        var status = CheckResult.Status.ok
        var notes: [String] = []
        var hints: [String] = []
        if file.mode & 0o077 != 0 {
            let mode = file.mode
            // pv_heartbeat refuses such a file (exit 77): the management application stops hearing from us.
            status = .fail
            notes.append("readable by group or others (mode \(String(mode & 0o777, radix: 8))) though it holds the management token; pv_heartbeat refuses it")
            hints.append("chmod 600 \(path)")
        }
        if Redactor.tooShort(config.secrets) {
            if status == .ok { status = .warn }
            notes.append("a secret (management_token or the RabbitMQ password) is shorter than \(Redactor.minimumLength) characters: weak, and masked only in the configuration, not in logs")
            hints.append("use longer secrets")
        }
        let detail = "\(path) is valid (resource \(config.resourceID))" + (notes.isEmpty ? "" : "; " + notes.joined(separator: "; "))
        return Loaded(config: config, text: text,
                      result: CheckResult(name: name, status: status, detail: detail, hint: hints.isEmpty ? nil : hints.joined(separator: "; ")))
    }
}
