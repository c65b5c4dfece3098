import CXattr
import PVCore
#if canImport(Glibc)
import Glibc
#endif

/// Installing a program that runs with privilege (the DHCP check helper with cap_net_raw): it
/// must live in a directory chain that only root can change, so that the agent's user can neither
/// replace it nor a directory above it. Every directory of the chain is opened relative to the one
/// above, never through a link, and checked; the file is written under a temporary name in that
/// directory, owned by root, given its capability, synced, and renamed into place.
enum PrivilegedInstall {
    /// CAP_NET_RAW (13) as a file capability: `struct vfs_cap_data`, revision 2, with the
    /// effective flag (the capability is on from exec, as `setcap cap_net_raw+ep` sets it).
    static let netRawCapability: [UInt8] = {
        func le32(_ v: UInt32) -> [UInt8] { (0..<4).map { UInt8(truncatingIfNeeded: v >> (8 * $0)) } }
        let revision2: UInt32 = 0x0200_0000, effective: UInt32 = 0x0000_0001
        return le32(revision2 | effective) + le32(1 << 13) + le32(0) + le32(0) + le32(0)
    }()

    /// A directory is safe when root owns it and no one else can write it (a root-owned sticky
    /// directory such as /tmp is safe too: others cannot rename what they do not own there).
    static func isSafe(_ st: stat) -> Bool {
        st.st_uid == 0 && (st.st_mode & 0o022 == 0 || st.st_mode & S_ISVTX != 0)
    }

    /// Opens `directory` from "/" component by component (creating what is missing, mode 0755,
    /// owned by root), refusing a link or a directory that another user could change. Returns its fd.
    /// With `create: false`, a missing directory throws `.notFound`.
    static func openRootOwnedDirectory(_ directory: String, create: Bool = true) throws(PVError) -> Int32 {
        var fd = open("/", O_RDONLY | O_DIRECTORY | O_CLOEXEC)
        guard fd >= 0 else { throw PVError(.osError, "cannot open /", cause: String(cString: strerror(errno))) }
        var walked = ""
        for part in directory.split(separator: "/").map(String.init) {
            walked += "/" + part
            if create, mkdirat(fd, part, 0o755) == 0 { _ = fchownat(fd, part, 0, 0, Int32(AT_SYMLINK_NOFOLLOW)) }
            let next = openat(fd, part, O_RDONLY | O_DIRECTORY | O_NOFOLLOW | O_CLOEXEC)
            let openErrno = errno
            close(fd)
            if next < 0 && openErrno == ENOENT && !create { throw PVError(.notFound, "\(walked) does not exist") }
            guard next >= 0 else {
                throw PVError(.noPermission, "refusing to install a privileged program under \(walked): it is a link or not a directory",
                              hint: "remove \(walked) (as root) and run the install again", cause: String(cString: strerror(openErrno)))
            }
            var st = stat()
            guard fstat(next, &st) == 0, isSafe(st) else {
                close(next)
                throw PVError(.noPermission, "refusing to install a privileged program under \(walked): it is not owned by root, or others can write it",
                              hint: "as root: chown root:root \(walked) && chmod go-w \(walked)")
            }
            fd = next
        }
        return fd
    }

    /// Writes `bytes` as `path` (root:root, 0755), with `capability` (if any) as its security.capability.
    static func install(_ bytes: [UInt8], as path: String, capability: [UInt8]?) throws(PVError) {
        let name = String(path.split(separator: "/").last ?? "")
        let directory = FileIO.directoryName(path)
        let handle = DirectoryHandle(path: directory, fd: try openRootOwnedDirectory(directory))
        guard let capability else {
            try handle.writeAtomically(name, bytes, mode: 0o755, owner: (0, 0))
            return
        }
        try handle.writeAtomically(name, bytes, mode: 0o755, owner: (0, 0),
                                   finishing: "setting the file capability (does this file system support security.* attributes?)") { fd in
            capability.withUnsafeBytes { fsetxattr(fd, "security.capability", $0.baseAddress, $0.count, 0) } == 0
        }
    }
}
