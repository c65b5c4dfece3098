/* The DHCP verification rule (a full exchange on the verification link that yields an address
 * inside the verification pool), its wording, and the helper's one line. */
#include "pv_dhcp.h"

#include <stdarg.h>
#include <stdio.h>
#include <string.h>

/* Appends formatted text, never past `size` (the text is cut, always terminated). */
static void append(char *text, size_t size, const char *format, ...) {
    size_t used = strlen(text);
    if (used + 1 >= size) return;
    va_list args;
    va_start(args, format);
    vsnprintf(text + used, size - used, format, args);
    va_end(args);
}

/* Bytes a server sent, as printable ASCII: anything else as \xNN (messages are inert). */
static void append_escaped(char *text, size_t size, const uint8_t *bytes, size_t length) {
    for (size_t i = 0; i < length; i++) {
        if (bytes[i] >= 0x20 && bytes[i] < 0x7f && bytes[i] != '\\') append(text, size, "%c", bytes[i]);
        else append(text, size, "\\x%02X", bytes[i]);
    }
}

static void append_address(char *text, size_t size, uint32_t a) {
    append(text, size, "%u.%u.%u.%u", a >> 24, a >> 16 & 0xff, a >> 8 & 0xff, a & 0xff);
}

/* Seconds as Swift prints a Double: "2.0", "0.5", "0.25". */
static void append_seconds(char *text, size_t size, double seconds) {
    long long thousandths = (long long)(seconds * 1000 + 0.5);
    long long whole = thousandths / 1000, fraction = thousandths % 1000;
    if (fraction == 0) append(text, size, "%lld.0", whole);
    else if (fraction % 100 == 0) append(text, size, "%lld.%lld", whole, fraction / 100);
    else if (fraction % 10 == 0) append(text, size, "%lld.%02lld", whole, fraction / 10);
    else append(text, size, "%lld.%03lld", whole, fraction);
}

static void append_ignored(char *text, size_t size, const struct pv_dhcp_ignored *ignored) {
    const char *separator = "; ignored ";
    if (ignored->malformed > 0) {
        append(text, size, "%s%u malformed repl%s (%s)", separator, ignored->malformed, ignored->malformed == 1 ? "y" : "ies",
               ignored->last_malformed[0] ? ignored->last_malformed : "?");
        separator = ", ";
    }
    if (ignored->other_transaction > 0) {
        append(text, size, "%s%u with another transaction id", separator, ignored->other_transaction);
        separator = ", ";
    }
    if (ignored->other_client > 0) {
        append(text, size, "%s%u for another hardware address", separator, ignored->other_client);
        separator = ", ";
    }
    if (ignored->unexpected_type > 0) append(text, size, "%s%u of an unexpected message type", separator, ignored->unexpected_type);
}

static int in_pool(uint32_t address) {
    uint32_t mask = ~0u << (32 - PV_DHCP_POOL_PREFIX);
    return (address & mask) == PV_DHCP_POOL_BASE;
}

void pv_dhcp_evaluate(const struct pv_dhcp_outcome *o, const char *interface, double milliseconds,
                      struct pv_dhcp_result *r) {
    memset(r, 0, sizeof *r);
    r->failure = o->failure;
    r->milliseconds = milliseconds;
    char *d = r->detail, *h = r->hint;
    size_t ds = sizeof r->detail, hs = sizeof r->hint;
    switch (o->failure) {
    case PV_DHCP_FAILURE_LINK:
        append(d, ds, "%s", o->why);
        append(h, hs, "check the verification link (network_config.sh creates it)");
        break;
    case PV_DHCP_FAILURE_NO_PERMISSION:
        append(d, ds, "%s", o->why);
        append(h, hs, "install the DHCP check helper as root: pv_install -e install_libs (it gets the capability cap_net_raw)");
        break;
    case PV_DHCP_FAILURE_NO_OFFER:
        append(d, ds, "no DHCP offer within ");
        append_seconds(d, ds, o->timeout_seconds);
        append(d, ds, " s");
        append_ignored(d, ds, &o->ignored);
        append(h, hs, "check that the DHCP component runs (start_pv_dhcp.sh) and serves the link of %s", interface);
        break;
    case PV_DHCP_FAILURE_NAK:
        append(d, ds, "the server");
        if (o->nak_has_server) {
            append(d, ds, " ");
            append_address(d, ds, o->nak_server);
        }
        append(d, ds, " refused the request (DHCPNAK");
        if (o->nak_has_message) {
            append(d, ds, ": ");
            append_escaped(d, ds, o->nak_message, o->nak_message_length);
        }
        append(d, ds, ")");
        append(h, hs, "the DHCP server does not accept its own offer; check its subnet and pool configuration");
        break;
    case PV_DHCP_FAILURE_NO_ACK:
        append(d, ds, "offer received but no DHCPACK within ");
        append_seconds(d, ds, o->timeout_seconds);
        append(d, ds, " s");
        append_ignored(d, ds, &o->ignored);
        append(h, hs, "the DHCP server offered but did not confirm; check its logs");
        break;
    case PV_DHCP_FAILURE_NONE:
        append(d, ds, "leased ");
        append_address(d, ds, o->address);
        append(d, ds, " from ");
        append_address(d, ds, o->server_id);
        if (!in_pool(o->address)) {
            append(d, ds, ", outside the verification pool ");
            append_address(d, ds, PV_DHCP_POOL_BASE);
            append(d, ds, "/%d", PV_DHCP_POOL_PREFIX);
            append(h, hs, "another DHCP server answers on this link, or the component's pool is wrong");
            return;
        }
        append(d, ds, " on %s", interface);
        if (o->released) append(d, ds, ", released");
        else append(d, ds, ", not released (%s)", o->release_error[0] ? o->release_error : "?");
        r->passed = 1;
        return;
    }
    append(d, ds, " on %s", interface);
}

/* A field of the line: tabs and line breaks (which would split it) become spaces. */
static void append_field(char *line, size_t size, const char *text) {
    for (const char *p = text; *p; p++) append(line, size, "%c", *p == '\t' || *p == '\n' || *p == '\r' ? ' ' : *p);
}

size_t pv_dhcp_format_line(const struct pv_dhcp_result *r, char *line, size_t size) {
    if (size == 0) return 0;
    line[0] = 0;
    long long tenths = (long long)(r->milliseconds * 10 + 0.5);
    append(line, size, "%s\t%s\t%lld.%lld\t", PV_DHCP_LINE_TAG, r->passed ? "ok" : "fail", tenths / 10, tenths % 10);
    append_field(line, size, r->detail);
    append(line, size, "\t");
    append_field(line, size, r->hint);
    return strlen(line);
}
