#ifndef PV_CPACKET_H
#define PV_CPACKET_H
// Linux packet-socket declarations that Swift's Glibc module does not export
// (sockaddr_ll lives in <netpacket/packet.h>), plus two helpers for the
// ifreq union, which Swift handles awkwardly. Logic stays in Swift.
#include <netpacket/packet.h>
#include <net/if.h>
#include <linux/if_ether.h>
#include <sys/ioctl.h>
#include <string.h>
#include <errno.h>

static const unsigned short PV_ETH_P_IP = ETH_P_IP;

/// Interface flags (IFF_UP ...) or -errno.
static inline int pv_interface_flags(int fd, const char *name) {
    struct ifreq ifr;
    memset(&ifr, 0, sizeof ifr);
    strncpy(ifr.ifr_name, name, IFNAMSIZ - 1);
    if (ioctl(fd, SIOCGIFFLAGS, &ifr) != 0) return -errno;
    return ifr.ifr_flags;
}

/// Hardware address of an interface into mac[6]; 0 or -errno.
static inline int pv_interface_mac(int fd, const char *name, unsigned char mac[6]) {
    struct ifreq ifr;
    memset(&ifr, 0, sizeof ifr);
    strncpy(ifr.ifr_name, name, IFNAMSIZ - 1);
    if (ioctl(fd, SIOCGIFHWADDR, &ifr) != 0) return -errno;
    memcpy(mac, ifr.ifr_hwaddr.sa_data, 6);
    return 0;
}
#endif
