import PVCore

/// One DHCP verification on an interface: open the packet socket, DORA, RELEASE, judged by
/// `DHCPVerification`. Shared by pv_verify and the capability helper pv_dhcp_probe, so both
/// check exactly the same way.
public enum DHCPCheck {
    public static func run(interface: String, timeoutSeconds: Double) -> (result: CheckResult, failure: DHCPFailure?) {
        let start = Monotonic.nanoseconds()
        let outcome: Result<DHCPLease, DHCPFailure>
        do {
            let link = try PacketSocketLink(interface: interface)
            let client = DHCPClient(link: link, chaddr: DHCPClient.hardwareAddress(forInterface: interface),
                                    xid: UInt32.random(in: 1...UInt32.max), phaseTimeoutSeconds: max(timeoutSeconds, 1) * 2,
                                    retransmitSeconds: max(timeoutSeconds * 0.7, 0.2))
            outcome = client.run()
        } catch {
            outcome = .failure(error)
        }
        let result = DHCPVerification.evaluate(outcome, interface: interface, milliseconds: Monotonic.milliseconds(since: start))
        if case .failure(let failure) = outcome { return (result, failure) }
        return (result, nil)
    }
}
