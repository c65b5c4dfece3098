#!/usr/bin/env python3
"""A TCP gate in front of a server (the lab's RabbitMQ), for tests of a client that must live
through the server going away: listens on 127.0.0.1 (a free port, printed as "ready PORT") and
forwards to 127.0.0.1:TARGET while the control file says "open". "closed": new connections are
refused (closed at once) and open ones cut, as a broker that stops. "refused": no listener at all
(a connect gets a TCP reset) and open ones cut, as a host where nothing listens on the port; the
same port listens again on the next mode. "silent": connections are accepted and never answered,
as a broker that accepts TCP and never speaks.

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
        if mode() in ("closed", "refused"):
            with lock:
                for s in live:
                    try:
                        s.shutdown(socket.SHUT_RDWR)
                    except OSError:
                        pass
                live.clear()


def listen(port):
    s = socket.socket(socket.AF_INET, socket.SOCK_STREAM)
    s.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
    s.bind(("127.0.0.1", port))
    s.listen(16)
    s.settimeout(0.1)
    return s


listener = listen(0)
port = listener.getsockname()[1]
print("ready %d" % port, flush=True)
threading.Thread(target=watchdog, daemon=True).start()
silent = []
while True:
    if mode() == "refused":
        if listener is not None:
            listener.close()
            listener = None
        time.sleep(0.1)
        continue
    if listener is None:
        listener = listen(port)
    try:
        client, _ = listener.accept()
    except socket.timeout:
        continue
    client.settimeout(None)
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
