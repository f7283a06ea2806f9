#!/usr/bin/env bash
# Command 2: the whole test suite, from a fresh clone. Installs what is missing
# (tests/setup.sh), starts the lab (tests/lab/lab.sh up), runs the static checks, builds
# the UI, the CLI and the console, then runs inside a private Secret Service and a
# virtual display (if there is none): Rust unit and integration tests, UI unit tests, and
# end-to-end tests of the real window. Ends with one line: "all: N passed, N failed".
set -euo pipefail
ROOT=$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)
cd "$ROOT"
export CARGO_TARGET_DIR=${CARGO_TARGET_DIR:-$HOME/.cache/shipshape/target}
export CARGO_TERM_COLOR=never NO_COLOR=1 FORCE_COLOR=0
# Seconds since the whole run began (the second half runs in a new shell, inside the
# keyring session: the start is passed on).
export SHIPSHAPE_SUITE_START=${SHIPSHAPE_SUITE_START:-$(date +%s)}
step() { printf '\n==> %s (at %d s)\n' "$*" "$(($(date +%s) - SHIPSHAPE_SUITE_START))"; }
# The debug build and the tests' build, linted as they compile: clippy-driver stands in
# for rustc on the workspace's own crates (what `cargo clippy` runs), and the dependencies
# are compiled once, by rustc, where `cargo clippy` first compiled each of them again in
# its own check mode (cold, minutes of this run). Not for the release build: clippy-driver
# turns MIR optimisations off, and the release build is the product.
# (A command, not a function: `timeout` runs it.)
clippy_args=CLIPPY_ARGS=-D__CLIPPY_HACKERY__warnings__CLIPPY_HACKERY__
linted_cargo=(env RUSTC_WORKSPACE_WRAPPER=clippy-driver "$clippy_args" cargo)

if [ -z "${SHIPSHAPE_SUITE_INNER:-}" ]; then
  t0=$SECONDS
  step "setup: Debian and npm packages, tauri-driver"
  tests/setup.sh
  step "lab: sshd, Docker + compose v2, registry, git origin, the four aws services (reset to the seed)"
  tests/lab/lab.sh reset
  eval "$(tests/lab/lab.sh env)"
  step "static checks: rustfmt, svelte-check"
  cargo fmt --all -- --check
  if cargo tree -p shipshape-core -e normal --prefix none --format '{p}' | grep -E '^tauri'; then
    echo "shipshape-core must not depend on tauri" >&2
    exit 1
  fi
  (cd ui && npm run --silent check)
  step "build: UI, CLI, console, tests (clippy lints them as they compile)"
  # CLIPPY_ARGS is how `cargo clippy` hands clippy-driver its flags, not a documented
  # interface: were it to change, the lints would only warn and the build would pass.
  # So first a known lint must fail a build the same way.
  lint_probe=$(mktemp -d)
  echo 'pub fn copied(n: &u32) -> u32 { n.clone() }' >"$lint_probe/probe.rs"
  if env "$clippy_args" clippy-driver rustc --edition 2021 --crate-type lib \
    --emit metadata -o "$lint_probe/probe.rmeta" "$lint_probe/probe.rs" >"$lint_probe/log" 2>&1 ||
    ! grep -q 'error: using `clone` on type `u32`' "$lint_probe/log"; then
    cat "$lint_probe/log" >&2
    echo "clippy's lints no longer fail the build (see the comment above): the lint build would pass anything" >&2
    exit 1
  fi
  rm -rf "$lint_probe"
  (cd ui && npm run --silent build)
  # What `cargo test` builds (with `--all-targets`, each library and binary would be
  # compiled once more as a benchmark).
  "${linted_cargo[@]}" build --workspace --lib --bins --tests --examples --quiet
  # The release CLI (the proving ground and bench-cli run it) with the console: built
  # together, they share one set of dependency features, the console's, so the package
  # step's release console reuses all of it (built alone, the CLI's set differs and every
  # shared crate, tokio and serde up, was compiled twice). It builds in the background at
  # the lowest priority while the tests run, which mostly wait on hosts (cargo locks the
  # debug and release outputs apart); the proving ground waits for it. Cold, that is most
  # of ten minutes of compiling taken off the run.
  release_build=$(mktemp -d)
  (
    status=0
    nice -n 19 cargo build --release -p shipshape-cli -p shipshape-app --quiet >"$release_build/log" 2>&1 || status=$?
    echo "$status" >"$release_build/status"
  ) &
  release_pid=$!
  export SHIPSHAPE_RELEASE_BUILD=$release_build
  display_pid=
  if [ -z "${DISPLAY:-}" ]; then
    export DISPLAY=:${SHIPSHAPE_XVFB_DISPLAY:-97}
    Xvfb "$DISPLAY" -screen 0 1280x800x24 -nolisten tcp >/dev/null 2>&1 &
    display_pid=$!
    for _ in $(seq 50); do [ -S "/tmp/.X11-unix/X${DISPLAY#:}" ] && break; sleep 0.1; done
  fi
  keyring_dir=$(mktemp -d)
  status=0
  SHIPSHAPE_SUITE_INNER=1 SHIPSHAPE_KEYRING_DIR=$keyring_dir tests/with-keyring.sh "$0" || status=$?
  [ -z "$display_pid" ] || kill "$display_pid" 2>/dev/null || true
  wait "$release_pid" 2>/dev/null || true # a run that ended early leaves no build behind
  rm -rf "$keyring_dir" "$release_build"
  echo "(whole run: $((SECONDS - t0)) s)"
  exit $status
