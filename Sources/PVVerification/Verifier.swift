import PVCore
import PVDHCP
import PVDNS

/// Which verification checks to run.
public enum VerificationTarget: String, CaseIterable, Sendable {
    case dns, dhcp, all
}

/// Runs the verification checks for a configuration. Shared with pv_update and pv_install.
public struct Verifier: Sendable {
    public var config: ServerConfig
    public var timeoutSeconds: Double
    /// Set when the DHCP check may use the capability helper of this install (see `DHCPCheckHelper`).
    public var root: InstallRoot?

    public init(config: ServerConfig, timeoutSeconds: Double = 1.0, root: InstallRoot? = nil) {
        self.root = root
        self.config = config
        self.timeoutSeconds = timeoutSeconds
    }

    public func run(_ target: VerificationTarget) -> [CheckResult] {
        switch target {
        case .dns: return [config.isEnabled(.dns) ? dns() : notEnabled(.dns)]
        case .dhcp: return [config.isEnabled(.dhcp) ? dhcp() : notEnabled(.dhcp)]
        // What this server runs: a DNS-only server has no verification link to lease on.
        case .all: return (config.isEnabled(.dns) ? [dns()] : []) + (config.isEnabled(.dhcp) ? [dhcp()] : [])
        }
    }

    /// A check asked by name of a component the server does not run fails, saying why.
    func notEnabled(_ component: Component) -> CheckResult {
        CheckResult(name: component.rawValue, status: .fail,
                    detail: "not enabled on this server (components = \(config.enabledComponents.map(\.rawValue).joined(separator: ", ")))",
                    hint: "verify the enabled ones: pv_verify all")
    }

    public func dns() -> CheckResult {
        let start = Monotonic.nanoseconds()
        let resolver = LDNSResolver(server: config.dnsVerifyServer, port: config.dnsVerifyPort,
                                    timeoutSeconds: timeoutSeconds, attempts: 2)
        let outcome = resolver.queryTXT(TXTVerification.name)
        return TXTVerification.evaluate(outcome, server: config.dnsVerifyServer, port: config.dnsVerifyPort,
                                        milliseconds: Monotonic.milliseconds(since: start))
    }

    public func dhcp() -> CheckResult {
        let interface = config.dhcpVerifyInterface
        let (result, lacksPermission) = DHCPCheck.run(interface: interface, timeoutSeconds: timeoutSeconds)
        // The agent's user has no CAP_NET_RAW: the root-owned helper with that capability does. It
        // ends within the timeout (plus the kernel's release of its socket); the rest of the bound
        // is for starting a process on a loaded machine.
        if lacksPermission, let root {
            let helper = DHCPCheckHelper(path: root.systemPath(DHCPCheckHelper.installedPath))
            if let viaHelper = helper.run(.init(interface: interface, timeoutSeconds: timeoutSeconds), bound: timeoutSeconds + 2) {
                return viaHelper
            }
            var r = result
            r.hint = "install the DHCP check helper as root (pv_install -e install_libs puts it at \(helper.path) with cap_net_raw), or run this as root"
            return r
        }
        return result
    }
}
