/* The helper's arguments, validated before anything else runs in it: an interface name and a
 * timeout, nothing that could name a file. */
#include "pv_dhcp.h"

#include <stdio.h>
#include <string.h>

const char pv_dhcp_usage[] =
    "usage: pv_dhcp_probe --interface NAME [--timeout SECONDS]\n"
    "One DHCP lease from the verification pool on NAME (DISCOVER, OFFER, REQUEST, ACK, then RELEASE),\n"
    "all within SECONDS (0.1 to 30, default 1).\n"
    "Installed with the capability cap_net_raw, so the agent's user can run it; it opens nothing but\n"
    "its packet socket and reads no file and no environment variable.\n"
    "Prints one line; exit 0 leased, 1 failed, 64 usage.";

int pv_dhcp_is_interface_name(const char *name) {
    size_t n = strlen(name);
    if (n == 0 || n > 15 || strcmp(name, ".") == 0 || strcmp(name, "..") == 0) return 0;
    for (const char *p = name; *p; p++) {
        char c = *p;
        int ok = (c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z') || (c >= '0' && c <= '9') || c == '_' || c == '.' || c == '-';
        if (!ok) return 0;
    }
    return 1;
}

/* Plain decimal only (no sign, exponent, hex, "nan" or "inf"), read without the locale: the
 * digits as one integer, divided once, so that "0.3" is the double nearest 0.3. */
int pv_dhcp_parse_timeout(const char *text, double *seconds) {
    unsigned long long digits_value = 0;
    double divisor = 1;
    int digits = 0, fraction = 0;
    for (const char *p = text; *p; p++) {
        if (*p == '.' && !fraction) { fraction = 1; continue; }
        if (*p < '0' || *p > '9' || digits >= 18) return -1;
        digits++;
        digits_value = digits_value * 10 + (unsigned long long)(*p - '0');
        if (fraction) divisor *= 10;
    }
    double value = (double)digits_value / divisor;
    if (digits == 0 || value < PV_DHCP_TIMEOUT_MIN - 1e-9 || value > PV_DHCP_TIMEOUT_MAX) return -1;
    *seconds = value;
    return 0;
}

/* At most 40 bytes of what was given, control characters and non-ASCII bytes shown as '?'. */
static void excerpt(char *out, size_t size, const char *text) {
    size_t n = 0, i = 0;
    for (; text[i] && i < 40 && n + 1 < size; i++) {
        unsigned char c = (unsigned char)text[i];
        out[n++] = c >= 0x20 && c < 0x7f ? (char)c : '?';
    }
    out[n] = 0;
    if (text[i] && n + 4 < size) memcpy(out + n, "...", 4);
}

int pv_dhcp_parse_arguments(int argc, const char *const *argv, struct pv_dhcp_arguments *arguments, char *why,
                            size_t why_size) {
    char shown[48];
    int has_interface = 0, has_timeout = 0;
    memset(arguments, 0, sizeof *arguments);
    arguments->timeout_seconds = PV_DHCP_TIMEOUT_DEFAULT;
    for (int i = 0; i < argc; i += 2) {
        const char *flag = argv[i];
        int is_interface = strcmp(flag, "--interface") == 0, is_timeout = strcmp(flag, "--timeout") == 0;
        if (!is_interface && !is_timeout) {
            excerpt(shown, sizeof shown, flag);
            snprintf(why, why_size, "unknown argument '%s'", shown);
            return -1;
        }
        if ((is_interface && has_interface) || (is_timeout && has_timeout)) {
            snprintf(why, why_size, "%s is given twice", flag);
            return -1;
        }
        if (i + 1 >= argc) {
            snprintf(why, why_size, "%s needs a value", flag);
            return -1;
        }
        const char *value = argv[i + 1];
        excerpt(shown, sizeof shown, value);
        if (is_interface) {
            if (!pv_dhcp_is_interface_name(value)) {
                snprintf(why, why_size, "'%s' is not an interface name", shown);
                return -1;
            }
            snprintf(arguments->interface, sizeof arguments->interface, "%s", value);
            has_interface = 1;
        } else {
            if (pv_dhcp_parse_timeout(value, &arguments->timeout_seconds) != 0) {
                snprintf(why, why_size, "--timeout must be 0.1 to 30 seconds (got '%s')", shown);
                return -1;
            }
            has_timeout = 1;
        }
    }
    if (!has_interface) {
        snprintf(why, why_size, "--interface is required");
        return -1;
    }
    return 0;
}
