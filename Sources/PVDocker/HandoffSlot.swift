import PVCore

/// The DNS component's update without a gap: the new version's container starts beside the old
/// one on the same address and port (SO_REUSEPORT; the old instance keeps the traffic while both
/// run), is verified on a loopback address of its own, and only then is the old one removed.
/// Two slots alternate, so that the new container's check address and Knot control socket never
/// collide with the old one's (a container keeps its environment across restarts).
public enum HandoffSlot: String, Sendable, CaseIterable {
    case a, b

    /// The image label that says an image takes part: `org.provision.handoff=reuseport` (README,
    /// the components' contract). Both the running container's image and the new one must have it.
    public static let label = "org.provision.handoff"
    public static let supportedValue = "reuseport"

    /// Where the new instance alone answers during the handoff (with the service's port): 127/8
    /// is loopback on every Linux host, and a more specific address than the service's wins.
    public var checkAddress: String { self == .a ? "127.0.0.2" : "127.0.0.3" }

    /// Each slot's Knot control socket: a knotd that exits removes its socket path, which must not
    /// be the one its successor just bound.
    public var knotControlSocket: String { ContainerSpec.monitorDirectory + "/knot/\(rawValue).sock" }

    /// The slot of the next handoff after a container in `current` (none: started by pv_start).
    public static func after(_ current: HandoffSlot?) -> HandoffSlot { current == .a ? .b : .a }
}
