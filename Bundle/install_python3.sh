#!/bin/bash
# Entry point of setup-<ID>.tar. On the managed server:
#     tar -xf setup-<ID>.tar && sudo /bin/bash install_python3.sh
# (The name is historical: ProVision and its documentation call it so.)
# Checks the bundle against its manifest before running anything from it, then
# runs every install step. The last line is PVOK on success, and never on failure.
# Arguments are passed to pv_install (for example --json, -e STEP, --root DIR).
#     /bin/bash install_python3.sh --prepare-only
# only unpacks and checks the tools into bin/ (for running them one by one from the bundle).
# Needs nothing but bash, coreutils and gzip: the tools are static executables.
set -u
here=$(CDPATH='' cd -- "$(dirname -- "$0")" && pwd) || { echo "install: cannot find the bundle directory"; exit 1; }
cd "$here" || exit 1

if ! command -v sha256sum >/dev/null 2>&1; then
  echo "install FAILED: sha256sum (coreutils) is missing, so the bundle cannot be checked"
  exit 1
fi
if ! sha256sum --quiet --strict -c SHA256SUMS; then
  echo "install FAILED: the bundle does not match its manifest (SHA256SUMS): download setup-<ID>.tar again"
  exit 65
fi

# A server that pinned a bundle signing key (an earlier install with --trust-key) runs nothing
# from a bundle before its signature checks out: pv_install checks it too, but a tampered
# bundle would bring its own pv_install. openssl 3 checks it here; without it, refuse (the
# installed tools in /provision/libs are the agent's user's to change: root never runs them).
pin=/etc/provision/bundle-signing.pub
if [ -f "$pin" ]; then
  if [ ! -f SHA256SUMS.sig ]; then
    echo "install FAILED: this server only installs signed bundles ($pin), and this one carries no SHA256SUMS.sig"
    exit 65
  fi
  if ! command -v openssl >/dev/null 2>&1 || ! openssl pkeyutl -help 2>&1 | grep -q -- '-rawin'; then
    echo "install FAILED: a bundle signing key is pinned ($pin), and this server has no openssl 3 (pkeyutl -rawin) to check"
    echo "the signature before running anything from the bundle: install openssl 3.0 or later, then run this script again"
    exit 65
  fi
  if ! openssl pkeyutl -verify -pubin -inkey "$pin" -rawin -in SHA256SUMS -sigfile SHA256SUMS.sig >/dev/null 2>&1; then
    echo "install FAILED: the bundle's signature does not verify against the pinned key ($pin): download setup-<ID>.tar again"
    exit 65
  fi
fi

# A release bundle ships its tools packed: pv_install as bin/pv_install.gz, started here with
# gzip and checked against TOOLS.SHA256SUMS (listed in SHA256SUMS, checked above); it unpacks and
# checks the others from lib/tools.tar.xz itself. Always unpacked anew: an older bin/pv_install
# left in this directory by an earlier bundle is never run.
if [ -f bin/pv_install.gz ]; then
  if ! gzip -dc bin/pv_install.gz > bin/.pv_install.partial; then
    rm -f bin/.pv_install.partial
    echo "install FAILED: cannot unpack bin/pv_install.gz (is there free space in $here?)"
    exit 73
  fi
  chmod 755 bin/.pv_install.partial && mv -f bin/.pv_install.partial bin/pv_install
  if ! grep -E '  bin/pv_install$' TOOLS.SHA256SUMS | sha256sum --quiet --strict -c -; then
    echo "install FAILED: bin/pv_install does not match TOOLS.SHA256SUMS: download setup-<ID>.tar again"
    exit 65
  fi
fi

if [ "${1:-}" = "--prepare-only" ]; then
  exec "$here/bin/pv_install" --bundle "$here" --prepare-only
fi
"$here/bin/pv_install" --bundle "$here" "$@"
rc=$?
if [ "$rc" -eq 0 ]; then
  echo "PVOK"
else
  echo "install FAILED (exit $rc): see the step and the log named above"
fi
exit "$rc"
