import Dispatch
import PVCore
import PVState

/// pv_update over several components: one at a time under the update lock (taken by the caller),
/// each interrupted update finished or undone first, and a signal honoured between components.
/// It reports each component's result as a value; the command renders them.
public struct UpdateRun: Sendable {
    public var components: [Component]
    public var options: ComponentUpdate.Options
    public var updater: ComponentUpdate

    public init(components: [Component], options: ComponentUpdate.Options, updater: ComponentUpdate) {
        self.components = components
        self.options = options
        self.updater = updater
    }

    public enum Event: Sendable {
        /// The component's turn starts (index from 1, of `total`).
        case began(Component, index: Int, total: Int)
        case recovered(Component, String)
        case outcome(Component, ComponentUpdate.Outcome)
        case failed(Component, PVError)
        /// A signal arrived: `notUpdated` are left as they were.
        case interrupted(signal: Int32, notUpdated: [Component])
        /// A signal arrived while the last component was in hand; it was finished first.
        case interruptedAfterTheLast(signal: Int32)
    }

    /// Returns the exit status: the first failure's code, 128+n after a signal, else ok.
    public func run(_ report: (Event) -> Void) -> ExitStatus {
        var firstFailure: ExitStatus? = nil
        for (i, c) in components.enumerated() {
            if let signal = Interruption.signal {
                report(.interrupted(signal: signal, notUpdated: Array(components[i...])))
                return ExitStatus(rawValue: 128 + signal)
            }
            report(.began(c, index: i + 1, total: components.count))
            do throws(PVError) {
                if let recovered = try updater.recover(c) { report(.recovered(c, recovered)) }
                report(.outcome(c, try updater.update(c, options: options)))
            } catch {
                report(.failed(c, error))
                if error.isInterruption { return error.code }
                if firstFailure == nil { firstFailure = error.code }
            }
        }
        if let signal = Interruption.signal {
            report(.interruptedAfterTheLast(signal: signal))
            return ExitStatus(rawValue: 128 + signal)
        }
        return firstFailure ?? .ok
    }

    /// `--check`: nothing changes, so no lock and no recovery; each component is asked on its own
    /// thread. Results come back in the components' order.
    public func check() -> [(Component, Result<ComponentUpdate.Outcome, PVError>)] {
        var options = options
        options.checkOnly = true
        let results = Slots(count: components.count)
        DispatchQueue.concurrentPerform(iterations: components.count) { [components, updater, options] i in
            do throws(PVError) { results.set(i, .success(try updater.update(components[i], options: options))) } catch {
                results.set(i, .failure(error))
            }
        }
        return zip(components, results.all).compactMap { c, r in r.map { (c, $0) } }
    }
}

/// One slot per component, filled from the checking threads.
private final class Slots: @unchecked Sendable {
    private var slots: [Result<ComponentUpdate.Outcome, PVError>?]
    private let queue = DispatchQueue(label: "pv_update.check")
    init(count: Int) { slots = Array(repeating: nil, count: count) }
    func set(_ i: Int, _ r: Result<ComponentUpdate.Outcome, PVError>) { queue.sync { slots[i] = r } }
    var all: [Result<ComponentUpdate.Outcome, PVError>?] { queue.sync { slots } }
}
