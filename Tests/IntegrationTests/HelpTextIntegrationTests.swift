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

    /// An argument with terminal controls that a tool's parser refuses (and echoes) comes back
    /// escaped from the executable itself: each tool's main goes through PVCLI's `runAsTool`.
    @Test(arguments: tools)
    func aRefusedArgumentIsEchoedEscaped(_ name: String) throws {
        let hostile = "\u{1B}]0;owned\u{07}\u{1B}[31mX"
        let arguments = name == "pv_bundle" ? ["--id", "x", "--config", "/c", "--bin", "/b", hostile]
            : ["pv_start", "pv_stop"].contains(name) ? ["dns", "--" + hostile]
            : ["pv_install", "pv_update", "pv_monitor"].contains(name) ? ["--" + hostile] : [hostile]
        let r = try tool(name, arguments)
        #expect(r.status == 64, "\(name): \(r.output)")
        #expect(r.stderr.contains("\\x1B]0;owned\\x07\\x1B[31mX"), "\(name): \(r.stderr)")
        #expect(!r.output.unicodeScalars.contains { $0 == "\u{1B}" || $0 == "\u{07}" }, "\(name) sent a raw control")
    }
}
