#!/bin/sh
# Entrypoint of a broken monitoring release: it starts, then dies after a second.
echo "pv-monitoring $(cat /pv-version): simulated start-up failure" >&2
sleep 1
exit 1
