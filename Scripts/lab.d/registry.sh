# shellcheck shell=bash
# Scripts/lab: the image registry (Debian's docker-registry) on 127.0.0.1:5000, and the same
# images behind TLS and htpasswd on 127.0.0.1:5443 (a vendor's private registry).

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

auth_registry_ping() {
    [ "$(curl -s -o /dev/null -w '%{http_code}' --max-time 2 --cacert "$AUTH_REGISTRY_DIR/ca.pem" "https://$AUTH_REGISTRY/v2/")" = 401 ]
}

# A private CA and a server certificate for 127.0.0.1 (openssl), the password in
# $AUTH_REGISTRY_DIR/password (0600), its bcrypt hash for the registry (htpasswd -B), and the CA
# where this host's Docker engine reads it, so that docker pull trusts the registry.
auth_registry_up() {
    if running registry-auth && auth_registry_ping; then
        say "authenticated registry already running (pid $(server_pid registry-auth))"
        return
    fi
    running registry-auth && stop_server registry-auth 5
    local d=$AUTH_REGISTRY_DIR
    mkdir -p "$d"
    if [ ! -s "$d/server.pem" ] || ! openssl x509 -checkend 86400 -noout -in "$d/server.pem" >/dev/null 2>&1; then
        (umask 077
         openssl req -x509 -newkey ec -pkeyopt ec_paramgen_curve:P-256 -nodes -days 30 \
             -subj "/CN=ProVision lab registry CA" -keyout "$d/ca.key" -out "$d/ca.pem" >/dev/null 2>&1 &&
         openssl req -newkey ec -pkeyopt ec_paramgen_curve:P-256 -nodes -subj "/CN=127.0.0.1" \
             -keyout "$d/server.key" -out "$d/server.csr" >/dev/null 2>&1 &&
         printf 'subjectAltName=IP:127.0.0.1\nbasicConstraints=CA:FALSE\nextendedKeyUsage=serverAuth\n' > "$d/server.ext" &&
         openssl x509 -req -in "$d/server.csr" -CA "$d/ca.pem" -CAkey "$d/ca.key" -CAcreateserial -days 30 \
             -extfile "$d/server.ext" -out "$d/server.pem" >/dev/null 2>&1) ||
            die "making the authenticated registry's certificates failed"
        chmod 644 "$d/ca.pem" "$d/server.pem"
    fi
    [ -s "$d/password" ] || (umask 077; openssl rand -hex 12 > "$d/password")
    htpasswd -Bbn "$AUTH_REGISTRY_USER" "$(cat "$d/password")" > "$d/htpasswd" 2>/dev/null ||
        die "htpasswd (apache2-utils) failed; run Scripts/deps --lab"
    mkdir -p "$ENGINE_CERTS_DIR"
    install -m 0644 "$d/ca.pem" "$ENGINE_CERTS_DIR/ca.crt"
    cat > "$d/config.yml" <<EOF
# Lab registry as vendors run it: TLS (the lab's CA), htpasswd, read-only over the lab's images.
version: 0.1
log:
  level: warn
storage:
  filesystem:
    rootdirectory: "$REGISTRY_DIR/data"
  maintenance:
    readonly:
      enabled: true
auth:
  htpasswd:
    realm: "ProVision lab registry"
    path: "$d/htpasswd"
http:
  addr: $AUTH_REGISTRY
  tls:
    certificate: "$d/server.pem"
    key: "$d/server.key"
EOF
    start_server registry-auth docker-registry serve "$d/config.yml"
    wait_for registry-auth "authenticated registry on $AUTH_REGISTRY" 20 "$LOGS/registry-auth.log" auth_registry_ping
    say "authenticated registry running (pid $(server_pid registry-auth), https://$AUTH_REGISTRY, user $AUTH_REGISTRY_USER) ($(elapsed))"
}

auth_registry_down() {
    stop_server registry-auth 10
    rm -rf "$ENGINE_CERTS_DIR"
}

auth_registry_status() {
    local pid
    if pid=$(server_pid registry-auth) && auth_registry_ping; then
        echo "registry-auth: running (pid $pid, https://$AUTH_REGISTRY, htpasswd, TLS)"
    else
        echo "registry-auth: stopped"; return 1
    fi
}
