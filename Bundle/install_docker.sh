#!/bin/bash
# Installs and starts Docker, as root, on the distributions ProVision manages:
#   RHEL, Rocky, Alma 8 and 9, CentOS Stream 9: docker-ce from Docker's own repository
#     (RHEL's repositories carry podman, not Docker; Docker documents its repository for them).
#   Fedora: docker-ce from Docker's Fedora repository.
#   Ubuntu 20.04, 22.04, 24.04 and Debian 11, 12, 13: the distribution's docker.io.
# The install runs it when no Docker engine answers; an admin may run it by hand before a
# non-root install. Idempotent: an engine that is already installed is only started.
# Exit codes: 0 installed and running, 69 unsupported distribution or the packages cannot be
# had, 77 not root.
set -euo pipefail
[ "$(id -u)" -eq 0 ] || { echo "install_docker.sh: run as root (sudo /bin/bash install_docker.sh)" >&2; exit 77; }
[ -r /etc/os-release ] || { echo "install_docker.sh: /etc/os-release is missing: install Docker by hand" >&2; exit 69; }
. /etc/os-release
fail() { echo "install_docker.sh: $*" >&2; exit 69; }

install_dnf() {  # REPO_FAMILY: rhel, centos or fedora (the folder in Docker's repository)
  local family=$1 pm=dnf conflicting
  command -v dnf >/dev/null || pm=yum
  # runc and podman-docker conflict with Docker's containerd.io and docker-ce-cli; Docker's
  # guide removes them first. Removing an admin's packages is theirs to decide: name them.
  conflicting=$(rpm -q podman-docker runc 2>/dev/null | grep -v 'not installed' || true)
  if [ -n "$conflicting" ]; then
    fail "these packages conflict with Docker's: $(echo "$conflicting" | paste -sd' ' -). Remove them ($pm remove podman-docker runc), then run install_docker.sh again"
  fi
  if ! [ -f /etc/yum.repos.d/docker-ce.repo ]; then
    timeout 600 "$pm" install -y dnf-plugins-core >/dev/null ||
      fail "cannot install dnf-plugins-core (is a package repository reachable?)"
    timeout 300 "$pm" config-manager --add-repo "https://download.docker.com/linux/$family/docker-ce.repo" ||
      fail "cannot add Docker's repository for $family (is download.docker.com reachable? else mirror it and add it by hand)"
  fi
  timeout 1200 "$pm" install -y docker-ce docker-ce-cli containerd.io ||
    fail "cannot install docker-ce from Docker's repository"
}

install_apt() {
  export DEBIAN_FRONTEND=noninteractive
  timeout 600 apt-get update -qq || fail "apt-get update failed (is a package mirror reachable?)"
  timeout 1200 apt-get install -y -qq docker.io || fail "cannot install docker.io (on Ubuntu it is in universe: add-apt-repository universe)"
}

# The folder of Docker's repository for an rpm distribution: rhel for RHEL, fedora for Fedora,
# centos for CentOS Stream, Rocky and Alma (ID_LIKE "rhel centos fedora"); empty otherwise.
rpm_family() {
  case "${ID:-}" in
    rhel) echo rhel ;;
    fedora) echo fedora ;;
    *) case " ${ID_LIKE:-} " in *" rhel "*|*" centos "*|*" fedora "*) echo centos ;; esac ;;
  esac
}

if command -v dockerd >/dev/null 2>&1; then
  echo "install_docker.sh: Docker is already installed ($(command -v dockerd))"
else
  family=$(rpm_family)
  case " ${ID:-} ${ID_LIKE:-} " in
    *" ubuntu "*|*" debian "*) install_apt ;;
    *) [ -n "$family" ] || fail "unsupported distribution '${ID:-unknown}': install Docker by hand (https://docs.docker.com/engine/install/)"
       install_dnf "$family" ;;
  esac
fi
getent group docker >/dev/null || groupadd --system docker
if [ -d /run/systemd/system ]; then
  systemctl enable --now docker.service || fail "Docker is installed but does not start: journalctl -u docker.service"
fi
echo "Docker: $(docker version --format '{{.Server.Version}}' 2>/dev/null || echo 'installed, not answering yet')"
