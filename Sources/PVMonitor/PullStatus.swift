/// pv_monitor's pull endpoint as a sample reports it: where it listens (`127.0.0.1:9433`), or
/// why it does not (the port taken; `monitor_listen = off` leaves both nil).
public struct PullStatus: Sendable, Equatable {
    public var listen: String?
    public var problem: String?
    public init(listen: String? = nil, problem: String? = nil) {
        self.listen = listen
        self.problem = problem
    }
}
