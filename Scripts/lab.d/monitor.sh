# shellcheck shell=bash
# Scripts/lab: pv_monitor for the lab root, where no systemd runs pv_monitor.service: the static
# release build (as a server runs it), supervised like the lab's other servers, so that
# `pv_monitor show --json --root .lab/root` answers once `up` is done.

MONITOR_BIN_DIR=$REPO/.build-static/release

monitor_up() { monitor_start monitor "$ROOT_DIR"; }

# Runs pv_monitor for ROOT as the lab's server NAME (monitor: the lab root; monitor-demo: the
# demo's), from the static build, made first if missing or older than the sources.
monitor_start() {
    local name=$1 root=$2 pid
    if pid=$(server_pid "$name"); then
        # Kept unless it runs another build (a session's rebuild) or root: then restarted.
        if [ "$(readlink "/proc/$pid/exe")" = "$MONITOR_BIN_DIR/pv_monitor" ] &&
           tr '\0' ' ' < "/proc/$pid/cmdline" | grep -q -- "--root $root "; then return 0; fi
        stop_server "$name" 15
    fi
    say "building pv_monitor (static release, as the bundle ships it)"
    flock /tmp/pv-build.lock "$SCRIPTS/build-static" --product pv_monitor > "$LOGS/monitor-build.log" 2>&1 ||
        { show_log_tail "$LOGS/monitor-build.log"; die "pv_monitor did not build; read $LOGS/monitor-build.log"; }
    mkdir -p "$root/run/monitor"
    start_server "$name" "$MONITOR_BIN_DIR/pv_monitor" run --root "$root"
    wait_for "$name" "pv_monitor's dnstap socket" 10 "$LOGS/$name.log" test -S "$root/run/monitor/dnstap.sock"
    say "pv_monitor runs for $root (pid $(server_pid "$name"))"
}

# The first sample: one interval after the start (monitor_interval, 10 s by default).
monitor_wait() {
    wait_for monitor "pv_monitor's first sample" 30 "$LOGS/monitor.log" \
        "$MONITOR_BIN_DIR/pv_monitor" show --json --root "$ROOT_DIR"
}

# Every pv_monitor the lab started (the lab root's, the demo's).
monitor_down() {
    local f name
    for f in "$PIDS"/monitor*.supervisor.pid; do
        [ -e "$f" ] || continue
        name=${f##*/}
        stop_server "${name%.supervisor.pid}" 15
    done
}

monitor_status() {
    local pid
    if pid=$(server_pid monitor); then
        echo "monitor: running (pid $pid, pv_monitor for $ROOT_DIR)"
    else
        echo "monitor: stopped"
        return 1
    fi
}
