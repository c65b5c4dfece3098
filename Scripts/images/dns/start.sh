#!/bin/sh
# Entrypoint of the lab DNS component: Knot serving pvverify.test.
# PV_DNS_LISTEN: one or more knot listen addresses (addr@port), separated by spaces
# or commas; default 127.0.0.1@5353 so that tests stay off port 53.
set -eu

listen=${PV_DNS_LISTEN:-127.0.0.1@5353}
listen=$(echo "$listen" | tr ',' ' ')
case "$listen" in
    *[!0-9A-Fa-f.:@\ ]* | "" | " ")
        echo "start.sh: PV_DNS_LISTEN must be addr@port[,addr@port...], got: $listen" >&2
        exit 2 ;;
esac
list=
for addr in $listen; do
    list="${list:+$list, }\"$addr\""
done

# A restarted container keeps its filesystem: drop the previous run's socket and state.
rm -rf /run/knot
mkdir -p /run/knot /var/lib/knot

# The components' contract: with PV_DNSTAP_SOCKET set (and Knot's dnstap module in the image),
# every query goes to pv_monitor over dnstap. Knot reconnects by itself when the socket comes later.
dnstap_module=
dnstap_template=
if [ -n "${PV_DNSTAP_SOCKET:-}" ] && ls /usr/lib/*/knot/modules-*/dnstap.so >/dev/null 2>&1; then
    dnstap_module="mod-dnstap:
  - id: pv-monitor
    sink: unix:${PV_DNSTAP_SOCKET}
    log-queries: on
    log-responses: off
"
    dnstap_template="    global-module: mod-dnstap/pv-monitor"
fi

# And with PV_KNOT_CONTROL_SOCKET, Knot's control socket there and mod-stats on every zone, so that
# pv_monitor reads the DNS aggregate (what knotc stats shows).
control_section=
stats_template=
if [ -n "${PV_KNOT_CONTROL_SOCKET:-}" ]; then
    case "$PV_KNOT_CONTROL_SOCKET" in
        /*[!A-Za-z0-9_./-]* | [!/]*) echo "start.sh: PV_KNOT_CONTROL_SOCKET must be a plain absolute path" >&2; exit 2 ;;
    esac
    # knotd drops its capabilities before it binds the control socket: the socket's directory must
    # be root's, not the agent's mounted one. Made here, while this script still has them.
    mkdir -p "$(dirname "$PV_KNOT_CONTROL_SOCKET")"
    rm -f "$PV_KNOT_CONTROL_SOCKET"
    # The counters of the aggregate: mod-stats' defaults plus the query type.
    control_section="control:
    listen: \"${PV_KNOT_CONTROL_SOCKET}\"

mod-stats:
  - id: pv-monitor
    query-type: on
"
    # As a global module: the server's aggregate (stats); as every zone's module: each zone's (zone-stats).
    stats_template="    global-module: mod-stats/pv-monitor
    module: mod-stats/pv-monitor"
fi

cat > /run/knot/knot.conf <<EOF
server:
    rundir: "/run/knot"
    listen: [ $list ]
    udp-workers: 1
    tcp-workers: 1
    background-workers: 1
    # The handoff (image label org.provision.handoff=reuseport): a new version's knotd binds the
    # same addresses beside the running one (UDP always uses SO_REUSEPORT; TCP with this), and
    # socket-affinity keeps the traffic on the earlier sockets while both run (with workers no
    # more than the earlier one's), so the unverified, still-loading one answers only on its own
    # check address.
    tcp-reuseport: on
    socket-affinity: on

database:
    storage: "/var/lib/knot"

log:
  - target: stderr
    any: info

${control_section}
${dnstap_module}
template:
  - id: default
    storage: "/etc/knot"
    zonefile-sync: -1
    zonefile-load: whole
    journal-content: none
${dnstap_template}
${stats_template}

zone:
  - domain: pvverify.test.
    file: "pvverify.test.zone"
EOF

echo "pv-dns $(cat /pv-version): knotd listening on $listen" >&2
exec /usr/sbin/knotd -c /run/knot/knot.conf
