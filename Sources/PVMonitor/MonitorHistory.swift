import CSQLite
import PVCore
#if canImport(Glibc)
import Glibc
#endif

/// The kept intervals: `<root>/state/monitor/history.sqlite3` (SQLite, WAL), each interval's
/// figures and its top records, for the last 24 hours and at most `maxBytes`, so that the RPS
/// search and a restarted daemon's sequence survive restarts. The daemon writes through one
/// connection; readers (`pv_monitor record`, `/api/v1/rps`) open their own, read-only.
public final class MonitorHistory {
    public static func path(_ root: InstallRoot) -> String { root.join("state", "monitor", "history.sqlite3") }
    public static let keepSeconds: Double = 24 * 3600
    public static let defaultMaxBytes: Int64 = 128 << 20

    let db: OpaquePointer
    public let path: String
    let maxBytes: Int64

    public init(path: String, readOnly: Bool = false, maxBytes: Int64 = MonitorHistory.defaultMaxBytes) throws(PVError) {
        self.path = path
        self.maxBytes = maxBytes
        var handle: OpaquePointer? = nil
        let flags = (readOnly ? SQLITE_OPEN_READONLY : SQLITE_OPEN_READWRITE | SQLITE_OPEN_CREATE) | SQLITE_OPEN_FULLMUTEX
        let opened = sqlite3_open_v2(path, &handle, flags, nil)
        guard opened == SQLITE_OK, let handle else {
            let why = handle.map { String(cString: sqlite3_errmsg($0)) } ?? "code \(opened)"
            if let handle { sqlite3_close(handle) }
            throw PVError(readOnly ? .notFound : .cantCreate, "cannot open the monitoring history \(path)", cause: why)
        }
        db = handle
        // A reader never waits long on the writer (WAL readers do not wait at all, but a checkpoint may).
        sqlite3_busy_timeout(db, 2000)
        guard !readOnly else { return }
        do {
            try execute("""
                PRAGMA auto_vacuum=INCREMENTAL;
                PRAGMA journal_mode=WAL;
                PRAGMA synchronous=NORMAL;
                CREATE TABLE IF NOT EXISTS intervals(sequence INTEGER PRIMARY KEY, start REAL NOT NULL, end REAL NOT NULL,
                    queries INTEGER NOT NULL, figures TEXT NOT NULL);
                CREATE TABLE IF NOT EXISTS records(sequence INTEGER NOT NULL, zone TEXT NOT NULL, name TEXT NOT NULL,
                    type TEXT NOT NULL, hits INTEGER NOT NULL, rps REAL NOT NULL, last_access REAL);
                CREATE INDEX IF NOT EXISTS records_by_name ON records(name);
                CREATE INDEX IF NOT EXISTS records_by_sequence ON records(sequence);
                """)
        } catch {
            sqlite3_close(db)
            throw error
        }
    }

    deinit { sqlite3_close(db) }

    /// The newest kept interval's sequence (0 when none): a restarted daemon goes on from it.
    public func lastSequence() -> UInt64 {
        (try? query("SELECT COALESCE(MAX(sequence), 0) FROM intervals", []) { UInt64(sqlite3_column_int64($0, 0)) }.first) ?? 0
    }

    public func intervalCount() -> Int {
        (try? query("SELECT COUNT(*) FROM intervals", []) { Int(sqlite3_column_int64($0, 0)) }.first) ?? 0
    }

    /// Keeps a sample (its figures without the records, and its top records), then forgets what is
    /// older than 24 h and, past `maxBytes`, the oldest tenth until it fits. One transaction.
    public func append(_ sample: MonitorSample) throws(PVError) {
        var figures = sample
        figures.dns.records = []
        try execute("BEGIN IMMEDIATE")
        do {
            try run("INSERT OR REPLACE INTO intervals(sequence, start, end, queries, figures) VALUES (?, ?, ?, ?, ?)",
                    [.int(Int64(clamping: sample.sequence)), .real(sample.start), .real(sample.end), .int(Int64(clamping: sample.dns.queries)),
                     .text(figures.json.rendered)])
            try run("DELETE FROM records WHERE sequence = ?", [.int(Int64(clamping: sample.sequence))])
            for r in sample.dns.records {
                try run("INSERT INTO records(sequence, zone, name, type, hits, rps, last_access) VALUES (?, ?, ?, ?, ?, ?, ?)",
                        [.int(Int64(clamping: sample.sequence)), .text(r.zone), .text(r.name), .text(r.type), .int(Int64(clamping: r.hits)),
                         .real(r.rps), r.lastAccess.map(Value.real) ?? .null])
            }
            let cutoff = sample.end - Self.keepSeconds
            try run("DELETE FROM records WHERE sequence IN (SELECT sequence FROM intervals WHERE end < ?)", [.real(cutoff)])
            try run("DELETE FROM intervals WHERE end < ?", [.real(cutoff)])
            while sizeBytes() > maxBytes, intervalCount() > 1 {
                let drop = max(1, intervalCount() / 10)
                try run("DELETE FROM records WHERE sequence IN (SELECT sequence FROM intervals ORDER BY sequence LIMIT ?)", [.int(Int64(drop))])
                try run("DELETE FROM intervals WHERE sequence IN (SELECT sequence FROM intervals ORDER BY sequence LIMIT ?)", [.int(Int64(drop))])
                try execute("PRAGMA incremental_vacuum")
            }
            try execute("COMMIT")
        } catch {
            try? execute("ROLLBACK")
            throw error
        }
    }

