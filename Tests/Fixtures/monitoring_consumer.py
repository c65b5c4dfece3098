#!/usr/bin/env python3
"""ProVision's side of the monitoring push, as the tests need it: takes every message from QUEUE
on the broker of URI (pika), acknowledges it, validates it against Bundle/monitoring.schema.json,
and drops a sequence it has already seen (delivery is at least once). Stops once SEQUENCES distinct
sequences arrived, or when TIMEOUT seconds passed; with --delete, deletes the queue and exchange.

    monitoring_consumer.py URI QUEUE SEQUENCES TIMEOUT [--delete EXCHANGE]

Prints one JSON line: {"sequences": [...in arrival order, duplicates dropped], "duplicates": n,
"invalid": [first errors], "dropped_samples": sum, "hosts": [...], "records": {name: hits}}.
"""
import json
import os
import sys
import time

import jsonschema
import pika

uri, queue, want, timeout = sys.argv[1], sys.argv[2], int(sys.argv[3]), float(sys.argv[4])
delete = sys.argv[6] if len(sys.argv) > 6 and sys.argv[5] == "--delete" else None
schema = json.load(open(os.path.join(os.path.dirname(__file__), "..", "..", "Bundle", "monitoring.schema.json")))
validator = jsonschema.Draft202012Validator(schema)

params = pika.URLParameters(uri)
params.socket_timeout = 5
params.blocked_connection_timeout = 5
connection = pika.BlockingConnection(params)
channel = connection.channel()
seen, order, duplicates, invalid, dropped, hosts, records = set(), [], 0, [], 0, set(), {}
deadline = time.monotonic() + timeout
while len(seen) < want and time.monotonic() < deadline:
    method, properties, body = channel.basic_get(queue=queue, auto_ack=False)
    if method is None:
        time.sleep(0.1)
        continue
    try:
        doc = json.loads(body)
        errors = [e.message for e in validator.iter_errors(doc)]
    except ValueError as e:
        doc, errors = {}, [str(e)]
    if errors:
        invalid.append(errors[0][:300])
    seq = doc.get("sequence")
    if seq in seen:
        duplicates += 1
    else:
        seen.add(seq)
        order.append(seq)
        dropped += doc.get("dropped_samples", 0)
        hosts.add(doc.get("host"))
        for r in doc.get("dns", {}).get("records", []):
            records[r["name"]] = records.get(r["name"], 0) + r["hits"]
    channel.basic_ack(method.delivery_tag)
if delete:
    channel.queue_delete(queue=queue)
    channel.exchange_delete(exchange=delete)
connection.close()
print(json.dumps({"sequences": order, "duplicates": duplicates, "invalid": invalid[:5], "dropped_samples": dropped,
                  "hosts": sorted(h for h in hosts if h), "records": records}))
