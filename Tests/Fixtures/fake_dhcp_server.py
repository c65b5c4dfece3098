#!/usr/bin/env python3
"""A deliberately simple, optionally misbehaving DHCPv4 server for tests.

    ip netns exec pvlab-fake python3 Tests/Fixtures/fake_dhcp_server.py MODE --iface pvx-srv

It binds UDP port 67 on one interface (SO_BINDTODEVICE), answers DHCPDISCOVER and
DHCPREQUEST by broadcasting to 255.255.255.255:68 out of that interface, and uses
server identifier 198.51.100.1. MODE chooses how it (mis)behaves:

    good         offer 198.51.100.50, ACK the request
    nak          offer 198.51.100.50, NAK the request
    outside      offer and ACK 203.0.113.7 (outside the verification subnet)
    wrongxid     correct replies, but with transaction id xid+1
    wrongchaddr  correct replies, but for another client hardware address
    badcookie    correct replies, but with a wrong magic cookie
    truncated    only the first 100 bytes of each correct reply
    overrun      an option whose length runs past the end of the packet
    silent       read and log every packet, never reply

It prints "ready" on stdout once the socket is bound (tests wait for that line), logs
every packet it receives and sends to stderr, and exits 0 on SIGTERM or SIGINT.
Python standard library only.
"""
import argparse
import ipaddress
import signal
import socket
import struct
import sys

MODES = ("good", "nak", "outside", "wrongxid", "wrongchaddr", "badcookie",
         "truncated", "overrun", "silent")

MAGIC_COOKIE = bytes([99, 130, 83, 99])
BAD_COOKIE = bytes([99, 130, 83, 98])
BOOTREQUEST, BOOTREPLY = 1, 2
FIXED_HEADER = struct.Struct("!BBBBIHH4s4s4s4s16s64s128s")  # 236 bytes, then the cookie
MIN_REPLY = 300  # classic BOOTP minimum; many clients expect at least this

DISCOVER, OFFER, REQUEST, DECLINE, ACK, NAK, RELEASE, INFORM = 1, 2, 3, 4, 5, 6, 7, 8
TYPE_NAMES = {DISCOVER: "DISCOVER", OFFER: "OFFER", REQUEST: "REQUEST", DECLINE: "DECLINE",
              ACK: "ACK", NAK: "NAK", RELEASE: "RELEASE", INFORM: "INFORM"}

OPT_PAD, OPT_SUBNET_MASK, OPT_ROUTER, OPT_REQUESTED_IP, OPT_LEASE_TIME = 0, 1, 3, 50, 51
OPT_MESSAGE_TYPE, OPT_SERVER_ID, OPT_MESSAGE, OPT_RENEWAL, OPT_REBINDING = 53, 54, 56, 58, 59
OPT_CLIENT_ID, OPT_END = 61, 255

GOOD_ADDRESS = "198.51.100.50"
OUTSIDE_ADDRESS = "203.0.113.7"
LEASE_SECONDS = 600


def log(message):
    sys.stderr.write(f"fake_dhcp_server: {message}\n")
    sys.stderr.flush()


class Request:
    """The fields of a client message that a reply needs."""

    def __init__(self, data):
        if len(data) < FIXED_HEADER.size + 4:
            raise ValueError(f"too short ({len(data)} bytes)")
        (self.op, self.htype, self.hlen, _hops, self.xid, _secs, self.flags, self.ciaddr,
         _yiaddr, _siaddr, self.giaddr, self.chaddr, _sname, _file) = FIXED_HEADER.unpack_from(data)
        if self.op != BOOTREQUEST:
            raise ValueError(f"not a BOOTREQUEST (op {self.op})")
        if data[FIXED_HEADER.size:FIXED_HEADER.size + 4] != MAGIC_COOKIE:
            raise ValueError("no DHCP magic cookie")
        self.options = parse_options(data[FIXED_HEADER.size + 4:])
        kind = self.options.get(OPT_MESSAGE_TYPE)
        if not kind or len(kind) != 1:
            raise ValueError("no DHCP message type (option 53)")
        self.kind = kind[0]

    def mac(self):
        return ":".join(f"{b:02x}" for b in self.chaddr[:min(self.hlen, 16)])

    def describe(self):
        parts = [TYPE_NAMES.get(self.kind, f"type-{self.kind}"), f"xid=0x{self.xid:08x}",
                 f"chaddr={self.mac()}"]
        if OPT_REQUESTED_IP in self.options and len(self.options[OPT_REQUESTED_IP]) == 4:
            parts.append(f"requested={socket.inet_ntoa(self.options[OPT_REQUESTED_IP])}")
        if OPT_SERVER_ID in self.options and len(self.options[OPT_SERVER_ID]) == 4:
            parts.append(f"server-id={socket.inet_ntoa(self.options[OPT_SERVER_ID])}")
        if OPT_CLIENT_ID in self.options:
            parts.append(f"client-id={self.options[OPT_CLIENT_ID].hex()}")
        if self.ciaddr != bytes(4):
            parts.append(f"ciaddr={socket.inet_ntoa(self.ciaddr)}")
        parts.append("broadcast" if self.flags & 0x8000 else "unicast-ok")
        return " ".join(parts)


def parse_options(data):
    options = {}
    i = 0
    while i < len(data):
        code = data[i]
        if code == OPT_PAD:
            i += 1
            continue
        if code == OPT_END:
            break
        if i + 1 >= len(data):
            raise ValueError("option without a length")
        length = data[i + 1]
        if i + 2 + length > len(data):
            raise ValueError(f"option {code} runs past the end of the packet")
        options.setdefault(code, data[i + 2:i + 2 + length])
        i += 2 + length
    return options


