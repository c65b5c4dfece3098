import Testing
import PVCore
@testable import PVDiagnosticsCLI

@Suite struct CommandTests {
    @Test func aBareArchiveOptionMeansTheDefaultPlace() {
        #expect(DiagnosticsCommand.normalize(["--archive"]) == ["--archive", "@default"])
        #expect(DiagnosticsCommand.normalize(["--archive", "--json"]) == ["--archive", "@default", "--json"])
        #expect(DiagnosticsCommand.normalize(["--archive", "/x.tgz", "--json"]) == ["--archive", "/x.tgz", "--json"])
        #expect(DiagnosticsCommand.normalize(["--json"]) == ["--json"])
    }

    @Test func unitDirectoryFollowsTheRoot() {
        #expect(DiagnosticsCommand.unitDirectory(option: nil, root: InstallRoot(path: "/provision")) == "/etc/systemd/system")
        #expect(DiagnosticsCommand.unitDirectory(option: nil, root: InstallRoot(path: "/tmp/sb")) == "/tmp/sb/system/etc/systemd/system")
        #expect(DiagnosticsCommand.unitDirectory(option: "/u", root: InstallRoot(path: "/provision")) == "/u")
    }
}
