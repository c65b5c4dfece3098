#!/bin/bash
# Entry point of setup-<ID>.tar. On the managed server, in the directory the bundle was copied to
# (a home directory is fine: only the bundle's own files are read):
#     tar -xf setup-<ID>.tar && sudo /bin/bash install_python3.sh
# (The name is historical: ProVision and its documentation call it so.)
# Checks the bundle before running anything from it, then runs every install step. The last line
# is PVOK on success, and never on failure. Arguments are passed to pv_install (for example
# --json, -e STEP, --root DIR).
#     /bin/bash install_python3.sh --prepare-only
# only unpacks and checks the tools into bin/ (for running them one by one from the bundle).
# Needs nothing but bash, coreutils, findutils and gzip: the tools are static executables.
#
# What this script can and cannot vouch for: it is part of the bundle it checks, so it proves the
# bundle is whole, not who made it. A server that pins a signing key installs later bundles with
# the verifier an earlier install left where only root can change it:
#     sudo /usr/libexec/provision/pv_install --from-archive setup-<ID>.tar
# and this script, run as root there, hands over to that verifier before running anything else.
#
# Everything is inside main, called on the last line: bash has read the whole file before any of
# it runs, so a change to this file while it runs changes nothing.
set -u

pin=/etc/provision/bundle-signing.pub
verifier=/usr/libexec/provision/pv_install

