import PVCore
#if canImport(Glibc)
import Glibc
#endif

/// Who may have written the bundle that is about to run. A manifest check means nothing if
/// another user can change a file after it was checked (bash even reads a script as it runs), and
/// `tar -xf` as root restores the archive's owners and modes, which its signature does not cover.
/// So before anything of the bundle is read, every file the manifest lists, every directory that
/// holds one, and every directory above the bundle must be owned by root or by the user who runs
/// the install (or who ran sudo for it), be no link, and be writable by no one else. Files must not
/// be setuid or setgid. `install_python3.sh` applies the same rule before it runs anything.
public struct BundleOwnership: Sendable {
    /// The owners whose files the install may run: root, the user running it, sudo's caller.
    public var allowedOwners: Set<uid_t>

    public init(allowedOwners: Set<uid_t>) { self.allowedOwners = allowedOwners }

    /// Root, this process's user and, under sudo, the user who ran it.
    public static func forThisProcess() -> BundleOwnership {
        var owners: Set<uid_t> = [0, geteuid()]
        if geteuid() == 0, let raw = getenv("SUDO_UID"), let uid = uid_t(String(cString: raw)) { owners.insert(uid) }
        return BundleOwnership(allowedOwners: owners)
    }

    /// Checks `directory` (resolved: its real path), the directories above it, and `paths`
    /// (relative to it; those that do not exist are left to the manifest check) with every
    /// directory between.
    public func check(bundle directory: String, paths: [String]) throws(PVError) {
        guard let real = realPath(directory) else {
            throw PVError(.notFound, "cannot find the bundle directory \(directory)")
        }
        var ancestors: [String] = []
        var walk = FileIO.directoryName(real)
        while walk != "/" && !walk.isEmpty { ancestors.append(walk); walk = FileIO.directoryName(walk) }
        for dir in ancestors.reversed() { try checkOne(dir, isAncestor: true) }
        try checkOne(real, isAncestor: false)
        var checkedDirectories: Set<String> = []
        for path in paths.sorted() {
            let parts = path.split(separator: "/").map(String.init)
            var prefix = real
            var present = true
            for part in parts.dropLast() where present {
                prefix += "/" + part
                present = exists(prefix)
                if present && checkedDirectories.insert(prefix).inserted { try checkOne(prefix, isAncestor: false) }
            }
            let full = real + "/" + path
            if present && exists(full) { try checkOne(full, isAncestor: false) }
        }
    }

    /// Present at all, a link included (what is missing is the manifest check's to report).
    func exists(_ path: String) -> Bool {
        var st = stat()
        return lstat(path, &st) == 0 || errno != ENOENT
    }

    func checkOne(_ path: String, isAncestor: Bool) throws(PVError) {
        var st = stat()
        guard lstat(path, &st) == 0 else {
            throw PVError(.noPermission, "cannot inspect the bundle's \(path)", cause: String(cString: strerror(errno)))
        }
        let type = st.st_mode & S_IFMT
        guard type != S_IFLNK else {
            throw refusal(path, "is a symbolic link", hint: "extract setup-<ID>.tar into a directory of its own, without links")
        }
        guard allowedOwners.contains(st.st_uid) else {
            throw refusal(path, "is owned by \(userName(st.st_uid)), not by root or the user installing",
                          hint: "extract setup-<ID>.tar again as the user who installs (as root: tar --no-same-owner --no-same-permissions -xf setup-<ID>.tar), in a directory no one else can write")
        }
        let sticky = type == S_IFDIR && st.st_mode & S_ISVTX != 0
        let othersWrite = st.st_mode & 0o002 != 0 && !sticky
        let groupWrite = st.st_mode & 0o020 != 0 && !sticky && !isPrivateGroup(st.st_gid, of: st.st_uid)
        guard !othersWrite && !groupWrite else {
            throw refusal(path, "is writable by \(othersWrite ? "every user" : "the group \(groupName(st.st_gid))")",
                          hint: isAncestor ? "as root: chmod go-w \(path), or extract setup-<ID>.tar in a directory only you can write"
                              : "extract setup-<ID>.tar again (as root: tar --no-same-owner --no-same-permissions -xf setup-<ID>.tar), or chmod go-w \(path)")
        }
        guard type == S_IFDIR || st.st_mode & (S_ISUID | S_ISGID) == 0 else {
            throw refusal(path, "is setuid or setgid",
                          hint: "as root: chmod ug-s \(path); then extract setup-<ID>.tar again (as root: tar --no-same-owner --no-same-permissions -xf setup-<ID>.tar)")
        }
    }

    func refusal(_ path: String, _ what: String, hint: String) -> PVError {
        PVError(.noPermission, "refusing to run the bundle: \(path) \(what)", hint: hint + "; nothing from the bundle ran")
    }

    /// A user private group (Debian, Ubuntu, RHEL: umask 002 makes a user's files group-writable):
    /// named as its owner and with no other member, it gives no one else write access.
    func isPrivateGroup(_ gid: gid_t, of uid: uid_t) -> Bool {
        guard let group = getgrgid(gid), let user = getpwuid(uid), let groupName = group.pointee.gr_name, let name = user.pointee.pw_name,
              String(cString: groupName) == String(cString: name) else { return false }
        if let members = group.pointee.gr_mem, members.pointee != nil {
            var i = 0
            while let member = members[i] {
                if String(cString: member) != String(cString: name) { return false }
                i += 1
            }
        }
        return true
    }

    func userName(_ uid: uid_t) -> String {
        getpwuid(uid).flatMap { $0.pointee.pw_name }.map { "\(String(cString: $0)) (uid \(uid))" } ?? "uid \(uid)"
    }

    func groupName(_ gid: gid_t) -> String {
        getgrgid(gid).flatMap { $0.pointee.gr_name }.map { String(cString: $0) } ?? "gid \(gid)"
    }

    func realPath(_ path: String) -> String? {
        guard let resolved = realpath(path, nil) else { return nil }
        defer { free(resolved) }
        return String(cString: resolved)
    }
}
