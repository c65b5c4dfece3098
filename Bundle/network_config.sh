#!/bin/bash
# Creates the DHCP verification link, as root: a veth pair whose server end
# carries 198.51.100.1/24 (the DHCP component serves the verification pool on
# it) and whose client end has no address (pv_verify asks for a lease from it).
#     network_config.sh [SERVER_IF] [CLIENT_IF]     (default: pvv-srv pvv-cli)
# Idempotent. Persistence: on Ubuntu (netplan/networkd) and RHEL/CentOS
# (NetworkManager) a systemd unit recreates the link at boot. NetworkManager (RHEL's
# default) is told to leave both ends alone, so that it never takes the address away
# or runs a DHCP client of its own on the client end; networkd manages only the
# interfaces its .network files match, and netplan's never match these names.
set -euo pipefail
[ "$(id -u)" -eq 0 ] || { echo "network_config.sh: run as root" >&2; exit 77; }
srv=${1:-pvv-srv}
cli=${2:-pvv-cli}
if ! ip link show "$srv" >/dev/null 2>&1; then
  ip link add "$srv" type veth peer name "$cli"
fi
if [ -d /etc/NetworkManager/conf.d ]; then
  printf '[keyfile]\nunmanaged-devices=interface-name:%s;interface-name:%s\n' "$srv" "$cli" \
    > /etc/NetworkManager/conf.d/99-pv-verify-link.conf
  if command -v nmcli >/dev/null 2>&1 && nmcli -t general status >/dev/null 2>&1; then
    nmcli general reload conf >/dev/null 2>&1 || true
    nmcli device set "$srv" managed no >/dev/null 2>&1 || true
    nmcli device set "$cli" managed no >/dev/null 2>&1 || true
  fi
fi
ip addr replace 198.51.100.1/24 dev "$srv"
ip link set "$srv" up
ip link set "$cli" up
if [ -d /run/systemd/system ]; then
  cat > /etc/systemd/system/pv-verify-link.service <<UNIT
[Unit]
Description=ProVision DHCP verification link ($srv <-> $cli)
Before=docker.service
[Service]
Type=oneshot
RemainAfterExit=yes
ExecStart=/bin/sh -c 'ip link show $srv >/dev/null 2>&1 || ip link add $srv type veth peer name $cli; ip addr replace 198.51.100.1/24 dev $srv; ip link set $srv up; ip link set $cli up'
[Install]
WantedBy=multi-user.target
UNIT
  systemctl daemon-reload
  systemctl enable pv-verify-link.service
fi
echo "verification link: $srv (198.51.100.1/24) <-> $cli"
