import Foundation
import Testing

/// Every tool's -h as an operator reads it on an 80-column terminal: nothing wider, and prose in
/// paragraphs (ArgumentParser wraps a paragraph; a line break typed inside a sentence shows as
/// a short line whose sentence goes on below it).
@Suite struct HelpTextIntegrationTests {
    static let tools = ["pv_install", "pv_update", "pv_start", "pv_stop", "pv_status", "pv_verify", "pv_heartbeat",
                        "pv_diagnostics", "pv_bundle", "pv_uninstall", "pv_monitor"]

    @Test(arguments: tools)
    func helpFitsEightyColumnsAndReadsAsParagraphs(_ name: String) throws {
        let r = try tool(name, ["-h"])
        #expect(r.status == 0, "\(r.output)")
        let lines = r.stdout.split(separator: "\n", omittingEmptySubsequences: false).map(String.init)
        for line in lines { #expect(line.count <= 80, "\(name): \(line.count) columns: \(line)") }
        // Above USAGE is the prose. A short line followed by one that starts in lower case is a
        // sentence broken by hand.
        let prose = lines.prefix { !$0.hasPrefix("USAGE:") }
        for (line, next) in zip(prose, prose.dropFirst()) where !line.hasPrefix(" ") && !line.isEmpty {
            let continues = next.first.map { $0.isLowercase } ?? false
            #expect(!(continues && line.count < 60), "\(name): a sentence broken after '\(line)'")
        }
    }
}
