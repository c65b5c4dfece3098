#!/usr/bin/env python3
"""A stand-in for the ProVision management application's heartbeat endpoint.

It records every request it gets (one JSON line each in --record) and answers
as its mode says:

  ok        200 when the bearer token matches --token (any token without --token), else 401
  401       always 401
  500       always 500
  500-once  500 to the first beat, then as ok (shows the agent's retry)
  hang      reads the request and never answers
  reset     reads the request, then resets the connection (TCP RST)

The mode can be changed while it runs: PUT /control/mode with the mode as body.
GET /servers (JSON) and GET /servers.txt show the server list the way the
management application does: name, requests in the last 2 minutes (green at
4 or more), DNS / Monitor / DHCP versions, state.

It listens on 127.0.0.1 only, on --port (0: a free one), with TLS when given
--cert and --key, and prints "ready PORT" once it accepts connections.
Python standard library only.
"""
import argparse
import json
import signal
import socket
import ssl
import struct
import sys
import threading
import time
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer

MODES = ("ok", "401", "500", "500-once", "hang", "reset")
WINDOW = 120.0


class Recorder:
    def __init__(self, path):
        self.path = path
        self.lock = threading.Lock()
        self.events = []
        self.beats_answered = 0

    def add(self, event):
        with self.lock:
            self.events.append(event)
            if self.path:
                with open(self.path, "a", encoding="utf-8") as f:
                    f.write(json.dumps(event, sort_keys=True) + "\n")
                    f.flush()

    def server_list(self, now):
        """One row per resource ID, from the beats answered 200."""
        with self.lock:
            beats = [e for e in self.events if e.get("answer") == 200 and isinstance(e.get("body"), dict)]
        rows = {}
        for e in beats:
            body = e["body"]
            rid = str(body.get("resource_id"))
            row = rows.setdefault(rid, {"resource_id": rid, "requests": 0, "last": None})
            if now - e["time"] <= WINDOW:
                row["requests"] += 1
            row["last"] = body
        result = []
        for rid, row in sorted(rows.items()):
            last = row["last"]
            comps = last.get("components", {})

            def version(name):
                c = comps.get(name) or {}
                return c.get("version") if c.get("state") == "running" else None

            result.append({
                "resource_id": rid,
                "name": f"{last.get('hostname')} ({rid})",
                "requests": row["requests"],
                "color": "green" if row["requests"] >= 4 else "red",
                "dns": version("dns"), "monitor": version("monitoring"), "dhcp": version("dhcp"),
                "state": "Running" if last.get("state") == "running" else "Stopped",
            })
        return result


def make_handler(server_state):
    class Handler(BaseHTTPRequestHandler):
        protocol_version = "HTTP/1.1"
        # Headers and body go out in two writes; with Nagle on, the body waits
        # for the client's delayed ACK (40 ms) and every beat looks slow.
        disable_nagle_algorithm = True
        server_version = "ProVisionStandIn/1"

        def log_message(self, fmt, *args):  # keep stdout for "ready" only
            sys.stderr.write("standin: " + (fmt % args) + "\n")

        def _read_body(self):
            length = int(self.headers.get("Content-Length") or 0)
            return self.rfile.read(length) if length > 0 else b""

        def _send(self, code, body, content_type="application/json"):
            data = body.encode() if isinstance(body, str) else body
            self.send_response(code)
            self.send_header("Content-Type", content_type)
            self.send_header("Content-Length", str(len(data)))
            self.end_headers()
            self.wfile.write(data)

        def do_GET(self):
            if self.path == "/servers":
                self._send(200, json.dumps(server_state["recorder"].server_list(time.time())))
            elif self.path == "/servers.txt":
                self._send(200, render_table(server_state["recorder"].server_list(time.time())), "text/plain")
            elif self.path == "/health":
                self._send(200, "{\"ok\":true}")
            else:
                self._send(404, "{\"error\":\"not found\"}")

        def do_PUT(self):
            body = self._read_body().decode(errors="replace").strip()
            if self.path == "/control/mode" and body in MODES:
                server_state["mode"] = body
                server_state["once_used"] = False
                self._send(200, json.dumps({"mode": body}))
            else:
                self._send(400, json.dumps({"error": "PUT /control/mode with one of " + ", ".join(MODES)}))

        def do_POST(self):
            raw = self._read_body()
            mode = server_state["mode"]
            token = server_state["token"]
            auth = self.headers.get("Authorization", "")
            authorized = token is None or auth == "Bearer " + token
            try:
                body = json.loads(raw.decode()) if raw else None
            except ValueError:
                body = None
            event = {"time": time.time(), "mode": mode, "method": "POST", "path": self.path,
                     "authorized": authorized, "content_type": self.headers.get("Content-Type"),
                     "user_agent": self.headers.get("User-Agent"), "body": body,
                     "tls": isinstance(self.connection, ssl.SSLSocket)}
            if mode == "hang":
                event["answer"] = "hang"
                server_state["recorder"].add(event)
                server_state["stop"].wait(3600)
                self.close_connection = True
                return
            if mode == "reset":
                event["answer"] = "reset"
                server_state["recorder"].add(event)
                self.connection.setsockopt(socket.SOL_SOCKET, socket.SO_LINGER, struct.pack("ii", 1, 0))
                self.connection.close()
                self.close_connection = True
                return
            if mode == "500-once" and not server_state["once_used"]:
                server_state["once_used"] = True
                code = 500
            elif mode in ("ok", "500-once"):
                code = 200 if authorized else 401
            else:
                code = int(mode)
            if self.path != "/api/v1/heartbeat" and code == 200:
                code = 404
            if body is None and code == 200:
                code = 400
            event["answer"] = code
            server_state["recorder"].add(event)
            replies = {200: {"ok": True}, 400: {"error": "body is not JSON"}, 401: {"error": "invalid token"},
                       404: {"error": "not found"}, 500: {"error": "internal error"}}
            self._send(code, json.dumps(replies[code]))

        def finish(self):
            try:
                super().finish()
            except (OSError, ValueError):
                pass

    return Handler


