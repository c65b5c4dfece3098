#!/usr/bin/env python3
"""A registry with the distribution token flow, as hosted registries run it (stand-in).

    token_registry.py USER PASSWORD [--expired] [--upstream 127.0.0.1:5000]

Listens on a free loopback port and prints "ready PORT" once it accepts. Every /v2/ request
needs "Authorization: Bearer TOKEN"; without a valid one it answers 401 with
    WWW-Authenticate: Bearer realm="http://127.0.0.1:PORT/token",service="pv-standin",scope="repository:NAME:pull"
GET /token?service=...&scope=... with HTTP Basic USER:PASSWORD gives {"token": ..., "expires_in": 300}
(a wrong password: 401) and prints "token issued SCOPE". With a token, requests are proxied to
the real registry (tags, manifests, blobs: docker pull works through it). --expired: the tokens
it gives are refused at once (401, error="invalid_token"), as an expired one would be.
"""
import base64
import http.client
import http.server
import json
import secrets
import socketserver
import sys
import threading
import time
import urllib.parse

user, password = sys.argv[1], sys.argv[2]
expired = "--expired" in sys.argv
upstream = sys.argv[sys.argv.index("--upstream") + 1] if "--upstream" in sys.argv else "127.0.0.1:5000"
tokens = {}
lock = threading.Lock()
port = 0


class Handler(http.server.BaseHTTPRequestHandler):
    protocol_version = "HTTP/1.1"

    def log_message(self, fmt, *args):
        sys.stderr.write("token-registry: " + fmt % args + "\n")

    def _send(self, status, body=b"", headers=()):
        self.send_response(status)
        for k, v in headers:
            self.send_header(k, v)
        self.send_header("Content-Length", str(len(body)))
        self.end_headers()
        if self.command != "HEAD":
            self.wfile.write(body)

    def _token(self):
        query = urllib.parse.parse_qs(urllib.parse.urlparse(self.path).query)
        given = self.headers.get("Authorization", "")
        wanted = "Basic " + base64.b64encode(("%s:%s" % (user, password)).encode()).decode()
        if given != wanted:
            return self._send(401, b'{"errors":[{"code":"UNAUTHORIZED"}]}', [("WWW-Authenticate", 'Basic realm="token"')])
        token = secrets.token_hex(16)
        with lock:
            tokens[token] = 0 if expired else time.time() + 300
        scope = query.get("scope", [""])[0]
        print("token issued %s" % scope, flush=True)
        body = json.dumps({"token": token, "expires_in": 300}).encode()
        self._send(200, body, [("Content-Type", "application/json")])

    def _registry(self):
        given = self.headers.get("Authorization", "")
        token = given[7:] if given.startswith("Bearer ") else None
        with lock:
            valid = token is not None and tokens.get(token, 0) > time.time()
        if not valid:
            parts = self.path.split("/")
            name = "/".join(parts[2:-2]) if len(parts) > 4 else ""
            challenge = 'Bearer realm="http://127.0.0.1:%d/token",service="pv-standin"' % port
            if name:
                challenge += ',scope="repository:%s:pull"' % name
            if token is not None:
                challenge += ',error="invalid_token"'
            return self._send(401, b'{"errors":[{"code":"UNAUTHORIZED"}]}', [("WWW-Authenticate", challenge),
                                                                            ("Docker-Distribution-Api-Version", "registry/2.0")])
        conn = http.client.HTTPConnection(upstream, timeout=30)
        headers = {k: v for k, v in self.headers.items() if k.lower() not in ("host", "connection", "authorization")}
        conn.request(self.command, self.path, headers=headers)
        resp = conn.getresponse()
        body = resp.read()
        self.send_response(resp.status)
        for k, v in resp.getheaders():
            if k.lower() not in ("connection", "transfer-encoding", "content-length"):
                self.send_header(k, v)
        self.send_header("Content-Length", resp.getheader("Content-Length") or str(len(body)))
        self.end_headers()
        if self.command != "HEAD":
            self.wfile.write(body)

    def _answer(self):
        if self.path.startswith("/token"):
            return self._token()
        return self._registry()

    do_GET = _answer
    do_HEAD = _answer


class Server(socketserver.ThreadingMixIn, http.server.HTTPServer):
    daemon_threads = True


server = Server(("127.0.0.1", 0), Handler)
port = server.server_address[1]
print("ready %d" % port, flush=True)
threading.Thread(target=server.serve_forever, daemon=True).start()
try:
    while True:
        time.sleep(1)
except KeyboardInterrupt:
    pass
