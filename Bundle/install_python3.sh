#!/bin/bash
# Entry point of setup-<ID>.tar. On the managed server:
#     tar -xf setup-<ID>.tar && sudo /bin/bash install_python3.sh
# (The name is historical: ProVision and its documentation call it so.)
# Checks the bundle against its manifest before running anything from it, then
# runs every install step. The last line is PVOK on success, and never on failure.
# Arguments are passed to pv_install (for example --json, -e STEP, --root DIR).
set -u
here=$(CDPATH= cd -- "$(dirname -- "$0")" && pwd) || { echo "install: cannot find the bundle directory"; exit 1; }
cd "$here" || exit 1

if ! command -v sha256sum >/dev/null 2>&1; then
  echo "install FAILED: sha256sum (coreutils) is missing, so the bundle cannot be checked"
  exit 1
fi
if ! sha256sum --quiet --strict -c SHA256SUMS; then
  echo "install FAILED: the bundle does not match its manifest (SHA256SUMS): download setup-<ID>.tar again"
  exit 65
fi

# The tools' Swift runtime ships compressed (lib/swift-runtime.tar.gz, checked above).
if [ -f lib/swift-runtime.tar.gz ] && [ ! -f lib/libswiftCore.so ]; then
  if ! tar -xzf lib/swift-runtime.tar.gz -C lib; then
    echo "install FAILED: cannot unpack lib/swift-runtime.tar.gz (is there free space in $here?)"
    exit 73
  fi
fi

"$here/bin/pv_install" --bundle "$here" "$@"
rc=$?
if [ "$rc" -eq 0 ]; then
  echo "PVOK"
else
  echo "install FAILED (exit $rc): see the step and the log named above"
fi
exit "$rc"
