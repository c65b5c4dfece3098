import Testing
import PVCore
import PVHeartbeat
@testable import PVHeartbeatCLI

/// The help's exit status list is what an operator's monitoring script is written against: every
/// status the beat can end with is in it, and nothing else.
@Suite struct HeartbeatHelpTests {
    /// The codes listed under "Exit status:", as the numbers that start its lines.
    static func documentedCodes(_ help: String) -> [Int32] {
        guard let section = help.components(separatedBy: "Exit status:").dropFirst().first else { return [] }
        return section.split(separator: "\n").prefix { !$0.isEmpty }.compactMap { Int32($0.split(separator: " ").first ?? "") }
    }

    @Test func everyExitStatusIsDocumentedAndNoOther() {
        let fromTheBeat: [PVCore.ExitStatus] = [HeartbeatExit.sent, HeartbeatExit.rejected, HeartbeatExit.unreachable,
                                         HeartbeatExit.serverError, HeartbeatExit.tlsFailed]
        let fromTheRun: [PVCore.ExitStatus] = [.tempFail, .noPermission, .config]  // lock held, config readable by others, invalid
        let documented = Self.documentedCodes(HeartbeatCommand.configuration.discussion)
        #expect(documented == (fromTheBeat + fromTheRun).map(\.rawValue))
    }
}
