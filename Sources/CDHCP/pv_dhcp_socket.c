/* The real link (a packet socket bound to one interface), the clock, and the whole check. */
#define _GNU_SOURCE
#include "pv_dhcp.h"

#include <arpa/inet.h>
#include <errno.h>
#include <net/if.h>
#include <netpacket/packet.h>
#include <poll.h>
#include <stdio.h>
#include <string.h>
#include <sys/ioctl.h>
#include <sys/socket.h>
#include <sys/syscall.h>
#include <time.h>
#include <unistd.h>

#define ETHERTYPE_IPV4 0x0800

int64_t pv_dhcp_monotonic_nanoseconds(void) {
    struct timespec t;
    clock_gettime(CLOCK_MONOTONIC, &t);
    return (int64_t)t.tv_sec * 1000000000 + t.tv_nsec;
}

/* An interface request for `name` (at most 15 bytes, validated by the callers). */
static struct ifreq interface_request(const char *name) {
    struct ifreq ifr;
    memset(&ifr, 0, sizeof ifr);
    strncpy(ifr.ifr_name, name, IFNAMSIZ - 1);
    return ifr;
}

/* Only the packet socket: the interface is looked up with an ioctl on it, so that nothing else is
 * opened (if_nametoindex would open a socket of its own). */
int pv_dhcp_packet_link_open(struct pv_dhcp_packet_link *l, const char *interface, enum pv_dhcp_failure *failure,
                             char *why, size_t why_size) {
    memset(l, 0, sizeof *l);
    l->fd = -1;
    snprintf(l->interface, sizeof l->interface, "%s", interface);
    *failure = PV_DHCP_FAILURE_LINK;
    /* Protocol 0 until bound: the socket sees no packet of any interface before bind, and bind
     * then has no hook to take down (which waits for an RCU grace period, 10 to 15 ms here). */
    int fd = socket(AF_PACKET, SOCK_DGRAM | SOCK_CLOEXEC, 0);
    if (fd < 0) {
        int e = errno;
        if (e == EPERM || e == EACCES) {
            /* A missing interface is the first thing to fix, with or without the capability. */
            if (if_nametoindex(interface) == 0 && errno == ENODEV) goto missing;
            *failure = PV_DHCP_FAILURE_NO_PERMISSION;
            snprintf(why, why_size, "opening a packet socket needs root or CAP_NET_RAW (%s)", strerror(e));
        } else {
            snprintf(why, why_size, "socket(AF_PACKET): %s", strerror(e));
        }
        return -1;
    }
    struct ifreq ifr = interface_request(interface);
    if (ioctl(fd, SIOCGIFINDEX, &ifr) != 0) {
        int e = errno;
        close(fd);
        if (e == ENODEV) goto missing;
        snprintf(why, why_size, "interface %s: %s", interface, strerror(e));
        return -1;
    }
    l->ifindex = ifr.ifr_ifindex;
    ifr = interface_request(interface);
    if (ioctl(fd, SIOCGIFFLAGS, &ifr) == 0 && !(ifr.ifr_flags & IFF_UP)) {
        close(fd);
        snprintf(why, why_size, "interface %s is down (ip link set %s up)", interface, interface);
        return -1;
    }
    struct sockaddr_ll address;
    memset(&address, 0, sizeof address);
    address.sll_family = AF_PACKET;
    address.sll_protocol = htons(ETHERTYPE_IPV4);
    address.sll_ifindex = l->ifindex;
    if (bind(fd, (struct sockaddr *)&address, sizeof address) != 0) {
        int e = errno;
        close(fd);
        snprintf(why, why_size, "bind to %s: %s", interface, strerror(e));
        return -1;
    }
    l->fd = fd;
    *failure = PV_DHCP_FAILURE_NONE;
    return 0;
missing:
    snprintf(why, why_size, "interface %s does not exist (create the verification link, or fix dhcp_verify_interface)", interface);
    return -1;
}

void pv_dhcp_packet_link_close(struct pv_dhcp_packet_link *l) {
    if (l->fd >= 0) close(l->fd);
    l->fd = -1;
}

