import PVCore
import PVComponents
#if canImport(Glibc)
import Glibc
#endif

/// The verification that decides whether a component version is good, as
/// pv_update and pv_install apply it: pv_verify's DNS and DHCP checks, and
/// for monitoring (which has no protocol to ask) "still running after a while".
public struct ComponentVerification: Sendable {
    public var context: ComponentContext
    public var timeoutSeconds: Double
    /// How long monitoring must stay up to count as working.
    public var monitoringSettleSeconds: Double

    public init(context: ComponentContext, timeoutSeconds: Double = 1.0, monitoringSettleSeconds: Double = 1.5) {
        self.context = context
        self.timeoutSeconds = timeoutSeconds
        self.monitoringSettleSeconds = monitoringSettleSeconds
    }

    /// The DNS check at another address of this server, on the configured port (a handoff's check address).
    public func dns(at address: String) -> CheckResult {
        var config = context.config
        config.dnsVerifyServer = address
        return Verifier(config: config, timeoutSeconds: timeoutSeconds, root: context.root).dns()
    }

    public func check(_ component: Component) -> CheckResult {
        let verifier = Verifier(config: context.config, timeoutSeconds: timeoutSeconds, root: context.root)
        switch component {
        case .dns: return verifier.dns()
        case .dhcp: return verifier.dhcp()
        case .monitoring:
            let start = Monotonic.nanoseconds()
            let before = try? context.container(.monitoring)
            // The whole settle time, even when a signal cuts a sleep short (pv_update finishes the
            // component in hand after SIGTERM, and must not judge it sooner).
            let settle = Deadline(secondsFromNow: monitoringSettleSeconds)
            while !settle.hasPassed { usleep(UInt32(clamping: max(1, settle.remainingMilliseconds) * 1000)) }
            let c = try? context.container(.monitoring)
            let ms = Monotonic.milliseconds(since: start)
            // The restart policy brings a crashing container back: a changed
            // start time or restart count is a crash as much as "exited" is.
            let restarted = c != nil && before != nil && (c!.restartCount != before!.restartCount || c!.startedAt != before!.startedAt)
            guard let c, c.isRunning, !restarted, c.restartCount == 0 else {
                let what = c == nil ? "is gone" : restarted || (c?.restartCount ?? 0) > 0 ? "crashed and was restarted (\(c!.restartCount) restarts)"
                    : "exited with status \(c!.exitCode)"
                return CheckResult(name: "monitoring", status: .fail,
                                   detail: "the container \(what) within \(monitoringSettleSeconds) s of starting",
                                   hint: "read its log: docker logs pv-monitoring", milliseconds: ms)
            }
            return CheckResult(name: "monitoring", status: .ok, detail: "running \(c.version ?? "?") for \(monitoringSettleSeconds) s", milliseconds: ms)
        }
    }
}