fail() {  # exit status, then the lines to print
  local rc=$1; shift
  printf 'install FAILED: %s\n' "$1"; shift
  [ $# -gt 0 ] && printf '%s\n' "$@"
  exit "$rc"
}

# A user private group (named as its owner, no other member) gives no one else write access.
private_group() {  # owner name, group name
  [ "$1" = "$2" ] || return 1
  local members
  members=$(getent group "$2" | cut -d: -f4)
  [ -z "$members" ] || [ "$members" = "$1" ]
}

# The rule pv_install applies too (BundleOwnership): no link; owned by root, by the user running
# this, or by the user who ran sudo; writable by no one else; no setuid or setgid file. tar -xf as
# root restores the archive's owners and modes, which the bundle's signature does not cover.
check_owned() {  # path, "ancestor" for a directory above the bundle
  local path=$1 kind=${2:-} uid mode user group type
  [ -L "$path" ] && fail 77 "refusing to run the bundle: $path is a symbolic link" \
    "Next step: extract setup-<ID>.tar into a directory of its own, without links; nothing from the bundle ran"
  read -r uid mode user group type < <(stat -c '%u %a %U %G %F' -- "$path") || \
    fail 77 "cannot inspect the bundle's $path"
  case " 0 $(id -u) ${SUDO_UID:-} " in
    *" $uid "*) ;;
    *) fail 77 "refusing to run the bundle: $path is owned by $user (uid $uid), not by root or the user installing" \
         "Next step: extract setup-<ID>.tar again as the user who installs (as root: tar --no-same-owner --no-same-permissions -xf setup-<ID>.tar), in a directory no one else can write; nothing from the bundle ran" ;;
  esac
  local perm=$((8#$mode)) sticky=0
  [ "$type" = directory ] && [ $((perm & 8#1000)) -ne 0 ] && sticky=1
  if [ "$sticky" = 0 ]; then
    if [ $((perm & 8#002)) -ne 0 ] || { [ $((perm & 8#020)) -ne 0 ] && ! private_group "$user" "$group"; }; then
      local hint="extract setup-<ID>.tar again (as root: tar --no-same-owner --no-same-permissions -xf setup-<ID>.tar), or chmod go-w $path"
      [ "$kind" = ancestor ] && hint="as root: chmod go-w $path, or extract setup-<ID>.tar in a directory only you can write"
      fail 77 "refusing to run the bundle: $path is writable by others (mode $mode)" "Next step: $hint; nothing from the bundle ran"
    fi
  fi
  if [ "$type" != directory ] && [ $((perm & 8#6000)) -ne 0 ]; then
    fail 77 "refusing to run the bundle: $path is setuid or setgid (mode $mode)" \
      "Next step: as root: chmod ug-s $path; then extract setup-<ID>.tar again (as root: tar --no-same-owner --no-same-permissions -xf setup-<ID>.tar); nothing from the bundle ran"
  fi
}

# The bundle's own files: SHA256SUMS's paths (two spaces after the digest), the manifest and its
# signature, and every directory from / down to each of them. Nothing else here is looked at.
check_bundle_ownership() {
  local here=$1 dir path
  dir=$here
  local ancestors=()
  while dir=$(dirname -- "$dir"); [ "$dir" != / ]; do ancestors=("$dir" "${ancestors[@]}"); done
  for dir in "${ancestors[@]}"; do check_owned "$dir" ancestor; done
  check_owned "$here"
  [ -e SHA256SUMS ] || [ -L SHA256SUMS ] || fail 65 "the bundle has no SHA256SUMS: extract setup-<ID>.tar again"
  check_owned "$here/SHA256SUMS"
  if [ -e SHA256SUMS.sig ] || [ -L SHA256SUMS.sig ]; then check_owned "$here/SHA256SUMS.sig"; fi
  local seen=" "
  while IFS= read -r path; do
    path=${path#*  }
    case "$path" in /*|*..*|'') fail 65 "SHA256SUMS lists '$path': download setup-<ID>.tar again" ;; esac
    dir=$(dirname -- "$path")
    while [ "$dir" != . ]; do
      case "$seen" in *" $dir "*) ;; *) check_owned "$here/$dir"; seen="$seen$dir " ;; esac
      dir=$(dirname -- "$dir")
    done
    if [ -e "$path" ] || [ -L "$path" ]; then check_owned "$here/$path"; fi
  done < SHA256SUMS
}

# The pin counts only if root alone could have put it there: the file and every directory above
# it owned by root, writable by no one else, never through a link (pv_install's BundleTrust rule).
pin_is_roots() {
  local path=$pin uid mode
  while [ "$path" != / ]; do
    [ -L "$path" ] && fail 77 "refusing the pinned signing key $pin: $path is a symbolic link" \
      "Next step: as root, remove it, then pin the key again: $verifier --trust-key FILE"
    read -r uid mode < <(stat -c '%u %a' -- "$path") || fail 77 "cannot inspect $path"
    if [ "$uid" != 0 ] || [ $((8#$mode & 8#022)) -ne 0 ]; then
      fail 77 "refusing the pinned signing key $pin: $path is not root's alone (owner uid $uid, mode $mode)" \
        "Next step: as root: chown root:root $path && chmod go-w $path"
    fi
    path=$(dirname -- "$path")
  done
  [ -f "$pin" ] || fail 77 "refusing the pinned signing key $pin: it is not a regular file"
}

main() {
  local here
  here=$(CDPATH='' cd -- "$(dirname -- "$0")" && pwd -P) || { echo "install FAILED: cannot find the bundle directory"; exit 1; }
  cd "$here" || exit 1
  command -v sha256sum >/dev/null 2>&1 || fail 1 "sha256sum (coreutils) is missing, so the bundle cannot be checked"

  # Who could have written what is about to run: before reading anything else of the bundle.
  check_bundle_ownership "$here"

  # A server that pins a signing key: as root, the verifier root already trusts checks the bundle
  # and starts its pv_install; nothing of the bundle runs as root before that.
  local installer=$here/bin/pv_install
  if [ -e "$pin" ] || [ -L "$pin" ]; then
    pin_is_roots
    if [ "$(id -u)" = 0 ]; then
      [ -x "$verifier" ] || fail 77 "this server pins a bundle signing key ($pin), but the verifier $verifier is missing" \
        "Next step: as root, reinstall the verifier from a bundle you trust (pv_install -e install_libs); nothing from this bundle ran"
      installer=$verifier
    fi
  fi

  if [ "$installer" = "$verifier" ]; then run_installer "$installer" "$here" "$@"; fi

  sha256sum --quiet --strict -c SHA256SUMS || fail 65 "the bundle does not match its manifest (SHA256SUMS): download setup-<ID>.tar again"

  # Without root, on a server that pins a key: the signature is checked here too (openssl 3),
  # then by pv_install, before the bundle is used.
  if [ -e "$pin" ]; then
    [ -f SHA256SUMS.sig ] || fail 65 "this server only installs signed bundles ($pin), and this one carries no SHA256SUMS.sig"
    if ! command -v openssl >/dev/null 2>&1 || ! openssl pkeyutl -help 2>&1 | grep -q -- '-rawin'; then
      fail 65 "a bundle signing key is pinned ($pin), and this server has no openssl 3 (pkeyutl -rawin) to check" \
        "the signature before running anything from the bundle: install openssl 3.0 or later, then run this script again"
    fi
    openssl pkeyutl -verify -pubin -inkey "$pin" -rawin -in SHA256SUMS -sigfile SHA256SUMS.sig >/dev/null 2>&1 || \
      fail 65 "the bundle's signature does not verify against the pinned key ($pin): download setup-<ID>.tar again"
  fi

  # A release bundle ships its tools packed: pv_install as bin/pv_install.gz, started here with
  # gzip and checked against TOOLS.SHA256SUMS (listed in SHA256SUMS, checked above); it unpacks and
  # checks the others from lib/tools.tar.xz itself. Always unpacked anew: an older bin/pv_install
  # left in this directory by an earlier bundle is never run.
  if [ -f bin/pv_install.gz ]; then
    if ! gzip -dc bin/pv_install.gz > bin/.pv_install.partial; then
      rm -f bin/.pv_install.partial
      fail 73 "cannot unpack bin/pv_install.gz (is there free space in $here?)"
    fi
    chmod 755 bin/.pv_install.partial && mv -f bin/.pv_install.partial bin/pv_install
    grep -E '  bin/pv_install$' TOOLS.SHA256SUMS | sha256sum --quiet --strict -c - || \
      fail 65 "bin/pv_install does not match TOOLS.SHA256SUMS: download setup-<ID>.tar again"
  fi

  run_installer "$installer" "$here" "$@"
}

run_installer() {  # pv_install, the bundle, the arguments
  local installer=$1 here=$2; shift 2
  # PVOK means installed and verified: never after --prepare-only, wherever it stands.
  local prepare_only='' argument
  for argument in "$@"; do [ "$argument" = "--prepare-only" ] && prepare_only=1; done
  "$installer" --bundle "$here" "$@"
  local rc=$?
  if [ "$rc" -eq 0 ] && [ -n "$prepare_only" ]; then
    echo "prepared: the tools are in $here/bin; nothing was installed"
  elif [ "$rc" -eq 0 ]; then
    echo "PVOK"
  else
    echo "install FAILED (exit $rc): see the step and the log named above"
  fi
  exit "$rc"
}

# main ends the process: nothing below this line could ever run.
main "$@"