static int packet_send(void *context, const uint8_t *packet, size_t length, const uint8_t mac[6], char *why, size_t why_size) {
    struct pv_dhcp_packet_link *l = context;
    struct sockaddr_ll address;
    memset(&address, 0, sizeof address);
    address.sll_family = AF_PACKET;
    address.sll_protocol = htons(ETHERTYPE_IPV4);
    address.sll_ifindex = l->ifindex;
    address.sll_halen = 6;
    memcpy(address.sll_addr, mac, 6);
    ssize_t sent = sendto(l->fd, packet, length, 0, (struct sockaddr *)&address, sizeof address);
    if (sent != (ssize_t)length) {
        snprintf(why, why_size, "send on %s: %s", l->interface, sent < 0 ? strerror(errno) : "short write");
        return -1;
    }
    return 0;
}

static int packet_receive(void *context, int milliseconds, uint8_t *packet, size_t capacity, size_t *length, uint8_t mac[6],
                          char *why, size_t why_size) {
    struct pv_dhcp_packet_link *l = context;
    struct pollfd pfd = {.fd = l->fd, .events = POLLIN};
    int ready = poll(&pfd, 1, milliseconds);
    if (ready < 0) {
        if (errno == EINTR) return 0;
        snprintf(why, why_size, "poll on %s: %s", l->interface, strerror(errno));
        return -1;
    }
    if (ready == 0) return 0;
    struct sockaddr_ll from;
    socklen_t from_length = sizeof from;
    memset(&from, 0, sizeof from);
    ssize_t n = recvfrom(l->fd, packet, capacity, MSG_DONTWAIT, (struct sockaddr *)&from, &from_length);
    if (n < 0) {
        if (errno == EAGAIN || errno == EINTR) return 0;
        snprintf(why, why_size, "receive on %s: %s", l->interface, strerror(errno));
        return -1;
    }
    /* A packet socket also sees our own transmissions. */
    if (from.sll_pkttype == PACKET_OUTGOING) return 0;
    memcpy(mac, from.sll_addr, 6);
    *length = (size_t)n;
    return 1;
}

struct pv_dhcp_link pv_dhcp_packet_link(struct pv_dhcp_packet_link *l) {
    struct pv_dhcp_link link = {.context = l, .send = packet_send, .receive = packet_receive};
    return link;
}

/* A random transaction id from the kernel (getrandom, no file); the clock where the kernel is
 * older than 3.17. Not a secret: it keeps this exchange apart from other clients' replies. */
static uint32_t random_xid(void) {
    uint32_t xid = 0;
    long n = syscall(SYS_getrandom, &xid, sizeof xid, 0);
    if (n != (long)sizeof xid || xid == 0) {
        struct timespec t;
        clock_gettime(CLOCK_REALTIME, &t);
        xid ^= (uint32_t)t.tv_nsec * 2654435761u ^ (uint32_t)t.tv_sec ^ (uint32_t)getpid() << 16;
        if (xid == 0) xid = 1;
    }
    return xid;
}

void pv_dhcp_check(const char *interface, double timeout_seconds, struct pv_dhcp_result *result) {
    int64_t start = pv_dhcp_monotonic_nanoseconds();
    struct pv_dhcp_outcome outcome;
    struct pv_dhcp_packet_link packet_link;
    memset(&outcome, 0, sizeof outcome);
    if (pv_dhcp_packet_link_open(&packet_link, interface, &outcome.failure, outcome.why, sizeof outcome.why) != 0) {
        pv_dhcp_evaluate(&outcome, interface, (double)(pv_dhcp_monotonic_nanoseconds() - start) / 1e6, result);
        return;
    }
    struct pv_dhcp_client client;
    pv_dhcp_hardware_address(interface, client.chaddr);
    client.xid = random_xid();
    client.timeout_seconds = timeout_seconds;
    client.retransmit_seconds = pv_dhcp_retransmit_seconds(timeout_seconds);
    struct pv_dhcp_link link = pv_dhcp_packet_link(&packet_link);
    pv_dhcp_exchange(&client, &link, &outcome);
    pv_dhcp_packet_link_close(&packet_link);
    pv_dhcp_evaluate(&outcome, interface, (double)(pv_dhcp_monotonic_nanoseconds() - start) / 1e6, result);
}
