import Foundation
import Testing
@testable import PVCore
import PVTestSupport

/// `<root>/etc/provision.conf` is read one way by every tool (ConfigFile.read): never through a
/// link, a regular file only, its mode from the descriptor read.
@Suite struct ConfigFileTests {
    static var valid: String { testConfigText }

    /// A scratch root with `etc/`, removed afterwards.
    func withRoot(_ body: (InstallRoot) throws -> Void) throws {
        var template = Array("/tmp/pvconf.XXXXXX".utf8CString)
        let dir = String(cString: mkdtemp(&template)!)
        defer { try? FileManager.default.removeItem(atPath: dir) }
        try FileManager.default.createDirectory(atPath: dir + "/etc", withIntermediateDirectories: true)
        try body(InstallRoot(path: dir))
    }

    func write(_ path: String, mode: Int = 0o600) throws {
        _ = FileManager.default.createFile(atPath: path, contents: Data(Self.valid.utf8), attributes: [.posixPermissions: mode])
    }

    func loadError(_ root: InstallRoot, requirePrivate: Bool = false) -> PVError? {
        do { _ = try ConfigParser.load(root: root, requirePrivate: requirePrivate) } catch { return error }
        return nil
    }

    @Test func aPrivateRegularFileIsReadWithItsMode() throws {
        try withRoot { root in
            try write(root.configFile)
            let file = try ConfigFile.read(root: root).get()
            #expect(file.mode == 0o600)
            #expect(file.text == Self.valid)
            #expect(loadError(root, requirePrivate: true) == nil)
        }
    }

    /// A link to a valid private file, a link to one others may read, a directory: each is refused
    /// as what it is (78), before any question of its mode (77), with the same words everywhere.
    @Test(arguments: [false, true])
    func aLinkOrADirectoryIsRefusedAsSuch(requirePrivate: Bool) throws {
        try withRoot { root in
            for (label, make) in [
                ("a symbolic link", { try write(root.join("real.conf")); #expect(symlink(root.join("real.conf"), root.configFile) == 0) }),
                ("a symbolic link", { try write(root.join("shared.conf"), mode: 0o644); #expect(symlink(root.join("shared.conf"), root.configFile) == 0) }),
                ("a directory", { try FileManager.default.createDirectory(atPath: root.configFile, withIntermediateDirectories: false) }),
            ] as [(String, () throws -> Void)] {
                try? FileManager.default.removeItem(atPath: root.configFile)
                try make()
                let error = try #require(loadError(root, requirePrivate: requirePrivate), "\(label) was read")
                #expect(error.code == .config, "\(label): \(error)")
                #expect(error.message == "cannot read the configuration: \(root.configFile) is \(label), refused")
                #expect(error.hint?.hasPrefix("put the configuration itself at \(root.configFile)") == true)
            }
        }
    }

    @Test func etcAsALinkIsRefused() throws {
        try withRoot { root in
            try FileManager.default.removeItem(atPath: root.join("etc"))
            try FileManager.default.createDirectory(atPath: root.join("elsewhere"), withIntermediateDirectories: false)
            try write(root.join("elsewhere", "provision.conf"))
            #expect(symlink(root.join("elsewhere"), root.join("etc")) == 0)
            let error = try #require(loadError(root))
            #expect(error.code == .config)
            #expect(error.message == "cannot read the configuration: \(root.join("etc")) is a symbolic link, refused")
        }
    }

    @Test func aFIFOIsRefusedWithoutWaiting() throws {
        try withRoot { root in
            #expect(mkfifo(root.configFile, 0o600) == 0)
            let error = try #require(loadError(root))
            #expect(error.message == "cannot read the configuration: \(root.configFile) is not a regular file, refused")
        }
    }

    @Test func aMissingFileSaysHowToMakeOne() throws {
        try withRoot { root in
            let error = try #require(loadError(root))
            #expect(error.code == .config)
            #expect(error.message == "cannot read the configuration \(root.configFile)")
            #expect(error.hint?.contains("Bundle/provision.conf.example") == true)
        }
    }

    /// Where the token is sent (pv_heartbeat), a regular file others may read is refused (77).
    @Test func aFileOthersMayReadIsRefusedOnlyWhereThatMatters() throws {
        try withRoot { root in
            try write(root.configFile, mode: 0o644)
            #expect(loadError(root) == nil)
            let error = try #require(loadError(root, requirePrivate: true))
            #expect(error.code == .noPermission)
            #expect(error.message == "\(root.configFile) holds the management token, but its mode 644 lets group or others read it")
        }
    }
}
