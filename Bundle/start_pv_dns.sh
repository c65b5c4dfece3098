#!/bin/sh
# Starts the dns component. Options: -v/--version VERSION, -b/--bash (debug shell), -h.
# Installed in <root>/libs; the root is this script's parent unless PV_ROOT is set.
here=$(CDPATH='' cd -- "$(dirname -- "$0")" && pwd) || exit 1
PV_ROOT=${PV_ROOT:-$(dirname -- "$here")}
export PV_ROOT
exec "$here/pv_start" dns "$@"
