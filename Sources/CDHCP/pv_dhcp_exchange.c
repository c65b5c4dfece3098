/* A health-check DHCPv4 client: DISCOVER, OFFER, REQUEST, ACK, then RELEASE, all within one
 * bound (the caller's timeout covers the whole exchange, not each phase). */
#include "pv_dhcp.h"

#include <stdio.h>
#include <string.h>

static const uint8_t broadcast_mac[6] = {0xff, 0xff, 0xff, 0xff, 0xff, 0xff};
static const uint8_t parameter_list[5] = {1, 3, 6, 51, 54};

void pv_dhcp_hardware_address(const char *interface, uint8_t mac[6]) {
    uint32_t h = 2166136261u; /* FNV-1a */
    for (const unsigned char *p = (const unsigned char *)interface; *p; p++) h = (h ^ *p) * 16777619u;
    mac[0] = 0x02;
    mac[1] = 0x70;
    mac[2] = 0x76;
    mac[3] = (uint8_t)(h >> 16);
    mac[4] = (uint8_t)(h >> 8);
    mac[5] = (uint8_t)h;
}

double pv_dhcp_retransmit_seconds(double timeout_seconds) {
    double r = timeout_seconds / 4;
    return r < 0.1 ? 0.1 : r > 2 ? 2 : r;
}

static void put32(uint8_t *b, uint32_t v) {
    b[0] = (uint8_t)(v >> 24);
    b[1] = (uint8_t)(v >> 16);
    b[2] = (uint8_t)(v >> 8);
    b[3] = (uint8_t)v;
}

/* Every client message: type, then the client identifier (type 1 + chaddr), the same each time. */
static void start(const struct pv_dhcp_client *client, enum pv_dhcp_kind kind, struct pv_dhcp_message *m) {
    memset(m, 0, sizeof *m);
    m->op = 1;
    m->xid = client->xid;
    memcpy(m->chaddr, client->chaddr, 6);
    uint8_t type = (uint8_t)kind, id[7] = {1};
    memcpy(id + 1, client->chaddr, 6);
    pv_dhcp_add_option(m, PV_DHCP_OPTION_MESSAGE_TYPE, &type, 1);
    pv_dhcp_add_option(m, PV_DHCP_OPTION_CLIENT_ID, id, sizeof id);
}

void pv_dhcp_build_discover(const struct pv_dhcp_client *client, struct pv_dhcp_message *m) {
    start(client, PV_DHCP_DISCOVER, m);
    m->flags = PV_DHCP_BROADCAST_FLAG;
    pv_dhcp_add_option(m, PV_DHCP_OPTION_PARAMETER_LIST, parameter_list, sizeof parameter_list);
}

void pv_dhcp_build_request(const struct pv_dhcp_client *client, const struct pv_dhcp_message *offer,
                           struct pv_dhcp_message *m) {
    start(client, PV_DHCP_REQUEST, m);
    /* Broadcast flag: our chaddr is not the interface's address, so a unicast reply to it would
     * never reach the socket. */
    m->flags = PV_DHCP_BROADCAST_FLAG;
    uint8_t b[4];
    put32(b, offer->yiaddr);
    pv_dhcp_add_option(m, PV_DHCP_OPTION_REQUESTED_ADDRESS, b, 4);
    uint32_t server;
    if (pv_dhcp_server_id(offer, &server)) {
        put32(b, server);
        pv_dhcp_add_option(m, PV_DHCP_OPTION_SERVER_ID, b, 4);
    }
    pv_dhcp_add_option(m, PV_DHCP_OPTION_PARAMETER_LIST, parameter_list, sizeof parameter_list);
}

