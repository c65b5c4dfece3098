#!/usr/bin/env python3
"""Control sockets that answer too slowly, for pv_monitor's tests: each accepted connection
gets its request read, then

    slow_control_sockets.py knot PATH [rows]
                                        a valid Knot control row (libknot's wire format: a DATA
                                        unit with section, item, id and value) every 1.5 s, for
                                        ever: each read of the client finishes within its timeout
    slow_control_sockets.py knot PATH items
                                        one DATA unit whose items never end (one every 0.1 s):
                                        libknot reads them all within one receive call
    slow_control_sockets.py kea PATH drip
                                        a valid statistic-get-all answer, one byte every 1.5 s
    slow_control_sockets.py kea PATH hang
                                        nothing at all (a hung Kea)

Prints "ready" once listening; on SIGTERM one JSON line: {"connections": n, "longest": seconds
the longest connection lasted until the client closed it}.
"""
import json
import os
import signal
import socket
import struct
import sys
import threading
import time

kind, path = sys.argv[1], sys.argv[2]
how = sys.argv[3] if len(sys.argv) > 3 else ""
lock = threading.Lock()
lasted = []


def item(code, text):
    return bytes([code]) + struct.pack(">H", len(text)) + text


# libknot: unit type DATA = 1; item codes 16 + index: section 3, item 4, id 5, data 10.
KNOT_ROW = b"\x01" + item(19, b"mod-stats") + item(20, b"request-protocol") + item(21, b"udp4") + item(26, b"1")
KEA_ANSWER = b'{ "result": 0, "arguments": { "pkt4-received": [ [ 1, "2024-01-01 00:00:00.000000" ] ] } }'


def serve(conn):
    began = time.monotonic()
    try:
        conn.recv(65536)
        if kind == "knot" and how == "items":
            conn.sendall(b"\x01")
            while True:
                conn.sendall(item(19, b"mod-stats"))
                time.sleep(0.1)
        elif kind == "knot":
            while True:
                conn.sendall(KNOT_ROW)
                time.sleep(1.5)
        elif how == "drip":
            for i in range(len(KEA_ANSWER)):
                conn.sendall(KEA_ANSWER[i:i + 1])
                time.sleep(1.5)
        else:
            while conn.recv(65536):
                pass
    except OSError:
        pass
    finally:
        with lock:
            lasted.append(time.monotonic() - began)
        conn.close()


def report(*_):
    with lock:
        print(json.dumps({"connections": len(lasted), "longest": round(max(lasted, default=0), 2)}), flush=True)
    os._exit(0)


signal.signal(signal.SIGTERM, report)
# A parent's blocked signals are inherited (a test runner's threads block some): unblocked here.
signal.pthread_sigmask(signal.SIG_UNBLOCK, [signal.SIGTERM])
if os.path.exists(path):
    os.unlink(path)
server = socket.socket(socket.AF_UNIX, socket.SOCK_STREAM)
server.bind(path)
server.listen(16)
print("ready", flush=True)
while True:
    conn, _ = server.accept()
    threading.Thread(target=serve, args=(conn,), daemon=True).start()
