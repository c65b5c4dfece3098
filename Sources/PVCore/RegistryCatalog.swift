/// The image registry as the components see it (a port: PVRegistry's client is the live one).
public protocol RegistryCatalog: Sendable {
    /// Every tag of the component's image, as the registry lists them (unsorted).
    func tags(for component: Component) throws(PVError) -> [String]
    /// The manifest digest (`sha256:...`) the tag points at.
    func digest(for component: Component, tag: String) throws(PVError) -> String
}
