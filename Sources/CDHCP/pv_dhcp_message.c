/* DHCPv4 messages: the fixed BOOTP header, the magic cookie and the options (RFC 2131, 2132).
 * Parsing treats every byte as hostile: a reply can come from any machine on the link. */
#include "pv_dhcp.h"

#include <stdio.h>
#include <string.h>

#define HEADER_LENGTH 236
#define BOOTP_MINIMUM 300

static const uint8_t magic_cookie[4] = {99, 130, 83, 99};

static uint16_t get16(const uint8_t *b) { return (uint16_t)(b[0] << 8 | b[1]); }
static uint32_t get32(const uint8_t *b) { return (uint32_t)b[0] << 24 | (uint32_t)b[1] << 16 | (uint32_t)b[2] << 8 | b[3]; }
static void put16(uint8_t *b, uint16_t v) { b[0] = (uint8_t)(v >> 8); b[1] = (uint8_t)v; }
static void put32(uint8_t *b, uint32_t v) { put16(b, (uint16_t)(v >> 16)); put16(b + 2, (uint16_t)v); }

static int refuse(struct pv_dhcp_parse_failure *failure, enum pv_dhcp_parse_error error) {
    failure->error = error;
    return -1;
}

int pv_dhcp_parse(const uint8_t *bytes, size_t length, struct pv_dhcp_message *message,
                  struct pv_dhcp_parse_failure *failure) {
    memset(failure, 0, sizeof *failure);
    if (length < HEADER_LENGTH + 4) {
        failure->length = length;
        return refuse(failure, PV_DHCP_TRUNCATED);
    }
    if (bytes[1] != 1 || bytes[2] != 6) {
        failure->htype = bytes[1];
        failure->hlen = bytes[2];
        return refuse(failure, PV_DHCP_BAD_HARDWARE_ADDRESS);
    }
    if (memcmp(bytes + HEADER_LENGTH, magic_cookie, 4) != 0) return refuse(failure, PV_DHCP_BAD_MAGIC_COOKIE);

    memset(message, 0, sizeof *message);
    message->op = bytes[0];
    message->xid = get32(bytes + 4);
    message->secs = get16(bytes + 8);
    message->flags = get16(bytes + 10);
    message->ciaddr = get32(bytes + 12);
    message->yiaddr = get32(bytes + 16);
    message->siaddr = get32(bytes + 20);
    message->giaddr = get32(bytes + 24);
    memcpy(message->chaddr, bytes + 28, 6);

    size_t i = HEADER_LENGTH + 4;
    int saw_end = 0;
    while (i < length) {
        uint8_t code = bytes[i];
        if (code == PV_DHCP_OPTION_PAD) { i += 1; continue; }
        if (code == PV_DHCP_OPTION_END) { saw_end = 1; break; }
        if (i + 1 >= length || i + 2 + (size_t)bytes[i + 1] > length) {
            failure->code = code;
            return refuse(failure, PV_DHCP_OPTION_OVERRUN);
        }
        size_t option = 2 + (size_t)bytes[i + 1];
        /* Only a message longer than any frame read from the link has more options than this. */
        if (message->options_length + option > sizeof message->options) {
            failure->code = code;
            return refuse(failure, PV_DHCP_OPTION_OVERRUN);
        }
        memcpy(message->options + message->options_length, bytes + i, option);
        message->options_length += option;
        i += option;
    }
    if (!saw_end) return refuse(failure, PV_DHCP_MISSING_END);
    uint8_t type[2];
    long n = pv_dhcp_option(message, PV_DHCP_OPTION_MESSAGE_TYPE, type, sizeof type);
    if (n < 0) return refuse(failure, PV_DHCP_MISSING_MESSAGE_TYPE);
    if (n != 1 || type[0] < PV_DHCP_DISCOVER || type[0] > PV_DHCP_INFORM) return refuse(failure, PV_DHCP_BAD_MESSAGE_TYPE);
    uint8_t server[4];
    n = pv_dhcp_option(message, PV_DHCP_OPTION_SERVER_ID, server, sizeof server);
    if (n >= 0 && n != 4) {
        failure->code = PV_DHCP_OPTION_SERVER_ID;
        return refuse(failure, PV_DHCP_BAD_OPTION_LENGTH);
    }
    return 0;
}