    /// Every kept interval's records for `name` (as kept: lowercase, final dot), as samples holding
    /// those records only, oldest first.
    public func samples(named name: String) throws(PVError) -> [MonitorSample] {
        let rows = try query("""
            SELECT i.sequence, i.start, i.end, r.zone, r.type, r.hits, r.rps, r.last_access
            FROM records r JOIN intervals i ON i.sequence = r.sequence WHERE r.name = ? ORDER BY i.sequence, r.type
            """, [.text(name)]) { s -> (UInt64, Double, Double, MonitorSample.Record) in
            (UInt64(sqlite3_column_int64(s, 0)), sqlite3_column_double(s, 1), sqlite3_column_double(s, 2),
             MonitorSample.Record(zone: Self.text(s, 3), name: name, type: Self.text(s, 4), hits: UInt64(max(0, sqlite3_column_int64(s, 5))),
                                  overestimate: 0, rps: sqlite3_column_double(s, 6),
                                  lastAccess: sqlite3_column_type(s, 7) == SQLITE_NULL ? nil : sqlite3_column_double(s, 7)))
        }
        var samples: [MonitorSample] = []
        for (sequence, start, end, record) in rows {
            if samples.last?.sequence == sequence { samples[samples.count - 1].dns.records.append(record); continue }
            samples.append(MonitorSample(resourceID: "", sequence: sequence, start: start, end: end,
                                         dns: .init(queries: 0, responses: 0, records: [record], other: 0, distinctKept: 0, drops: [:]),
                                         dnstapConnections: 0))
        }
        return samples
    }

    func sizeBytes() -> Int64 {
        let pages = (try? query("PRAGMA page_count", []) { sqlite3_column_int64($0, 0) }.first) ?? 0
        let size = (try? query("PRAGMA page_size", []) { sqlite3_column_int64($0, 0) }.first) ?? 4096
        return pages * size
    }

    enum Value { case int(Int64), real(Double), text(String), null }

    func execute(_ sql: String) throws(PVError) {
        var message: UnsafeMutablePointer<CChar>? = nil
        guard sqlite3_exec(db, sql, nil, nil, &message) == SQLITE_OK else {
            let why = message.map { String(cString: $0) } ?? String(cString: sqlite3_errmsg(db))
            sqlite3_free(message)
            throw PVError(.osError, "the monitoring history \(path) refused a change", cause: why)
        }
    }

    func run(_ sql: String, _ values: [Value]) throws(PVError) {
        _ = try query(sql, values) { _ in () }
    }

    func query<T>(_ sql: String, _ values: [Value], _ row: (OpaquePointer) -> T) throws(PVError) -> [T] {
        var statement: OpaquePointer? = nil
        guard sqlite3_prepare_v2(db, sql, -1, &statement, nil) == SQLITE_OK, let statement else {
            throw PVError(.osError, "the monitoring history \(path) cannot be read", cause: String(cString: sqlite3_errmsg(db)))
        }
        defer { sqlite3_finalize(statement) }
        // SQLITE_TRANSIENT: SQLite copies the text before this call returns.
        let transient = unsafeBitCast(-1, to: sqlite3_destructor_type.self)
        for (index, value) in values.enumerated() {
            let i = Int32(index + 1)
            switch value {
            case .int(let v): sqlite3_bind_int64(statement, i, v)
            case .real(let v): sqlite3_bind_double(statement, i, v)
            case .text(let v): sqlite3_bind_text(statement, i, v, -1, transient)
            case .null: sqlite3_bind_null(statement, i)
            }
        }
        var out: [T] = []
        while true {
            let step = sqlite3_step(statement)
            if step == SQLITE_ROW { out.append(row(statement)); continue }
            if step == SQLITE_DONE { return out }
            throw PVError(.osError, "the monitoring history \(path) cannot be read", cause: String(cString: sqlite3_errmsg(db)))
        }
    }

    static func text(_ statement: OpaquePointer, _ column: Int32) -> String {
        sqlite3_column_text(statement, column).map { String(cString: $0) } ?? ""
    }
}
