import PVCore
#if canImport(FoundationEssentials)
import FoundationEssentials
#else
import Foundation
#endif
#if canImport(Glibc)
import Glibc
#endif

/// The write-ahead record of an update in progress, one file per component
/// (`<root>/state/update-<component>.journal`). It is written before each
/// step that changes what runs, so that after a crash the next pv_update or
/// start knows what was happening and can finish or undo it.
public struct UpdateJournal: Codable, Sendable, Equatable {
    public enum Step: String, Codable, Sendable, CaseIterable {
        /// Downloading the new image; the old version still serves.
        case pulling
        /// The old container is being replaced by the new one.
        case swapping
        /// The new version runs and is being verified.
        case verifying
        /// Verification failed; the verified version is being restored.
        case rollingBack = "rolling-back"
        /// DNS handoff: the new version's container starts beside the old one, which still serves.
        case startingNext = "starting-next"
        /// DNS handoff: the new version is verified on its check address; the old one still serves.
        case verifyingNext = "verifying-next"
        /// DNS handoff: the new version passed; the old container is removed, the new one renamed.
        case retiringOld = "retiring-old"
        /// DNS handoff: the new version failed; its container is removed (the old one never stopped).
        case removingNext = "removing-next"
    }

    public var component: Component
    /// The verified version running before the update (the rollback target), if any.
    public var from: Version?
    public var to: Version
    public var step: Step
    public var pid: Int32

    public init(component: Component, from: Version?, to: Version, step: Step, pid: Int32 = getpid()) {
        self.component = component
        self.from = from
        self.to = to
        self.step = step
        self.pid = pid
    }

    public static func path(root: InstallRoot, component: Component) -> String {
        root.join("state", "update-\(component.rawValue).journal")
    }

    public static func load(root: InstallRoot, component: Component) throws(PVError) -> UpdateJournal? {
        let path = Self.path(root: root, component: component)
        guard FileIO.exists(path) else { return nil }
        do {
            return try JSONDecoder().decode(UpdateJournal.self, from: Data(try FileIO.readBytes(path, limit: 1 << 16)))
        } catch {
            throw PVError(.dataError, "the update journal \(path) is damaged", 
                          hint: "check which version of \(component.rawValue) runs (pv_status), start a verified one (start_pv_\(component.rawValue).sh -v VERSION), then remove the journal",
                          cause: "\(error)")
        }
    }

    public func save(root: InstallRoot) throws(PVError) {
        let path = Self.path(root: root, component: component)
        do {
            let data = try JSONEncoder().encode(self)
            try FileIO.makeDirectories(FileIO.directoryName(path))
            try FileIO.writeAtomically(path, Array(data) + [10], mode: 0o644)
        } catch let error as FileIOError {
            throw PVError(.cantCreate, "cannot write the update journal \(path)", cause: error.message)
        } catch {
            throw PVError(.osError, "cannot encode the update journal", cause: "\(error)")
        }
    }

    public static func remove(root: InstallRoot, component: Component) {
        unlink(path(root: root, component: component))
    }
}
