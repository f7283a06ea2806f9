#!/usr/bin/env bash
# Installs what building and testing Shipshape needs on Debian/Ubuntu, skipping what is
# already there: the Tauri/WebKitGTK build libraries, Xvfb and WebKitWebDriver for the
# real window, D-Bus and gnome-keyring for a real Secret Service, tauri-driver (from
# crates.io), and the UI's and end-to-end tests' npm packages. The lab installs its own
# parts (tests/lab/lab.sh). Needs root for apt-get.
#
# Usage: tests/setup.sh [--build-only]   (--build-only: what the console needs, no test tools)
set -euo pipefail
ROOT=$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)
log() { printf '[setup] %s\n' "$*" >&2; }

build_packages=(build-essential pkg-config curl libwebkit2gtk-4.1-dev libayatana-appindicator3-dev
  librsvg2-dev libxdo-dev dbus gnome-keyring xvfb)
# Readers of the reports as their users see them: qpdf and poppler (pdftotext, pdftoppm)
# for the PDF, cmark-gfm for the Markdown; python3-venv for the JSON Schema validator;
# iptables and iproute2 (ss) to drop one connection's packets in the fault tests; man-db
# and desktop-file-utils to check the package's manual page and desktop entry;
# debootstrap and xdotool to try the package on a fresh Debian and find its window;
# dunst, a real notification daemon, for the console's desktop notifications; ImageMagick
# (`import`) for the screenshot of the console's first render in the start-up benchmark;
# python3-xlib to close the window as a window manager does (tests/e2e/wm-close.py).
test_packages=(webkit2gtk-driver xauth libsecret-tools openssh-client qpdf poppler-utils cmark-gfm
  python3-venv iptables iproute2 man-db desktop-file-utils debootstrap xdotool dunst imagemagick
  python3-xlib)
packages=("${build_packages[@]}")
[ "${1:-}" = --build-only ] || packages+=("${test_packages[@]}")
command -v node >/dev/null || packages+=(nodejs npm)

missing=()
for p in "${packages[@]}"; do
  dpkg-query -W -f='${Status}' "$p" 2>/dev/null | grep -q "install ok installed" || missing+=("$p")
done
if ((${#missing[@]})); then
  [ "$(id -u)" = 0 ] || { echo "[setup] run as root to install: ${missing[*]}" >&2; exit 1; }
  log "installing Debian packages: ${missing[*]}"
  apt-get update -qq
  DEBIAN_FRONTEND=noninteractive apt-get install -y -qq --no-install-recommends "${missing[@]}" >/dev/null
fi

if [ "${1:-}" != --build-only ] && ! command -v tauri-driver >/dev/null; then
  log "installing tauri-driver 2.1 from crates.io"
  cargo install tauri-driver --locked --version '~2.1' --quiet
fi

# An independent JSON Schema validator for the JSON report (not the Rust that made it).
tools_dir=${SHIPSHAPE_TOOLS_DIR:-${HOME:-/root}/.cache/shipshape/tools}
if [ "${1:-}" != --build-only ] && [ ! -x "$tools_dir/venv/bin/check-jsonschema" ]; then
  log "installing check-jsonschema from PyPI into $tools_dir/venv"
  python3 -m venv "$tools_dir/venv"
  "$tools_dir/venv/bin/pip" install --quiet --disable-pip-version-check 'check-jsonschema>=0.28'
fi

npm_install() { # dir
  local dir=$1
  if [ ! -d "$dir/node_modules" ] || [ "$dir/package-lock.json" -nt "$dir/node_modules/.package-lock.json" ]; then
    log "installing npm packages in ${dir#"$ROOT"/}"
    (cd "$dir" && npm ci --no-audit --no-fund --loglevel=error)
  fi
}
npm_install "$ROOT/ui"
[ "${1:-}" = --build-only ] || npm_install "$ROOT/tests/e2e"
