//! Benchmark, not a test: host CPU spent keeping the dashboard current for a while,
//! Shipshape's live view (one `docker events` stream, a `ps` only after a change) against
//! a poller running `docker compose --profile aws ps` every 2 s, in the same run, against
//! the lab. Halfway through each window one service is restarted, so both must notice a
//! change. Host CPU = the lab sshd's cgroup (every remote command it spawns, exited ones
//! included) + the Docker daemons' own CPU.
//!
//! Run as root (it uses a cpuacct cgroup): tests/with-keyring.sh cargo run -p
//! shipshape-tests --bin bench-live-status   (SHIPSHAPE_BENCH_SECONDS, default 60)

use std::sync::atomic::{AtomicUsize, Ordering};
use std::sync::Arc;
use std::time::{Duration, Instant};

use shipshape_core::operations::{Compose, Operation};
use shipshape_core::ssh::CancellationToken;
use shipshape_tests::host_cpu::MeasuredSshd;
use shipshape_tests::{exclusive, lab_console, run, Lab, LabConsole};

const POLL_EVERY: Duration = Duration::from_secs(2);

struct Window {
    host_cpu: Duration,
    snapshots: usize,
}

fn measure(
    sshd: &MeasuredSshd,
    lab: &Lab,
    seconds: u64,
    work: impl FnOnce(Duration) -> usize,
) -> Window {
    let before = sshd.used();
    let container = lab.container("market-updater-aws");
    let restarter = std::thread::spawn(move || {
        std::thread::sleep(Duration::from_secs(seconds / 2));
        run("docker", &["restart", "-t", "1", &container]);
    });
    let snapshots = work(Duration::from_secs(seconds));
    restarter.join().unwrap();
    std::thread::sleep(Duration::from_millis(500)); // let exited processes be accounted
    Window {
        host_cpu: sshd.used() - before,
        snapshots,
    }
}

fn main() {
    let _lab_lock = exclusive(); // no test may restart the lab's services meanwhile
    let lab = Lab::from_env();
    let seconds: u64 = std::env::var("SHIPSHAPE_BENCH_SECONDS")
        .ok()
        .and_then(|v| v.parse().ok())
        .unwrap_or(60);
    let Some(sshd) = MeasuredSshd::start(&lab) else {
        println!("live status benchmark skipped: no writable cpuacct cgroup (needs root and cgroup v1 cpuacct)");
        return;
    };
    let LabConsole {
        runtime,
        console,
        target,
        data: _data,
    } = lab_console(); // both windows start connected

    // What the lab costs with nobody watching (health checks, the restart itself).
    let idle = measure(&sshd, &lab, seconds, |length| {
        std::thread::sleep(length);
        0
    });

    let live = measure(&sshd, &lab, seconds, |length| {
        runtime.block_on(async {
            let cancel = CancellationToken::new();
            let count = Arc::new(AtomicUsize::new(0));
            let stopper = cancel.clone();
            tokio::spawn(async move {
                tokio::time::sleep(length).await;
                stopper.cancel();
            });
            let seen = count.clone();
            console
                .watch_status(
                    &target,
                    None,
                    move |_| {
                        seen.fetch_add(1, Ordering::Relaxed);
                    },
                    &cancel,
                )
                .await
                .unwrap();
            count.load(Ordering::Relaxed)
        })
    });

    let connection = runtime.block_on(console.connect(&target)).unwrap();
    let (lab_target, policy) = console.target_and_policy(&target).unwrap();
    let ps = Operation::Ps.command(&policy, &lab_target.project_dir, Compose::V2);
    let polled = measure(&sshd, &lab, seconds, |length| {
        runtime.block_on(async {
            let (started, mut count) = (Instant::now(), 0);
            while started.elapsed() < length {
                // Exactly `docker compose --profile aws ps` (the live view's snapshots
                // also inspect the containers; the poller is spared that).
                let output = connection
                    .exec(&ps, Operation::Ps.deadline(&policy))
                    .await
                    .unwrap();
                assert!(output.succeeded());
                count += 1;
                tokio::time::sleep(POLL_EVERY).await;
            }
            count
        })
    });
    runtime.block_on(console.disconnect(&target));

    let above_idle = |w: &Window| (w.host_cpu.as_secs_f64() - idle.host_cpu.as_secs_f64()).max(0.0);
    println!("host CPU keeping the dashboard current for {seconds} s (one restart midway), above an idle window:");
    println!(
        "  idle window (nobody watching)            {:7.3} s CPU",
        idle.host_cpu.as_secs_f64()
    );
    println!(
        "  live view (docker events, ps on change)  {:7.3} s CPU, {} snapshots",
        above_idle(&live),
        live.snapshots
    );
    println!(
        "  poller (compose ps every 2 s)            {:7.3} s CPU, {} snapshots",
        above_idle(&polled),
        polled.snapshots
    );
    println!(
        "  ratio live / poller                       {:7.2}",
        above_idle(&live) / above_idle(&polled).max(f64::EPSILON)
    );
}
