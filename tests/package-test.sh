#!/usr/bin/env bash
# The package as an operator meets it: dist/shipshape_*.deb installed with apt, what it
# put on the machine checked (both programs on the PATH, the manual page, completions, the
# desktop entry and icon), the installed console driven through the dashboard's
# end-to-end spec (under the display and Secret Service the caller provides, as
# tests/run-all.sh does), then the package removed and every file it installed checked
# gone. Prints one line per check; exits 1 if any failed.
#
# usage: tests/package-test.sh    (as root, after tests/package.sh, with the lab up)
set -uo pipefail
root=$(cd "$(dirname "$0")/.." && pwd)
deb=$(ls "$root"/dist/shipshape_*.deb 2>/dev/null | head -1)
[ -n "$deb" ] || { echo "no dist/shipshape_*.deb: run tests/package.sh first" >&2; exit 1; }
failed=0
check() { # what command...
  local what=$1
  shift
  if "$@" >/dev/null 2>&1; then echo "  ok: $what"; else echo "  FAILED: $what"; failed=$((failed + 1)); fi
}

echo "installing $(basename "$deb") with apt"
if ! DEBIAN_FRONTEND=noninteractive apt-get install -y -qq "$deb" >/dev/null; then
  echo "  FAILED: apt-get install"
  exit 1
fi
installed=$(dpkg -L shipshape | while read -r f; do [ -f "$f" ] && echo "$f"; done)
echo "  $(wc -l <<<"$installed") files installed"

check "shipshape is on the PATH and runs" sh -c 'shipshape --version | grep -q "^shipshape "'
check "shipshape-console is on the PATH" sh -c 'command -v shipshape-console'
check "man shipshape shows the manual" sh -c 'MANPAGER=cat MANWIDTH=80 man shipshape | grep -q "Deploy and verify"'
check "each command has its page (man shipshape-target-add)" sh -c 'MANPAGER=cat MANWIDTH=80 man shipshape-target-add | grep -q -- "--host"'
check "the manual gives the exit codes and the environment" sh -c 'MANPAGER=cat MANWIDTH=80 man shipshape | grep -q "EXIT STATUS" && MANPAGER=cat MANWIDTH=80 man shipshape | grep -q SHIPSHAPE_HOME'
check "every page a page names is there" sh -c 'for page in $(zcat /usr/share/man/man1/shipshape*.1.gz | grep -o "shipshape[a-z\\-]*(1)" | sed "s/\\\\//g; s/(1)//" | sort -u); do man -w "$page" >/dev/null || { echo "missing: $page"; exit 1; }; done'
check "bash completes shipshape's commands" bash -c '
  source /usr/share/bash-completion/completions/shipshape
  COMP_WORDS=(shipshape ver); COMP_CWORD=1; COMP_LINE="shipshape ver"; COMP_POINT=${#COMP_LINE}
  _shipshape shipshape ver shipshape
  [[ " ${COMPREPLY[*]} " == *" verify "* ]]'
check "zsh and fish completions are installed" test -s /usr/share/zsh/vendor-completions/_shipshape -a -s /usr/share/fish/vendor_completions.d/shipshape.fish
check "the desktop entry starts the console" sh -c 'desktop-file-validate /usr/share/applications/Shipshape.desktop && grep -q "^Exec=shipshape-console" /usr/share/applications/Shipshape.desktop'
check "the icon is installed" sh -c 'ls /usr/share/icons/hicolor/*/apps/shipshape-console.png'

echo "the installed console through the dashboard's end-to-end spec"
if (cd "$root/tests/e2e" && SHIPSHAPE_E2E_APP=$(command -v shipshape-console) npx wdio run ./wdio.conf.mjs --spec ./specs/dashboard.e2e.mjs >"${SHIPSHAPE_PACKAGE_LOG:-/dev/null}" 2>&1); then
  echo "  ok: the installed console passes the dashboard spec"
else
  echo "  FAILED: the installed console fails the dashboard spec (log: ${SHIPSHAPE_PACKAGE_LOG:-not kept})"
  failed=$((failed + 1))
fi

echo "removing the package"
check "apt-get purge" env DEBIAN_FRONTEND=noninteractive apt-get purge -y -qq shipshape
left=$(while read -r f; do [ -e "$f" ] && echo "$f"; done <<<"$installed")
check "no file of the package is left" test -z "$left"
[ -z "$left" ] || echo "$left" | sed 's/^/    left: /'
echo "package: $failed failed"
[ "$failed" = 0 ]