fi

# --- inside the private Secret Service session -------------------------------------------
export NO_AT_BRIDGE=1 # no accessibility bus daemons left behind by the app under test
logs=$(mktemp -d)
passed=0 failed=0 broken=()
count() { # suite passed failed
  printf '%s: %s passed, %s failed\n' "$1" "$2" "$3" >>"$logs/summary"
  passed=$((passed + $2)) failed=$((failed + $3))
}

# The arguments of every process the lab's user runs, sampled all through the suite: the
# secret scan at the end looks for secrets in them (any user of a host can read them).
export SHIPSHAPE_E2E_HOMES=$logs/e2e-homes
: >"$logs/host-args.raw"
(while :; do ps -u ubuntu -o args= >>"$logs/host-args.raw" 2>/dev/null || true; sleep 0.1; done) &
sampler=$!

step "Rust unit and integration tests (real sshd, Docker, Secret Service)"
# --no-fail-fast: a failing test binary must not hide the ones after it.
# The proving ground's table: tests with figures add their rows as they run.
ground=$logs/proving-ground
: >"$ground"
export SHIPSHAPE_PROVING_GROUND=$ground
if ! timeout 1500 "${linted_cargo[@]}" test --workspace --no-fail-fast 2>&1 | tee "$logs/cargo.log"; then broken+=("cargo test"); fi
results=$(grep -E '^test result:' "$logs/cargo.log" || true)
binaries=$(grep -cE '^ +(Running|Doc-tests) ' "$logs/cargo.log" || true)
finished=$(grep -cE '^test result:' "$logs/cargo.log" || true)
# (No result at all, a build that failed, must still reach the summary: hence `|| true`.)
rust_failed=$({ grep -oE '[0-9]+ failed' <<<"$results" || true; } | awk '{s+=$1} END {print s+0}')
if [ "$finished" -lt "$binaries" ]; then
  # A test binary that crashed or hung reports no result: each counts as a failure.
  echo "test binaries that reported no result: $((binaries - finished)) of $binaries" >&2
  rust_failed=$((rust_failed + binaries - finished))
fi
echo "test binaries run: $binaries, with results: $finished" >>"$logs/summary"
count rust "$({ grep -oE '[0-9]+ passed' <<<"$results" || true; } | awk '{s+=$1} END {print s+0}')" "$rust_failed"

step "UI unit tests (vitest)"
if ! (cd ui && timeout 300 npx vitest run --reporter=default --reporter=json --outputFile.json="$logs/vitest.json"); then
  broken+=("vitest")
fi
read -r ui_passed ui_failed < <(node -e 'try { const r = require(process.argv[1]); console.log(r.numPassedTests || 0, (r.numFailedTests || 0) + (r.numFailedTestSuites || 0)) } catch { console.log(0, 1) }' "$logs/vitest.json")
count ui "$ui_passed" "$ui_failed"

step "End-to-end tests of the real window (tauri-driver + WebKitWebDriver)"
export SHIPSHAPE_E2E_APP=$CARGO_TARGET_DIR/debug/shipshape-console
export SHIPSHAPE_E2E_SCREENSHOTS=${SHIPSHAPE_E2E_SCREENSHOTS:-$logs/screenshots}
mkdir -p "$SHIPSHAPE_E2E_SCREENSHOTS"
if ! (cd tests/e2e && timeout 900 npx wdio run ./wdio.conf.mjs) 2>&1 | grep -v -e '^dbus-daemon' -e SpiRegistry | tee "$logs/e2e.log"; then
  broken+=("e2e")
