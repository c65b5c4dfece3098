#!/usr/bin/env python3
"""Asks a DNS server TXT pvverify.test at a steady rate until SIGTERM, then prints
how many queries went unanswered and the longest time without an answer.

    dns_prober.py SERVER PORT RATE_PER_SECOND
    dns_prober.py SERVER PORT wait      (returns as soon as an answer arrives; 10 s at most)
"""
import json
import random
import signal
import socket
import struct
import sys
import time

server, port = sys.argv[1], int(sys.argv[2])
if sys.argv[3] == "wait":
    # Polls every 10 ms with a 20 ms timeout: a benchmark's stopwatch, not a health check.
    s = socket.socket(socket.AF_INET, socket.SOCK_DGRAM)
    s.settimeout(0.02)
    deadline = time.monotonic() + 10
    name = b"".join(bytes([len(p)]) + p for p in b"pvverify.test".split(b".")) + b"\0"
    while time.monotonic() < deadline:
        qid = random.randrange(65536)
        try:
            s.sendto(struct.pack(">HHHHHH", qid, 0, 1, 0, 0, 0) + name + struct.pack(">HH", 16, 1), (server, port))
            data = s.recv(512)
            if len(data) >= 4 and struct.unpack(">H", data[:2])[0] == qid and b"PVOK" in data:
                sys.exit(0)
        except OSError:
            time.sleep(0.01)
    sys.exit(1)
rate = float(sys.argv[3])
interval, timeout = 1.0 / rate, min(0.1, 1.0 / rate)
stop = False
signal.signal(signal.SIGTERM, lambda *_: globals().__setitem__("stop", True))

def query():
    qid = random.randrange(65536)
    name = b"".join(bytes([len(p)]) + p for p in b"pvverify.test".split(b".")) + b"\0"
    return qid, struct.pack(">HHHHHH", qid, 0, 1, 0, 0, 0) + name + struct.pack(">HH", 16, 1)

sent = answered = 0
last_answer = start = time.monotonic()
longest_gap = 0.0
sock = socket.socket(socket.AF_INET, socket.SOCK_DGRAM)
sock.settimeout(timeout)
print("ready", flush=True)
next_at = time.monotonic()
while not stop:
    qid, packet = query()
    sent += 1
    try:
        sock.sendto(packet, (server, port))
        while True:
            data = sock.recv(512)
            if len(data) >= 2 and struct.unpack(">H", data[:2])[0] == qid:
                answered += 1
                now = time.monotonic()
                longest_gap = max(longest_gap, now - last_answer)
                last_answer = now
                break
    except (socket.timeout, ConnectionRefusedError, OSError):
        pass
    next_at += interval
    time.sleep(max(0, next_at - time.monotonic()))
print(json.dumps({"sent": sent, "unanswered": sent - answered, "longest_gap_s": round(longest_gap, 3),
                  "seconds": round(time.monotonic() - start, 2)}), flush=True)
