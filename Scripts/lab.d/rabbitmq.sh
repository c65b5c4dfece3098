# shellcheck shell=bash
# Scripts/lab: RabbitMQ on 127.0.0.1:5672 and its epmd on 127.0.0.1:4369, as root,
# started straight from /usr/lib/rabbitmq/bin (the /usr/sbin wrappers switch user and
# drop the environment). The broker, rabbitmqctl and status all use RMQ_ENV.

RMQ_ENV=(
    "HOME=$RMQ_DIR/home"
    "RABBITMQ_NODENAME=$RMQ_NODE"
    "RABBITMQ_MNESIA_BASE=$RMQ_DIR/mnesia"
    "RABBITMQ_LOG_BASE=$LOGS/rabbitmq"
    "RABBITMQ_PID_FILE=$RMQ_DIR/rabbitmq.pid"
    "RABBITMQ_CONFIG_FILE=$RMQ_DIR/rabbitmq.conf"
    "RABBITMQ_ADVANCED_CONFIG_FILE=$RMQ_DIR/advanced.config"
    "RABBITMQ_ENABLED_PLUGINS_FILE=$RMQ_DIR/enabled_plugins"
    "RABBITMQ_CONF_ENV_FILE=$RMQ_DIR/rabbitmq-env.conf"
    "RABBITMQ_DIST_PORT=25672"
    "RABBITMQ_SERVER_ADDITIONAL_ERL_ARGS=-kernel inet_dist_use_interface {127,0,0,1}"
    "ERL_EPMD_ADDRESS=127.0.0.1"
    "ERL_EPMD_PORT=$EPMD_PORT"
)
RMQ_BIN=/usr/lib/rabbitmq/bin

# The user as a definitions file, imported at boot: no rabbitmqctl run to create it,
# and the password never appears in a command line. The hash is what RabbitMQ's
# rabbit_password_hashing_sha256 stores: base64(salt + sha256(salt + password)).
rabbitmq_definitions() {
    local salt hash
    salt=$(mktemp "$RMQ_DIR/salt.XXXXXX")
    head -c 4 /dev/urandom > "$salt"
    hash=$({ cat "$salt"; tr -d '\n' < "$RMQ_PASSWORD_FILE"; } | openssl dgst -sha256 -binary |
        cat "$salt" - | base64 -w 0)
    rm -f "$salt"
    [ -n "$hash" ] || die "could not hash the RabbitMQ password (openssl)"
    cat <<EOJ
{
  "users": [{"name": "$RMQ_USER", "password_hash": "$hash",
             "hashing_algorithm": "rabbit_password_hashing_sha256", "tags": []}],
  "vhosts": [{"name": "/"}],
  "permissions": [{"user": "$RMQ_USER", "vhost": "/", "configure": ".*", "write": ".*", "read": ".*"}]
}
EOJ
}

rabbitmq_prepare() {
    mkdir -p "$RMQ_DIR/home" "$RMQ_DIR/mnesia" "$LOGS/rabbitmq"
    if [ ! -s "$RMQ_PASSWORD_FILE" ]; then
        (umask 077; random_hex 16 > "$RMQ_PASSWORD_FILE")
        rm -f "$RMQ_DIR/definitions.json"
    fi
    chmod 600 "$RMQ_PASSWORD_FILE"
    if [ ! -s "$RMQ_DIR/definitions.json" ]; then
        (umask 077; rabbitmq_definitions > "$RMQ_DIR/definitions.json")
    fi
    cat > "$RMQ_DIR/rabbitmq.conf" <<EOF2
# Lab broker: loopback only; user $RMQ_USER from definitions.json (no guest user).
listeners.tcp.1 = 127.0.0.1:$RMQ_PORT
load_definitions = $RMQ_DIR/definitions.json
EOF2
    echo '[].' > "$RMQ_DIR/enabled_plugins"
    : > "$RMQ_DIR/rabbitmq-env.conf"
    # The Erlang cookie, created before the node so it is never generated concurrently.
    if [ ! -s "$RMQ_DIR/home/.erlang.cookie" ]; then
        (umask 077; random_hex 16 | tr a-f A-F > "$RMQ_DIR/home/.erlang.cookie")
        chmod 400 "$RMQ_DIR/home/.erlang.cookie"
    fi
}

# The broker listens and accepts the lab user: its AMQP port is open and
# `rabbitmqctl authenticate_user` (password on stdin, not in a command line) succeeds.
rabbitmq_login_ok() {
    tcp_open 127.0.0.1 "$RMQ_PORT" || return 1
    env "${RMQ_ENV[@]}" timeout 20 "$RMQ_BIN/rabbitmqctl" --node "$RMQ_NODE" --quiet \
        authenticate_user "$RMQ_USER" < "$RMQ_PASSWORD_FILE" >/dev/null 2>&1
}

# Starts epmd and the broker without waiting for the broker (it takes ~4 s).
RMQ_STARTED=''
rabbitmq_start() {
    rabbitmq_prepare
    if running epmd; then
        :
    elif tcp_open 127.0.0.1 "$EPMD_PORT"; then
        warn "an epmd not started by the lab already listens on 127.0.0.1:$EPMD_PORT: using it"
    else
        start_server epmd epmd -address 127.0.0.1 -port "$EPMD_PORT"
        wait_for epmd "epmd on 127.0.0.1:$EPMD_PORT" 10 "$LOGS/epmd.log" tcp_open 127.0.0.1 "$EPMD_PORT"
    fi
    if running rabbitmq && tcp_open 127.0.0.1 "$RMQ_PORT"; then
        say "rabbitmq already running (pid $(server_pid rabbitmq))"
        return
    fi
    if ! running rabbitmq; then
        tcp_open 127.0.0.1 "$RMQ_PORT" && die "port $RMQ_PORT is taken by a broker the lab did not start"
        start_server rabbitmq env "${RMQ_ENV[@]}" "$RMQ_BIN/rabbitmq-server"
        say "rabbitmq starting (pid $(server_pid rabbitmq))"
    fi
    RMQ_STARTED=1
}

rabbitmq_finish() {
    local log=$LOGS/rabbitmq.log
    wait_for rabbitmq "rabbitmq on 127.0.0.1:$RMQ_PORT (login as $RMQ_USER)" 90 "$log" rabbitmq_login_ok
    if [ -n "$RMQ_STARTED" ]; then
        say "rabbitmq running (pid $(server_pid rabbitmq), amqp://127.0.0.1:$RMQ_PORT, user $RMQ_USER) ($(elapsed))"
    fi
}

rabbitmq_down() {
    stop_server rabbitmq 30
    stop_server epmd 5
}

rabbitmq_status() {
    local pid epmd_pid detail
    if pid=$(server_pid rabbitmq) && tcp_open 127.0.0.1 "$RMQ_PORT"; then
        detail="pid $pid, amqp://127.0.0.1:$RMQ_PORT"
        if epmd_pid=$(server_pid epmd); then detail+=", epmd pid $epmd_pid"; fi
        if rabbitmq_login_ok; then
            echo "rabbitmq: running ($detail, login $RMQ_USER ok)"
        else
            echo "rabbitmq: stopped ($detail, but login as $RMQ_USER fails)"; return 1
        fi
    else
        echo "rabbitmq: stopped"; return 1
    fi
}
