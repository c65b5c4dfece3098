#ifndef PV_DHCP_H
#define PV_DHCP_H
/*
 * The DHCP check: the one implementation of the exchange (DISCOVER, OFFER, REQUEST, ACK, then
 * RELEASE), its judgement and its one-line report, in C, for two callers:
 *
 * - pv_dhcp_probe (Sources/pv_dhcp_probe/main.c), the helper that carries the file capability
 *   cap_net_raw so that the agent's user can lease without root. It is built static against musl
 *   (Scripts/build-probe): no language runtime, nothing read before or after main but its
 *   arguments, no environment variable consulted. See main.c for why C.
 * - The Swift tools, through PVDHCP's DHCPCheck: in-process where they may open a packet socket
 *   themselves (root), through the helper otherwise. Both therefore lease, judge and word their
 *   result exactly the same way.
 *
 * Nothing here opens a file, reads the environment, allocates or keeps state between calls; every
 * wait is bounded by the caller's timeout, which bounds the whole exchange (not each phase).
 */
#include <stddef.h>
#include <stdint.h>

/* The first field of the helper's line: a helper of another format is never misread. */
#define PV_DHCP_LINE_TAG "pv_dhcp_probe/1"
/* The verification pool of every managed server: 198.51.100.0/24. */
#define PV_DHCP_POOL_BASE 0xC6336400u
#define PV_DHCP_POOL_PREFIX 24
/* The helper's --timeout: the bound of the whole run, in seconds. */
#define PV_DHCP_TIMEOUT_MIN 0.1
#define PV_DHCP_TIMEOUT_MAX 30.0
#define PV_DHCP_TIMEOUT_DEFAULT 1.0

#define PV_DHCP_CLIENT_PORT 68
#define PV_DHCP_SERVER_PORT 67
/* The largest frame read from the link; longer ones are cut (a DHCP reply fits one frame). */
#define PV_DHCP_FRAME_MAX 2048

/* ---- Messages (RFC 2131, 2132) ------------------------------------------------------------- */

enum pv_dhcp_kind {
    PV_DHCP_DISCOVER = 1, PV_DHCP_OFFER, PV_DHCP_REQUEST, PV_DHCP_DECLINE,
    PV_DHCP_ACK, PV_DHCP_NAK, PV_DHCP_RELEASE, PV_DHCP_INFORM
};

enum pv_dhcp_option_code {
    PV_DHCP_OPTION_PAD = 0,
    PV_DHCP_OPTION_SUBNET_MASK = 1,
    PV_DHCP_OPTION_REQUESTED_ADDRESS = 50,
    PV_DHCP_OPTION_LEASE_TIME = 51,
    PV_DHCP_OPTION_MESSAGE_TYPE = 53,
    PV_DHCP_OPTION_SERVER_ID = 54,
    PV_DHCP_OPTION_PARAMETER_LIST = 55,
    PV_DHCP_OPTION_MESSAGE = 56,
    PV_DHCP_OPTION_CLIENT_ID = 61,
    PV_DHCP_OPTION_END = 255
};

#define PV_DHCP_BROADCAST_FLAG 0x8000
#define PV_DHCP_OPTIONS_MAX (PV_DHCP_FRAME_MAX - 240)

/* A DHCPv4 message: the fixed BOOTP header (addresses in host order) and its options as they
 * stand on the wire between the magic cookie and the end option (pads dropped). */
struct pv_dhcp_message {
    uint8_t op; /* 1 request, 2 reply */
    uint32_t xid;
    uint16_t secs;
    uint16_t flags;
    uint32_t ciaddr, yiaddr, siaddr, giaddr;
    uint8_t chaddr[6];
    size_t options_length;
    uint8_t options[PV_DHCP_OPTIONS_MAX];
};

/* Why a message was refused. Every byte of a reply is hostile: it can come from any machine on
 * the link. */
enum pv_dhcp_parse_error {
    PV_DHCP_PARSED = 0,
    PV_DHCP_TRUNCATED,
    PV_DHCP_BAD_HARDWARE_ADDRESS,
    PV_DHCP_BAD_MAGIC_COOKIE,
    PV_DHCP_OPTION_OVERRUN,
    PV_DHCP_MISSING_END,
    PV_DHCP_MISSING_MESSAGE_TYPE,
    PV_DHCP_BAD_MESSAGE_TYPE,
    PV_DHCP_BAD_OPTION_LENGTH
};

struct pv_dhcp_parse_failure {
    enum pv_dhcp_parse_error error;
    size_t length;   /* PV_DHCP_TRUNCATED */
    uint8_t code;    /* PV_DHCP_OPTION_OVERRUN, PV_DHCP_BAD_OPTION_LENGTH */
    uint8_t htype;   /* PV_DHCP_BAD_HARDWARE_ADDRESS */
    uint8_t hlen;
};

