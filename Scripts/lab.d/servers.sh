# shellcheck shell=bash
# Scripts/lab: starting, checking and stopping the lab's servers.
#
# PID 1 here does not reap orphans, so each server runs as the child of its own
# `tini -s` (Debian's tini): a child subreaper that stays the server's parent, reaps
# it, and reaps whatever the server double-forks (containerd shims under dockerd).
# tini forwards the signals it gets to the server alone (no -g), and exits with the
# server's status as soon as the server is gone. pids/NAME.pid is the server,
# pids/NAME.supervisor.pid its tini; `down` ends the server by its pid.

# A pid is alive if /proc has it and it is not a zombie (PID 1 here never reaps).
alive() {
    local pid=$1 stat
    [[ "$pid" =~ ^[0-9]+$ ]] || return 1
    stat=$(cat "/proc/$pid/stat" 2>/dev/null) || return 1
    stat=${stat##*) }
    [ "${stat:0:1}" != Z ]
}

# True if PID is alive and its command line contains TOKEN.
runs() {
    local pid=$1 token=$2 cmdline
    alive "$pid" || return 1
    cmdline=$(tr '\0' ' ' < "/proc/$pid/cmdline" 2>/dev/null) || return 1
    [[ "$cmdline" == *"$token"* ]]
}

server_token() {
    case "$1" in
        dockerd) echo dockerd ;;
        registry) echo docker-registry ;;
        rabbitmq) echo rabbitmq-server ;;
        epmd) echo epmd ;;
        monitor*) echo pv_monitor ;;
        *) echo "$1" ;;
    esac
}

# The recorded pid of server NAME, if it is alive and still runs the expected program.
server_pid() {
    local name=$1 pid
    pid=$(cat "$PIDS/$name.pid" 2>/dev/null) || return 1
    runs "$pid" "$(server_token "$name")" || return 1
    echo "$pid"
}

# The recorded pid of the tini above server NAME, if it is still that tini.
supervisor_pid() {
    local pid
    pid=$(cat "$PIDS/$1.supervisor.pid" 2>/dev/null) || return 1
    runs "$pid" "tini -s" || return 1
    echo "$pid"
}

running() { server_pid "$1" >/dev/null; }

# Close every descriptor above 2 in the calling (sub)shell: a server must not inherit
# the lab lock (fd 9: it would hold the lock forever) nor a pipe someone waits on.
close_fds() {
    local fd
    for fd in /proc/"$BASHPID"/fd/*; do
        fd=${fd##*/}
        if ((fd > 2)); then exec {fd}>&-; fi
    done
}

# Start a server detached under tini, logging to logs/NAME.log; records both pids.
# If the server dies at once, only the supervisor pid is recorded: callers see it
# as not running and read the log.
start_server() {
    local name=$1 log=$LOGS/$1.log spid pid='' token
    shift
    token=$(server_token "$name")
    rm -f "$PIDS/$name.pid" "$PIDS/$name.supervisor.pid"
    echo "==== $(date '+%Y-%m-%d %H:%M:%S') lab: starting $name" >> "$log"
    # setsid: no terminal's SIGINT/SIGHUP reaches the server. env --default-signal: undo
    # the SIGINT/SIGQUIT ignore bash gives background jobs, which tini would pass on.
    # (setsid does not fork here, so $! is tini's pid.)
    (cd "$LAB" && close_fds && exec setsid env --default-signal tini -s -- "$@" \
        </dev/null >>"$log" 2>&1) &
    spid=$!
    local deadline=$(($(now_ms) + 5000))
    until pid=$(pgrep -P "$spid" 2>/dev/null | head -n 1) && runs "$pid" "$token"; do
        pid=
        if ! alive "$spid"; then break; fi
        if (( $(now_ms) > deadline )); then
            show_log_tail "$log"
            die "$name: tini (pid $spid) did not start it within 5 s; read $log"
        fi
        sleep 0.02
    done
    echo "$spid" > "$PIDS/$name.supervisor.pid"
    if [ -n "$pid" ]; then
        echo "$pid" > "$PIDS/$name.pid"
        echo "$(date '+%Y-%m-%d %H:%M:%S') lab: $name is pid $pid, under tini -s (pid $spid): $*" >> "$log"
    fi
}

