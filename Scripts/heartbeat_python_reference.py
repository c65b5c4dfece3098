#!/usr/bin/env python3
"""The Python equivalent of one pv_heartbeat beat, for Scripts/bench-heartbeat only.

It does the same job the way the original /provision/libs scripts would:
the docker CLI for the components (one `docker ps`, one `docker info`),
/proc and os.statvfs for the figures, a sequence file, and one urllib POST
with the bearer token. It is a yardstick, not a product: no retry, no lock.

  heartbeat_python_reference.py ROOT
"""
import json
import os
import socket
import ssl
import subprocess
import sys
import time
import urllib.request


def config(root):
    values = {}
    with open(os.path.join(root, "etc", "provision.conf")) as f:
        for line in f:
            line = line.strip()
            if line and not line.startswith("#") and "=" in line:
                k, v = line.split("=", 1)
                values[k.strip()] = v.strip()
    return values


def docker(cfg, *args):
    env = dict(os.environ, DOCKER_HOST=cfg["docker_host"])
    return subprocess.run(["docker", *args], env=env, capture_output=True, text=True, timeout=5)


def components(cfg):
    ps = docker(cfg, "ps", "-a", "--filter", "label=org.provision.component", "--format", "{{json .}}")
    if ps.returncode != 0:
        return False, {c: {"state": "unknown", "version": None} for c in ("dns", "dhcp", "monitoring")}
    found = {}
    for line in ps.stdout.splitlines():
        c = json.loads(line)
        labels = dict(kv.split("=", 1) for kv in c.get("Labels", "").split(",") if "=" in kv)
        comp = labels.get("org.provision.component")
        if comp and (comp not in found or c["State"] == "running"):
            found[comp] = {"state": "running" if c["State"] == "running" else "stopped",
                           "version": labels.get("org.provision.version"), "container": c["Names"]}
    return True, {c: found.get(c, {"state": "absent", "version": None}) for c in ("dns", "dhcp", "monitoring")}


def disk(path):
    s = os.statvfs(path)
    used = (s.f_blocks - s.f_bfree) * s.f_frsize
    avail = s.f_bavail * s.f_frsize
    return {"path": path, "total_bytes": s.f_blocks * s.f_frsize, "available_bytes": avail,
            "used_percent": round(used / (used + avail) * 100, 1) if used + avail else 0}


def system(docker_root):
    mem = {}
    with open("/proc/meminfo") as f:
        for line in f:
            k, v = line.split(":", 1)
            mem[k] = int(v.split()[0]) * 1024
    established = 0
    for name in ("/proc/net/tcp", "/proc/net/tcp6"):
        with open(name) as f:
            established += sum(1 for line in list(f)[1:] if line.split()[3] == "01")
    with open("/proc/stat") as f:
        cpu = [int(x) for x in f.readline().split()[1:9]]
    disks = [disk("/")] + ([disk(docker_root)] if docker_root else [])
    return {"load": list(os.getloadavg()), "cpu_busy_percent": round(100 * (1 - (cpu[3] + cpu[4]) / sum(cpu)), 1),
            "memory": {"total_bytes": mem["MemTotal"], "available_bytes": mem["MemAvailable"]},
            "swap": {"total_bytes": mem["SwapTotal"], "free_bytes": mem["SwapFree"]},
            "disks": disks, "uptime_seconds": float(open("/proc/uptime").read().split()[0]),
            "tcp_connections": established}


def main():
    root = sys.argv[1]
    cfg = config(root)
    seq_file = os.path.join(root, "state", "python-heartbeat.seq")
    try:
        seq = int(open(seq_file).read()) + 1
    except (OSError, ValueError):
        seq = 1
    os.makedirs(os.path.dirname(seq_file), exist_ok=True)
    with open(seq_file + ".tmp", "w") as f:
        f.write(str(seq))
        f.flush()
        os.fsync(f.fileno())
    os.rename(seq_file + ".tmp", seq_file)

    reachable, comps = components(cfg)
    info = docker(cfg, "info", "--format", "{{.DockerRootDir}}") if reachable else None
    docker_root = info.stdout.strip() if info and info.returncode == 0 else None
    payload = {"schema_version": 1, "resource_id": cfg["resource_id"], "hostname": socket.gethostname(),
               "agent_version": "python-reference", "sequence": seq,
               "timestamp": time.strftime("%Y-%m-%dT%H:%M:%S.000Z", time.gmtime()),
               "state": "running" if any(c["state"] == "running" for c in comps.values()) else "stopped",
               "docker": {"reachable": reachable}, "components": comps, "system": system(docker_root)}
    req = urllib.request.Request(cfg["management_url"].rstrip("/") + "/api/v1/heartbeat",
                                 data=json.dumps(payload).encode(), method="POST",
                                 headers={"Authorization": "Bearer " + cfg["management_token"],
                                          "Content-Type": "application/json"})
    ctx = ssl.create_default_context(cafile=cfg.get("management_ca_file"))
    with urllib.request.urlopen(req, timeout=10, context=ctx) as r:
        print(f"beat {seq} sent: {r.status}")


if __name__ == "__main__":
    main()
