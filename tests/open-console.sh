#!/usr/bin/env bash
# Command 1: opens the console pointed at the lab. Installs what is missing (Debian build
# libraries via tests/setup.sh --build-only, the lab's parts via tests/lab/lab.sh up),
# builds the UI and the console, and starts it with SHIPSHAPE_LAB set, so the first run
# creates the "Local lab" target and puts the lab's key in the OS keyring.
#   - No display?  It starts Xvfb and says where the window is.
#   - No D-Bus session (so no Secret Service)?  It starts a private gnome-keyring
#     (tests/with-keyring.sh) whose files stay under ~/.cache/shipshape/keyring.
set -euo pipefail
ROOT=$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)
cd "$ROOT"
export CARGO_TARGET_DIR=${CARGO_TARGET_DIR:-$HOME/.cache/shipshape/target}
say() { printf '[console] %s\n' "$*" >&2; }

tests/setup.sh --build-only
tests/lab/lab.sh up
eval "$(tests/lab/lab.sh env)"
say "building the UI and the console (the first build takes several minutes)"
(cd ui && npm run --silent build)
cargo build -p shipshape-app --quiet
app=$CARGO_TARGET_DIR/debug/shipshape-console

if [ -z "${DISPLAY:-}" ] && [ -z "${WAYLAND_DISPLAY:-}" ]; then
  export DISPLAY=:${SHIPSHAPE_XVFB_DISPLAY:-98}
  if [ ! -S "/tmp/.X11-unix/X${DISPLAY#:}" ]; then
    Xvfb "$DISPLAY" -screen 0 1280x800x24 -nolisten tcp >/dev/null 2>&1 &
    for _ in $(seq 50); do [ -S "/tmp/.X11-unix/X${DISPLAY#:}" ] && break; sleep 0.1; done
  fi
  say "no display found: the window is on the virtual display $DISPLAY (screenshot: DISPLAY=$DISPLAY import -window root shot.png)"
fi

say "opening Shipshape (data: ${SHIPSHAPE_HOME:-$HOME/.local/share/shipshape})"
if [ -z "${DBUS_SESSION_BUS_ADDRESS:-}" ]; then
  say "no D-Bus session: starting a private Secret Service (gnome-keyring) for the console"
  exec tests/with-keyring.sh "$app"
fi
exec "$app"
