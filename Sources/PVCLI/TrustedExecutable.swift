import PVCore
#if canImport(Glibc)
import Glibc
#endif

/// Root never runs a program another user could have changed: the agent's copy in
/// `<root>/libs` belongs to the agent's user. As root, a tool that takes the server apart checks
/// its own executable and every directory above it (root's, writable by no one else; a sticky
/// directory of root's, like /tmp, is allowed: no one else can rename what root put there).
public enum TrustedExecutable {
    /// Why `path` is not root's alone, or nil.
    public static func problem(_ path: String) -> String? {
        var current = path
        while true {
            var st = stat()
            guard lstat(current, &st) == 0 else { return "cannot look at \(current): \(String(cString: strerror(errno)))" }
            let sticky = st.st_mode & S_IFMT == S_IFDIR && st.st_mode & S_ISVTX != 0
            if st.st_uid != 0 { return "\(current) belongs to uid \(st.st_uid), not root" }
            if st.st_mode & 0o022 != 0 && !sticky { return "\(current) is writable by its group or others" }
            if current == "/" { return nil }
            current = FileIO.directoryName(current)
        }
    }

    /// As root: this process's executable must be root's alone.
    public static func requireForRoot(tool: String) throws(PVError) {
        guard geteuid() == 0 else { return }
        var buffer = [CChar](repeating: 0, count: 4096)
        let n = readlink("/proc/self/exe", &buffer, buffer.count - 1)
        guard n > 0 else { return }
        let path = String(decoding: buffer[0..<n].map { UInt8(bitPattern: $0) }, as: UTF8.self)
        if let why = problem(path) {
            throw PVError(.noPermission, "as root, \(tool) does not run from \(path): \(why), so another user could have changed it",
                          hint: "run the bundle's copy as root (tar -xf setup-<ID>.tar; bash install_python3.sh --prepare-only; sudo bin/\(tool)), or run this one as the agent's user")
        }
    }
}
