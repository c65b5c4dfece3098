#!/bin/sh
# Entrypoint of the lab monitoring component: a container that stays up so that
# its debug tools (mysql, dhcping, dig, nslookup, nsupdate, telnet, kdig, udhcpc, nc) can be used with `docker exec`.
# As PID 1 a process without a handler ignores SIGTERM, so trap it and end promptly.
echo "pv-monitoring $(cat /pv-version): up"
sleeper=
trap '[ -n "$sleeper" ] && kill "$sleeper" 2>/dev/null; exit 0' TERM INT
sleep 2147483647 &
sleeper=$!
wait "$sleeper"
