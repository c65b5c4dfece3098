#!/usr/bin/env python3
"""Asks a DNS server TXT pvverify.test at a steady rate until SIGTERM, then prints
how many queries went unanswered (within 0.5 s each) and the longest time without an answer.

    dns_prober.py SERVER PORT RATE_PER_SECOND
    dns_prober.py SERVER PORT wait      (returns as soon as an answer arrives; 10 s at most)
"""
import json
import random
import select
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
# From 16 source sockets (SO_REUSEPORT spreads clients by address and port: one socket would see
# one server instance only), never waiting for an answer before the next query: each query has
# 0.5 s to be answered. Stops sending at SIGTERM, waits out the queries in flight, then reports.
DEADLINE = 0.5
stop = False
signal.signal(signal.SIGTERM, lambda *_: globals().__setitem__("stop", True))
# A parent that blocks SIGTERM in its threads (a test runner) hands the mask on: undo it.
signal.pthread_sigmask(signal.SIG_UNBLOCK, {signal.SIGTERM})
name = b"".join(bytes([len(p)]) + p for p in b"pvverify.test".split(b".")) + b"\0"
socks = [socket.socket(socket.AF_INET, socket.SOCK_DGRAM) for _ in range(16)]
for s in socks:
    s.setblocking(False)
pending = {}
sent = answered = 0
start = time.monotonic()
last_answer = start
longest_gap = 0.0
next_at = start
print("ready", flush=True)
while not stop or pending:
    now = time.monotonic()
    if not stop and now >= next_at:
        s = socks[sent % len(socks)]
        qid = random.randrange(65536)
        while (s.fileno(), qid) in pending:
            qid = random.randrange(65536)
        try:
            s.sendto(struct.pack(">HHHHHH", qid, 0, 1, 0, 0, 0) + name + struct.pack(">HH", 16, 1), (server, port))
        except OSError:
            pass
        pending[(s.fileno(), qid)] = now
        sent += 1
        next_at += 1.0 / rate
    for key in [k for k, t in pending.items() if now - t > DEADLINE]:
        del pending[key]
    wait = 0.001 if stop else max(0.0, min(0.005, next_at - time.monotonic()))
    ready, _, _ = select.select(socks, [], [], wait)
    for s in ready:
        while True:
            try:
                data = s.recv(512)
            except (BlockingIOError, ConnectionRefusedError, OSError):
                break
            key = (s.fileno(), struct.unpack(">H", data[:2])[0]) if len(data) >= 2 else None
            if key in pending:
                del pending[key]
                answered += 1
                t = time.monotonic()
                longest_gap = max(longest_gap, t - last_answer)
                last_answer = t
print(json.dumps({"sent": sent, "unanswered": sent - answered, "longest_gap_s": round(longest_gap, 3),
                  "seconds": round(time.monotonic() - start, 2)}), flush=True)
