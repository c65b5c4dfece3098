#!/usr/bin/env python3
"""A registry that misbehaves on purpose, for pv_update's failure tests.

    fake_registry.py MODE [--upstream 127.0.0.1:5000]

Listens on a free loopback port and prints "ready PORT" once it accepts.
Modes:
  500      every request answers 500
  garbage  the tags list is not JSON
  hang     accepts, reads the request, never answers
  cutpull  proxies to the real registry, but every blob download stops half-way
  stallpull proxies to the real registry, but every blob download stalls half-way (for an hour)
"""
import http.client
import http.server
import socketserver
import sys
import threading
import time

mode = sys.argv[1]
upstream = sys.argv[sys.argv.index("--upstream") + 1] if "--upstream" in sys.argv else "127.0.0.1:5000"


class Handler(http.server.BaseHTTPRequestHandler):
    protocol_version = "HTTP/1.1"

    def log_message(self, fmt, *args):
        sys.stderr.write("fake-registry: " + fmt % args + "\n")

    def _proxy(self):
        conn = http.client.HTTPConnection(upstream, timeout=10)
        headers = {k: v for k, v in self.headers.items() if k.lower() not in ("host", "connection")}
        conn.request(self.command, self.path, headers=headers)
        resp = conn.getresponse()
        body = resp.read()
        cut = "/blobs/" in self.path and self.command == "GET" and len(body) > 1
        self.send_response(resp.status)
        for k, v in resp.getheaders():
            if k.lower() not in ("connection", "transfer-encoding"):
                self.send_header(k, v)
        self.send_header("Connection", "close")
        self.end_headers()
        if self.command != "HEAD":
            self.wfile.write(body[: len(body) // 2] if cut else body)
        self.wfile.flush()
        if cut and mode == "stallpull":
            print("stalling a blob download", flush=True)
            time.sleep(3600)
        self.close_connection = True

    def _answer(self):
        if mode == "hang":
            time.sleep(3600)
            return
        if mode in ("cutpull", "stallpull"):
            return self._proxy()
        if mode == "500":
            body = b"internal error"
            self.send_response(500)
        else:  # garbage
            body = b"<html>this is not a tags list" if "/tags/list" in self.path else b"{}"
            self.send_response(200)
            self.send_header("Content-Type", "application/json")
        self.send_header("Content-Length", str(len(body)))
        self.end_headers()
        if self.command != "HEAD":
            self.wfile.write(body)

    do_GET = _answer
    do_HEAD = _answer


class Server(socketserver.ThreadingMixIn, http.server.HTTPServer):
    daemon_threads = True


server = Server(("127.0.0.1", 0), Handler)
print("ready %d" % server.server_address[1], flush=True)
threading.Thread(target=server.serve_forever, daemon=True).start()
try:
    while True:
        time.sleep(1)
except KeyboardInterrupt:
    pass