size_t pv_dhcp_describe_parse_failure(const struct pv_dhcp_parse_failure *f, char *text, size_t size) {
    int n = 0;
    switch (f->error) {
    case PV_DHCP_PARSED: n = snprintf(text, size, "parsed"); break;
    case PV_DHCP_TRUNCATED: n = snprintf(text, size, "truncated message (%zu bytes)", f->length); break;
    case PV_DHCP_BAD_HARDWARE_ADDRESS:
        n = snprintf(text, size, "unsupported hardware address (type %u, length %u)", f->htype, f->hlen);
        break;
    case PV_DHCP_BAD_MAGIC_COOKIE: n = snprintf(text, size, "wrong magic cookie"); break;
    case PV_DHCP_OPTION_OVERRUN: n = snprintf(text, size, "option %u runs past the end of the message", f->code); break;
    case PV_DHCP_MISSING_END: n = snprintf(text, size, "options without an end marker"); break;
    case PV_DHCP_MISSING_MESSAGE_TYPE: n = snprintf(text, size, "no DHCP message type option"); break;
    case PV_DHCP_BAD_MESSAGE_TYPE: n = snprintf(text, size, "invalid DHCP message type"); break;
    case PV_DHCP_BAD_OPTION_LENGTH: n = snprintf(text, size, "option %u has a wrong length", f->code); break;
    }
    if (n < 0) n = 0;
    return size == 0 ? 0 : (size_t)n < size ? (size_t)n : size - 1;
}

size_t pv_dhcp_encode(const struct pv_dhcp_message *m, uint8_t *out, size_t capacity) {
    size_t length = HEADER_LENGTH + 4 + m->options_length + 1;
    if (m->options_length > sizeof m->options) return 0;
    size_t total = length < BOOTP_MINIMUM ? BOOTP_MINIMUM : length;
    if (total > capacity) return 0;
    memset(out, 0, total);
    out[0] = m->op;
    out[1] = 1; /* Ethernet */
    out[2] = 6;
    put32(out + 4, m->xid);
    put16(out + 8, m->secs);
    put16(out + 10, m->flags);
    put32(out + 12, m->ciaddr);
    put32(out + 16, m->yiaddr);
    put32(out + 20, m->siaddr);
    put32(out + 24, m->giaddr);
    memcpy(out + 28, m->chaddr, 6);
    memcpy(out + HEADER_LENGTH, magic_cookie, 4);
    memcpy(out + HEADER_LENGTH + 4, m->options, m->options_length);
    out[HEADER_LENGTH + 4 + m->options_length] = PV_DHCP_OPTION_END;
    /* The rest stays zero: padded to the BOOTP minimum, as some servers drop shorter messages. */
    return total;
}

int pv_dhcp_add_option(struct pv_dhcp_message *m, uint8_t code, const uint8_t *data, size_t length) {
    if (length > 255 || m->options_length + 2 + length > sizeof m->options) return -1;
    m->options[m->options_length] = code;
    m->options[m->options_length + 1] = (uint8_t)length;
    if (length > 0) memcpy(m->options + m->options_length + 2, data, length);
    m->options_length += 2 + length;
    return 0;
}

long pv_dhcp_option(const struct pv_dhcp_message *m, uint8_t code, uint8_t *data, size_t capacity) {
    long total = -1;
    size_t i = 0, limit = m->options_length <= sizeof m->options ? m->options_length : sizeof m->options;
    while (i + 2 <= limit) {
        size_t length = m->options[i + 1];
        if (i + 2 + length > limit) break;
        if (m->options[i] == code) {
            if (total < 0) total = 0;
            for (size_t k = 0; k < length; k++) {
                if ((size_t)total + k < capacity) data[total + (long)k] = m->options[i + 2 + k];
            }
            total += (long)length;
        }
        i += 2 + length;
    }
    return total;
}

int pv_dhcp_message_kind(const struct pv_dhcp_message *m) {
    uint8_t type[2];
    long n = pv_dhcp_option(m, PV_DHCP_OPTION_MESSAGE_TYPE, type, sizeof type);
    return n == 1 && type[0] >= PV_DHCP_DISCOVER && type[0] <= PV_DHCP_INFORM ? type[0] : 0;
}

int pv_dhcp_server_id(const struct pv_dhcp_message *m, uint32_t *server) {
    uint8_t b[4];
    if (pv_dhcp_option(m, PV_DHCP_OPTION_SERVER_ID, b, sizeof b) != 4) return 0;
    *server = get32(b);
    return 1;
}

int pv_dhcp_message_equal(const struct pv_dhcp_message *a, const struct pv_dhcp_message *b) {
    return a->op == b->op && a->xid == b->xid && a->secs == b->secs && a->flags == b->flags && a->ciaddr == b->ciaddr &&
           a->yiaddr == b->yiaddr && a->siaddr == b->siaddr && a->giaddr == b->giaddr &&
           memcmp(a->chaddr, b->chaddr, 6) == 0 && a->options_length == b->options_length &&
           a->options_length <= sizeof a->options && memcmp(a->options, b->options, a->options_length) == 0;
}
