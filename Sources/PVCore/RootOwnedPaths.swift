/// What a root install keeps outside the agent's tree, where only root can change it (a sandbox:
/// under `<root>/system`). pv_install writes them, pv_uninstall removes them.
public enum RootOwnedPaths {
    /// The root-owned copy of pv_install: on a server that pins a bundle signing key, later bundles
    /// start here (`sudo /usr/libexec/provision/pv_install --from-archive setup-<ID>.tar`), so that
    /// nothing of a new bundle runs as root before its signature is checked.
    public static let verifier = "/usr/libexec/provision/pv_install"
    /// Where root extracts a bundle it will run (--from-archive): never the agent's tree.
    public static let extractedBundleParent = "/var/lib/provision"
    public static var extractedBundle: String { extractedBundleParent + "/bundle" }
}
