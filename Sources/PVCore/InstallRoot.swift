/// Where the agent lives on a server. Everything the tools read or write is
/// under this root, so tests and the demo run in a sandbox by passing
/// `--root DIR` or setting `PV_ROOT`.
public struct InstallRoot: Sendable, Equatable {
    public static let defaultPath = "/provision"
    public static let environmentKey = "PV_ROOT"

    public let path: String

    public init(path: String) {
        // Keep paths printable and joinable: no trailing slash except for "/".
        var p = path
        while p.count > 1 && p.hasSuffix("/") { p.removeLast() }
        self.path = p
    }

    /// `--root` wins over `PV_ROOT`, which wins over `/provision`.
    public static func resolve(option: String?, environment: [String: String]) -> InstallRoot {
        if let option, !option.isEmpty { return InstallRoot(path: option) }
        if let env = environment[environmentKey], !env.isEmpty { return InstallRoot(path: env) }
        return InstallRoot(path: defaultPath)
    }

    public func join(_ parts: String...) -> String {
        ([path == "/" ? "" : path] + parts).joined(separator: "/")
    }

    public var configFile: String { join("etc", "provision.conf") }
    public var stateDirectory: String { join("state") }
    public var logsDirectory: String { join("logs") }
    public var libsDirectory: String { join("libs") }
    public var dataDirectory: String { join("data") }

    /// A root other than /provision is a sandbox (tests, the demo): system files that a real
    /// install puts at absolute paths (units, sudoers, the DHCP check helper) go under <root>/system.
    public var isSandbox: Bool { path != Self.defaultPath }

    /// Where a system file of this install lives: the absolute path, or under <root>/system in a sandbox.
    public func systemPath(_ absolute: String) -> String { isSandbox ? join("system") + absolute : absolute }
}
