import PVArchive
import PVCore
#if canImport(Glibc)
import Glibc
#endif

/// Whose bundles this server installs: the Ed25519 key pinned by an earlier install (or given
/// with --trust-key), against which the bundle's SHA256SUMS.sig must verify.
///
/// The pin lives outside the agent's tree: `/etc/provision/bundle-signing.pub`, root's alone
/// (a sandbox: under `<root>/system`). Root, installing, must not trust a key that the agent's
/// user could have swapped, so `<root>/etc` is not the place. Root reads the pin only through a
/// directory chain that only root can change, and only if root owns the file and no one else can
/// write it. Without any key the bundle installs, unverified, and the install says so.
struct BundleTrust {
    static let systemPinPath = "/etc/provision/bundle-signing.pub"

    var pinPath: String
    /// Root outside a sandbox: the pin must be root's alone, and is written as root's.
    var privileged: Bool
    /// --trust-key: a public key (PEM) the operator vouches for.
    var given: (path: String, pem: [UInt8])?

    init(root: InstallRoot, isRoot: Bool, trustKey: String?) throws(PVError) {
        pinPath = root.systemPath(Self.systemPinPath)
        privileged = isRoot && !root.isSandbox
        if let trustKey {
            let pem: [UInt8]
            do { pem = try FileIO.readBytes(trustKey, limit: 16 << 10) } catch {
                throw PVError(.notFound, "cannot read the key given with --trust-key (\(trustKey))", cause: error.message)
            }
            do { _ = try ManifestSignature.fingerprint(publicKeyPEM: pem) } catch {
                throw PVError(.usage, "\(trustKey) is not an Ed25519 public key (PEM)",
                              hint: "give the public half: openssl pkey -in bundle-signing.pem -pubout -out bundle-signing.pub")
            }
            given = (trustKey, pem)
        }
    }

    enum Verdict: Equatable {
        case verified(fingerprint: String)
        case unverified(reason: String)
    }

    /// Checks `directory`'s signature (after its manifest was checked). Throws when a key is
    /// known and the bundle is unsigned, signed by another key, or its manifest changed since.
    func check(bundle directory: String) throws(PVError) -> Verdict {
        let signaturePath = directory + "/" + ManifestSignature.fileName
        let signature: [UInt8]? = FileIO.exists(signaturePath) ? try? FileIO.readBytes(signaturePath, limit: 4096, followLinks: false) : nil
        let manifest: [UInt8]
        do { manifest = try FileIO.readBytes(directory + "/" + Manifest.fileName, limit: 1 << 20, followLinks: false) } catch {
            throw PVError(.dataError, "the bundle has no readable \(Manifest.fileName)", cause: error.message)
        }
        return try check(manifest: manifest, signature: signature)
    }

    /// The same check on the manifest's and the signature's bytes: an archive's, read before any
    /// of it is extracted.
    func check(manifest: [UInt8], signature: [UInt8]?) throws(PVError) -> Verdict {
        let pinned = try loadPin()
        guard let key = given?.pem ?? pinned else {
            return .unverified(reason: signature == nil ? "it carries no signature and no signing key is pinned"
                               : "it is signed, but no signing key is pinned to check it against (--trust-key FILE)")
        }
        let source = given.map { "the key given with --trust-key (\($0.path))" } ?? "the key pinned in \(pinPath)"
        let fingerprint = (try? ManifestSignature.fingerprint(publicKeyPEM: key)) ?? "?"
        guard let signature else {
            throw PVError(.dataError, "the bundle carries no signature (\(ManifestSignature.fileName)), and bundles must be signed by \(source), \(fingerprint)",
                          hint: "use a bundle signed with that key (pv_bundle --sign); to trust another key, install as root with --trust-key FILE")
        }
        let valid: Bool
        do { valid = try ManifestSignature.verify(manifest, signature: signature, publicKeyPEM: key) } catch {
            throw PVError(.dataError, "\(source) is not an Ed25519 public key", hint: "remove it, then install as root with --trust-key FILE")
        }
        guard valid else {
            throw PVError(.dataError, "the bundle's signature does not verify against \(source), \(fingerprint): its manifest was changed after signing, or another key signed it",
                          hint: "download setup-<ID>.tar again from the management application; nothing was installed")
        }
        return .verified(fingerprint: fingerprint)
    }

    /// After a verified check: pins the key given with --trust-key when it is not the pinned one.
    /// Returns what changed, or nil.
    func pinGivenKey() throws(PVError) -> String? {
        guard let given else { return nil }
        let pinned = try loadPin()
        if pinned == given.pem { return nil }
        let fingerprint = (try? ManifestSignature.fingerprint(publicKeyPEM: given.pem)) ?? "?"
        let name = String(pinPath.split(separator: "/").last!)
        let directory = FileIO.directoryName(pinPath)
        if privileged {
            let handle = DirectoryHandle(path: directory, fd: try PrivilegedInstall.openRootOwnedDirectory(directory))
            try handle.writeAtomically(name, given.pem, mode: 0o644, owner: (0, 0))
        } else {
            do {
                try FileIO.makeDirectories(directory)
                try FileIO.writeAtomically(pinPath, given.pem, mode: 0o644)
            } catch {
                throw PVError(.noPermission, "cannot pin the signing key in \(pinPath)", hint: "pin it as root: pv_install --trust-key \(given.path)",
                              cause: error.message)
            }
        }
        return (pinned == nil ? "pinned" : "replaced the pinned key with") + " \(fingerprint) in \(pinPath)"
    }

    /// The pinned key, or nil when none is pinned.
    func loadPin() throws(PVError) -> [UInt8]? {
        guard privileged else {
            guard FileIO.exists(pinPath) else { return nil }
            do { return try FileIO.readBytes(pinPath, limit: 16 << 10, followLinks: false) } catch {
                throw PVError(.noPermission, "cannot read the pinned signing key \(pinPath)", cause: error.message)
            }
        }
        let directory = FileIO.directoryName(pinPath)
        let dirFD: Int32
        do { dirFD = try PrivilegedInstall.openRootOwnedDirectory(directory, create: false) } catch {
            if error.code == .notFound { return nil }
            throw PVError(.noPermission, "refusing the pinned signing key \(pinPath): \(error.message)", hint: error.hint)
        }
        defer { close(dirFD) }
        let name = String(pinPath.split(separator: "/").last!)
        let fd = openat(dirFD, name, O_RDONLY | O_NOFOLLOW | O_NONBLOCK | O_CLOEXEC)
        if fd < 0 && errno == ENOENT { return nil }
        guard fd >= 0 else {
            throw PVError(.noPermission, "refusing the pinned signing key \(pinPath): it is a link or cannot be opened",
                          hint: "as root: remove it, then install with --trust-key FILE", cause: String(cString: strerror(errno)))
        }
        defer { close(fd) }
        var st = stat()
        guard fstat(fd, &st) == 0, st.st_mode & S_IFMT == S_IFREG, st.st_uid == 0, st.st_mode & 0o022 == 0, st.st_size <= 16 << 10 else {
            throw PVError(.noPermission, "refusing the pinned signing key \(pinPath): it is not a regular file that only root can write",
                          hint: "as root: chown root:root \(pinPath) && chmod 644 \(pinPath)")
        }
        var bytes = [UInt8](repeating: 0, count: Int(st.st_size))
        let n = bytes.withUnsafeMutableBytes { read(fd, $0.baseAddress, $0.count) }
        guard n == bytes.count else { throw PVError(.osError, "cannot read \(pinPath)", cause: String(cString: strerror(errno))) }
        return bytes
    }
}
