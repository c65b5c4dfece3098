import PVCore

/// The DNS verification rule: the verification name must carry exactly one
/// TXT record made of exactly one string, equal (case-sensitively) to the
/// expected value. Anything else is a failure with its own explanation,
/// because each one points the operator at a different fault.
public enum TXTVerification {
    public static let name = "pvverify.test."
    public static let expected = "PVOK"

    public static func evaluate(_ outcome: Result<DNSAnswer, DNSQueryError>, server: String, port: UInt16,
                                expected: String = expected, milliseconds: Double? = nil) -> CheckResult {
        let target = "\(server) port \(port)"
        var via = ""
        func fail(_ detail: String, _ hint: String) -> CheckResult {
            CheckResult(name: "dns", status: .fail, detail: detail + via, hint: hint, milliseconds: milliseconds)
        }
        let answer: DNSAnswer
        switch outcome {
        case .failure(.timeout(let tries, let seconds, let ignored)) where ignored > 0:
            return fail("no matching answer from \(target) (\(tries) tries, \(seconds) s each); \(ignored) replies ignored: wrong ID, no QR bit or another question",
                        "something other than the DNS component answers on \(target), or replies are forged: check what listens there")
        case .failure(.timeout(let tries, let seconds, _)):
            return fail("no answer from \(target) (\(tries) tries, \(seconds) s each)",
                        "check that the DNS component runs (start_pv_dns.sh) and listens on \(target)")
        case .failure(.network(let why)):
            return fail("query to \(target) failed: \(why)", "check that the DNS component runs and listens on \(target)")
        case .failure(.invalidServer(let why)):
            return fail("bad DNS verification target: \(why)", "fix dns_verify_server / dns_verify_port in the configuration")
        case .failure(.truncated(let why)):
            return fail("the reply from \(target) was truncated (TC) over UDP, and asking again over TCP failed: \(why)",
                        "let the DNS component answer over TCP on \(target) as well (a firewall may pass only UDP)")
        case .success(let a):
            answer = a
        }
        // What was said over TCP after a truncated UDP reply says so: each finding below is then TCP's.
        via = answer.overTCP ? " (over TCP: the UDP reply was truncated)" : ""
        guard answer.rcode == 0 else {
            return fail("\(name) answered \(DNSAnswer.rcodeName(answer.rcode)) by \(target)",
                        "the DNS component does not serve the verification zone; check its zone files")
        }
        guard !answer.txtRecords.isEmpty else {
            return fail("\(name) has no TXT record at \(target)", "the verification zone lacks its TXT record")
        }
        guard answer.txtRecords.count == 1 else {
            return fail("\(name) has \(answer.txtRecords.count) TXT records at \(target), expected exactly one",
                        "remove the extra TXT records from the verification zone")
        }
        let strings = answer.txtRecords[0]
        guard strings.count == 1 else {
            return fail("\(name) TXT has \(strings.count) strings (\(strings.map(quoted).joined(separator: " "))), expected one",
                        "the verification record must be a single string \"\(expected)\"")
        }
        guard strings[0] == expected else {
            return fail("\(name) TXT is \(quoted(strings[0])), expected \(quoted(expected))",
                        "the DNS component serves a wrong verification record; this version may be broken")
        }
        return CheckResult(name: "dns", status: .ok, detail: "TXT \(name) = \(quoted(expected)) from \(target)" + via,
                           milliseconds: milliseconds)
    }

    /// Shows a string from the wire safely: control characters escaped, long values cut.
    static func quoted(_ s: String) -> String {
        var out = ""
        for scalar in s.unicodeScalars.prefix(64) {
            if scalar.value < 0x20 || scalar.value == 0x7f { out += "\\\(scalar.value)" } else { out.unicodeScalars.append(scalar) }
        }
        if s.unicodeScalars.count > 64 { out += "..." }
        return "\"\(out)\""
    }
}
