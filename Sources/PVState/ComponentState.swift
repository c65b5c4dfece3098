import PVCore
#if canImport(FoundationEssentials)
import FoundationEssentials
#else
import Foundation
#endif
#if canImport(Glibc)
import Glibc
#endif

/// What the agent knows about each component, kept in `<root>/state/components.json`
/// and shared by the start/stop tools, pv_update, pv_install, pv_heartbeat and
/// pv_diagnostics. Written atomically; a torn file is impossible, a missing
/// one means "nothing recorded yet".
public struct ServerState: Codable, Sendable, Equatable {
    public var components: [String: ComponentRecord] = [:]

    public init() {}

    public subscript(component: Component) -> ComponentRecord {
        get { components[component.rawValue] ?? ComponentRecord() }
        set { components[component.rawValue] = newValue }
    }
}

public struct ComponentRecord: Codable, Sendable, Equatable {
    /// The version started last (nil once stopped).
    public var running: Version?
    /// The last version that passed verification: the default to start and the rollback target.
    public var verified: Version?
    /// Versions that failed verification; automatic updates skip them unless forced.
    public var failed: [Version] = []
    /// The most recent events, newest last.
    public var history: [HistoryEntry] = []

    public init() {}

    public static let historyLimit = 20

    public mutating func record(_ event: String, version: Version?, at time: Int) {
        history.append(HistoryEntry(time: time, event: event, version: version))
        if history.count > Self.historyLimit { history.removeFirst(history.count - Self.historyLimit) }
    }
}

public struct HistoryEntry: Codable, Sendable, Equatable {
    /// Seconds since the epoch (UTC).
    public var time: Int
    public var event: String
    public var version: Version?
}

/// Reads and writes the state file.
public struct StateStore: Sendable {
    public let path: String

    public init(root: InstallRoot) { path = root.join("state", "components.json") }

    public func load() throws(PVError) -> ServerState {
        guard FileIO.exists(path) else { return ServerState() }
        let bytes: [UInt8]
        do { bytes = try FileIO.readBytes(path, limit: 1 << 20) } catch {
            throw PVError(.osError, "cannot read the state file \(path)", cause: error.message)
        }
        do { return try JSONDecoder().decode(ServerState.self, from: Data(bytes)) } catch {
            throw PVError(.dataError, "the state file \(path) is damaged", 
                          hint: "move it aside (it is rebuilt on the next start) and start each component with -v VERSION",
                          cause: "\(error)")
        }
    }

    public func save(_ state: ServerState) throws(PVError) {
        let encoder = JSONEncoder()
        encoder.outputFormatting = [.prettyPrinted, .sortedKeys]
        let data: Data
        do { data = try encoder.encode(state) } catch { throw PVError(.osError, "cannot encode the state", cause: "\(error)") }
        do {
            try FileIO.makeDirectories(FileIO.directoryName(path))
            try FileIO.writeAtomically(path, Array(data) + [10], mode: 0o644)
        } catch {
            throw PVError(.cantCreate, "cannot write the state file \(path)", hint: "check the ownership of \(FileIO.directoryName(path))", cause: error.message)
        }
    }

    /// Load, change, save.
    public func update(_ change: (inout ServerState) -> Void) throws(PVError) {
        var state = try load()
        change(&state)
        try save(state)
    }
}
