# shellcheck shell=bash
# Scripts/lab: the private Docker engine (dockerd under .lab/docker) and mounts it leaves.

# dockerd puts unix sockets under its exec root: keep that path short.
exec_root() {
    local recorded=$DOCKER_DIR/exec-root.path
    if [ -f "$recorded" ]; then cat "$recorded"; return; fi
    local dir=$DOCKER_DIR/exec
    if [ ${#dir} -gt 50 ]; then
        dir=/run/pvlab-$(printf '%s' "$LAB" | md5sum | cut -c1-10)-exec
    fi
    mkdir -p "$DOCKER_DIR"
    printf '%s\n' "$dir" > "$recorded"
    echo "$dir"
}

engine_ping() {
    [ "$(curl -s --max-time 2 --unix-socket "$DOCKER_SOCK" http://lab/_ping)" = OK ]
}

engine_up() {
    if running dockerd && engine_ping; then
        say "engine already running (pid $(server_pid dockerd))"
        return
    fi
    running dockerd && stop_server dockerd 20
    [ ${#DOCKER_SOCK} -lt 100 ] || die "engine socket path is too long for a unix socket: $DOCKER_SOCK"
    [ -S /run/containerd/containerd.sock ] &&
        warn "a system containerd runs at /run/containerd/containerd.sock: dockerd 20.10 will use it"
    local execroot driver
    execroot=$(exec_root)
    mkdir -p "$DOCKER_DIR/data" "$execroot"
    echo '{}' > "$DOCKER_DIR/daemon.json"
    driver=$(cat "$DOCKER_DIR/storage-driver" 2>/dev/null || echo overlay2)
    local attempt log=$LOGS/dockerd.log offset
    for attempt in 1 2; do
        offset=$(stat -c %s "$log" 2>/dev/null || echo 0)
        start_server dockerd dockerd \
            --config-file "$DOCKER_DIR/daemon.json" \
            --host "unix://$DOCKER_SOCK" \
            --data-root "$DOCKER_DIR/data" \
            --exec-root "$execroot" \
            --pidfile "$execroot/docker.pid" \
            --iptables=false --ip6tables=false --ip-masq=false --bridge=none \
            --storage-driver "$driver" \
            --log-level warn
        local deadline=$(($(now_ms) + 30000))
        until engine_ping; do
            if ! running dockerd || (( $(now_ms) > deadline )); then break; fi
            sleep 0.1
        done
        engine_ping && break
        # Only what this dockerd wrote: "error initializing graphdriver: driver not supported".
        if [ "$driver" = overlay2 ] && [ $attempt = 1 ] && ! running dockerd \
            && tail -c +$((offset + 1)) "$log" | grep -q "error initializing graphdriver"; then
            warn "overlay2 does not work on this filesystem: falling back to vfs"
            stop_server dockerd 5
            driver=vfs
            continue
        fi
        show_log_tail "$log"
        if running dockerd; then
            die "docker engine did not answer on $DOCKER_SOCK within 30 s; read $log"
        fi
        die "docker engine exited while starting; read $log"
    done
    echo "$driver" > "$DOCKER_DIR/storage-driver"
    say "engine running (pid $(server_pid dockerd), storage $driver, $DOCKER_HOST) ($(elapsed))"
}

engine_down() {
    if running dockerd && engine_ping; then
        local ids=()
        mapfile -t ids < <(timeout 30 docker ps -aq 2>/dev/null || true)
        if [ ${#ids[@]} -gt 0 ]; then
            say "removing containers: $(timeout 30 docker ps -a --format '{{.Names}}' | tr '\n' ' ')"
            timeout 60 docker rm -f "${ids[@]}" >/dev/null 2>&1 || warn "docker rm -f failed for some containers"
        fi
    fi
    stop_server dockerd 20
    unmount_under "$DOCKER_DIR"
    if [ -f "$DOCKER_DIR/exec-root.path" ]; then
        unmount_under "$(cat "$DOCKER_DIR/exec-root.path")"
    fi
}

# Lazily unmount every mount point at or below DIR, deepest first.
unmount_under() {
    local dir=$1 mp
    [ -n "$dir" ] || return 0
    while read -r mp; do
        if umount -l "$mp" 2>/dev/null; then say "unmounted $mp"; else warn "could not unmount $mp"; fi
    done < <(mounts_under "$dir" | sort -r)
}

mounts_under() {
    local dir=$1
    awk -v d="$dir" '{ mp = $5; gsub(/\\040/, " ", mp); if (mp == d || index(mp, d "/") == 1) print mp }' \
        /proc/self/mountinfo
}

engine_status() {
    local pid
    if pid=$(server_pid dockerd) && engine_ping; then
        echo "engine: running (pid $pid, storage $(cat "$DOCKER_DIR/storage-driver" 2>/dev/null), $DOCKER_HOST)"
    else
        echo "engine: stopped"; return 1
    fi
}
