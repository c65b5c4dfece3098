import PVArchive
import PVCore
import Testing
@testable import PVInstall
#if canImport(Glibc)
import Glibc
#endif

/// Who may have written a bundle that is about to run (BundleOwnership): the rule install_python3.sh
/// applies too. Root runs these tests, so files of other owners are made with chown.
@Suite struct BundleOwnershipTests {
    let rule = BundleOwnership(allowedOwners: [0, 1000])

    /// A fresh bundle directory (root's, 0755) in /tmp, with SHA256SUMS and libs/tool.
    func makeBundle() throws -> String {
        var template = Array("/tmp/pvowner.XXXXXX".utf8CString)
        let made = template.withUnsafeMutableBufferPointer { buffer in mkdtemp(buffer.baseAddress!).map { String(cString: $0) } }
        let dir = try #require(made)
        chmod(dir, 0o755)
        try FileIO.makeDirectories(dir + "/libs")
        try FileIO.writeAtomically(dir + "/libs/tool", "#!/bin/sh\n", mode: 0o755)
        try FileIO.writeAtomically(dir + "/" + Manifest.fileName, Manifest(sums: [("libs/tool", SHA256.hex(Array("#!/bin/sh\n".utf8)))]).text)
        return dir
    }

    func refusal(_ dir: String) -> String? {
        do { try rule.check(bundle: dir, paths: ["libs/tool", Manifest.fileName, "bin/absent"]); return nil } catch { return error.message }
    }

    @Test func rootsOwnFilesAndTheInstallingUsersPass() throws {
        let dir = try makeBundle()
        defer { _ = BundleArchive.removeTree(dir) }
        #expect(refusal(dir) == nil)
        chown(dir + "/libs/tool", 1000, 1000)
        #expect(refusal(dir) == nil, "the user who ran sudo (SUDO_UID) owns it")
    }

    @Test func anotherUsersFileIsRefusedNamingIt() throws {
        let dir = try makeBundle()
        defer { _ = BundleArchive.removeTree(dir) }
        chown(dir + "/libs/tool", 65534, 65534)
        #expect(refusal(dir)?.contains("\(dir)/libs/tool is owned by") == true, "\(refusal(dir) ?? "passed")")
        #expect(refusal(dir)?.contains("uid 65534") == true)
    }

    @Test func aDirectoryOthersMayWriteIsRefusedAndSoIsASetuidFile() throws {
        let dir = try makeBundle()
        defer { _ = BundleArchive.removeTree(dir) }
        chmod(dir + "/libs", 0o777)
        #expect(refusal(dir) == "refusing to run the bundle: \(dir)/libs is writable by every user")
        chmod(dir + "/libs", 0o755)
        chmod(dir + "/libs/tool", 0o4755)
        #expect(refusal(dir) == "refusing to run the bundle: \(dir)/libs/tool is setuid or setgid")
    }

    @Test func aGroupMayWriteOnlyWhenItIsTheOwnersPrivateGroup() throws {
        let dir = try makeBundle()
        defer { _ = BundleArchive.removeTree(dir) }
        // root's own group "root" has no other member on this machine: as with umask 002.
        chmod(dir + "/libs/tool", 0o775)
        #expect(refusal(dir) == nil)
        // A shared group (the file owned by root, its group another one): refused.
        let shared = try #require(getgrnam("daemon")).pointee.gr_gid
        chown(dir + "/libs/tool", 0, shared)
        #expect(refusal(dir) == "refusing to run the bundle: \(dir)/libs/tool is writable by the group daemon")
    }

    @Test func aLinkInTheBundleIsRefused() throws {
        let dir = try makeBundle()
        defer { _ = BundleArchive.removeTree(dir) }
        unlink(dir + "/libs/tool")
        symlink("/bin/sh", dir + "/libs/tool")
        #expect(refusal(dir) == "refusing to run the bundle: \(dir)/libs/tool is a symbolic link")
    }

    /// What shares the directory is not the bundle's: it may be anything, and is never looked at.
    @Test func filesTheManifestDoesNotListAreNotTheBundlesConcern() throws {
        let dir = try makeBundle()
        defer { _ = BundleArchive.removeTree(dir) }
        try FileIO.writeAtomically(dir + "/.bashrc", "alias x=y\n", mode: 0o666)
        try FileIO.writeAtomically(dir + "/libs/unlisted", "#!/bin/sh\n", mode: 0o4777)
        chown(dir + "/.bashrc", 65534, 65534)
        #expect(refusal(dir) == nil)
        #expect(throws: Never.self) { try BundleArchive.checkManifest(directory: dir) }
        #expect(try BundleArchive.listedPaths(bundle: dir) == ["libs/tool"])
        // An archive is another matter: it must hold exactly the bundle.
        #expect(throws: PVError.self) { try BundleArchive.checkManifest(directory: dir, files: ["libs/tool", "libs/unlisted"]) }
    }
}
