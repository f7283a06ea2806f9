#!/usr/bin/env bash
# The package on a machine that never built Shipshape: a fresh Debian 12 (debootstrap
# minbase; the untouched base is cached as a tarball, and every run unpacks a new copy),
# the .deb installed there with apt, which pulls only its runtime dependencies. Then, in
# it: the CLI, `man shipshape`, bash completion, and the console started on the caller's
# X display and pointed at the lab, inside that machine's own D-Bus session and
# gnome-keyring: its window maps, and it creates the lab target, pins its host key and
# connects (its settings then read back by that machine's CLI). A screenshot is kept.
# Last, the package is purged and every file it installed checked gone.
#
# usage: tests/package-pristine.sh [SCREENSHOT.png]   (as root, after tests/package.sh,
#        with the lab up and DISPLAY set)
set -uo pipefail
root=$(cd "$(dirname "$0")/.." && pwd)
deb=$(ls "$root"/dist/shipshape_*.deb 2>/dev/null | head -1)
[ -n "$deb" ] || { echo "no dist/shipshape_*.deb: run tests/package.sh first" >&2; exit 1; }
[ -n "${DISPLAY:-}" ] || { echo "package-pristine: needs an X display (DISPLAY)" >&2; exit 1; }
lab=/var/lib/shipshape-lab
base=${XDG_CACHE_HOME:-$HOME/.cache}/shipshape/pristine-bookworm.tar
machine=$(mktemp -d /var/tmp/shipshape-pristine.XXXXXX)
failed=0
check() { # what command...
  local what=$1
  shift
  if "$@" >/dev/null 2>&1; then echo "  ok: $what"; else echo "  FAILED: $what"; failed=$((failed + 1)); fi
}
inside() { chroot "$machine" env -i PATH=/usr/sbin:/usr/bin:/sbin:/bin HOME=/root LANG=C.UTF-8 "$@"; }
mounted=()
cleanup() {
  pkill -f "^/usr/bin/shipshape-console" 2>/dev/null
  for ((i = ${#mounted[@]} - 1; i >= 0; i--)); do umount -l "${mounted[i]}" 2>/dev/null; done
  rm -rf "$machine"
}
trap cleanup EXIT
bind() { # source target-inside [ro]
  mkdir -p "$machine$2"
  mount --bind "$1" "$machine$2" && mounted+=("$machine$2")
  [ "${3:-}" != ro ] || mount -o remount,bind,ro "$machine$2"
}

if [ ! -s "$base" ]; then
  echo "making a fresh Debian 12 (debootstrap, once; kept as $base)"
  mkdir -p "$(dirname "$base")"
  debootstrap --variant=minbase bookworm "$machine" http://deb.debian.org/debian >/dev/null ||
    { echo "  FAILED: debootstrap"; exit 1; }
  tar -C "$machine" -cf "$base.part" . && mv "$base.part" "$base"
else
  tar -C "$machine" -xf "$base"
fi
check "the fresh machine has never seen Shipshape" test ! -e "$machine/usr/bin/shipshape" -a ! -e "$machine/root/.cache/shipshape"
cp /etc/resolv.conf "$machine/etc/resolv.conf"
mount -t proc proc "$machine/proc" && mounted+=("$machine/proc")
bind /dev /dev
bind /tmp/.X11-unix /tmp/.X11-unix
bind "$lab" "$lab" ro
cp "$deb" "$machine/tmp/"

echo "installing $(basename "$deb") there with apt (with man-db and bash-completion, as a desktop has)"
if ! inside sh -c "apt-get update -qq && DEBIAN_FRONTEND=noninteractive apt-get install -y -qq /tmp/$(basename "$deb") man-db bash-completion" >/dev/null 2>&1; then
  echo "  FAILED: apt-get install"
  exit 1
fi
installed=$(inside dpkg -L shipshape | while read -r f; do [ -f "$machine$f" ] && echo "$f"; done)
check "shipshape runs" sh -c "chroot '$machine' shipshape --version | grep -q '^shipshape '"
check "man shipshape shows the manual" sh -c "chroot '$machine' env MANPAGER=cat MANWIDTH=80 man shipshape | grep -q 'Deploy and verify'"
check "bash completes shipshape's commands" chroot "$machine" bash -c '
  source /usr/share/bash-completion/completions/shipshape
  COMP_WORDS=(shipshape ver); COMP_CWORD=1; COMP_LINE="shipshape ver"; COMP_POINT=${#COMP_LINE}
  _shipshape shipshape ver shipshape
  [[ " ${COMPREPLY[*]} " == *" verify "* ]]'

echo "the console there, on the lab"
cp "$root/tests/with-keyring.sh" "$machine/tmp/with-keyring.sh"
inside env DISPLAY="$DISPLAY" NO_AT_BRIDGE=1 SHIPSHAPE_HOME=/tmp/home SHIPSHAPE_LAB=$lab/lab.json \
  SHIPSHAPE_KEYRING_DIR=/tmp/keyring /tmp/with-keyring.sh sh -c '
    shipshape-console >/tmp/console.log 2>&1 &
    console=$!
    # The CLI reads what the console wrote; without SHIPSHAPE_LAB it makes nothing itself.
    for i in $(seq 60); do
      env -u SHIPSHAPE_LAB shipshape target list --json 2>/dev/null | grep -q "\"host_key\": \"SHA256:" && break
      sleep 0.5
    done
    sleep 10 # the dashboard asks for the services; the screenshot is taken meanwhile
    env -u SHIPSHAPE_LAB shipshape target list --json >/tmp/targets.json 2>/tmp/targets.err
    kill -0 $console && echo alive >/tmp/console.state
    kill $console; wait $console 2>/dev/null' &
runner=$!
window=""
for _ in $(seq 60); do
  window=$(xdotool search --name '^Shipshape$' 2>/dev/null | head -1)
  [ -n "$window" ] && break
  sleep 0.5
done
check "its window maps" test -n "$window"
sleep 5
[ -z "${1:-}" ] || ! command -v import >/dev/null || import -window root "$1" 2>/dev/null
wait "$runner"
check "it kept running" test -s "$machine/tmp/console.state"
check "it made the lab target and pinned its host key" grep -q "\"host_key\": \"$(sed -n 's/.*"host_key_fingerprint": "\([^"]*\)".*/\1/p' "$lab/lab.json")\"" "$machine/tmp/targets.json"
key_line=$(sed -n 2p "$lab/client/id_ed25519")
check "its key is in that machine's keyring, not in its data dir" sh -c "! grep -rqsF -e '$key_line' '$machine/tmp/home'"

echo "removing it there"
check "apt-get purge" inside env DEBIAN_FRONTEND=noninteractive apt-get purge -y -qq shipshape
left=$(while read -r f; do [ -e "$machine$f" ] && echo "$f"; done <<<"$installed")
check "no file of the package is left" test -z "$left"
echo "package on a fresh machine: $failed failed"
[ "$failed" = 0 ]