# Poll CHECK... every 0.1 s until it succeeds; fail after TIMEOUT seconds, or at once if
# server NAME (when given) has died. Usage: wait_for NAME|- WHAT TIMEOUT LOG CHECK...
wait_for() {
    local name=$1 what=$2 timeout=$3 log=$4
    shift 4
    local deadline=$(($(now_ms) + timeout * 1000))
    until "$@" >/dev/null 2>&1; do
        if [ "$name" != - ] && ! running "$name"; then
            show_log_tail "$log"
            die "$what: $name exited while starting; read $log"
        fi
        if (( $(now_ms) > deadline )); then
            show_log_tail "$log"
            die "$what did not come up within ${timeout} s; read $log"
        fi
        sleep 0.1
    done
}

# SIGTERM every live PID, wait up to GRACE s, then SIGKILL those left. Quiet.
end_pids() {
    local grace=$1 pid left deadline
    shift
    [ $# -gt 0 ] || return 0
    kill -TERM "$@" 2>/dev/null || true
    deadline=$(($(now_ms) + grace * 1000))
    while (( $(now_ms) < deadline )); do
        left=0
        for pid in "$@"; do alive "$pid" && left=1; done
        [ $left = 0 ] && return 0
        sleep 0.05
    done
    kill -KILL "$@" 2>/dev/null || true
    sleep 0.1
}

# Stop server NAME: first what its tini adopted (double-forked leftovers, ended while
# tini is alive to reap them), then the server by its recorded pid (SIGTERM, TIMEOUT s,
# then SIGKILL to its whole process group: tini made it a group leader), then tini,
# which exits right after the server; last, anything of the group still left.
stop_server() {
    local name=$1 timeout=$2 pid='' spid='' deadline p leftovers=() log=$LOGS/$1.log
    spid=$(supervisor_pid "$name") || spid=
    pid=$(server_pid "$name") || pid=
    if [ -n "$spid" ]; then
        for p in $(pgrep -P "$spid" 2>/dev/null); do
            [ "$p" = "$pid" ] || leftovers+=("$p")
        done
        if [ ${#leftovers[@]} -gt 0 ]; then
            echo "$(date '+%Y-%m-%d %H:%M:%S') lab: ending processes tini adopted: ${leftovers[*]}" >> "$log"
            end_pids 5 "${leftovers[@]}"
        fi
    fi
    if [ -n "$pid" ]; then
        say "stopping $name (pid $pid)"
        kill -TERM "$pid" 2>/dev/null || true
        deadline=$(($(now_ms) + timeout * 1000))
        while alive "$pid" && (( $(now_ms) < deadline )); do sleep 0.1; done
        if alive "$pid"; then
            warn "$name (pid $pid) did not stop within ${timeout} s: sending SIGKILL"
            kill -KILL -- "-$pid" 2>/dev/null || kill -KILL "$pid" 2>/dev/null || true
            sleep 0.2
        fi
    fi
    if [ -n "$spid" ]; then
        deadline=$(($(now_ms) + 5000))
        while alive "$spid" && (( $(now_ms) < deadline )); do sleep 0.05; done
        if alive "$spid"; then
            warn "tini above $name (pid $spid) still there: sending SIGKILL"
            kill -KILL "$spid" 2>/dev/null || true
        fi
    fi
    if [ -n "$pid" ]; then
        mapfile -t leftovers < <(pgrep -g "$pid" 2>/dev/null)
        if [ ${#leftovers[@]} -gt 0 ]; then
            echo "$(date '+%Y-%m-%d %H:%M:%S') lab: ending what is left of $name's process group: ${leftovers[*]}" >> "$log"
            end_pids 5 "${leftovers[@]}"
        fi
    fi
    rm -f "$PIDS/$name.pid" "$PIDS/$name.supervisor.pid"
}
