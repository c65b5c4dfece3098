import CDHCP
import PVCore

/// One DHCP verification on an interface: open the packet socket, DORA, RELEASE, and the verdict,
/// all CDHCP's (`pv_dhcp_check`), the one implementation that the capability helper pv_dhcp_probe
/// runs too, so both check and word the result exactly the same way. It ends within the timeout
/// (the whole exchange, not each phase). Run in-process where this process may open a packet
/// socket (root); `lacksPermission` tells the caller to ask the helper instead.
public enum DHCPCheck {
    public static func run(interface: String, timeoutSeconds: Double) -> (result: CheckResult, lacksPermission: Bool) {
        var r = pv_dhcp_result()
        pv_dhcp_check(interface, timeoutSeconds, &r)
        return (CheckResult(r), r.failure == PV_DHCP_FAILURE_NO_PERMISSION)
    }
}

extension CheckResult {
    /// The C verdict as the tools' check result.
    public init(_ r: pv_dhcp_result) {
        let hint = cText(r.hint)
        self.init(name: "dhcp", status: r.passed != 0 ? .ok : .fail, detail: cText(r.detail),
                  hint: hint.isEmpty ? nil : hint, milliseconds: r.milliseconds)
    }
}

/// The text of a fixed C character array (imported as a tuple), up to its terminating zero.
public func cText<T>(_ array: T) -> String {
    withUnsafeBytes(of: array) { String(decoding: $0.prefix { $0 != 0 }, as: UTF8.self) }
}
