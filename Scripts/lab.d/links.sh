# shellcheck shell=bash
# Scripts/lab: the veth links (and the network namespace) for DHCP.

# A veth pair in this namespace, up, with ADDRESS on its server end (made again when half of it is left).
veth_up() {  # SERVER CLIENT ADDRESS
    local srv=$1 cli=$2 addr=$3
    if ip link show "$srv" >/dev/null 2>&1 && ! ip link show "$cli" >/dev/null 2>&1; then
        ip link del "$srv"
    fi
    if ! ip link show "$srv" >/dev/null 2>&1; then
        ip link add "$srv" type veth peer name "$cli"
        say "created veth $srv <-> $cli"
    fi
    ip addr replace "$addr" dev "$srv"
    ip link set "$srv" up
    ip link set "$cli" up
}

links_up() {
    # The DHCP verification link. Kea needs the server end before it starts.
    veth_up "$LINK_SRV" "$LINK_CLI" "$LINK_ADDR"
    # The integration tests' own verification link.
    veth_up "$IT_SRV" "$IT_CLI" "$IT_ADDR"
    # The demo server's.
    veth_up "$DEMO_SRV" "$DEMO_CLI" "$DEMO_ADDR"

    # The link for fake DHCP servers: the server end lives in its own network namespace.
    if ! ip netns list | grep -qx "$FAKE_NETNS\( (id: [0-9]*)\)\?"; then
        ip netns add "$FAKE_NETNS"
        say "created netns $FAKE_NETNS"
    fi
    if ! ip -n "$FAKE_NETNS" link show "$FAKE_SRV" >/dev/null 2>&1; then
        ip link del "$FAKE_CLI" >/dev/null 2>&1 || true
        ip link add "$FAKE_CLI" type veth peer name "$FAKE_SRV" netns "$FAKE_NETNS"
        say "created veth $FAKE_CLI <-> $FAKE_NETNS/$FAKE_SRV"
    fi
    ip -n "$FAKE_NETNS" addr replace "$LINK_ADDR" dev "$FAKE_SRV"
    ip -n "$FAKE_NETNS" link set lo up
    ip -n "$FAKE_NETNS" link set "$FAKE_SRV" up
    ip link set "$FAKE_CLI" up
    printf '%s\n' "veth $LINK_SRV" "veth $IT_SRV" "veth $DEMO_SRV" "veth $FAKE_CLI" "netns $FAKE_NETNS" > "$STATE/links"
}

links_ok() {
    ip -4 -o addr show dev "$LINK_SRV" 2>/dev/null | grep -q " ${LINK_ADDR%/*}/" || return 1
    ip link show "$LINK_SRV" 2>/dev/null | grep -q ',UP' || return 1
    ip link show "$LINK_CLI" 2>/dev/null | grep -q ',UP' || return 1
    ip link show "$FAKE_CLI" 2>/dev/null | grep -q ',UP' || return 1
    ip -4 -o addr show dev "$IT_SRV" 2>/dev/null | grep -q " ${IT_ADDR%/*}/" || return 1
    ip link show "$IT_CLI" 2>/dev/null | grep -q ',UP' || return 1
    ip -4 -o addr show dev "$DEMO_SRV" 2>/dev/null | grep -q " ${DEMO_ADDR%/*}/" || return 1
    ip link show "$DEMO_CLI" 2>/dev/null | grep -q ',UP' || return 1
    ip -n "$FAKE_NETNS" -4 -o addr show dev "$FAKE_SRV" 2>/dev/null | grep -q " ${LINK_ADDR%/*}/" || return 1
    ip -n "$FAKE_NETNS" link show "$FAKE_SRV" 2>/dev/null | grep -q ',UP' || return 1
}

links_down() {
    [ -f "$STATE/links" ] || return 0
    local kind name
    while read -r kind name; do
        case "$kind" in
            veth) if ip link del "$name" >/dev/null 2>&1; then say "deleted veth $name"; fi ;;
            netns) if ip netns del "$name" >/dev/null 2>&1; then say "deleted netns $name"; fi ;;
        esac
    done < "$STATE/links"
    rm -f "$STATE/links"
}

links_status() {
    if links_ok; then
        echo "links: running ($LINK_SRV ${LINK_ADDR} <-> $LINK_CLI; $IT_SRV ${IT_ADDR} <-> $IT_CLI; $FAKE_CLI <-> $FAKE_NETNS/$FAKE_SRV ${LINK_ADDR})"
    else
        echo "links: stopped (expected $LINK_SRV/$LINK_CLI up and $FAKE_CLI <-> $FAKE_NETNS/$FAKE_SRV)"; return 1
    fi
}
