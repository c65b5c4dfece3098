#if canImport(Glibc)
import Glibc
#endif
import PVCore

/// What one beat leaves for the next: the sequence number (so the management
/// application can count missed beats), the CPU sample (so CPU use covers the
/// interval) and Docker's data directory (so it is not asked every beat).
public struct HeartbeatState: Sendable, Equatable {
    public var sequence: UInt64 = 0
    public var cpu: CPUSample?
    public var dockerRootDir: String?
    /// How the previous beat ended (`sent`, `rejected`, `unreachable` ...), for pv_diagnostics.
    public var lastResult: String?

    public init(sequence: UInt64 = 0, cpu: CPUSample? = nil, dockerRootDir: String? = nil) {
        self.sequence = sequence
        self.cpu = cpu
        self.dockerRootDir = dockerRootDir
    }

    /// `key = value` lines; unknown keys are ignored so an older agent can read a newer file.
    public static func parse(_ text: String) -> HeartbeatState? {
        var values: [String: String] = [:]
        for line in text.split(separator: "\n") where !line.hasPrefix("#") {
            guard let eq = line.firstIndex(of: "=") else { continue }
            let key = line[..<eq].filter { $0 != " " }
            values[String(key)] = String(line[line.index(after: eq)...].drop { $0 == " " })
        }
        guard let seqText = values["sequence"], let sequence = UInt64(seqText) else { return nil }
        var state = HeartbeatState(sequence: sequence)
        if let t = values["cpu_total_ticks"].flatMap({ UInt64($0) }), let i = values["cpu_idle_ticks"].flatMap({ UInt64($0) }),
           let u = values["cpu_uptime"].flatMap({ Double($0) }) {
            state.cpu = CPUSample(totalTicks: t, idleTicks: i, uptime: u)
        }
        if let dir = values["docker_root_dir"], dir.hasPrefix("/") { state.dockerRootDir = dir }
        if let result = values["last_result"], !result.isEmpty, result.allSatisfy({ $0.isLetter || $0 == "-" }) { state.lastResult = result }
        return state
    }

    public var text: String {
        var lines = ["# pv_heartbeat state, rewritten atomically by every beat", "sequence = \(sequence)"]
        if let cpu {
            lines += ["cpu_total_ticks = \(cpu.totalTicks)", "cpu_idle_ticks = \(cpu.idleTicks)", "cpu_uptime = \(cpu.uptime)"]
        }
        if let dockerRootDir { lines.append("docker_root_dir = \(dockerRootDir)") }
        if let lastResult { lines.append("last_result = \(lastResult)") }
        return lines.joined(separator: "\n") + "\n"
    }
}

/// Keeps the heartbeat state between runs.
public protocol HeartbeatStateStore: Sendable {
    /// The saved state; a fresh one (sequence 0) when nothing is saved yet.
    /// A damaged file is reported, not silently reset.
    func load() throws(PVError) -> HeartbeatState
    func save(_ state: HeartbeatState) throws(PVError)
}

/// `<root>/state/heartbeat.state`, written with temp file, fsync and rename,
/// so a crash or power cut leaves the old or the new sequence, never a torn one.
public struct LiveHeartbeatStateStore: HeartbeatStateStore {
    public let path: String

    public init(root: InstallRoot) { path = root.join("state", "heartbeat.state") }
    public init(path: String) { self.path = path }

    public func load() throws(PVError) -> HeartbeatState {
        guard FileIO.exists(path) else { return HeartbeatState() }
        let text: String
        do { text = try FileIO.readText(path, limit: 64 << 10) } catch {
            throw PVError(.osError, "cannot read the heartbeat state \(path)", cause: error.message)
        }
        guard let state = HeartbeatState.parse(text) else {
            throw PVError(.dataError, "the heartbeat state \(path) is damaged", hint: "remove it; the sequence restarts at 1")
        }
        return state
    }

    public func save(_ state: HeartbeatState) throws(PVError) {
        do {
            try FileIO.makeDirectories(FileIO.directoryName(path))
            // No directory fsync: after a power cut the previous beat's state may
            // come back and one sequence number repeat, which ProVision tolerates;
            // the extra journal commit every 30 s is not worth it.
            try FileIO.writeAtomically(path, state.text, mode: 0o644, durableRename: false)
        } catch {
            throw PVError(.cantCreate, "cannot write the heartbeat state \(path)",
                          hint: "make \(FileIO.directoryName(path)) writable by the user the heartbeat runs as", cause: error.message)
        }
    }
}


/// Cumulative CPU time from /proc/stat, kept between beats so each beat reports
/// the CPU use over the last interval instead of a since-boot average.
public struct CPUSample: Sendable, Equatable {
    public var totalTicks: UInt64
    public var idleTicks: UInt64
    /// /proc/uptime when the sample was taken, to know the window it covers.
    public var uptime: Double

    public init(totalTicks: UInt64, idleTicks: UInt64, uptime: Double) {
        self.totalTicks = totalTicks
        self.idleTicks = idleTicks
        self.uptime = uptime
    }
}
