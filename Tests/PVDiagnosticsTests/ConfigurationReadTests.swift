import Foundation
import Testing
import PVCore
import PVTestSupport
@testable import PVDiagnostics

/// Diagnostics read the configuration as every other tool does (through a real file system here):
/// a link in its place is refused with the same words, never followed to what it points at.
@Suite struct ConfigurationReadTests {
    @Test func aLinkInPlaceOfTheConfigurationIsRefusedAsEveryToolRefusesIt() throws {
        try withScratchRoot { root in
            let config = root + "/etc/provision.conf"
            try FileManager.default.moveItem(atPath: config, toPath: root + "/real.conf")
            #expect(symlink(root + "/real.conf", config) == 0)
            let loaded = ConfigurationCheck.load(root: InstallRoot(path: root), files: LiveFileSystem())
            #expect(loaded.config == nil)
            #expect(loaded.text == nil, "the file the link points at must not be read (nor archived)")
            #expect(loaded.result.status == .fail)
            #expect(loaded.result.detail == "cannot read the configuration: \(config) is a symbolic link, refused")
            let error = try #require(failure { () throws(PVError) in _ = try ConfigParser.load(root: InstallRoot(path: root)) })
            #expect(loaded.result.detail == error.messageAndCause)
            #expect(loaded.result.hint == error.hint)
        }
    }
}