def option(code, value):
    return bytes([code, len(value)]) + value


def build_reply(request, kind, yiaddr, server_ip, *, xid=None, chaddr=None,
                cookie=MAGIC_COOKIE):
    header = FIXED_HEADER.pack(
        BOOTREPLY, request.htype, request.hlen, 0,
        request.xid if xid is None else xid,
        0, request.flags,
        bytes(4),                                   # ciaddr
        socket.inet_aton(yiaddr) if yiaddr else bytes(4),
        bytes(4),                                   # siaddr: no boot server
        request.giaddr,
        request.chaddr if chaddr is None else chaddr,
        bytes(64), bytes(128))
    opts = option(OPT_MESSAGE_TYPE, bytes([kind]))
    opts += option(OPT_SERVER_ID, socket.inet_aton(server_ip))
    if kind == NAK:
        opts += option(OPT_MESSAGE, b"fake_dhcp_server: nak mode")
    else:
        opts += option(OPT_LEASE_TIME, struct.pack("!I", LEASE_SECONDS))
        opts += option(OPT_RENEWAL, struct.pack("!I", LEASE_SECONDS // 2))
        opts += option(OPT_REBINDING, struct.pack("!I", LEASE_SECONDS * 7 // 8))
        opts += option(OPT_SUBNET_MASK, socket.inet_aton("255.255.255.0"))
    opts += bytes([OPT_END])
    packet = header + cookie + opts
    return packet + bytes(max(0, MIN_REPLY - len(packet)))


def build_overrun(request, kind, yiaddr, server_ip):
    """A reply whose last option claims 200 bytes where only 4 follow (no END, no padding)."""
    header = build_reply(request, kind, yiaddr, server_ip)[:FIXED_HEADER.size + 4]
    opts = option(OPT_MESSAGE_TYPE, bytes([kind]))
    opts += option(OPT_SERVER_ID, socket.inet_aton(server_ip))
    opts += bytes([OPT_SUBNET_MASK, 200]) + socket.inet_aton("255.255.255.0")
    return header + opts


def reply_for(mode, request, server_ip):
    """The bytes to broadcast in answer to REQUEST, or None to stay silent."""
    if mode == "silent":
        return None
    if request.kind == DISCOVER:
        kind = OFFER
    elif request.kind == REQUEST:
        wanted = request.options.get(OPT_SERVER_ID)
        if wanted is not None and wanted != socket.inet_aton(server_ip):
            log("  request names another server: not answering")
            return None
        kind = NAK if mode == "nak" else ACK
    else:
        return None  # RELEASE, DECLINE, INFORM: logged only

    address = OUTSIDE_ADDRESS if mode == "outside" else GOOD_ADDRESS
    yiaddr = None if kind == NAK else address
    if mode == "wrongxid":
        return build_reply(request, kind, yiaddr, server_ip, xid=(request.xid + 1) & 0xFFFFFFFF)
    if mode == "wrongchaddr":
        other = bytearray(request.chaddr)
        other[5] ^= 0xFF
        return build_reply(request, kind, yiaddr, server_ip, chaddr=bytes(other))
    if mode == "badcookie":
        return build_reply(request, kind, yiaddr, server_ip, cookie=BAD_COOKIE)
    if mode == "truncated":
        return build_reply(request, kind, yiaddr, server_ip)[:100]
    if mode == "overrun":
        return build_overrun(request, kind, yiaddr, server_ip)
    return build_reply(request, kind, yiaddr, server_ip)


def stop(_signum, _frame):
    raise SystemExit(0)


def main():
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("mode", choices=MODES)
    parser.add_argument("--iface", required=True, help="interface to serve, e.g. pvx-srv")
    parser.add_argument("--server-ip", default="198.51.100.1",
                        help="server identifier (option 54); default 198.51.100.1")
    parser.add_argument("--port", type=int, default=67, help="server port; default 67")
    parser.add_argument("--client-port", type=int, default=68, help="client port; default 68")
    args = parser.parse_args()
    ipaddress.IPv4Address(args.server_ip)

    signal.signal(signal.SIGTERM, stop)
    signal.signal(signal.SIGINT, stop)

    sock = socket.socket(socket.AF_INET, socket.SOCK_DGRAM)
    sock.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
    sock.setsockopt(socket.SOL_SOCKET, socket.SO_BROADCAST, 1)
    bind_to_device = getattr(socket, "SO_BINDTODEVICE", 25)
    try:
        sock.setsockopt(socket.SOL_SOCKET, bind_to_device, args.iface.encode() + b"\0")
        sock.bind(("0.0.0.0", args.port))
    except OSError as error:
        log(f"cannot listen on {args.iface} port {args.port}: {error}")
        return 1

    print("ready", flush=True)
    log(f"mode {args.mode}, listening on {args.iface} port {args.port}, server id {args.server_ip}")
    try:
        while True:
            data, (peer, peer_port) = sock.recvfrom(4096)
            try:
                request = Request(data)
            except ValueError as error:
                log(f"recv {len(data)} bytes from {peer}:{peer_port}: ignored: {error}")
                continue
            log(f"recv {request.describe()} from {peer}:{peer_port} ({len(data)} bytes)")
            reply = reply_for(args.mode, request, args.server_ip)
            if reply is None:
                continue
            sock.sendto(reply, ("255.255.255.255", args.client_port))
            log(f"sent {args.mode} reply to {TYPE_NAMES.get(request.kind)} "
                f"xid=0x{request.xid:08x} ({len(reply)} bytes)")
    except SystemExit:
        log("stopping")
        raise
    finally:
        sock.close()


if __name__ == "__main__":
    sys.exit(main())
