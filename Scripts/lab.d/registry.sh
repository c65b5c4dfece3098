# shellcheck shell=bash
# Scripts/lab: the image registry (Debian's docker-registry) on 127.0.0.1:5000.

registry_ping() { curl -fs --max-time 2 "http://$REGISTRY/v2/" >/dev/null; }

registry_up() {
    if running registry && registry_ping; then
        say "registry already running (pid $(server_pid registry))"
        return
    fi
    running registry && stop_server registry 5
    mkdir -p "$REGISTRY_DIR/data"
    cat > "$REGISTRY_DIR/config.yml" <<EOF
# Lab image registry: no auth, loopback only, deletes allowed.
version: 0.1
log:
  level: warn     # one access-log line per request still goes to logs/registry.log
storage:
  filesystem:
    rootdirectory: "$REGISTRY_DIR/data"
  delete:
    enabled: true
http:
  addr: $REGISTRY
EOF
    start_server registry docker-registry serve "$REGISTRY_DIR/config.yml"
    wait_for registry "image registry on $REGISTRY" 20 "$LOGS/registry.log" registry_ping
    say "registry running (pid $(server_pid registry), http://$REGISTRY) ($(elapsed))"
}

registry_status() {
    local pid
    if pid=$(server_pid registry) && registry_ping; then
        echo "registry: running (pid $pid, http://$REGISTRY)"
    else
        echo "registry: stopped"; return 1
    fi
}
