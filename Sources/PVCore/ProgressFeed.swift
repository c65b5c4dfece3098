/// The progress popup's feed: what `pv_install --json` and `pv_update --json` print, one JSON object a
/// line, from one model. A step is an install step (`setup_dns`) or a component's update
/// (`update_dns`); `index`/`total` count them; the last line is the result.
public enum ProgressFeed: Sendable {
    case start(step: String, component: Component?, index: Int, total: Int)
    case progress(step: String, component: Component?, ProgressEvent)
    case finished(step: String, component: Component?, index: Int, total: Int, ok: Bool, seconds: Double, detail: String)
    case skipped(step: String, component: Component?, index: Int, total: Int, reason: String)
    /// The run's end: its exit status and, when it failed, why.
    case result(ok: Bool, exitStatus: Int32, detail: String)

    /// The line to send; nil for what the popup does not show (a progress event that is no milestone).
    public var json: JSONValue? {
        func component(_ c: Component?) -> JSONValue { c.map { .string($0.rawValue) } ?? .null }
        switch self {
        case .start(let step, let c, let index, let total):
            return .object([("event", .string("start")), ("step", .string(step)), ("component", component(c)),
                            ("index", .int(index)), ("total", .int(total))])
        case .progress(let step, let c, let event):
            guard event.isMilestone else { return nil }
            return .object([("event", .string("progress")), ("step", .string(step)), ("component", component(c)),
                            ("kind", .string(event.kind)), ("message", .string(event.text))])
        case .finished(let step, let c, let index, let total, let ok, let seconds, let detail):
            return .object([("event", .string(ok ? "ok" : "failed")), ("step", .string(step)), ("component", component(c)),
                            ("index", .int(index)), ("total", .int(total)), ("seconds", .number((seconds * 10).rounded() / 10)),
                            ("detail", .string(detail))])
        case .skipped(let step, let c, let index, let total, let reason):
            return .object([("event", .string("skipped")), ("step", .string(step)), ("component", component(c)),
                            ("index", .int(index)), ("total", .int(total)), ("detail", .string(reason))])
        case .result(let ok, let status, let detail):
            return .object([("event", .string("result")), ("ok", .bool(ok)), ("exit_code", .int(Int(status))), ("detail", .string(detail))])
        }
    }
}
