# shellcheck shell=bash
# Scripts/lab: the Debian packages. The list is Scripts/deps's (--lab), kept there only.

ensure_packages() {
    local missing log=$LOGS/apt.log
    missing=$("$SCRIPTS/deps" --lab --missing) || die "Scripts/deps --lab --missing failed"
    [ -n "$missing" ] || return 0
    say "installing packages: $missing (log: $log)"
    if ! "$SCRIPTS/deps" --lab >> "$log" 2>&1; then
        show_log_tail "$log"
        die "apt-get failed to install: $missing; read $log"
    fi
    say "packages installed ($(elapsed))"
}
