#!/usr/bin/env bash
# Runs a command inside its own D-Bus session with an unlocked gnome-keyring, so the
# Secret Service is real but private to this run (tests, or the console on a machine
# without a desktop session). The keyring's files live in SHIPSHAPE_KEYRING_DIR
# (default: a directory under $HOME/.cache), unlocked with a lab-only password.
#
# Usage: tests/with-keyring.sh COMMAND [ARGS...]
set -euo pipefail

if [ -z "${SHIPSHAPE_KEYRING_SESSION:-}" ]; then
  command -v dbus-run-session >/dev/null && command -v gnome-keyring-daemon >/dev/null || {
    echo "with-keyring: needs dbus-run-session and gnome-keyring-daemon (Debian: dbus, gnome-keyring)" >&2
    exit 2
  }
  export SHIPSHAPE_KEYRING_SESSION=1
  exec dbus-run-session -- "$0" "$@"
fi

keyring_dir=${SHIPSHAPE_KEYRING_DIR:-${HOME:-/root}/.cache/shipshape/keyring}
mkdir -p "$keyring_dir"
chmod 700 "$keyring_dir"
# The daemon alone sees XDG_DATA_HOME: it keeps its keyrings in $XDG_DATA_HOME/keyrings.
printf '%s' "${SHIPSHAPE_KEYRING_PASSWORD:-shipshape-lab-only}" |
  XDG_DATA_HOME=$keyring_dir gnome-keyring-daemon --unlock --components=secrets >/dev/null
exec "$@"
