//! Benchmark, not a test: `shipshape verify A B`, two lab targets verified side by side
//! (each over its own connection), against the slower of `verify A` and `verify B` run
//! alone; release build, the three taking turns round by round, medians printed. Goal:
//! side by side <= 1.3 x the slower alone. Both targets are the lab's one host, so they
//! also share its CPU, which two real hosts would not.
//!
//! Run as root: tests/with-keyring.sh cargo run -p shipshape-tests --bin bench-verify-targets
//! (SHIPSHAPE_BENCH_ROUNDS, default 7).

use std::time::{Duration, Instant};

use shipshape_tests::{add_trusted_lab_target, cli_command, exclusive, release_cli, Lab};

fn main() {
    let lab = Lab::from_env();
    let _lab_lock = exclusive();
    let home = tempfile::tempdir().unwrap();
    let cli = release_cli();
    let run = |args: &[&str]| -> Duration {
        let started = Instant::now();
        let out = cli_command(&cli, &lab, home.path(), args).output().unwrap();
        assert!(
            out.status.success(),
            "{args:?}: {}",
            String::from_utf8_lossy(&out.stderr)
        );
        started.elapsed()
    };
    run(&["target", "list"]);
    let port = lab.field("port");
    add_trusted_lab_target(&cli, &lab, home.path(), "Lab again", &port, &[]);
    let rounds: usize = std::env::var("SHIPSHAPE_BENCH_ROUNDS")
        .ok()
        .and_then(|r| r.parse().ok())
        .unwrap_or(7);
    let (mut first, mut second, mut both) = (Vec::new(), Vec::new(), Vec::new());
    run(&["verify", "Local lab", "Lab again"]); // warm: images, caches, the journal
    for _ in 0..rounds {
        first.push(run(&["verify", "Local lab"]));
        second.push(run(&["verify", "Lab again"]));
        both.push(run(&["verify", "Local lab", "Lab again"]));
    }
    let median = |mut runs: Vec<Duration>| {
        runs.sort();
        runs[runs.len() / 2].as_secs_f64()
    };
    let (first, second, both) = (median(first), median(second), median(both));
    let slower = first.max(second);
    println!(
        "verify of two targets side by side: {both:.2} s; alone: {first:.2} s and {second:.2} s; \
         {:.2} x the slower alone (goal <= 1.3; median of {rounds} rounds, release build)",
        both / slower
    );
}
