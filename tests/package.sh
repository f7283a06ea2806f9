#!/usr/bin/env bash
# The installable package: a .deb made by Tauri's bundler with the console
# (/usr/bin/shipshape-console, its desktop entry and icons) and the `shipshape` CLI on the
# PATH with its manual pages (one per command) and bash, zsh and fish completions
# (generated from its clap definitions), written to dist/shipshape_VERSION_ARCH.deb. Release builds.
#
# usage: tests/package.sh        (needs what tests/setup.sh installs)
set -euo pipefail
root=$(cd "$(dirname "$0")/.." && pwd)
export CARGO_TARGET_DIR=${CARGO_TARGET_DIR:-$HOME/.cache/shipshape/target}
log() { echo "[package] $*"; }
cd "$root"

log "building the UI, the release CLI and console"
# The console embeds ui/dist, and a rewrite of it (even the same bytes) makes cargo build
# the console again: a UI built as it already is (run-all.sh built it) is left alone.
fresh_ui=$(mktemp -d)
(cd ui && npm run --silent build -- --logLevel warn --outDir "$fresh_ui" --emptyOutDir)
if diff -rq "$fresh_ui" ui/dist >/dev/null 2>&1; then rm -rf "$fresh_ui"; else rm -rf ui/dist && mv "$fresh_ui" ui/dist; fi
cargo build --release --quiet -p shipshape-cli -p shipshape-app # as run-all.sh builds them: one feature set
cli=$CARGO_TARGET_DIR/release/shipshape

# What the CLI documents about itself, staged beside the build (outside the tree).
stage=$CARGO_TARGET_DIR/package
rm -rf "$stage"
mkdir -p "$stage"
mkdir -p "$stage/man"
"$cli" man "$stage/man"
gzip -9n "$stage/man"/*.1
"$cli" completions bash >"$stage/shipshape.bash"
"$cli" completions zsh >"$stage/_shipshape"
"$cli" completions fish >"$stage/shipshape.fish"

# The bundler's extra files for this build: their sources are this machine's paths, so
# the configuration is written here rather than kept in the tree.
cat >"$stage/tauri.package.json" <<JSON
{
  "bundle": {
    "targets": ["deb"],
    "category": "DeveloperTool",
    "shortDescription": "Deploy and verify a Compose app over SSH, as the policy says",
    "linux": {
      "deb": {
        "section": "admin",
        "recommends": ["gnome-keyring"],
        "files": {
          "/usr/bin/shipshape": "$cli",
$(for page in "$stage"/man/*.1.gz; do echo "          \"/usr/share/man/man1/$(basename "$page")\": \"$page\","; done)
          "/usr/share/bash-completion/completions/shipshape": "$stage/shipshape.bash",
          "/usr/share/zsh/vendor-completions/_shipshape": "$stage/_shipshape",
          "/usr/share/fish/vendor_completions.d/shipshape.fish": "$stage/shipshape.fish"
        }
      }
    }
  }
}
JSON

# `tauri bundle` packs the release console built above: `tauri build` would build it
# again (its --config changes what the console embeds), minutes of a cold run.
log "bundling the console"
rm -rf "$CARGO_TARGET_DIR/release/bundle/deb"
(cd src-tauri && "$root/ui/node_modules/.bin/tauri" bundle --ci --bundles deb --config "$stage/tauri.package.json")
built=$(ls "$CARGO_TARGET_DIR"/release/bundle/deb/*.deb)
name=shipshape_$(dpkg-deb -f "$built" Version)_$(dpkg-deb -f "$built" Architecture).deb
mkdir -p dist
rm -f dist/shipshape_*.deb
cp "$built" "dist/$name"
log "dist/$name ($(du -h "dist/$name" | cut -f1)):"
dpkg-deb -f "dist/$name" Package Version Depends