/* 0 with *message filled, or -1 with *failure saying why. */
int pv_dhcp_parse(const uint8_t *bytes, size_t length, struct pv_dhcp_message *message,
                  struct pv_dhcp_parse_failure *failure);
/* "truncated message (100 bytes)", "wrong magic cookie", ...: the text's length. */
size_t pv_dhcp_describe_parse_failure(const struct pv_dhcp_parse_failure *failure, char *text, size_t size);
/* The message on the wire (padded to the BOOTP minimum of 300 bytes): its length, 0 when it does
 * not fit `capacity`. */
size_t pv_dhcp_encode(const struct pv_dhcp_message *message, uint8_t *bytes, size_t capacity);
/* Appends an option (at most 255 bytes of data): 0, or -1 when the message has no room. */
int pv_dhcp_add_option(struct pv_dhcp_message *message, uint8_t code, const uint8_t *data, size_t length);
/* Option `code`'s data (repeated ones concatenated, RFC 3396), at most `capacity` bytes copied:
 * its whole length, or -1 when the message has none. */
long pv_dhcp_option(const struct pv_dhcp_message *message, uint8_t code, uint8_t *data, size_t capacity);
/* The message type (enum pv_dhcp_kind), 0 when absent or invalid. */
int pv_dhcp_message_kind(const struct pv_dhcp_message *message);
/* The server identifier (option 54) in host order: 1, or 0 when absent. */
int pv_dhcp_server_id(const struct pv_dhcp_message *message, uint32_t *server);
/* 1 when both have the same header and the same options in the same order. */
int pv_dhcp_message_equal(const struct pv_dhcp_message *a, const struct pv_dhcp_message *b);

/* ---- IPv4 and UDP framing (a SOCK_DGRAM packet socket: the kernel adds the Ethernet header) ---- */

/* An IPv4 packet carrying a UDP datagram: its length, 0 when it does not fit `capacity`. */
size_t pv_dhcp_udp_build(uint32_t source, uint32_t destination, uint16_t source_port, uint16_t destination_port,
                         const uint8_t *payload, size_t payload_length, uint16_t id, uint8_t *packet, size_t capacity);
/* The UDP payload of an IPv4 packet sent to `port` (pointing into `packet`), and its source
 * address: 0, or -1 for anything else (another protocol or port, a fragment, a bad length). */
int pv_dhcp_udp_payload(const uint8_t *packet, size_t length, uint16_t port, const uint8_t **payload,
                        size_t *payload_length, uint32_t *source);
/* The Internet checksum (RFC 1071) of `bytes`. */
uint16_t pv_dhcp_internet_checksum(const uint8_t *bytes, size_t length);

/* ---- The exchange ------------------------------------------------------------------------- */

/* The seam between the exchange and the wire: the packet socket (pv_dhcp_packet_link_open), or a
 * test's scripted replies. `why` receives the reason of a -1. */
struct pv_dhcp_link {
    void *context;
    /* Sends an IPv4 packet to a link-layer address (ff:ff:ff:ff:ff:ff for broadcast): 0 or -1. */
    int (*send)(void *context, const uint8_t *packet, size_t length, const uint8_t mac[6], char *why, size_t why_size);
    /* Waits at most `milliseconds` for one inbound IPv4 packet: 1 (with *length and mac), 0 when
     * none came, -1 on an error. */
    int (*receive)(void *context, int milliseconds, uint8_t *packet, size_t capacity, size_t *length, uint8_t mac[6],
                   char *why, size_t why_size);
};

/* One health-check client. It behaves like a well-mannered client so that running it every few
 * minutes does not exhaust the pool: one fixed, locally administered hardware address and the same
 * client identifier per interface (the server hands back the same lease), and a RELEASE at the end. */
struct pv_dhcp_client {
    uint8_t chaddr[6];
    uint32_t xid;
    /* The bound of the whole exchange: offer and acknowledgement share it. */
    double timeout_seconds;
    /* A message is sent again after this long without the reply it expects. */
    double retransmit_seconds;
};

/* The fixed locally administered address of an interface: 02:70:76 ("pv") and 24 bits of the
 * name's FNV-1a hash, stable across runs and builds. */
void pv_dhcp_hardware_address(const char *interface, uint8_t mac[6]);
/* The retransmission interval for a timeout: a quarter of it, at least 0.1 s, at most 2 s. */
double pv_dhcp_retransmit_seconds(double timeout_seconds);

void pv_dhcp_build_discover(const struct pv_dhcp_client *client, struct pv_dhcp_message *message);
void pv_dhcp_build_request(const struct pv_dhcp_client *client, const struct pv_dhcp_message *offer,
                           struct pv_dhcp_message *message);
void pv_dhcp_build_release(const struct pv_dhcp_client *client, uint32_t address, uint32_t server,
                           struct pv_dhcp_message *message);

