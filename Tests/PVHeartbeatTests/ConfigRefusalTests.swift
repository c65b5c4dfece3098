import Foundation
import PVCore
import Testing
import PVTestSupport
@testable import PVHeartbeat

/// pv_heartbeat reads the configuration as every tool does: a link or a directory in its place is
/// refused as such (78, the words every tool uses), not reported as a mode problem (77).
@Suite struct ConfigRefusalTests {
    @Test(arguments: ["a symbolic link", "a directory"])
    func aLinkOrADirectoryIsAConfigurationErrorNotAModeProblem(_ kind: String) throws {
        try withScratchRoot { root in
            let config = root + "/etc/provision.conf"
            try FileManager.default.removeItem(atPath: config)
            if kind == "a directory" {
                try FileManager.default.createDirectory(atPath: config, withIntermediateDirectories: false)
            } else {
                // A link to a file that group and others may read: its mode is not the question.
                _ = FileManager.default.createFile(atPath: root + "/shared.conf", contents: Data(testConfigText.utf8),
                                                   attributes: [.posixPermissions: 0o644])
                #expect(symlink(root + "/shared.conf", config) == 0)
            }
            let run = HeartbeatRun(environment: .test(root: root, processes: FakeRunner { _ in ProcessOutput(status: 1) }), dryRun: true)
            let error = try #require(failure { () throws(PVError) in _ = try run.execute() })
            #expect(error.code == .config, "\(error)")
            #expect(error.message == "cannot read the configuration: \(config) is \(kind), refused")
        }
    }

    @Test func aRegularFileOthersMayReadIsStillAModeProblem() throws {
        try withScratchRoot { root in
            #expect(chmod(root + "/etc/provision.conf", 0o644) == 0)
            let run = HeartbeatRun(environment: .test(root: root, processes: FakeRunner { _ in ProcessOutput(status: 1) }), dryRun: true)
            let error = try #require(failure { () throws(PVError) in _ = try run.execute() })
            #expect(error.code == .noPermission)
            #expect(error.message == "\(root)/etc/provision.conf holds the management token, but its mode 644 lets group or others read it")
            #expect(error.hint == "chmod 600 \(root)/etc/provision.conf")
        }
    }
}