void pv_dhcp_build_release(const struct pv_dhcp_client *client, uint32_t address, uint32_t server,
                           struct pv_dhcp_message *m) {
    /* Type, server identifier, client identifier; ciaddr is the lease; no option 50. */
    memset(m, 0, sizeof *m);
    m->op = 1;
    m->xid = client->xid;
    m->ciaddr = address;
    memcpy(m->chaddr, client->chaddr, 6);
    uint8_t type = PV_DHCP_RELEASE, b[4], id[7] = {1};
    put32(b, server);
    memcpy(id + 1, client->chaddr, 6);
    pv_dhcp_add_option(m, PV_DHCP_OPTION_MESSAGE_TYPE, &type, 1);
    pv_dhcp_add_option(m, PV_DHCP_OPTION_SERVER_ID, b, 4);
    pv_dhcp_add_option(m, PV_DHCP_OPTION_CLIENT_ID, id, sizeof id);
}

/* Milliseconds left until `deadline` (rounded up, so a wait never ends before it), 0 when past. */
static int remaining_ms(int64_t deadline) {
    int64_t left = deadline - pv_dhcp_monotonic_nanoseconds();
    if (left <= 0) return 0;
    int64_t ms = (left + 999999) / 1000000;
    return ms > 0x7fffffff ? 0x7fffffff : (int)ms;
}

static double ms_since(int64_t start) { return (double)(pv_dhcp_monotonic_nanoseconds() - start) / 1e6; }

/* Accepts only a well-formed BOOTREPLY of an expected kind for our xid and hardware address. */
static int classify(const struct pv_dhcp_client *client, const uint8_t *payload, size_t length, unsigned kinds,
                    struct pv_dhcp_message *reply, struct pv_dhcp_ignored *ignored) {
    struct pv_dhcp_parse_failure failure;
    if (pv_dhcp_parse(payload, length, reply, &failure) != 0) {
        ignored->malformed++;
        pv_dhcp_describe_parse_failure(&failure, ignored->last_malformed, sizeof ignored->last_malformed);
        return 0;
    }
    if (reply->op != 2) return 0; /* our own or another client's request */
    if (reply->xid != client->xid) { ignored->other_transaction++; return 0; }
    if (memcmp(reply->chaddr, client->chaddr, 6) != 0) { ignored->other_client++; return 0; }
    if (!(kinds & 1u << pv_dhcp_message_kind(reply))) { ignored->unexpected_type++; return 0; }
    return 1;
}

/* Sends `message` (again every retransmit interval) until a matching reply of one of `kinds`
 * arrives or `deadline` passes: 1 (with reply and mac), 0 at the deadline, -1 on a link error. */
static int phase(const struct pv_dhcp_client *client, const struct pv_dhcp_link *link,
                 const struct pv_dhcp_message *message, unsigned kinds, int64_t deadline,
                 struct pv_dhcp_message *reply, uint8_t mac[6], struct pv_dhcp_outcome *outcome) {
    uint8_t payload[PV_DHCP_FRAME_MAX], packet[PV_DHCP_FRAME_MAX];
    size_t payload_length = pv_dhcp_encode(message, payload, sizeof payload);
    size_t packet_length = pv_dhcp_udp_build(0, 0xffffffffu, PV_DHCP_CLIENT_PORT, PV_DHCP_SERVER_PORT, payload,
                                             payload_length, (uint16_t)client->xid, packet, sizeof packet);
    int64_t interval = (int64_t)(client->retransmit_seconds * 1e9);
    while (remaining_ms(deadline) > 0) {
        if (link->send(link->context, packet, packet_length, broadcast_mac, outcome->why, sizeof outcome->why) != 0) return -1;
        int64_t resend = pv_dhcp_monotonic_nanoseconds() + interval;
        if (resend > deadline) resend = deadline;
        for (;;) {
            int wait = remaining_ms(resend);
            if (wait <= 0) break;
            uint8_t frame[PV_DHCP_FRAME_MAX];
            size_t length = 0;
            int got = link->receive(link->context, wait, frame, sizeof frame, &length, mac, outcome->why, sizeof outcome->why);
            if (got < 0) return -1;
            if (got == 0) continue;
            const uint8_t *data;
            size_t data_length;
            uint32_t source;
            if (pv_dhcp_udp_payload(frame, length, PV_DHCP_CLIENT_PORT, &data, &data_length, &source) != 0) continue;
            if (classify(client, data, data_length, kinds, reply, &outcome->ignored)) return 1;
        }
    }
    return 0;
}

