import PVCore

/// How the agent's containers are found again: their names and labels, and the tag of an image
/// reference. Every tool (start/stop, heartbeat, diagnostics) spells them from here.
public enum ContainerNaming {
    public static func containerName(_ component: Component, prefix: String = ServerConfig.defaultContainerPrefix) -> String {
        prefix + component.rawValue
    }

    /// The container of `component` for this configuration.
    public static func containerName(_ component: Component, _ config: ServerConfig) -> String {
        containerName(component, prefix: config.containerPrefix)
    }

    /// The new version's container during a DNS handoff, renamed to the component's name once the
    /// old one is gone.
    public static func nextName(_ component: Component, _ config: ServerConfig) -> String {
        nextName(component, prefix: config.containerPrefix)
    }

    public static func nextName(_ component: Component, prefix: String) -> String {
        containerName(component, prefix: prefix) + "-next"
    }

    /// The handoff slot a DNS container was started in (see `HandoffSlot`).
    public static let slotLabel = "org.provision.slot"

    public static let componentLabel = "org.provision.component"
    public static let versionLabel = "org.provision.version"
    public static let managedLabel = "org.provision.managed"
    /// The install's container prefix, so that tools reading the engine's whole list (the heartbeat)
    /// count only their own install's containers. A container without it has the default prefix.
    public static let prefixLabel = "org.provision.prefix"

    /// The prefix a container was started with.
    public static func prefix(ofLabels labels: [String: String]) -> String {
        labels[prefixLabel] ?? ServerConfig.defaultContainerPrefix
    }

    /// `127.0.0.1:5000/pv-dns:1.1.0` -> `1.1.0`; nil when the reference has no tag (a registry
    /// port is not a tag).
    public static func tag(ofImage image: String) -> String? {
        guard let colon = image.lastIndex(of: ":"), !image[image.index(after: colon)...].contains("/") else { return nil }
        let tag = String(image[image.index(after: colon)...])
        return tag.isEmpty ? nil : tag
    }
}