fi
count e2e "$(grep -oE '[0-9]+ passing' "$logs/e2e.log" | awk '{s+=$1} END {print s+0}')" \
  "$(grep -oE '[0-9]+ failing' "$logs/e2e.log" | awk '{s+=$1} END {print s+0}')"
# A console still running 10 s after its spec ended (wdio.conf.mjs's afterSession).
consoles_left=$(cat "$SHIPSHAPE_E2E_HOMES/consoles-left" 2>/dev/null || true)
if [ -n "$consoles_left" ]; then
  count consoles-left 0 "$(wc -l <<<"$consoles_left")"
  broken+=("consoles-left")
fi
echo "screenshots: $SHIPSHAPE_E2E_SCREENSHOTS"
# Failed tests by name, for the summary (a CI log may be read only from its end).
{ grep -E '^test .* FAILED$' "$logs/cargo.log" | sed 's/^test /rust: /; s/ \.\.\. FAILED$//' || true
  if grep -qE '^test .* FAILED$' "$logs/cargo.log"; then # (a passing test may panic on purpose)
    grep -E -A2 "^thread '.*' panicked at " "$logs/cargo.log" | grep -v -e '^--$' -e '^note: ' | head -n 30 | sed 's/^/rust error: /' || true
  fi
  grep -E '✖ ' "$logs/e2e.log" | grep -v -E '✖ [0-9]+ failing' | sed -E 's/^.*✖ /e2e: /' || true
  [ -z "$consoles_left" ] || sed 's/^/e2e: /' <<<"$consoles_left"
  grep -E -A6 '^\[.*\] +[0-9]+\) ' "$logs/e2e.log" | grep -E '(Error|expect|Expected|Received|AssertionError|Timeout)' | head -n 30 | sed 's/^/e2e error: /' || true
} >"$logs/failures"

step "proving ground: fuzzing, SIGKILL at random points, the hostile host"
# The release build started before the tests (in the background, above).
if [ -n "${SHIPSHAPE_RELEASE_BUILD:-}" ]; then
  for _ in $(seq 1800); do [ -e "$SHIPSHAPE_RELEASE_BUILD/status" ] && break; sleep 2; done # at most an hour
  if [ "$(cat "$SHIPSHAPE_RELEASE_BUILD/status" 2>/dev/null)" = 0 ]; then
    echo "(the release CLI and console were built while the tests ran)"
  else
    tail -n 30 "$SHIPSHAPE_RELEASE_BUILD/log" >&2
    count release-build 0 1
    broken+=("release-build")
  fi
fi
# Each prints its rows of the table below; a non-zero exit is a failure with its reasons.
prove() { # name timeout command...
  local name=$1 limit=$2 out status=0
  shift 2
  out=$(timeout "$limit" "$@" 2>"$logs/$name.err") || status=$?
  printf '%s\n' "$out" >"$logs/$name.out"
  grep -v '^| ' "$logs/$name.out" || true # its figures
  grep '^| ' "$logs/$name.out" | grep -v -e '^| ---' -e '^| fault |' >>"$ground" || true
  if [ "$status" = 0 ]; then
    count "$name" 1 0
  else
    cat "$logs/$name.err" >&2
    echo "| $name | | FAILED (exit $status; see above) | ? |" >>"$ground"
    count "$name" 0 1
    broken+=("$name")
  fi
}
SHIPSHAPE_FUZZ_INPUTS=${SHIPSHAPE_FUZZ_INPUTS:-20000} prove fuzz 600 "$CARGO_TARGET_DIR/debug/fuzz"
prove sigkill-runs 900 "$CARGO_TARGET_DIR/debug/sigkill-runs"
prove hostile-host 900 "$CARGO_TARGET_DIR/debug/hostile-host"
kill "$sampler" 2>/dev/null || true
sort -u "$logs/host-args.raw" >"$logs/host-args" && rm -f "$logs/host-args.raw"
prove secret-scan 300 tests/secret-scan.sh "$logs/host-args" "$SHIPSHAPE_E2E_HOMES"
# The fault tests of the Rust suite, one row each (their binaries: faults, console_faults).
awk '/^ +Running .*(faults|console_faults)\.rs/ { on = 1; next } /^ +Running / { on = 0 }
  on && /^test .* \.\.\. (ok|FAILED)$/ { name = $2; gsub("_", " ", name); ok = ($NF == "ok");
    printf "| fault: %s | 1 | %s | %s |\n", name, ok ? "passed: what the test asserts holds" : "FAILED", ok ? "0" : "see the test" }' \
  "$logs/cargo.log" >>"$ground"

