import Testing
@testable import PVMonitor

/// Knot's dnstap carries no zone: each record's zone is the longest served zone it falls in.
@Suite struct ZoneMatcherTests {
    let matcher = ZoneMatcher(zones: ["example.com.", "sub.example.com", "pvverify.test."])

    @Test func theLongestServedZoneWinsWithoutRegardToCase() {
        #expect(matcher.zone(of: "www.example.com.") == "example.com.")
        #expect(matcher.zone(of: "a.b.SUB.Example.COM.") == "sub.example.com.")
        #expect(matcher.zone(of: "example.com.") == "example.com.", "the apex is in its zone")
        #expect(matcher.zone(of: "pvverify.test") == "pvverify.test.", "a name without the root label")
    }

    @Test func aNameInNoServedZoneHasNone() {
        #expect(matcher.zone(of: "example.org.") == "")
        #expect(matcher.zone(of: "com.") == "")
        #expect(matcher.zone(of: ".") == "")
        #expect(ZoneMatcher(zones: []).zone(of: "www.example.com.") == "")
    }

    /// An escaped dot belongs to its label (`ldns` prints names so): not a zone boundary.
    @Test func anEscapedDotIsNotALabelBoundary() {
        #expect(matcher.zone(of: "a\\.example.com.") == "", "one label a.example under com.")
        #expect(matcher.zone(of: "a\\.b.example.com.") == "example.com.")
        #expect(ZoneMatcher(zones: ["a\\.example.com."]).zone(of: "x.a\\.example.com.") == "a\\.example.com.")
    }
}
