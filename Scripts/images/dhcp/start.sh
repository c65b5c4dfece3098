#!/bin/sh
# Entrypoint of the lab DHCP component: Kea DHCPv4 on one interface with raw sockets.
# Run with --network host. PV_DHCP_INTERFACE names the server-side interface
# (default pvv-srv); it must exist before the container starts.
set -eu

iface=${PV_DHCP_INTERFACE:-pvv-srv}
case "$iface" in
    *[!A-Za-z0-9_.-]* | "")
        echo "start.sh: PV_DHCP_INTERFACE is not an interface name: $iface" >&2
        exit 2 ;;
esac

# The components' contract: Kea's control socket where pv_monitor asks for its statistics.
ctrl=${PV_KEA_CONTROL_SOCKET:-/run/kea/kea4-ctrl.sock}
case "$ctrl" in
    /*) case "$ctrl" in *[!A-Za-z0-9_./-]*) echo "start.sh: PV_KEA_CONTROL_SOCKET is not a plain path: $ctrl" >&2; exit 2 ;; esac ;;
    *) echo "start.sh: PV_KEA_CONTROL_SOCKET must be absolute: $ctrl" >&2; exit 2 ;;
esac

# A restarted container keeps its filesystem, and Kea refuses to start when its pid
# file names a live process: as PID 1 again, it would find "itself". Start clean.
rm -rf /run/kea
mkdir -p /run/kea /var/lib/kea
mkdir -p "$(dirname "$ctrl")"
rm -f "$ctrl"
sed -e "s/@IFACE@/$iface/g" -e "s|@CTRL@|$ctrl|g" /etc/kea/kea-dhcp4.conf.in > /run/kea/kea-dhcp4.conf

export KEA_LOCKFILE_DIR=/run/kea
export KEA_PIDFILE_DIR=/run/kea
export KEA_LOGGER_DESTINATION=stdout

echo "pv-dhcp $(cat /pv-version): kea-dhcp4 on $iface"
exec /usr/sbin/kea-dhcp4 -c /run/kea/kea-dhcp4.conf
