#!/usr/bin/env python3
"""A TCP gate in front of a server (the lab's RabbitMQ), for tests of a client that must live
through the server going away: listens on 127.0.0.1 (a free port, printed as "ready PORT") and
forwards to 127.0.0.1:TARGET while the control file says "open". "closed": new connections are
refused (closed at once) and open ones cut, as a broker that stops. "silent": connections are
accepted and never answered, as a broker that accepts TCP and never speaks.

    tcp_gate.py TARGET_PORT CONTROL_FILE
"""
import os
import socket
import sys
import threading
import time

target, control = int(sys.argv[1]), sys.argv[2]
live = []
lock = threading.Lock()


def mode():
    try:
        return open(control).read().strip() or "open"
    except OSError:
        return "open"


def pump(a, b):
    try:
        while True:
            data = a.recv(65536)
            if not data:
                break
            b.sendall(data)
    except OSError:
        pass
    for s in (a, b):
        try:
            s.shutdown(socket.SHUT_RDWR)
        except OSError:
            pass


def watchdog():
    while True:
        time.sleep(0.2)
        if mode() == "closed":
            with lock:
                for s in live:
                    try:
                        s.shutdown(socket.SHUT_RDWR)
                    except OSError:
                        pass
                live.clear()


listener = socket.socket(socket.AF_INET, socket.SOCK_STREAM)
listener.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
listener.bind(("127.0.0.1", 0))
listener.listen(16)
print("ready %d" % listener.getsockname()[1], flush=True)
threading.Thread(target=watchdog, daemon=True).start()
silent = []
while True:
    client, _ = listener.accept()
    m = mode()
    if m == "closed":
        client.close()
        continue
    if m == "silent":
        silent.append(client)  # held open, never read from or written to
        continue
    try:
        upstream = socket.create_connection(("127.0.0.1", target), timeout=5)
        upstream.settimeout(None)
    except OSError:
        client.close()
        continue
    with lock:
        live.extend([client, upstream])
    threading.Thread(target=pump, args=(client, upstream), daemon=True).start()
    threading.Thread(target=pump, args=(upstream, client), daemon=True).start()
