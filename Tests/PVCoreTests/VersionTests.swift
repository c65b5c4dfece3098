import Testing
@testable import PVCore

@Suite struct VersionTests {
    @Test(arguments: ["1.0.0", "0.0.1", "10.20.30", "1.2.3-rc.1", "1.2.3-alpha", "1.0.0-x-y.7"])
    func accepts(_ s: String) { #expect(Version(s)?.description == s) }

    @Test(arguments: ["", "1", "1.2", "1.2.3.4", "01.2.3", "1.02.3", "v1.2.3", "1.2.3+build", "1.2.3-", "1.2.3-rc..1",
                      "1.2.3-01", "1.2.3 ", "latest", "1.2.3;rm -rf /", "1.2.3-rc/1", String(repeating: "1", count: 70)])
    func rejects(_ s: String) { #expect(Version(s) == nil) }

    @Test func semanticOrder() {
        let sorted = ["1.10.0", "1.9.0", "1.0.0-rc.1", "1.0.0", "1.0.0-alpha", "1.0.0-alpha.beta", "1.0.0-rc.11", "1.0.0-rc.2", "2.0.0", "1.0.0-1"]
            .map { Version($0)! }.sorted().map(\.description)
        #expect(sorted == ["1.0.0-1", "1.0.0-alpha", "1.0.0-alpha.beta", "1.0.0-rc.1", "1.0.0-rc.2", "1.0.0-rc.11", "1.0.0", "1.9.0", "1.10.0", "2.0.0"])
    }

    @Test func parseErrorExplainsSyntax() {
        #expect(throws: PVError.self) { try Version.parse("latest") }
        do { _ = try Version.parse("1.2") } catch {
            #expect(error.code == .dataError)
            #expect(error.hint?.contains("MAJOR.MINOR.PATCH") == true)
        }
    }
}
