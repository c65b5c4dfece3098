import PVCore
#if canImport(Glibc)
import Glibc
#endif

/// The install root belongs to the agent's user. When root works in it (an admin's install of
/// the root-only parts, a root rerun), what root creates there must still be the agent's, or
/// the agent's next run cannot take its lock or write its state.
public enum AgentTree {
    /// The root directory's owner when this process is root and the tree is another user's; nil
    /// otherwise (files are then made by their own user, as usual).
    public static func ownerForRoot(_ root: InstallRoot) -> (uid: uid_t, gid: gid_t)? {
        guard geteuid() == 0 else { return nil }
        var st = stat()
        guard lstat(root.path, &st) == 0, st.st_mode & S_IFMT == S_IFDIR, st.st_uid != 0 else { return nil }
        return (st.st_uid, st.st_gid)
    }
}
