#!/bin/bash
# Installs and starts Docker, as root, on the distributions ProVision supports.
# The install runs it when no Docker engine answers; an admin may run it by hand
# before a non-root install. Idempotent.
set -euo pipefail
[ "$(id -u)" -eq 0 ] || { echo "install_docker.sh: run as root (sudo /bin/bash install_docker.sh)" >&2; exit 77; }
. /etc/os-release
case " ${ID:-} ${ID_LIKE:-} " in
  *" ubuntu "*|*" debian "*)
    export DEBIAN_FRONTEND=noninteractive
    timeout 600 apt-get update -qq
    timeout 1200 apt-get install -y -qq docker.io
    ;;
  *" centos "*|*" rhel "*|*" fedora "*|*" rocky "*|*" almalinux "*)
    if command -v dnf >/dev/null; then pm=dnf; else pm=yum; fi
    timeout 1200 "$pm" install -y docker || timeout 1200 "$pm" install -y moby-engine
    ;;
  *) echo "install_docker.sh: unsupported distribution '${ID:-unknown}': install Docker by hand" >&2; exit 69 ;;
esac
if [ -d /run/systemd/system ]; then
  systemctl enable --now docker
fi
getent group docker >/dev/null || groupadd --system docker
echo "Docker: $(docker version --format '{{.Server.Version}}' 2>/dev/null || echo 'installed, not answering yet')"
