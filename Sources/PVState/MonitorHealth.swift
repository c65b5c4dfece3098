#if canImport(FoundationEssentials)
import FoundationEssentials
#else
import Foundation
#endif
import PVCore
#if canImport(Glibc)
import Glibc
#endif

/// What pv_monitor leaves on disk for the other tools (pv_status, pv_diagnostics): whether it runs,
/// and its last sample's time, interval and problems. Read without touching the daemon: its lock
/// is looked up in /proc/locks (taking it, even for a moment, could make a starting daemon fail).
public struct MonitorHealth: Sendable, Equatable {
    /// The daemon's pid while it holds its lock; nil: not running.
    public var pid: Int32?
    /// The last sample's end and sequence; nil: no sample yet.
    public var lastSampleEnd: Double?
    public var sequence: Int?
    /// Why data of the last sample is missing ("no monitoring data from dns: ..."), in order.
    public var problems: [String]
    /// The last sample's file, which does not parse: said instead of guessing.
    public var unreadable: String?
    /// Publishing to the broker, as the last sample says (nil: not published).
    public var push: Push?

    public struct Push: Sendable, Equatable {
        public var spoolDepth: Int
        public var lastConfirm: Double?
        public var dropped: Int
        public init(spoolDepth: Int, lastConfirm: Double?, dropped: Int) {
            self.spoolDepth = spoolDepth
            self.lastConfirm = lastConfirm
            self.dropped = dropped
        }
    }

    public var running: Bool { pid != nil }

    public init(pid: Int32? = nil, lastSampleEnd: Double? = nil, sequence: Int? = nil, problems: [String] = [], unreadable: String? = nil) {
        self.pid = pid
        self.lastSampleEnd = lastSampleEnd
        self.sequence = sequence
        self.problems = problems
        self.unreadable = unreadable
    }

    public static func lockPath(_ root: InstallRoot) -> String { root.join("state", "monitor", "pv_monitor.lock") }
    public static func samplePath(_ root: InstallRoot) -> String { root.join("state", "monitor", "last.json") }

    /// `lockHolder`: who holds the lock file (/proc/locks); a seam for tests that fake the files.
    public static func read(_ root: InstallRoot, files: any FileSystem,
                            lockHolder: (String) -> Int32? = MonitorHealth.lockHolder) -> MonitorHealth {
        var health = MonitorHealth(pid: lockHolder(lockPath(root)))
        guard case .success(let text) = files.readText(samplePath(root), limit: 16 << 20) else { return health }
        struct Sample: Decodable {
            struct Part: Decodable { var problem: String? }
            var sequence: Int
            var end: String
            var dns: Part
            var dns_aggregate: Part
            var dhcp: Part
            var pull: Part?
            var history: Part?
            var push: PushPart?
        }
        struct PushPart: Decodable {
            var broker: String?; var problem: String?; var last_confirm: String?; var spool_depth: Int?; var dropped: Int?
            var spool_problem: String?
        }
        guard let sample = try? JSONDecoder().decode(Sample.self, from: Data(text.utf8)), let end = RFC3339.parse(sample.end) else {
            health.unreadable = "\(samplePath(root)) does not parse as a pv_monitor sample"
            return health
        }
        health.lastSampleEnd = end
        health.sequence = sample.sequence
        if let push = sample.push, push.broker != nil {
            health.push = Push(spoolDepth: push.spool_depth ?? 0, lastConfirm: push.last_confirm.flatMap(RFC3339.parse), dropped: push.dropped ?? 0)
        }
        health.problems = [sample.dns.problem, sample.dns_aggregate.problem, sample.dhcp.problem, sample.pull?.problem, sample.history?.problem,
                           sample.push?.problem, sample.push?.spool_problem].compactMap { $0 }
        return health
    }

    /// The pid holding an flock on `path`, from /proc/locks (`N: FLOCK ADVISORY WRITE PID MAJ:MIN:INODE 0 EOF`):
    /// a lock on the file's inode, held by the pid the daemon wrote into it (`pid N`). Matched by
    /// inode and pid rather than by device too: an overlay file system (a container's root) shows
    /// another device there than stat does.
    public static func lockHolder(_ path: String) -> Int32? {
        var st = stat()
        guard stat(path, &st) == 0, let locks = try? FileIO.readText("/proc/locks", limit: 4 << 20),
              let recorded = try? FileIO.readText(path, limit: 4096),
              let pid = recorded.split(separator: "\n").first.flatMap({ $0.hasPrefix("pid ") ? Int32($0.dropFirst(4)) : nil }) else { return nil }
        let inode = ":\(st.st_ino)"
        for line in locks.split(separator: "\n") {
            let fields = line.split(separator: " ", omittingEmptySubsequences: true)
            // A waiting lock ("-> FLOCK ...") shifts the fields by one and holds nothing.
            guard fields.count >= 6, fields[1] == "FLOCK", fields[5].hasSuffix(inode), Int32(fields[4]) == pid else { continue }
            return pid
        }
        return nil
    }
}

extension MonitorHealth {
    /// One line: "pv_monitor runs (pid 812), last sample #42 3 s ago" or why it does not.
    public func summary(now: Double) -> String {
        guard let pid else {
            return "pv_monitor is not running" + (lastSampleEnd.map { ", last sample \(Self.age(now - $0)) ago" } ?? "")
                + " (systemctl status pv_monitor.service says why)"
        }
        if let unreadable { return "pv_monitor runs (pid \(pid)); \(unreadable)" }
        guard let lastSampleEnd, let sequence else { return "pv_monitor runs (pid \(pid)), no sample yet" }
        return "pv_monitor runs (pid \(pid)), last sample #\(sequence) \(Self.age(now - lastSampleEnd)) ago"
            + (problems.isEmpty ? "" : ", \(problems.count) problem\(problems.count == 1 ? "" : "s")")
    }

    public func json(now: Double) -> JSONValue {
        .object([("running", .bool(running)), ("pid", pid.map { .int(Int($0)) } ?? .null),
                 ("last_sample", lastSampleEnd.map { .string(RFC3339.format($0)) } ?? .null),
                 ("last_sample_age_seconds", lastSampleEnd.map { .number(((now - $0) * 10).rounded() / 10) } ?? .null),
                 ("sequence", sequence.map { .int($0) } ?? .null),
                 ("problems", .array(problems.map(JSONValue.string))),
                 ("unreadable", unreadable.map(JSONValue.string) ?? .null),
                 ("push", push.map { p in .object([("spool_depth", .int(p.spoolDepth)),
                                                   ("last_confirm", p.lastConfirm.map { .string(RFC3339.format($0)) } ?? .null),
                                                   ("dropped_samples", .int(p.dropped))]) } ?? .null)])
    }

    public static func age(_ seconds: Double) -> String {
        let s = max(0, Int(seconds.rounded()))
        return s < 120 ? "\(s) s" : s < 7200 ? "\(s / 60) min" : "\(s / 3600) h"
    }
}
