# shellcheck shell=bash
# Scripts/lab: paths, names, ports and small helpers every other lab.d file uses.
# shellcheck disable=SC2034  # the constants are read by the other lab.d files, which shellcheck checks one by one

REPO=$(cd "$(dirname "${BASH_SOURCE[0]}")/../.." && pwd -P)
SCRIPTS=$REPO/Scripts
LAB=$REPO/.lab
PIDS=$LAB/pids
LOGS=$LAB/logs
STATE=$LAB/state
BUILD=$LAB/build
DOCKER_DIR=$LAB/docker
DOCKER_SOCK=$DOCKER_DIR/docker.sock
REGISTRY_DIR=$LAB/registry
RMQ_DIR=$LAB/rabbitmq
RMQ_PASSWORD_FILE=$LAB/rabbitmq.password
ROOT_DIR=$LAB/root
PROVISION_CONF=$ROOT_DIR/etc/provision.conf
# pv_monitor's sockets for the lab root (mounted into pv-dns and pv-dhcp).
MONITOR_RUN=$ROOT_DIR/run/monitor
ENV_FILE=$LAB/env

REGISTRY=127.0.0.1:5000
# The same images as a vendor's private registry serves them: TLS from the lab's own CA and
# htpasswd credentials (Debian's docker-registry), read-only over the plain registry's storage.
AUTH_REGISTRY=127.0.0.1:5443
AUTH_REGISTRY_DIR=$LAB/registry-auth
AUTH_REGISTRY_USER=pvpull
ENGINE_CERTS_DIR=/etc/docker/certs.d/$AUTH_REGISTRY
RMQ_USER=pvlab
RMQ_NODE=pvlab@localhost
RMQ_PORT=5672
EPMD_PORT=4369
DNS_LISTEN=127.0.0.1@5353
DNS_PORT=5353
COMPONENTS=(dns dhcp monitoring)
VERSIONS=(1.0.0 1.1.0 1.2.0)
RUN_VERSION=1.1.0
LATEST_VERSION=1.1.0
FAILING_VERSION=1.2.0

LINK_SRV=pvv-srv
LINK_CLI=pvv-cli
FAKE_NETNS=pvlab-fake
FAKE_CLI=pvx-cli
FAKE_SRV=pvx-srv
LINK_ADDR=198.51.100.1/24
# The integration tests' own instance (container prefix pvit-) serves DHCP on a link of its own.
# Another address than the lab's: both Keas bind a UDP fallback socket to theirs, port 67.
IT_SRV=pvt-srv
IT_CLI=pvt-cli
IT_ADDR=198.51.100.2/24
# The demo's managed server (Scripts/demo: container prefix pvdemo-) has a link of its own too: one
# install root per set of containers, so the lab's root keeps its pv-* and its pv_monitor's data.
DEMO_SRV=pvd-srv
DEMO_CLI=pvd-cli
DEMO_ADDR=198.51.100.4/24

export DOCKER_HOST=unix://$DOCKER_SOCK

say() { echo "lab: $*"; }
warn() { echo "lab: warning: $*" >&2; }
die() { echo "lab: error: $*" >&2; exit 1; }

# Milliseconds since the epoch, for bounded waits and timings.
now_ms() { local t=${EPOCHREALTIME/./}; echo $((t / 1000)); }
START_MS=$(now_ms)
elapsed() { local ms=$(($(now_ms) - START_MS)); printf '%d.%01d s' $((ms / 1000)) $((ms % 1000 / 100)); }

# LOG is a file, or "docker logs NAME" for a container on the lab engine.
show_log_tail() {
    local log=$1
    if [[ "$log" == "docker logs "* ]]; then
        echo "lab: last lines of $log:" >&2
        timeout 10 docker logs --tail 15 "${log#docker logs }" 2>&1 | sed 's/^/    /' >&2 || true
    elif [ -s "$log" ]; then
        echo "lab: last lines of $log:" >&2
        tail -n 15 "$log" | sed 's/^/    /' >&2
    fi
}

tcp_open() { (exec 3<>"/dev/tcp/$1/$2") 2>/dev/null; }

random_hex() { od -An -tx1 -N"$1" /dev/urandom | tr -d ' \n'; }

# Write FILE with CONTENT (mode 0600) only if it differs; atomic via rename.
write_private() {
    local file=$1 content=$2 tmp
    if [ -f "$file" ] && [ "$(cat "$file")" == "$content" ] \
        && [ "$(stat -c %a "$file")" = 600 ]; then
        return 1
    fi
    tmp=$(mktemp "$file.XXXXXX")
    chmod 600 "$tmp"
    printf '%s\n' "$content" > "$tmp"
    mv -f "$tmp" "$file"
}

# One lab command at a time; fd 9 holds the lock until the command exits.
take_lock() {
    mkdir -p "$LAB"
    exec 9>"$LAB/lock"
    flock -w 300 9 || die "another 'lab' command holds $LAB/lock for over 300 s"
}
