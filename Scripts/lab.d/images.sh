# shellcheck shell=bash
# Scripts/lab: the component images (pv-dns, pv-dhcp, pv-monitoring), built locally and pushed
# to the lab registry in every version of VERSIONS, plus latest.

registry_tags() {
    curl -fsS --max-time 5 "http://$REGISTRY/v2/$1/tags/list" 2>/dev/null | tr -d ' \n' || true
}

has_tag() { [[ "$1" == *"\"$2\""* ]]; }

# What a component's images are made from: when it changes (a tool added to the monitoring
# image), the lab rebuilds that component's tags instead of keeping the old ones.
recipe_hash() {
    { cat "$SCRIPTS/images/build-rootfs" "$SCRIPTS/images/$1"/*; handoff_label "$1"; } | sha256sum | cut -c1-16
}

# The DNS images take part in the update handoff (their start.sh: tcp-reuseport, socket-affinity,
# the control socket from PV_KNOT_CONTROL_SOCKET); the others are stopped, then started.
handoff_label() { if [ "$1" = dns ]; then echo reuseport; fi; }

# Build and push the missing tags of one component; runs as a background job.
# Usage: image_component COMPONENT REBUILD(""|1)
#
# The part all versions share (binaries, libraries, busybox: 14-35 MB) is imported
# once as a local base image; each version is the base plus a commit of its own few
# files. The versions then share one big layer, so the registry receives it once:
# dockerd gzips every pushed layer, and that is most of the build time.
image_component() {
    local comp=$1 rebuild=$2 repo=pv-$1 log=$LOGS/images-$1.log
    local tags ver mode dir cid base_ref=pvlab-build/$1-base:latest
    local todo=() remove=() pushed=0 latest_from_build='' recipe=''
    : > "$log"
    recipe=$(recipe_hash "$comp")
    if [ "$(cat "$BUILD/$comp.recipe" 2>/dev/null)" != "$recipe" ]; then rebuild=1; fi
    tags=$(registry_tags "$repo")
    for ver in "${VERSIONS[@]}"; do
        if [ -n "$rebuild" ] || ! has_tag "$tags" "$ver"; then todo+=("$ver"); fi
    done

    if [ ${#todo[@]} -gt 0 ]; then
        dir=$BUILD/$comp-base
        rm -rf "$dir"
        "$SCRIPTS/images/build-rootfs" --base "$comp" "$dir" >> "$log" 2>&1 ||
            { show_log_tail "$log"; die "building the $repo base root filesystem failed; read $log"; }
        tar -C "$dir" --numeric-owner --owner=0 --group=0 -cf - . |
            docker import \
                --change 'ENTRYPOINT ["/start.sh"]' \
                --change 'ENV PATH=/usr/sbin:/usr/bin:/sbin:/bin' \
                --change "LABEL org.provision.component=$comp" \
                - "$base_ref" >> "$log" 2>&1 ||
            { show_log_tail "$log"; die "docker import of the $repo base failed; read $log"; }
        rm -rf "$dir"
        remove+=("$base_ref")
    fi

    for ver in "${todo[@]}"; do
        mode=good
        [ "$ver" = "$FAILING_VERSION" ] && mode=fail
        dir=$BUILD/$comp-$ver
        rm -rf "$dir"
        "$SCRIPTS/images/build-rootfs" --overlay "$comp" "$ver" "$mode" "$dir" >> "$log" 2>&1 ||
            { show_log_tail "$log"; die "building the $repo:$ver files failed; read $log"; }
        cid=$(docker create --network none "$base_ref" 2>> "$log") ||
            { show_log_tail "$log"; die "docker create from the $repo base failed; read $log"; }
        if ! tar -C "$dir" --numeric-owner --owner=0 --group=0 -cf - . | docker cp - "$cid:/" >> "$log" 2>&1 ||
            ! docker commit \
                --change 'ENTRYPOINT ["/start.sh"]' \
                --change "LABEL org.provision.component=$comp" \
                --change "LABEL org.provision.version=$ver" \
                --change "LABEL org.provision.handoff=$(handoff_label "$comp")" \
                "$cid" "$REGISTRY/$repo:$ver" >> "$log" 2>&1; then
            docker rm -f "$cid" >/dev/null 2>&1 || true
            show_log_tail "$log"
            die "committing $repo:$ver failed; read $log"
        fi
        docker rm -f "$cid" >/dev/null 2>&1 || true
        rm -rf "$dir"
        timeout 300 docker push "$REGISTRY/$repo:$ver" >> "$log" 2>&1 ||
            { show_log_tail "$log"; die "docker push of $repo:$ver failed; read $log"; }
        [ "$ver" != "$RUN_VERSION" ] && remove+=("$REGISTRY/$repo:$ver")
        [ "$ver" = "$LATEST_VERSION" ] && latest_from_build=1
        pushed=$((pushed + 1))
        say "image $REGISTRY/$repo:$ver built and pushed ($mode) ($(elapsed))"
    done

    if [ -n "$latest_from_build" ] || ! has_tag "$tags" latest; then
        if [ -z "$latest_from_build" ]; then
            timeout 300 docker pull "$REGISTRY/$repo:$LATEST_VERSION" >> "$log" 2>&1 ||
                { show_log_tail "$log"; die "docker pull of $repo:$LATEST_VERSION failed; read $log"; }
            [ "$LATEST_VERSION" != "$RUN_VERSION" ] && remove+=("$REGISTRY/$repo:$LATEST_VERSION")
        fi
        docker tag "$REGISTRY/$repo:$LATEST_VERSION" "$REGISTRY/$repo:latest"
        timeout 300 docker push "$REGISTRY/$repo:latest" >> "$log" 2>&1 ||
            { show_log_tail "$log"; die "docker push of $repo:latest failed; read $log"; }
        pushed=$((pushed + 1))
        say "image $REGISTRY/$repo:latest -> $LATEST_VERSION pushed"
    fi
    # A real server holds only the version it runs: drop the build base and the local
    # copies of the other versions (tests pull them from the registry, as pv_update does).
    if [ ${#remove[@]} -gt 0 ]; then
        docker rmi "${remove[@]}" >> "$log" 2>&1 || true
    fi
    echo "$pushed" > "$BUILD/$comp.pushed"
    echo "$recipe" > "$BUILD/$comp.recipe"
}

images_up() {
    local rebuild=$1 comp jobs=() failed=() i total=0 n
    mkdir -p "$BUILD"
    rm -f "$BUILD"/*.pushed
    # One job per component: pushing (gzip in dockerd) is the slow part, and two cores
    # run two of them at once.
    for comp in "${COMPONENTS[@]}"; do
        image_component "$comp" "$rebuild" &
        jobs+=($!)
    done
    for i in "${!COMPONENTS[@]}"; do
        wait "${jobs[$i]}" || failed+=("${COMPONENTS[$i]}")
    done
    if [ ${#failed[@]} -gt 0 ]; then
        die "images failed for: ${failed[*]}; read $LOGS/images-${failed[0]}.log"
    fi
    for comp in "${COMPONENTS[@]}"; do
        n=$(cat "$BUILD/$comp.pushed" 2>/dev/null || echo 0)
        total=$((total + n))
    done
    if [ $total -eq 0 ]; then
        say "images already in the registry (${#COMPONENTS[@]} repositories x $((${#VERSIONS[@]} + 1)) tags)"
    else
        say "images: $total tags pushed ($(elapsed))"
    fi
}

images_missing() {
    local comp tags tag missing=()
    for comp in "${COMPONENTS[@]}"; do
        tags=$(registry_tags "pv-$comp")
        for tag in "${VERSIONS[@]}" latest; do
            has_tag "$tags" "$tag" || missing+=("pv-$comp:$tag")
        done
    done
    echo "${missing[*]}"
}

images_status() {
    local missing
    if registry_ping; then
        missing=$(images_missing)
        if [ -z "$missing" ]; then
            echo "images: running (pv-dns, pv-dhcp, pv-monitoring: ${VERSIONS[*]} latest in $REGISTRY)"
        else
            echo "images: stopped (missing: $missing)"; return 1
        fi
    else
        echo "images: stopped (registry unreachable)"; return 1
    fi
}
