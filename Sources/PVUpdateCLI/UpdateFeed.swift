import PVCore
import PVComponents
import Synchronization

/// `pv_update --json`: the run's events as the progress popup's feed (`ProgressFeed`, the same
/// lines as `pv_install --json`), one step per component (`update_dns`, n of total).
final class UpdateFeed: Sendable {
    let output: OutputSink
    let clock: AgentClock
    /// The component in hand and when its turn began: progress events arrive without it.
    private let current = Mutex<(component: Component, index: Int, total: Int, started: Double)?>(nil)

    init(output: OutputSink, clock: AgentClock) {
        self.output = output
        self.clock = clock
    }

    static func step(_ c: Component) -> String { "update_\(c.rawValue)" }

    func emit(_ event: ProgressFeed) { if let line = event.json { output.line(line.rendered) } }

    /// A progress event of the component in hand.
    @Sendable func progress(_ event: ProgressEvent) {
        guard let c = current.withLock({ $0 }) else { return }
        emit(.progress(step: Self.step(c.component), component: c.component, event))
    }

    func handle(_ event: UpdateRun.Event, line: (Component, ComponentUpdate.Outcome) -> String) {
        switch event {
        case .began(let c, let index, let total):
            current.withLock { $0 = (c, index, total, clock.monotonic()) }
            emit(.start(step: Self.step(c), component: c, index: index, total: total))
        case .recovered(_, let text):
            progress(.recovered(text))
        case .outcome(let c, let outcome):
            finish(c, ok: true, detail: line(c, outcome))
        case .failed(let c, let error):
            finish(c, ok: false, detail: error.message)
        case .interrupted, .interruptedAfterTheLast:
            break  // the result says it
        }
    }

    func finish(_ c: Component, ok: Bool, detail: String) {
        guard let turn = current.withLock({ $0 }), turn.component == c else { return }
        emit(.finished(step: Self.step(c), component: c, index: turn.index, total: turn.total, ok: ok,
                       seconds: clock.monotonic() - turn.started, detail: detail))
    }
}
