#!/bin/sh
# Stops the monitoring component and removes its container. Options: -t/--time SECONDS, -h.
# Installed in <root>/libs; the root is this script's parent unless PV_ROOT is set.
here=$(CDPATH='' cd -- "$(dirname -- "$0")" && pwd) || exit 1
PV_ROOT=${PV_ROOT:-$(dirname -- "$here")}
export PV_ROOT
exec "$here/pv_stop" monitoring "$@"