void pv_dhcp_exchange(const struct pv_dhcp_client *client, const struct pv_dhcp_link *link,
                      struct pv_dhcp_outcome *outcome) {
    memset(outcome, 0, sizeof *outcome);
    outcome->timeout_seconds = client->timeout_seconds;
    int64_t start = pv_dhcp_monotonic_nanoseconds();
    int64_t deadline = start + (int64_t)(client->timeout_seconds * 1e9);

    struct pv_dhcp_message request, offer, ack;
    uint8_t offer_mac[6], ack_mac[6];
    pv_dhcp_build_discover(client, &request);
    int got = phase(client, link, &request, 1u << PV_DHCP_OFFER, deadline, &offer, offer_mac, outcome);
    if (got <= 0) {
        outcome->failure = got < 0 ? PV_DHCP_FAILURE_LINK : PV_DHCP_FAILURE_NO_OFFER;
        return;
    }
    outcome->offer_milliseconds = ms_since(start);

    pv_dhcp_build_request(client, &offer, &request);
    got = phase(client, link, &request, 1u << PV_DHCP_ACK | 1u << PV_DHCP_NAK, deadline, &ack, ack_mac, outcome);
    if (got <= 0) {
        outcome->failure = got < 0 ? PV_DHCP_FAILURE_LINK : PV_DHCP_FAILURE_NO_ACK;
        return;
    }
    uint32_t offer_server = 0, ack_server = 0;
    int offer_has_server = pv_dhcp_server_id(&offer, &offer_server), ack_has_server = pv_dhcp_server_id(&ack, &ack_server);
    if (pv_dhcp_message_kind(&ack) == PV_DHCP_NAK) {
        outcome->failure = PV_DHCP_FAILURE_NAK;
        outcome->nak_has_server = ack_has_server || offer_has_server;
        outcome->nak_server = ack_has_server ? ack_server : offer_server;
        long n = pv_dhcp_option(&ack, PV_DHCP_OPTION_MESSAGE, outcome->nak_message, sizeof outcome->nak_message);
        outcome->nak_has_message = n >= 0;
        outcome->nak_message_length = n < 0 ? 0 : (size_t)n < sizeof outcome->nak_message ? (size_t)n : sizeof outcome->nak_message;
        return;
    }

    uint8_t lease[4];
    if (pv_dhcp_option(&ack, PV_DHCP_OPTION_LEASE_TIME, lease, sizeof lease) == 4) {
        outcome->has_lease_seconds = 1;
        outcome->lease_seconds = (uint32_t)lease[0] << 24 | (uint32_t)lease[1] << 16 | (uint32_t)lease[2] << 8 | lease[3];
    }
    outcome->address = ack.yiaddr;
    outcome->server_id = ack_has_server ? ack_server : offer_server;
    outcome->ack_milliseconds = ms_since(start);
    if (outcome->server_id == 0 || outcome->address == 0) {
        snprintf(outcome->release_error, sizeof outcome->release_error, "no server identifier or address to release");
        return;
    }
    /* RELEASE is unicast to the server (RFC 2131 4.4.6), at the MAC the ACK came from. */
    struct pv_dhcp_message release;
    uint8_t payload[PV_DHCP_FRAME_MAX], packet[PV_DHCP_FRAME_MAX];
    pv_dhcp_build_release(client, outcome->address, outcome->server_id, &release);
    size_t payload_length = pv_dhcp_encode(&release, payload, sizeof payload);
    size_t packet_length = pv_dhcp_udp_build(outcome->address, outcome->server_id, PV_DHCP_CLIENT_PORT, PV_DHCP_SERVER_PORT,
                                             payload, payload_length, (uint16_t)(client->xid + 2), packet, sizeof packet);
    if (link->send(link->context, packet, packet_length, ack_mac, outcome->release_error, sizeof outcome->release_error) == 0) {
        outcome->released = 1;
    }
}
