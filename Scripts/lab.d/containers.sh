# shellcheck shell=bash
# Scripts/lab: the running components (containers pv-dns, pv-dhcp, pv-monitoring on the
# lab engine, host network) and the end-to-end check that DNS and DHCP answer.

container_state() {
    local state
    if state=$(timeout 10 docker inspect -f '{{.State.Status}}' "$1" 2>/dev/null) && [ -n "$state" ]; then
        echo "$state"
    else
        echo missing
    fi
}

# The arguments of container NAME's docker run, as the agent's ContainerSpec gives them: host
# network, and for DNS and DHCP the components' contract (README, "Monitoring data"): the lab
# root's pv_monitor directory mounted at /run/pv-monitor, the sockets named in the environment.
container_args() {
    local comp=$1 contract=/run/pv-monitor
    args=(--name "pv-$comp" --network host --restart unless-stopped)
    case "$comp" in
        dns) args+=(-e "PV_DNS_LISTEN=$DNS_LISTEN" -e "PV_DNSTAP_SOCKET=$contract/dnstap.sock"
                    -e "PV_KNOT_CONTROL_SOCKET=$contract/knot/knot.sock" -v "$MONITOR_RUN:$contract") ;;
        dhcp) args+=(-e "PV_DHCP_INTERFACE=$LINK_SRV" -e "PV_KEA_CONTROL_SOCKET=$contract/kea4-ctrl.sock"
                     -v "$MONITOR_RUN:$contract") ;;
    esac
}

containers_up() {
    local comp name state args want have arghash
    mkdir -p "$MONITOR_RUN"
    for comp in "${COMPONENTS[@]}"; do
        name=pv-$comp
        container_args "$comp"
        arghash=$(printf '%s\n' "${args[@]}" | sha256sum | cut -c1-16)
        state=$(container_state "$name")
        if [ "$state" = running ]; then
            # Kept unless its image was rebuilt (a changed recipe) or its arguments changed: then it
            # starts again from the new ones.
            want=$(timeout 10 docker image inspect -f '{{.Id}}' "$REGISTRY/pv-$comp:$RUN_VERSION" 2>/dev/null || true)
            have=$(timeout 10 docker inspect -f '{{.Image}} {{index .Config.Labels "pv.lab.args"}}' "$name" 2>/dev/null || true)
            [ -z "$want" ] || [ "$want $arghash" = "$have" ] && continue
            say "container $name runs an older build of pv-$comp:$RUN_VERSION or other arguments: replacing it"
            state=stale
        fi
        [ "$state" != missing ] && timeout 30 docker rm -f "$name" >/dev/null
        args+=(--label "pv.lab.args=$arghash")
        timeout 300 docker run -d "${args[@]}" "$REGISTRY/pv-$comp:$RUN_VERSION" >> "$LOGS/containers.log" 2>&1 ||
            { show_log_tail "$LOGS/containers.log"; die "could not start container $name; read $LOGS/containers.log"; }
        say "container $name started from $REGISTRY/pv-$comp:$RUN_VERSION"
    done
}

dns_ok() {
    [ "$(kdig @127.0.0.1 -p "$DNS_PORT" +time=1 +retry=0 +short TXT pvverify.test 2>/dev/null)" = '"PVOK"' ]
}

dhcp_ok() {
    timeout 10 busybox udhcpc -i "$LINK_CLI" -n -q -f -t 3 -T 1 -s /bin/true >/dev/null 2>&1
}

monitoring_ok() { [ "$(container_state pv-monitoring)" = running ]; }

verify_up() {
    # "docker logs NAME" needs DOCKER_HOST from .lab/env.
    wait_for - "DNS (TXT pvverify.test = PVOK on 127.0.0.1:$DNS_PORT)" 30 "docker logs pv-dns" dns_ok
    wait_for - "DHCP (a lease on $LINK_CLI)" 30 "docker logs pv-dhcp" dhcp_ok
    wait_for - "monitoring container" 10 "docker logs pv-monitoring" monitoring_ok
    say "verified: DNS answers PVOK on 127.0.0.1:$DNS_PORT, DHCP leases on $LINK_CLI ($(elapsed))"
}

containers_status() {
    if engine_ping 2>/dev/null; then
        local comp name line states=() all=0
        for comp in "${COMPONENTS[@]}"; do
            name=pv-$comp
            line=$(timeout 10 docker inspect -f '{{.State.Status}} {{index .Config.Labels "org.provision.version"}}' \
                "$name" 2>/dev/null) || line="missing -"
            states+=("$name=${line% *}@${line#* }")
            [ "${line%% *}" = running ] || all=1
        done
        if [ $all = 0 ]; then
            echo "containers: running (${states[*]})"
        else
            echo "containers: stopped (${states[*]})"; return 1
        fi
    else
        echo "containers: stopped (engine unreachable)"; return 1
    fi
}