/* Why an exchange failed: each points at a different fault. */
enum pv_dhcp_failure {
    PV_DHCP_FAILURE_NONE = 0,
    PV_DHCP_FAILURE_LINK,
    /* This process may not open a packet socket (no CAP_NET_RAW): the helper can. */
    PV_DHCP_FAILURE_NO_PERMISSION,
    PV_DHCP_FAILURE_NO_OFFER,
    PV_DHCP_FAILURE_NAK,
    PV_DHCP_FAILURE_NO_ACK
};

/* Replies that reached us but were not for this exchange or not valid: counted, so that "no
 * offer" can say "but 3 malformed replies arrived". */
struct pv_dhcp_ignored {
    unsigned other_transaction;
    unsigned other_client;
    unsigned malformed;
    unsigned unexpected_type;
    char last_malformed[96];
};

struct pv_dhcp_outcome {
    enum pv_dhcp_failure failure;
    char why[256]; /* PV_DHCP_FAILURE_LINK, PV_DHCP_FAILURE_NO_PERMISSION */
    double timeout_seconds;
    struct pv_dhcp_ignored ignored;
    /* PV_DHCP_FAILURE_NAK: the refusing server and its message (option 56, at most 200 bytes). */
    int nak_has_server;
    uint32_t nak_server;
    int nak_has_message;
    size_t nak_message_length;
    uint8_t nak_message[200];
    /* PV_DHCP_FAILURE_NONE: the lease, even outside the pool (judging it is pv_dhcp_evaluate's job). */
    uint32_t address;
    uint32_t server_id;
    int has_lease_seconds;
    uint32_t lease_seconds;
    double offer_milliseconds;
    double ack_milliseconds;
    int released;
    char release_error[256];
};

/* Runs the whole exchange within client->timeout_seconds. */
void pv_dhcp_exchange(const struct pv_dhcp_client *client, const struct pv_dhcp_link *link,
                      struct pv_dhcp_outcome *outcome);

/* ---- The verdict and its line ------------------------------------------------------------- */

/* What the check says: passed only with a lease inside the verification pool. The texts are
 * single lines of printable ASCII (anything a server sent is shown escaped, as \xNN). */
struct pv_dhcp_result {
    int passed;
    enum pv_dhcp_failure failure;
    double milliseconds;
    char detail[768];
    char hint[256];
};

void pv_dhcp_evaluate(const struct pv_dhcp_outcome *outcome, const char *interface, double milliseconds,
                      struct pv_dhcp_result *result);
/* "pv_dhcp_probe/1\t<ok|fail>\t<ms>\t<detail>\t<hint>" (no newline), as DHCPCheckHelper.parse
 * reads it: its length (cut to fit `size`). */
size_t pv_dhcp_format_line(const struct pv_dhcp_result *result, char *line, size_t size);

/* ---- The real link and the whole check ---------------------------------------------------- */

/* An AF_PACKET/SOCK_DGRAM socket bound to one interface, as udhcpc and dhclient use. A UDP socket
 * cannot do this job: with no address on the interface it misses broadcasts, and traffic to a
 * local address would go through lo instead of the wire. */
struct pv_dhcp_packet_link {
    int fd;
    int ifindex;
    char interface[16];
};

/* 0, or -1 with *failure (PV_DHCP_FAILURE_LINK or PV_DHCP_FAILURE_NO_PERMISSION) and `why`. */
int pv_dhcp_packet_link_open(struct pv_dhcp_packet_link *packet_link, const char *interface,
                             enum pv_dhcp_failure *failure, char *why, size_t why_size);
void pv_dhcp_packet_link_close(struct pv_dhcp_packet_link *packet_link);
/* The link's seam over an open packet link. */
struct pv_dhcp_link pv_dhcp_packet_link(struct pv_dhcp_packet_link *packet_link);

/* The monotonic clock in nanoseconds. */
int64_t pv_dhcp_monotonic_nanoseconds(void);

/* The whole check on an interface: open the packet socket, the exchange with a random xid, the
 * verdict. Returns within timeout_seconds (plus the time to open the socket). */
void pv_dhcp_check(const char *interface, double timeout_seconds, struct pv_dhcp_result *result);

/* ---- The helper's arguments ---------------------------------------------------------------- */

struct pv_dhcp_arguments {
    char interface[16];
    double timeout_seconds;
};

extern const char pv_dhcp_usage[];

/* A Linux interface name: 1 to 15 of [A-Za-z0-9_.-], not "." or "..". */
int pv_dhcp_is_interface_name(const char *name);
/* A timeout of 0.1 to 30 s, in plain decimal ("0.5", "2", "30.0"): 0 with *seconds, or -1. */
int pv_dhcp_parse_timeout(const char *text, double *seconds);
/* `--interface NAME [--timeout SECONDS]` (argv without the program name): 0, or -1 with a
 * one-line `why` (what was refused, excerpted and escaped). */
int pv_dhcp_parse_arguments(int argc, const char *const *argv, struct pv_dhcp_arguments *arguments,
                            char *why, size_t why_size);

#endif
