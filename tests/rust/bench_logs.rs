//! Benchmark, not a test: following a service that writes 10,000 lines/s for 60 s
//! through Shipshape's real log path (policy check, `docker compose logs -f -t` over the
//! shared SSH connection, line splitting, 50 ms / 500-line batches, JSON encoding as the
//! IPC channel does). Prints the lag of each line behind Docker's own timestamp, the
//! lines/s delivered, and the growth of this process's RSS (goal: lag ≤ 1 s, RSS growth
//! ≤ 100 MB; the window's own buffer is a bounded 50,000-line ring in the UI).
//!
//! The noise is written into the lab's `market-updater-aws` container (to its PID 1's
//! stdout, so it is that service's log), so the followed service is one the policy knows.
//!
//! Run: tests/with-keyring.sh cargo run -p shipshape-tests --bin bench-logs
//! (SHIPSHAPE_BENCH_SECONDS, default 60; SHIPSHAPE_BENCH_RATE, default 10000).

use std::sync::{Arc, Mutex};
use std::time::{Duration, Instant, SystemTime};

use shipshape_core::ssh::CancellationToken;
use shipshape_tests::{exclusive, lab_console, run, Lab, LabConsole};

/// This process's resident set, in bytes.
fn rss_bytes() -> u64 {
    let status = std::fs::read_to_string("/proc/self/status").unwrap();
    let kb: u64 = status
        .lines()
        .find_map(|l| l.strip_prefix("VmRSS:"))
        .and_then(|v| v.split_whitespace().next())
        .and_then(|v| v.parse().ok())
        .unwrap_or(0);
    kb * 1024
}

/// The lag of a `compose logs -t` line behind the timestamp Docker gave it.
fn lag_of(line: &str, now: SystemTime) -> Option<Duration> {
    let after_prefix = line.split_once("| ").map(|(_, rest)| rest).unwrap_or(line);
    let stamp = after_prefix.split_whitespace().next()?;
    let at = humantime::parse_rfc3339(stamp).ok()?;
    Some(now.duration_since(at).unwrap_or_default())
}

#[derive(Default)]
struct Received {
    lines: u64,
    first: Option<Instant>,
    last: Option<Instant>,
    ipc_bytes: u64,
    lags: Vec<Duration>,
}

fn main() {
    let _lab_lock = exclusive(); // no test may restart the lab's services meanwhile
    let lab = Lab::from_env();
    let seconds: u64 = std::env::var("SHIPSHAPE_BENCH_SECONDS")
        .ok()
        .and_then(|v| v.parse().ok())
        .unwrap_or(60);
    let rate: u64 = std::env::var("SHIPSHAPE_BENCH_RATE")
        .ok()
        .and_then(|v| v.parse().ok())
        .unwrap_or(10_000);
    let LabConsole {
        runtime,
        console,
        target,
        data: _data,
    } = lab_console();
    let rss_before = rss_bytes();

    let received = Arc::new(Mutex::new(Received::default()));
    let cancel = CancellationToken::new();
    let sink = received.clone();
    let follow = runtime.spawn({
        let cancel = cancel.clone();
        async move {
            let console = console;
            let result = console
                .follow_logs(
                    &target,
                    "market-updater-aws",
                    1,
                    true,
                    move |batch| {
                        let now = SystemTime::now();
                        let encoded = serde_json::to_string(&batch).unwrap(); // what the IPC channel sends
                        let mut received = sink.lock().unwrap();
                        received.ipc_bytes += encoded.len() as u64;
                        for line in batch.iter().filter(|l| l.contains("bench-noise")) {
                            received.lines += 1;
                            received.first.get_or_insert_with(Instant::now);
                            received.last = Some(Instant::now());
                            if let Some(lag) = lag_of(line, now) {
                                received.lags.push(lag);
                            }
                        }
                    },
                    &cancel,
                )
                .await;
            result.map(|_| ())
        }
    });
    std::thread::sleep(Duration::from_secs(1)); // the follow is running

    // One tick every 10 ms (busybox's clock is /proc/uptime, in centiseconds), each
    // writing rate/100 lines to PID 1's stdout so they are the service's own lines; ticks
    // are paced against the clock, so the loop's own time does not slow the rate.
    let per_tick = (rate / 100).max(1);
    let ticks = seconds * 100;
    let writer = format!(
        "now() {{ read up _ < /proc/uptime; echo $(( ${{up%.*}} * 100 + 1${{up#*.}} - 100 )); }}; \
         start=$(now); n=0; t=0; while [ $t -lt {ticks} ]; do i=0; \
         while [ $i -lt {per_tick} ]; do echo \"bench-noise $n\"; n=$((n+1)); i=$((i+1)); done > /proc/1/fd/1; \
         t=$((t+1)); ahead=$((start + t - $(now))); \
         if [ $ahead -gt 0 ]; then usleep $((ahead * 10000)); fi; done"
    );
    let started = Instant::now();
    run(
        "docker",
        &[
            "exec",
            "-d",
            &lab.container("market-updater-aws"),
            "sh",
            "-c",
            &writer,
        ],
    );
    let mut peak_rss = rss_before;
    while started.elapsed() < Duration::from_secs(seconds + 3) {
        std::thread::sleep(Duration::from_millis(250));
        peak_rss = peak_rss.max(rss_bytes());
    }
    cancel.cancel();
    runtime.block_on(follow).unwrap().unwrap();
    let mut received = received.lock().unwrap();
    let streaming = match (received.first, received.last) {
        (Some(first), Some(last)) => (last - first).as_secs_f64().max(f64::EPSILON),
        _ => f64::NAN,
    };
    received.lags.sort();
    let percentile = |p: f64| {
        let lags = &received.lags;
        if lags.is_empty() {
            return f64::NAN;
        }
        lags[((lags.len() - 1) as f64 * p) as usize].as_secs_f64() * 1000.0
    };
    println!("following market-updater-aws writing {rate} lines/s for {seconds} s:");
    println!(
        "  lines delivered                {:>10}  ({:.0} lines/s from the first to the last, {:.1} s)",
        received.lines,
        received.lines as f64 / streaming,
        streaming
    );
    println!("  lag behind Docker's timestamp  p50 {:.0} ms, p99 {:.0} ms, max {:.0} ms   (goal <= 1000 ms)", percentile(0.5), percentile(0.99), percentile(1.0));
    println!(
        "  bytes encoded for the UI       {:>10}",
        received.ipc_bytes
    );
    println!(
        "  RSS growth (core pipeline)     {:.1} MB peak over {:.1} MB at start   (goal <= 100 MB)",
        peak_rss.saturating_sub(rss_before) as f64 / 1e6,
        rss_before as f64 / 1e6
    );
}
