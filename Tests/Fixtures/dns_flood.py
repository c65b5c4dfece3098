#!/usr/bin/env python3
"""A random-name flood, as a scanner or a water-torture attack sends it: COUNT queries (type A)
for names never asked before under ZONE, with every EVERY-th query for the one name HEAVY,
one query at a time (each waits for its answer, 1 s at most), so that none is lost on the way.

    dns_flood.py SERVER PORT ZONE COUNT HEAVY EVERY

Prints one JSON line: {"sent": n, "answered": n, "heavy_sent": n, "distinct": n}.
"""
import json
import os
import socket
import struct
import sys

server, port, zone, count, heavy, every = sys.argv[1], int(sys.argv[2]), sys.argv[3], int(sys.argv[4]), sys.argv[5], int(sys.argv[6])


def wire(name):
    return b"".join(bytes([len(label)]) + label for label in name.encode().strip(b".").split(b".")) + b"\0"


s = socket.socket(socket.AF_INET6 if ":" in server else socket.AF_INET, socket.SOCK_DGRAM)
s.settimeout(1.0)
sent = answered = heavy_sent = 0
names = set()
for i in range(count):
    if i % every == 0:
        name = heavy
        heavy_sent += 1
    else:
        name = "%s.%s" % (os.urandom(8).hex(), zone)
        names.add(name)
    qid = i & 0xFFFF
    s.sendto(struct.pack(">HHHHHH", qid, 0x0100, 1, 0, 0, 0) + wire(name) + struct.pack(">HH", 1, 1), (server, port))
    sent += 1
    try:
        while True:
            data = s.recv(4096)
            if len(data) >= 2 and struct.unpack(">H", data[:2])[0] == qid:
                answered += 1
                break
    except socket.timeout:
        pass
print(json.dumps({"sent": sent, "answered": answered, "heavy_sent": heavy_sent, "distinct": len(names) + 1}))
