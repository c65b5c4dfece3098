/// Fills a bundle template (the heartbeat units, the sudoers file) for one server: its install
/// root and its agent's user.
///
/// The templates stay valid files as shipped, written for the default root `/provision` and the
/// user `provision`, so that `systemd-analyze verify` checks them as they are and an admin can
/// read them. So the rendering is exact rather than a search-and-replace: the root is replaced
/// only where it begins an absolute path (`/provision` or `/provision/...`, after a space, `=`,
/// `-`, a quote or a bracket), never inside another path such as `/etc/sudoers.d/provision` or
/// `/usr/libexec/provision/`; the user only in `User=provision` and the sudoers `<user>`.
enum TemplateRendering {
    static let defaultRoot = "/provision"
    static let defaultUser = "provision"

    static func render(_ text: String, root: String, user: String) -> String {
        text.split(separator: "\n", omittingEmptySubsequences: false).map { line in
            if line == "User=\(defaultUser)" { return "User=\(user)" }
            return replacingRoot(in: String(line), with: root).replacingAll("<user>", with: user)
        }.joined(separator: "\n")
    }

    /// Characters after which an absolute path may begin.
    static let before: Set<Character> = [" ", "\t", "=", "-", "\"", "'", "(", "@"]
    /// Characters that may follow the root's last component.
    static let after: Set<Character> = ["/", " ", "\t", "\"", "'", ")", ",", ";", ":"]

    static func replacingRoot(in line: String, with root: String) -> String {
        var out = ""
        var i = line.startIndex
        while i < line.endIndex {
            if line[i...].hasPrefix(defaultRoot) {
                let end = line.index(i, offsetBy: defaultRoot.count)
                let startsPath = i == line.startIndex || before.contains(line[line.index(before: i)])
                let endsComponent = end == line.endIndex || after.contains(line[end])
                if startsPath && endsComponent {
                    out += root
                    i = end
                    continue
                }
            }
            out.append(line[i])
            i = line.index(after: i)
        }
        return out
    }
}
