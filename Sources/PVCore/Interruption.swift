import CProcessControl
#if canImport(Glibc)
import Glibc
#endif

/// SIGTERM, SIGINT and SIGHUP (a Push Update's SSH session that drops) for the
/// tools that change what runs: the first one is recorded, the operation in hand
/// reaches a safe point (a docker command in flight finishes within its bound, a
/// download is cut, a component being swapped is verified or rolled back), then
/// the tool says where it stopped and exits 128 + the signal number. A second
/// signal ends the tool at once; the update journal lets the next run recover.
public enum Interruption {
    /// Called first thing by pv_update, pv_start, pv_stop and pv_install. Tools that
    /// change nothing keep the default actions.
    public static func handleSignals() { pv_interruption_install() }

    public static var isHandling: Bool { pv_interruption_installed() != 0 }

    /// The signal received so far, if any.
    public static var signal: Int32? {
        let s = pv_interruption_signal()
        return s == 0 ? nil : s
    }

    /// Throws `PVError.interrupted` when a signal has arrived: the call sites are the safe points.
    public static func checkpoint(_ what: @autoclosure () -> String) throws(PVError) {
        if let signal { throw PVError.interrupted(by: signal, what()) }
    }

    public static func name(_ signal: Int32) -> String {
        switch signal {
        case SIGTERM: "SIGTERM"
        case SIGINT: "SIGINT"
        case SIGHUP: "SIGHUP"
        default: "signal \(signal)"
        }
    }

    /// Tests only: forget the recorded signal.
    public static func resetForTesting() { pv_interruption_reset() }
}

extension PVError {
    /// `what` says where the tool stopped and what state it left ("nothing was changed").
    public static func interrupted(by signal: Int32, _ what: String) -> PVError {
        PVError(ExitStatus(rawValue: 128 + signal), "interrupted by \(Interruption.name(signal)): \(what)",
                hint: "run the same command again to go on")
    }

    public var isInterruption: Bool { code.rawValue > 128 }
}
