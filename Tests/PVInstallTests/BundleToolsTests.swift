import PVArchive
import PVCore
import Testing
@testable import PVInstall
#if canImport(Glibc)
import Glibc
#endif

/// A release bundle's packed tools: unpacked into bin/ only when they match TOOLS.SHA256SUMS.
/// (The archive here is gzip, which the extractor reads like xz: these tests are about the
/// manifest rules; the real xz set is unpacked by Scripts/test-portability and the demo.)
@Suite struct BundleToolsTests {
    let tools: [(String, [UInt8])] = [("pv_install", Array("install tool".utf8)), ("pv_verify", Array("verify tool".utf8))]

    func makeBundle(archive: [(String, [UInt8])]? = nil, listed: [(String, [UInt8])]? = nil) throws -> String {
        var template = Array("/tmp/pvtools.XXXXXX".utf8CString)
        let made = template.withUnsafeMutableBufferPointer { buffer in mkdtemp(buffer.baseAddress!).map { String(cString: $0) } }
        let dir = try #require(made)
        try FileIO.makeDirectories(dir + "/bin")
        try FileIO.makeDirectories(dir + "/lib")
        let manifest = Manifest(sums: (listed ?? tools).map { ("bin/" + $0.0, SHA256.hex($0.1)) })
        try FileIO.writeAtomically(dir + "/" + BundleTools.manifestName, manifest.text)
        let writer = try ArchiveWriter(path: dir + "/" + BundleTools.archiveName, format: .tarGzip)
        for (name, bytes) in archive ?? tools { try writer.addFile(name, bytes: bytes, mode: 0o755) }
        try writer.close()
        return dir
    }

    @Test func unpacksEveryListedToolExecutable() throws {
        let dir = try makeBundle()
        defer { _ = BundleArchive.removeTree(dir) }
        #expect(try BundleTools.prepare(bundle: dir) == 2)
        for (name, bytes) in tools {
            #expect(try FileIO.readBytes(dir + "/bin/" + name, limit: 1024) == bytes)
            #expect(FileIO.modeAndOwner(dir + "/bin/" + name)?.mode == 0o755)
        }
        #expect(FileIO.listDirectory(dir + "/bin")?.sorted() == ["pv_install", "pv_verify"])
        // A second run finds bin/ ready and writes nothing.
        #expect(try BundleTools.prepare(bundle: dir) == 0)
    }

    @Test func aStaleToolLeftByAnEarlierBundleIsReplaced() throws {
        let dir = try makeBundle()
        defer { _ = BundleArchive.removeTree(dir) }
        try FileIO.writeAtomically(dir + "/bin/pv_verify", Array("an older pv_verify".utf8), mode: 0o755)
        #expect(try BundleTools.prepare(bundle: dir) == 2)
        #expect(try FileIO.readBytes(dir + "/bin/pv_verify", limit: 1024) == Array("verify tool".utf8))
    }

    @Test func anAlteredToolIsRefusedAndNothingIsWritten() throws {
        let dir = try makeBundle(archive: [("pv_install", Array("install tool".utf8)), ("pv_verify", Array("evil".utf8))])
        defer { _ = BundleArchive.removeTree(dir) }
        #expect { try BundleTools.prepare(bundle: dir) } throws: { error in
            guard let e = error as? PVError else { return false }
            return e.code == .dataError && e.message.contains("pv_verify") && e.message.contains("does not match")
        }
        #expect(FileIO.listDirectory(dir + "/bin") == [])
    }

    @Test func anUnlistedFileInTheArchiveIsRefused() throws {
        let dir = try makeBundle(archive: tools + [("pv_backdoor", Array("x".utf8))])
        defer { _ = BundleArchive.removeTree(dir) }
        #expect { try BundleTools.prepare(bundle: dir) } throws: { error in
            (error as? PVError)?.message.contains("pv_backdoor") == true
        }
        #expect(FileIO.listDirectory(dir + "/bin") == [])
    }

    @Test func aListedToolMissingFromTheArchiveIsRefused() throws {
        let dir = try makeBundle(archive: [tools[0]])
        defer { _ = BundleArchive.removeTree(dir) }
        #expect { try BundleTools.prepare(bundle: dir) } throws: { error in
            (error as? PVError)?.message.contains("lacks pv_verify") == true
        }
    }

    @Test func aManifestEntryOutsideBinIsRefused() throws {
        let dir = try makeBundle(listed: [("../etc/evil", Array("x".utf8))])
        defer { _ = BundleArchive.removeTree(dir) }
        #expect { try BundleTools.prepare(bundle: dir) } throws: { error in (error as? PVError)?.code == .dataError }
    }

    @Test func aDevelopmentBundleWithoutTheListIsLeftAlone() throws {
        let dir = try makeBundle()
        defer { _ = BundleArchive.removeTree(dir) }
        unlink(dir + "/" + BundleTools.manifestName)
        #expect(try BundleTools.prepare(bundle: dir) == 0)
        #expect(FileIO.listDirectory(dir + "/bin") == [])
    }
}

@Suite struct PrivilegedInstallTests {
    @Test func theCapabilityIsCapNetRawEffective() {
        // struct vfs_cap_data, revision 2 (0x02000000) | VFS_CAP_FLAGS_EFFECTIVE, permitted bit 13.
        #expect(PrivilegedInstall.netRawCapability == [0x01, 0, 0, 0x02, 0x00, 0x20, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0])
    }

    @Test func onlyRootOwnedDirectoriesThatNoOneElseCanWriteAreSafe() {
        func st(uid: uid_t, mode: mode_t) -> stat { var s = stat(); s.st_uid = uid; s.st_mode = S_IFDIR | mode; return s }
        #expect(PrivilegedInstall.isSafe(st(uid: 0, mode: 0o755)))
        #expect(PrivilegedInstall.isSafe(st(uid: 0, mode: 0o1777)), "a root-owned sticky directory (/tmp)")
        #expect(!PrivilegedInstall.isSafe(st(uid: 1000, mode: 0o755)), "the agent's own directory")
        #expect(!PrivilegedInstall.isSafe(st(uid: 0, mode: 0o775)))
        #expect(!PrivilegedInstall.isSafe(st(uid: 0, mode: 0o757)))
    }
}

@Suite struct ArchiveWriterFailureTests {
    /// pv_bundle --output with a missing directory died with SIGSEGV (archive_write_free twice).
    @Test func aMissingDirectoryIsAnErrorNamingItNotACrash() {
        for _ in 0..<3 {
            #expect {
                _ = try ArchiveWriter(path: "/nonexistent-pv-dir/setup-1.tar", format: .tar)
            } throws: { error in
                guard let e = error as? PVError else { return false }
                return e.code == .cantCreate && e.hint?.contains("/nonexistent-pv-dir") == true
            }
        }
    }
}
