import PVCore

/// The DHCP verification rule: a full DORA on the verification link that
/// yields an address inside the verification pool.
public enum DHCPVerification {
    public static func evaluate(_ outcome: Result<DHCPLease, DHCPFailure>, interface: String,
                                pool: IPv4Network = .verificationPool, milliseconds: Double? = nil) -> CheckResult {
        switch outcome {
        case .failure(let failure):
            let hint: String
            switch failure {
            case .link: hint = "check the verification link (network_config.sh creates it)"
            case .noPermission: hint = "install the DHCP check helper as root: pv_install -e install_libs (it gets the capability cap_net_raw)"
            case .noOffer: hint = "check that the DHCP component runs (start_pv_dhcp.sh) and serves the link of \(interface)"
            case .nak: hint = "the DHCP server does not accept its own offer; check its subnet and pool configuration"
            case .noAck: hint = "the DHCP server offered but did not confirm; check its logs"
            }
            return CheckResult(name: "dhcp", status: .fail, detail: "\(failure) on \(interface)", hint: hint, milliseconds: milliseconds)
        case .success(let lease):
            guard pool.contains(lease.address) else {
                return CheckResult(name: "dhcp", status: .fail,
                                   detail: "leased \(lease.address) from \(lease.serverID), outside the verification pool \(pool)",
                                   hint: "another DHCP server answers on this link, or the component's pool is wrong",
                                   milliseconds: milliseconds)
            }
            var detail = "leased \(lease.address) from \(lease.serverID) on \(interface)"
            detail += lease.released ? ", released" : ", not released (\(lease.releaseError ?? "?"))"
            return CheckResult(name: "dhcp", status: .ok, detail: detail, milliseconds: milliseconds)
        }
    }
}
