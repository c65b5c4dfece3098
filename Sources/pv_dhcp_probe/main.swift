// pv_dhcp_probe: the DHCP check with the file capability cap_net_raw (see DHCPCheckHelper).
// Arguments only: no configuration, no environment, no file read or written.
import PVDHCP
#if canImport(Glibc)
import Glibc
#endif

let argv = Array(CommandLine.arguments.dropFirst())
if argv == ["-h"] || argv == ["--help"] {
    print(DHCPCheckHelper.Arguments.usage)
    exit(0)
}
switch DHCPCheckHelper.Arguments.parse(argv) {
case .failure(let usage):
    let text = "pv_dhcp_probe: \(usage.message)\n\(DHCPCheckHelper.Arguments.usage)\n"
    _ = text.withCString { write(STDERR_FILENO, $0, strlen($0)) }
    exit(64)
case .success(let arguments):
    let (result, _) = DHCPCheck.run(interface: arguments.interface, timeoutSeconds: arguments.timeoutSeconds)
    print(DHCPCheckHelper.line(result))
    exit(result.passed ? 0 : 1)
}
