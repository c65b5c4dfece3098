/* IPv4 and UDP framing for a packet socket of type SOCK_DGRAM: the kernel adds and strips the
 * Ethernet header; the client owns the IP and UDP headers, since it has no address yet. */
#include "pv_dhcp.h"

#include <string.h>

static uint16_t get16(const uint8_t *b) { return (uint16_t)(b[0] << 8 | b[1]); }
static void put16(uint8_t *b, uint16_t v) { b[0] = (uint8_t)(v >> 8); b[1] = (uint8_t)v; }
static void put32(uint8_t *b, uint32_t v) { put16(b, (uint16_t)(v >> 16)); put16(b + 2, (uint16_t)v); }

static uint32_t sum16(uint32_t sum, const uint8_t *bytes, size_t length) {
    size_t i = 0;
    for (; i + 1 < length; i += 2) sum += (uint32_t)bytes[i] << 8 | bytes[i + 1];
    if (i < length) sum += (uint32_t)bytes[i] << 8;
    return sum;
}

static uint16_t fold(uint32_t sum) {
    while (sum >> 16) sum = (sum & 0xffff) + (sum >> 16);
    return (uint16_t)~sum;
}

uint16_t pv_dhcp_internet_checksum(const uint8_t *bytes, size_t length) { return fold(sum16(0, bytes, length)); }

size_t pv_dhcp_udp_build(uint32_t source, uint32_t destination, uint16_t source_port, uint16_t destination_port,
                         const uint8_t *payload, size_t payload_length, uint16_t id, uint8_t *packet, size_t capacity) {
    size_t udp_length = 8 + payload_length, total = 20 + udp_length;
    if (total > capacity || total > 0xffff) return 0;
    uint8_t *ip = packet, *udp = packet + 20;
    memset(ip, 0, 28);
    ip[0] = 0x45;
    ip[1] = 0x10; /* low delay, as DHCP clients traditionally set */
    put16(ip + 2, (uint16_t)total);
    put16(ip + 4, id);
    ip[8] = 64;
    ip[9] = 17;
    put32(ip + 12, source);
    put32(ip + 16, destination);
    put16(ip + 10, pv_dhcp_internet_checksum(ip, 20));

    put16(udp, source_port);
    put16(udp + 2, destination_port);
    put16(udp + 4, (uint16_t)udp_length);
    memcpy(udp + 8, payload, payload_length);
    /* The pseudo-header: source, destination, zero, protocol, UDP length. */
    uint8_t pseudo[12];
    put32(pseudo, source);
    put32(pseudo + 4, destination);
    pseudo[8] = 0;
    pseudo[9] = 17;
    put16(pseudo + 10, (uint16_t)udp_length);
    uint32_t sum = sum16(0, pseudo, sizeof pseudo);
    /* The pseudo-header is 12 bytes: even, so the datagram's bytes pair up as they would joined. */
    uint16_t checksum = fold(sum16(sum, udp, udp_length));
    put16(udp + 6, checksum == 0 ? 0xffff : checksum);
    return total;
}

int pv_dhcp_udp_payload(const uint8_t *p, size_t length, uint16_t port, const uint8_t **payload,
                        size_t *payload_length, uint32_t *source) {
    if (length < 28 || p[0] >> 4 != 4) return -1;
    size_t ihl = (size_t)(p[0] & 0x0f) * 4;
    if (ihl < 20 || p[9] != 17) return -1;
    size_t total = get16(p + 2);
    if (total > length) total = length;
    if (total < ihl + 8) return -1;
    /* Fragments are not reassembled: DHCP replies fit one frame. */
    if (get16(p + 6) & 0x3fff) return -1;
    if (get16(p + ihl + 2) != port) return -1;
    size_t udp_length = get16(p + ihl + 4);
    if (udp_length < 8 || ihl + udp_length > total) return -1;
    *payload = p + ihl + 8;
    *payload_length = udp_length - 8;
    *source = (uint32_t)p[12] << 24 | (uint32_t)p[13] << 16 | (uint32_t)p[14] << 8 | p[15];
    return 0;
}