def render_table(rows):
    head = f"{'Server Name':<20} {'Requests':<14} {'DNS':<10} {'Monitor':<10} {'DHCP':<10} State"
    lines = [head, "-" * len(head)]
    for r in rows:
        req = f"{r['requests']} ({r['color']})"
        lines.append(f"{(r['name'] or '?'):<20} {req:<14} {(r['dns'] or '-'):<10} {(r['monitor'] or '-'):<10} "
                     f"{(r['dhcp'] or '-'):<10} {r['state']}")
    return "\n".join(lines) + "\n"


class TLSServer(ThreadingHTTPServer):
    """Handshakes in the connection's own thread, so one stuck client cannot block accept()."""
    context = None

    def get_request(self):
        sock, addr = super().get_request()
        if self.context is not None:
            sock = self.context.wrap_socket(sock, server_side=True, do_handshake_on_connect=False)
        return sock, addr

    def finish_request(self, request, client_address):
        if isinstance(request, ssl.SSLSocket):
            request.settimeout(10)
            try:
                request.do_handshake()
            except (ssl.SSLError, OSError) as e:
                self.state["recorder"].add({"time": time.time(), "event": "tls-handshake-failed", "error": str(e)})
                return
            request.settimeout(None)
        super().finish_request(request, client_address)

    def handle_error(self, request, client_address):
        pass


def main():
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--port", type=int, default=0)
    ap.add_argument("--mode", choices=MODES, default="ok")
    ap.add_argument("--token")
    ap.add_argument("--record")
    ap.add_argument("--cert")
    ap.add_argument("--key")
    args = ap.parse_args()

    state = {"mode": args.mode, "token": args.token, "recorder": Recorder(args.record),
             "stop": threading.Event(), "once_used": False}
    server = TLSServer(("127.0.0.1", args.port), make_handler(state))
    server.daemon_threads = True
    server.state = state
    if args.cert:
        ctx = ssl.SSLContext(ssl.PROTOCOL_TLS_SERVER)
        ctx.load_cert_chain(args.cert, args.key)
        server.context = ctx

    def stop(signum, frame):
        state["stop"].set()
        raise SystemExit(0)

    signal.signal(signal.SIGTERM, stop)
    signal.signal(signal.SIGINT, stop)
    # A parent may start us with these blocked (a Swift Testing worker thread
    # blocks every signal, and the mask survives exec): unblock them, or
    # SIGTERM waits forever and the test falls back to SIGKILL.
    signal.pthread_sigmask(signal.SIG_UNBLOCK, {signal.SIGTERM, signal.SIGINT})
    print(f"ready {server.server_address[1]}", flush=True)
    try:
        server.serve_forever(poll_interval=0.2)
    except SystemExit:
        pass
    finally:
        server.server_close()


if __name__ == "__main__":
    main()
