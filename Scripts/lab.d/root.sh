# shellcheck shell=bash
# Scripts/lab: the sandbox install root (.lab/root, its provision.conf) and .lab/env.

root_up() {
    mkdir -p "$ROOT_DIR/etc" "$ROOT_DIR/libs" "$ROOT_DIR/logs" "$ROOT_DIR/state" "$ROOT_DIR/data"
    local token password content
    token=$(sed -n 's/^management_token = \([0-9a-f]\{32\}\)$/\1/p' "$PROVISION_CONF" 2>/dev/null || true)
    [ -n "$token" ] || token=$(random_hex 16)
    password=$(cat "$RMQ_PASSWORD_FILE")
    content="# ProVision managed server configuration (lab)
resource_id = lab-1
management_url = http://127.0.0.1:8480
management_token = $token
registry = $REGISTRY
image_dns = pv-dns
image_dhcp = pv-dhcp
image_monitoring = pv-monitoring
docker_host = unix://$DOCKER_SOCK
dns_listen = $DNS_LISTEN
dns_verify_server = 127.0.0.1
dns_verify_port = $DNS_PORT
dhcp_server_interface = $LINK_SRV
dhcp_verify_interface = $LINK_CLI
rabbitmq_uri = amqp://$RMQ_USER:$password@127.0.0.1:$RMQ_PORT/%2F"
    write_private "$PROVISION_CONF" "$content" && say "wrote $PROVISION_CONF"
    content="export DOCKER_HOST=$(printf '%q' "unix://$DOCKER_SOCK")
export PV_ROOT=$(printf '%q' "$ROOT_DIR")
export PV_LAB=$(printf '%q' "$LAB")"
    if [ ! -f "$ENV_FILE" ] || [ "$(cat "$ENV_FILE")" != "$content" ]; then
        printf '%s\n' "$content" > "$ENV_FILE"
        say "wrote $ENV_FILE"
    fi
}
