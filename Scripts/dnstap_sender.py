#!/usr/bin/env python3
"""A dnstap sender as Knot's mod-dnstap is one (Frame Streams, bidirectional: READY, ACCEPT,
START, data frames, STOP, FINISH), for benchmarks that need a stream no DNS server drops from:
each frame an AUTH_QUERY for type A, encoded here (protobuf fields written by hand).

    dnstap_sender.py SOCKET COUNT NAMES RATE [FILLER]

NAMES: how many distinct names (name-N.pvverify.test., cycled); RATE: frames per second, paced in
10 ms steps, or 0 for as fast as the reader takes them; FILLER: 0-3 labels of 60 characters put
before pvverify.test. (long names make large samples). Prints one JSON line once the reader has
answered STOP with FINISH (it has read every frame): {"sent": n, "seconds": s}.
"""
import json
import socket
import struct
import sys
import time

path, count, names, rate = sys.argv[1], int(sys.argv[2]), int(sys.argv[3]), float(sys.argv[4])
filler = "".join("%s." % (c * 60) for c in "xyz"[:int(sys.argv[5]) if len(sys.argv) > 5 else 0])
CONTENT_TYPE = b"protobuf:dnstap.Dnstap"
ACCEPT, START, STOP, READY, FINISH = 1, 2, 3, 4, 5


def control(kind, with_type=True):
    body = struct.pack(">I", kind)
    if with_type:
        body += struct.pack(">II", 1, len(CONTENT_TYPE)) + CONTENT_TYPE
    return struct.pack(">II", 0, len(body)) + body


def varint(n):
    out = bytearray()
    while True:
        b = n & 0x7F
        n >>= 7
        out.append(b | (0x80 if n else 0))
        if not n:
            return bytes(out)


def field(number, wire_type, payload):
    key = varint(number << 3 | wire_type)
    if wire_type == 2:
        return key + varint(len(payload)) + payload
    return key + payload


def frame(name, now):
    query = struct.pack(">HHHHHH", 0x1234, 0x0100, 1, 0, 0, 0)
    query += b"".join(bytes([len(p)]) + p for p in name.encode().strip(b".").split(b".")) + b"\0" + struct.pack(">HH", 1, 1)
    message = (field(1, 0, varint(1)) + field(3, 0, varint(1)) + field(8, 0, varint(int(now)))
               + field(9, 5, struct.pack("<I", int((now % 1) * 1e9))) + field(10, 2, query))
    data = field(14, 2, message) + field(15, 0, varint(1))
    return struct.pack(">I", len(data)) + data


def read_control(s, want):
    header = b""
    while len(header) < 8:
        chunk = s.recv(8 - len(header))
        if not chunk:
            sys.exit("dnstap_sender: the reader closed the connection")
        header += chunk
    escape, length = struct.unpack(">II", header)
    body = b""
    while len(body) < length:
        body += s.recv(length - len(body))
    kind = struct.unpack(">I", body[:4])[0]
    if escape != 0 or kind != want:
        sys.exit("dnstap_sender: expected control frame %d, got %d" % (want, kind))


now = time.time()
frames = [frame("name-%d.%spvverify.test." % (i, filler), now) for i in range(min(names, count))]
s = socket.socket(socket.AF_UNIX, socket.SOCK_STREAM)
s.connect(path)
s.sendall(control(READY))
read_control(s, ACCEPT)
s.sendall(control(START))
if rate <= 0:
    # As fast as the reader takes them: the whole stream made before the clock starts.
    payload = b"".join(frames[i % len(frames)] for i in range(count))
    start = time.monotonic()
    s.sendall(payload)
    sent = count
else:
    start = time.monotonic()
    sent = 0
step = max(1, int(rate / 100))
while sent < count:
    n = min(step, count - sent)
    s.sendall(b"".join(frames[(sent + i) % len(frames)] for i in range(n)))
    sent += n
    if rate > 0:
        delay = start + sent / rate - time.monotonic()
        if delay > 0:
            time.sleep(delay)
s.sendall(control(STOP, with_type=False))
read_control(s, FINISH)
print(json.dumps({"sent": sent, "seconds": round(time.monotonic() - start, 3)}))
