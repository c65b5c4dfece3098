/*
 * pv_dhcp_probe: the DHCP check for the agent's user, installed root:root 0755 at
 * /usr/libexec/provision/pv_dhcp_probe with the file capability cap_net_raw (PVInstall's
 * PrivilegedInstall). Arguments only: `--interface NAME --timeout SECONDS`; one line out
 * (`pv_dhcp_probe/1\tstatus\tms\tdetail\thint`, read by PVDHCP's DHCPCheckHelper.parse);
 * exit 0 leased, 1 failed, 64 usage.
 *
 * Why C with no language runtime, built static against musl (Scripts/build-probe), while every
 * other tool is Swift: whatever a privileged program does before its own code runs, its caller
 * steers. The Swift helper this replaces honoured the Swift runtime's environment
 * (SWIFT_DEBUG_HELP=YES printed the runtime's help; SWIFT_BACKTRACE is read too) and, before
 * main, opened /etc/nsswitch.conf, /proc/self/maps and /sys/devices/system/cpu/possible; static
 * glibc also looks at /etc/suid-debug and /proc/self/exe when a file capability puts it in secure
 * mode (measured with strace for a ten-line C program). None of that can be turned off from the
 * program. A static musl executable reaches main having read nothing: no NSS, no locale, no
 * tunables, and getenv is not even linked in (Scripts/build-probe refuses a build that links it).
 * In secure mode musl's start only makes sure that descriptors 0 to 2 are open (it opens
 * /dev/null for a closed one, so that the packet socket can never be taken for stdout).
 * Scripts/test-dhcp-probe proves it with strace as an unprivileged user holding the capability:
 * execve, then one socket (AF_PACKET), no open, and the same line with a hostile environment.
 * The helper is 40 kB instead of 15 MB, and starts in well under a millisecond.
 *
 * The exchange is not written here: Sources/CDHCP holds the one implementation (messages,
 * framing, the exchange, the verdict, this line), which the Swift tools link as well and run
 * in-process when they may open a packet socket themselves.
 */
#include "pv_dhcp.h"

#include <stdio.h>
#include <string.h>

int main(int argc, char **argv) {
    if (argc == 2 && (strcmp(argv[1], "-h") == 0 || strcmp(argv[1], "--help") == 0)) {
        printf("%s\n", pv_dhcp_usage);
        return fflush(stdout) == 0 ? 0 : 1;
    }
    struct pv_dhcp_arguments arguments;
    char why[160];
    if (argc < 1 || pv_dhcp_parse_arguments(argc - 1, (const char *const *)argv + 1, &arguments, why, sizeof why) != 0) {
        if (argc < 1) snprintf(why, sizeof why, "--interface is required");
        fprintf(stderr, "pv_dhcp_probe: %s\n%s\n", why, pv_dhcp_usage);
        return 64;
    }
    struct pv_dhcp_result result;
    pv_dhcp_check(arguments.interface, arguments.timeout_seconds, &result);
    char line[1280];
    pv_dhcp_format_line(&result, line, sizeof line);
    printf("%s\n", line);
    if (fflush(stdout) != 0) return 1;
    return result.passed ? 0 : 1;
}
