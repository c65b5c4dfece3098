import ArgumentParser
import Testing
import PVCore
import PVCLI
import PVBundleCLI
import PVDiagnosticsCLI
import PVHeartbeatCLI
import PVInstallCLI
import PVMonitorCLI
import PVStartCLI
import PVStatusCLI
import PVStopCLI
import PVUninstallCLI
import PVUpdateCLI
import PVVerifyCLI

/// What a tool prints when its command line does not parse: ArgumentParser echoes the argument
/// (`Unexpected argument '...'`, `Unknown option '...'`), and a terminal must get it inert, as
/// every other message: each control escaped (`\x1B`), through `runAsTool`'s report.
@Suite struct ToolEntryTests {
    static let hostile = "\u{1B}]0;owned\u{07}\u{1B}[31mX"
    static let shown = "\\x1B]0;owned\\x07\\x1B[31mX"

    /// Each tool's command type and a command line that its parser refuses, echoing `hostile`.
    static let tools: [(String, any ParsableCommand.Type, [String])] = [
        ("pv_install", InstallCommand.self, ["--" + hostile]),
        ("pv_update", UpdateCommand.self, ["--" + hostile]),
        ("pv_start", StartCommand.self, ["dns", "--" + hostile]),
        ("pv_stop", StopCommand.self, ["dns", "--" + hostile]),
        ("pv_status", StatusCommand.self, [hostile]),
        ("pv_verify", VerifyCommand.self, [hostile]),
        ("pv_heartbeat", HeartbeatCommand.self, [hostile]),
        ("pv_diagnostics", DiagnosticsCommand.self, [hostile]),
        ("pv_bundle", BundleCommand.self, ["--id", "x", "--config", "/c", "--bin", "/b", hostile]),
        ("pv_uninstall", UninstallCommand.self, [hostile]),
        ("pv_monitor", MonitorCommand.self, ["--" + hostile]),
    ]

    @Test(arguments: tools.map { ($0.0, $0.2) })
    func aParseErrorShowsTheArgumentEscaped(_ name: String, _ arguments: [String]) throws {
        let command = try #require(Self.tools.first { $0.0 == name }?.1)
        do {
            _ = try command.parseAsRoot(arguments)
            Issue.record("\(name) accepted \(arguments)")
        } catch {
            let report = command.toolReport(error, columns: 80)
            #expect(report.code == 64, "\(name)")
            #expect(!report.toStandardOutput, "\(name): an error goes to stderr")
            #expect(report.text.contains(Self.shown), "\(name): \(report.text)")
            #expect(!report.text.unicodeScalars.contains { $0.isTerminalControl }, "\(name) would print a raw control")
        }
    }

    @Test func helpGoesToStandardOutputWithExitZero() {
        let report = StatusCommand.toolReport(CleanExit.helpRequest(StatusCommand.self), columns: 80)
        #expect(report.code == 0)
        #expect(report.toStandardOutput)
        #expect(report.text.contains("USAGE: pv_status"))
    }
}
