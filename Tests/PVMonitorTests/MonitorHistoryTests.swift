import Testing
#if canImport(Glibc)
import Glibc
#endif
import PVCore
@testable import PVMonitor

/// The kept intervals: what survives a restart, what the RPS search finds, and the bounds.
@Suite struct MonitorHistoryTests {
    func withHistoryFile(_ body: (String) throws -> Void) throws {
        var template = Array("/tmp/pv-history-XXXXXX".utf8CString)
        guard let dir = mkdtemp(&template) else { Issue.record("mkdtemp failed"); return }
        let path = String(cString: dir)
        defer { for f in ["h.sqlite3", "h.sqlite3-wal", "h.sqlite3-shm"] { unlink(path + "/" + f) }; rmdir(path) }
        try body(path + "/h.sqlite3")
    }

    func sample(_ sequence: UInt64, end: Double, _ records: [(String, String, UInt64)]) -> MonitorSample {
        MonitorSample(resourceID: "srv-1", sequence: sequence, start: end - 10, end: end,
                      dns: .init(queries: records.reduce(0) { $0 + $1.2 }, responses: 0,
                                 records: records.map { .init(zone: "example.com.", name: $0.0, type: $0.1, hits: $0.2, overestimate: 0,
                                                              rps: Double($0.2) / 10, lastAccess: end - 1) },
                                 other: 0, distinctKept: records.count, drops: [:]),
                      dnstapConnections: 1)
    }

    @Test func aRecordIsFoundInEveryKeptIntervalAndTheSequenceSurvivesAReopen() throws {
        try withHistoryFile { path in
            do {
                let history = try MonitorHistory(path: path)
                try history.append(sample(1, end: 1_000, [("www.example.com.", "A", 5), ("mail.example.com.", "MX", 1)]))
                try history.append(sample(2, end: 1_010, [("mail.example.com.", "MX", 2)]))
                try history.append(sample(3, end: 1_020, [("www.example.com.", "A", 7), ("www.example.com.", "AAAA", 1)]))
            }
            let reopened = try MonitorHistory(path: path, readOnly: true)
            #expect(reopened.lastSequence() == 3)
            #expect(reopened.intervalCount() == 3)
            let found = try reopened.samples(named: "www.example.com.")
            #expect(found.map(\.sequence) == [1, 3])
            #expect(found.last?.dns.records.map(\.type) == ["A", "AAAA"])
            let answer = RecordSearch.answer(name: "WWW.example.com", samples: found, searched: reopened.intervalCount()).rendered
            #expect(answer.contains(#""found":true,"intervals_searched":3,"hits":13"#), "\(answer)")
            #expect(try reopened.samples(named: "nope.example.com.").isEmpty)
        }
    }

    @Test func intervalsOlderThanADayAreForgotten() throws {
        try withHistoryFile { path in
            let history = try MonitorHistory(path: path)
            try history.append(sample(1, end: 1_000, [("old.example.com.", "A", 1)]))
            try history.append(sample(2, end: 1_000 + 24 * 3600 + 1, [("new.example.com.", "A", 1)]))
            #expect(history.intervalCount() == 1)
            #expect(try history.samples(named: "old.example.com.").isEmpty)
            #expect(history.lastSequence() == 2)
        }
    }

    @Test func theFileStaysWithinItsSizeByForgettingTheOldest() throws {
        try withHistoryFile { path in
            let history = try MonitorHistory(path: path, maxBytes: 256 << 10)
            let names = (0..<100).map { ("host-\($0)-\(String(repeating: "x", count: 40)).example.com.", "A", UInt64($0 + 1)) }
            for sequence in 1...200 { try history.append(sample(UInt64(sequence), end: Double(1_000 + sequence * 10), names)) }
            #expect(history.sizeBytes() <= 256 << 10, "\(history.sizeBytes()) bytes, \(history.intervalCount()) intervals")
            #expect(history.lastSequence() == 200, "the newest is kept")
            #expect(history.intervalCount() < 200 && history.intervalCount() > 0, "\(history.intervalCount()) kept")
        }
    }

    @Test func aMissingHistoryIsSaidWhenReadOnly() {
        #expect(throws: PVError.self) { try MonitorHistory(path: "/nonexistent/h.sqlite3", readOnly: true) }
    }
}
