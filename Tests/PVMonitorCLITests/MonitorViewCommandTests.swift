import Testing
import PVCore
import PVTestSupport
@testable import PVMonitorCLI

/// pv_monitor's views (show, top, record) run in-process: like every tool, they work only with a
/// valid configuration, and refuse a broken one the same way (exit 78, file, line and key).
@Suite struct MonitorViewCommandTests {
    static let views: [[String]] = [["show"], ["show", "--json"], ["top", "--once"], ["record", "www.example.com"]]

    /// The subcommand `arguments` parse to, run against `root`.
    func run(_ arguments: [String], root: String, output: RecordedOutput = RecordedOutput()) throws -> PVError? {
        let command = try MonitorCommand.parseAsRoot(arguments)
        var environment = AgentEnvironment.test(root: root, processes: FakeRunner { _ in ProcessOutput(status: 1) }, output: output)
        environment.files = LiveFileSystem()
        switch command {
        case let show as MonitorCommand.Show: return failure { () throws(PVError) in try show.execute(in: environment) }
        case let top as MonitorCommand.Top: return failure { () throws(PVError) in try top.execute(in: environment) }
        case let record as MonitorCommand.Record: return failure { () throws(PVError) in try record.execute(in: environment) }
        default: Issue.record("\(arguments) is not a view"); return nil
        }
    }

    @Test(arguments: views)
    func anUnknownKeyStopsTheViewNamingFileLineAndKey(_ arguments: [String]) throws {
        try withScratchRoot(configuration: testConfigText + "\nmonitor_intervall = 10\n") { root in
            let error = try #require(try run(arguments, root: root), "\(arguments) ran with an unknown key")
            #expect(error.code == .config)
            #expect(error.message.hasPrefix("invalid configuration: \(root)/etc/provision.conf:14: key 'monitor_intervall': unknown key"), "\(error.message)")
        }
    }

    /// The control: with a valid configuration the views go on to their data (here: none yet).
    @Test(arguments: views)
    func withAValidConfigurationTheViewLooksForItsData(_ arguments: [String]) throws {
        try withScratchRoot { root in
            let error = try #require(try run(arguments, root: root))
            #expect(error.code == .notFound, "\(arguments): \(error)")
        }
    }

    @Test func showPrintsTheLastSampleAsItIsKept() throws {
        try withScratchRoot { root in
            try FileIO.makeDirectories(root + "/state/monitor")
            try FileIO.writeAtomically(root + "/state/monitor/last.json", Array("{\"sequence\": 3}\n".utf8))
            let output = RecordedOutput()
            #expect(try run(["show", "--json"], root: root, output: output) == nil)
            output.sink.line("")  // the sample is written as it is, newline included: end the recorded line
            #expect(output.lines == ["{\"sequence\": 3}\n"])
        }
    }
}
