#!/usr/bin/env python3
"""ProVision's side of the monitoring push, for the demo: consumes the monitoring queue (pika),
drops a sequence it has seen (delivery is at least once), and prints the server's Monitoring tab
(system figures and the DNS aggregate: hits per host over the period, total, last access) and its
RPS tab (a search for one record), as ProVision shows them.

    provision_view.py URI QUEUE RESOURCE_ID RECORD [WAIT_SECONDS]

Waits (at most WAIT_SECONDS, default 40) until a message counts RECORD, then prints.
"""
import json
import sys
import time

import pika

uri, queue, rid, record = sys.argv[1], sys.argv[2], sys.argv[3], sys.argv[4].rstrip(".").lower() + "."
wait = float(sys.argv[5]) if len(sys.argv) > 5 else 40

connection = pika.BlockingConnection(pika.URLParameters(uri))
channel = connection.channel()
messages, seen, duplicates = [], set(), 0
deadline = time.monotonic() + wait
while time.monotonic() < deadline:
    method, _, body = channel.basic_get(queue=queue, auto_ack=True)
    if method is None:
        if any(r["name"] == record for m in messages for r in m["dns"]["records"]):
            break
        time.sleep(0.2)
        continue
    m = json.loads(body)
    if m.get("resource_id") != rid:
        continue
    if m["sequence"] in seen:
        duplicates += 1
        continue
    seen.add(m["sequence"])
    messages.append(m)
connection.close()
if not messages:
    sys.exit("provision_view: no monitoring message from %s on %s within %d s" % (rid, queue, wait))
messages.sort(key=lambda m: m["sequence"])
last = messages[-1]


def pct(v):
    return "-" if v is None else "%.1f %%" % v


print("ProVision - %s (%s) - Monitoring" % (rid, last["host"]))
print("  %d intervals received (%s .. %s), %d duplicates dropped, %d samples lost on the host" % (
    len(messages), messages[0]["start"], last["end"], duplicates, sum(m["dropped_samples"] for m in messages)))
s = last.get("system") or {}
load = s.get("load") or ["-", "-", "-"]
print("  System: load %s %s %s, CPU %s busy, memory %s used, swap %s used, %s TCP connections" % (
    load[0], load[1], load[2], pct((s.get("cpu") or {}).get("busy_percent")), pct((s.get("memory") or {}).get("used_percent")),
    pct((s.get("swap") or {}).get("used_percent")), s.get("tcp_connections", "-")))
for d in s.get("disks", []):
    print("          disk %-13s %-30s %s used" % (d["name"], d["path"], pct(d.get("used_percent"))))
hosts = {}
for m in messages:
    for r in m["dns"]["records"]:
        h = hosts.setdefault((r["name"], r["type"]), {"hits": 0, "last": None})
        h["hits"] += r["hits"]
        if r["last_access"] and (h["last"] is None or r["last_access"] > h["last"]):
            h["last"] = r["last_access"]
total = sum(m["dns"]["queries"] for m in messages)
print("  DNS aggregate over the period: %d queries in total" % total)
print("    %-40s %-6s %8s  %s" % ("HOST", "TYPE", "HITS", "LAST ACCESS"))
for (name, rtype), h in sorted(hosts.items(), key=lambda kv: -kv[1]["hits"])[:10]:
    print("    %-40s %-6s %8d  %s" % (name, rtype, h["hits"], h["last"] or "-"))
counters = (last.get("dns_aggregate") or {}).get("counters") or {}
proto = {k.split("[")[1].rstrip("]"): v for k, v in counters.items() if k.startswith("mod-stats.request-protocol[") and v}
rcodes = {k.split("[")[1].rstrip("]"): v for k, v in counters.items() if k.startswith("mod-stats.response-code[") and v}
if proto:
    print("  Knot since its start: " + ", ".join("%s %d" % kv for kv in sorted(proto.items()))
          + ("; responses " + ", ".join("%s %d" % kv for kv in sorted(rcodes.items())) if rcodes else ""))
print()
print("ProVision - %s - RPS: search \"%s\"" % (rid, record))
print("    %-26s %-6s %8s %8s" % ("INTERVAL START", "TYPE", "HITS", "RPS"))
for m in messages:
    for r in m["dns"]["records"]:
        if r["name"] == record:
            print("    %-26s %-6s %8d %8.2f" % (m["start"], r["type"], r["hits"], r["rps"]))
