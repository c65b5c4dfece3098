#!/usr/bin/env python3
"""Misbehaving dnstap writers for pv_monitor's tests, each on a Unix connection of its own.

    hostile_dnstap_writers.py slow SOCKET COUNT
        COUNT connections held open, each writing the Frame Streams READY frame one byte a second
        (a writer that never finishes its handshake); one the reader closes is opened again at
        once. Prints "holding COUNT" once that many are open (or "holding N" after 5 s of trying),
        and on SIGTERM one JSON line: {"opened", "closed_by_reader", "longest_held" (seconds one
        connection stayed open before the reader closed it, or until the end), "open_at_end"};
        on SIGUSR1 the same line, and it goes on.
    hostile_dnstap_writers.py types SOCKET COUNT
        COUNT connections one after another, each offering a content type of its own with a line
        feed and a forged log line in it; waits (at most 5 s each) for the reader to close each.
        Prints {"offered": n, "closed_by_reader": n}.
"""
import json
import select
import signal
import socket
import struct
import sys
import time

mode, path, count = sys.argv[1], sys.argv[2], int(sys.argv[3])
READY = 4


def ready_frame(content_type):
    body = struct.pack(">I", READY) + struct.pack(">II", 1, len(content_type)) + content_type
    return struct.pack(">II", 0, len(body)) + body


def connect():
    s = socket.socket(socket.AF_UNIX, socket.SOCK_STREAM)
    s.settimeout(0.2)
    try:
        s.connect(path)
    except OSError:
        s.close()
        return None
    s.setblocking(False)
    return s


def closed_by_peer(s):
    try:
        r, _, _ = select.select([s], [], [], 0)
        if not r:
            return False
        return s.recv(4096) == b""
    except OSError:
        return True


if mode == "types":
    closed = 0
    for i in range(count):
        s = connect()
        if s is None:
            continue
        frame = ready_frame(b"protobuf:hostile.%d\nforged line %d" % (i, i))
        try:
            s.setblocking(True)
            s.sendall(frame)
            s.settimeout(5)
            while s.recv(4096):
                pass
            closed += 1
        except OSError:
            closed += 1
        s.close()
    print(json.dumps({"offered": count, "closed_by_reader": closed}), flush=True)
    sys.exit(0)

frame = ready_frame(b"protobuf:dnstap.Dnstap")
live = []  # [socket, opened at, bytes written]
opened = closed = 0
longest = 0.0
stopping = False


def status():
    now = time.monotonic()
    held = max([longest] + [now - entry[1] for entry in live])
    print(json.dumps({"opened": opened, "closed_by_reader": closed, "longest_held": round(held, 2),
                      "open_at_end": len(live)}), flush=True)


def stop(*_):
    global stopping
    stopping = True


wanted = []
signal.signal(signal.SIGTERM, stop)
signal.signal(signal.SIGUSR1, lambda *_: wanted.append(1))
# A parent's blocked signals are inherited (a test runner's threads block some): unblocked here.
signal.pthread_sigmask(signal.SIG_UNBLOCK, [signal.SIGTERM, signal.SIGUSR1])
began = time.monotonic()
announced = False
last_byte = 0.0
while not stopping:
    now = time.monotonic()
    for entry in list(live):
        if closed_by_peer(entry[0]):
            live.remove(entry)
            entry[0].close()
            closed += 1
            longest = max(longest, now - entry[1])
    while len(live) < count:
        s = connect()
        if s is None:
            break
        live.append([s, now, 0])
        opened += 1
    if not announced and (len(live) >= count or now - began > 5):
        print("holding %d" % len(live), flush=True)
        announced = True
    if now - last_byte >= 1:
        last_byte = now
        for entry in live:
            if entry[2] < len(frame):
                try:
                    entry[0].send(frame[entry[2]:entry[2] + 1])
                    entry[2] += 1
                except OSError:
                    pass
    if wanted:
        wanted.clear()
        status()
    time.sleep(0.05)
status()