step "the package: a .deb from Tauri's bundler, installed with apt here and on a fresh Debian, smoke-tested, removed"
soak= packaged=
if timeout 1200 tests/package.sh >"$logs/package.log" 2>&1; then
  packaged=1 # this run's release console, not one an earlier run left
  tail -n 4 "$logs/package.log"
  # Start-up and memory of the release console beside a blank Tauri 2 window (figures
  # only), with no other window open: WebKit processes running at the same time share
  # the library pages PSS divides, and would make both look smaller.
  step "benchmark: start-up and memory of the release console and a blank Tauri 2 window"
  export SHIPSHAPE_BENCH_SCREENSHOTS=$SHIPSHAPE_E2E_SCREENSHOTS
  if cargo build --release --quiet -p shipshape-app --example blank_window; then
    timeout 600 "$CARGO_TARGET_DIR/debug/bench-startup" 2>&1 | grep -v -e '^dbus-daemon' -e SpiRegistry || echo "bench-startup did not finish"
  fi
  if SHIPSHAPE_PACKAGE_LOG=$logs/package-e2e.log timeout 600 tests/package-test.sh | tee "$logs/package-test.log"; then
    count package 1 0
  else
    count package 0 1
    broken+=("package")
  fi
  if timeout 900 tests/package-pristine.sh "$SHIPSHAPE_E2E_SCREENSHOTS/package-pristine.png" | tee "$logs/package-pristine.log"; then
    count package-pristine 1 0
  else
    count package-pristine 0 1
    broken+=("package-pristine")
  fi
else
  tail -n 30 "$logs/package.log" >&2
  count package 0 1
  broken+=("package")
fi

step "benchmarks (figures only; they never fail the suite)"
# The soak of the release console runs beside the command-line benchmarks (no other window
# is open then), for as long as they take: 300 s here to keep CI in its budget;
# SHIPSHAPE_BENCH_SOAK_SECONDS=600 for the ten minutes the issue names.
if [ -n "$packaged" ]; then
  SHIPSHAPE_BENCH_SOAK_SECONDS=${SHIPSHAPE_BENCH_SOAK_SECONDS:-300} \
    timeout 900 "$CARGO_TARGET_DIR/debug/bench-startup" soak >"$logs/soak.out" 2>&1 &
  soak=$!
fi
SHIPSHAPE_BENCH_ROUNDS=${SHIPSHAPE_BENCH_ROUNDS:-20} timeout 300 "$CARGO_TARGET_DIR/debug/bench-connect" || echo "bench-connect did not finish"
SHIPSHAPE_BENCH_ROUNDS=${SHIPSHAPE_BENCH_ROUNDS:-20} timeout 300 "$CARGO_TARGET_DIR/debug/bench-cli" || echo "bench-cli did not finish"
timeout 300 "$CARGO_TARGET_DIR/debug/bench-deploy" || echo "bench-deploy did not finish"
timeout 300 "$CARGO_TARGET_DIR/debug/bench-verify-targets" || echo "bench-verify-targets did not finish"
SHIPSHAPE_BENCH_SECONDS=${SHIPSHAPE_BENCH_SECONDS:-60} timeout 600 "$CARGO_TARGET_DIR/debug/bench-live-status" || echo "bench-live-status did not finish"
SHIPSHAPE_BENCH_SECONDS=${SHIPSHAPE_BENCH_SECONDS:-60} timeout 300 "$CARGO_TARGET_DIR/debug/bench-logs" || echo "bench-logs did not finish"

if [ -n "$soak" ]; then
  step "benchmark: the release console kept open with its live view and a log follow"
  wait "$soak" || echo "bench-startup soak did not finish"
  grep -v -e '^dbus-daemon' -e SpiRegistry "$logs/soak.out"
fi

step "summary"
echo "The proving ground:"
echo "| fault | inputs tried | outcome | data lost |"
echo "| --- | --- | --- | --- |"
cat "$ground"
echo
cat "$logs/summary"
if [ -s "$logs/failures" ]; then echo "failed tests:"; sed 's/^/  /' "$logs/failures"; fi
if ((${#broken[@]})) && [ "$failed" = 0 ]; then failed=${#broken[@]}; fi
((${#broken[@]} == 0)) || echo "failed suites: ${broken[*]}"
echo "all: $passed passed, $failed failed"
[ "$failed" = 0 ] && ((${#broken[@]} == 0))
