import PVCore

/// One named step of the install. Steps are idempotent: rerunning one (with
/// `-e STEP`) or the whole install ends in the same state.
public struct InstallStep: Sendable {
    public var name: String
    public var summary: String
    /// Returns a short detail for the progress line; throws to stop the install.
    public var run: @Sendable (InstallContext) throws(PVError) -> String

    public init(_ name: String, _ summary: String, run: @escaping @Sendable (InstallContext) throws(PVError) -> String) {
        self.name = name
        self.summary = summary
        self.run = run
    }
}
