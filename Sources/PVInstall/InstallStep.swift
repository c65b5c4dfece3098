import PVCore

/// One named step of the install. Steps are idempotent: rerunning one (with
/// `-e STEP`) or the whole install ends in the same state.
public struct InstallStep: Sendable {
    public var name: String
    public var summary: String
    /// Returns a short detail for the progress line; throws to stop the install.
    public var run: @Sendable (InstallContext) throws(PVError) -> String
    /// The component whose step this is: skipped on a server that does not run it.
    public var component: Component?

    public init(_ name: String, _ summary: String, for component: Component? = nil,
                run: @escaping @Sendable (InstallContext) throws(PVError) -> String) {
        self.name = name
        self.summary = summary
        self.component = component
        self.run = run
    }

    /// Why the step does not run on this server, or nil when it runs.
    public func skipReason(_ config: ServerConfig) -> String? {
        guard let component, !config.isEnabled(component) else { return nil }
        return "\(component.rawValue) is not enabled (components = \(config.enabledComponents.map(\.rawValue).joined(separator: ", ")))"
    }
}
