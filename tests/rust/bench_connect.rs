//! Benchmark, not a test: connect + authenticate + first command, Shipshape against
//! OpenSSH's `ssh -o ControlMaster=no HOST true`, both against the lab's sshd in the
//! same run. Shipshape's side includes reading the key from the OS keyring and checking
//! the pinned host key. Prints medians and their ratio (goal: ≤ 0.8).
//!
//! Run: tests/with-keyring.sh cargo run -p shipshape-tests --bin bench-connect
//! (SHIPSHAPE_LAB must point at the lab; SHIPSHAPE_BENCH_ROUNDS, default 20).

use std::process::Command;
use std::time::{Duration, Instant};

use shipshape_core::shell::RemoteCommand;
use shipshape_core::ssh::Deadline;

const READ: Deadline = Deadline::Total(std::time::Duration::from_secs(30));
use shipshape_tests::{lab_console, Lab, LabConsole};

fn median(mut samples: Vec<Duration>) -> Duration {
    samples.sort();
    samples[samples.len() / 2]
}

fn millis(d: Duration) -> f64 {
    d.as_secs_f64() * 1000.0
}

fn main() {
    let lab = Lab::from_env();
    let rounds: usize = std::env::var("SHIPSHAPE_BENCH_ROUNDS")
        .ok()
        .and_then(|v| v.parse().ok())
        .unwrap_or(20);
    let scratch = tempfile::tempdir().unwrap();

    // OpenSSH: a fresh process and connection per round, strict host key checking.
    let known_hosts = scratch.path().join("known_hosts");
    std::fs::write(
        &known_hosts,
        lab.known_hosts_line(&lab.field("port"), "ssh_host_ed25519_key.pub"),
    )
    .unwrap();
    let ssh_round = || {
        let started = Instant::now();
        let status = Command::new("ssh")
            .args([
                "-F",
                "/dev/null",
                "-o",
                "ControlMaster=no",
                "-o",
                "BatchMode=yes",
                "-o",
                "StrictHostKeyChecking=yes",
            ])
            .arg("-o")
            .arg(format!("UserKnownHostsFile={}", known_hosts.display()))
            .args([
                "-i",
                &lab.field("client_key"),
                "-p",
                &lab.field("port"),
                "ubuntu@127.0.0.1",
                "true",
            ])
            .status()
            .unwrap();
        assert!(status.success(), "ssh failed");
        started.elapsed()
    };

    // Shipshape: the core's console, a new connection per round (disconnected after).
    let LabConsole {
        runtime,
        console,
        target,
        data: _data,
    } = lab_console();
    let shipshape_round = || {
        runtime.block_on(async {
            let started = Instant::now();
            let connection = console.connect(&target).await.unwrap();
            let output = connection
                .exec(&RemoteCommand::new("true"), READ)
                .await
                .unwrap();
            assert!(output.succeeded());
            console.disconnect(&target).await;
            started.elapsed()
        })
    };

    // Warm both paths once (page cache, sshd's first fork), then alternate rounds so
    // background noise hits both alike.
    ssh_round();
    shipshape_round();
    let (mut ssh, mut ours) = (Vec::new(), Vec::new());
    for _ in 0..rounds {
        ssh.push(ssh_round());
        ours.push(shipshape_round());
    }
    let (ssh_median, our_median) = (median(ssh), median(ours));
    println!("connect + authenticate + first command, {rounds} rounds each, medians:");
    println!(
        "  openssh  ssh -o ControlMaster=no host true   {:8.1} ms",
        millis(ssh_median)
    );
    println!(
        "  shipshape (keyring key, pinned host key)    {:8.1} ms",
        millis(our_median)
    );
    println!(
        "  ratio shipshape / openssh                    {:8.2}   (goal <= 0.80)",
        our_median.as_secs_f64() / ssh_median.as_secs_f64()
    );
}
