//! Benchmark, not a test: connect + authenticate + first command, Shipshape against
//! OpenSSH's `ssh -o ControlMaster=no HOST true`, both against the lab's sshd in the
//! same run. Shipshape's side includes reading the key from the OS keyring and checking
//! the pinned host key. Prints medians and their ratio (goal: ≤ 0.8).
//!
//! Run: tests/with-keyring.sh cargo run -p shipshape-tests --bin bench-connect
//! (SHIPSHAPE_LAB must point at the lab; SHIPSHAPE_BENCH_ROUNDS, default 20).

use std::path::Path;
use std::process::Command;
use std::sync::Arc;
use std::time::{Duration, Instant};

use shipshape_core::settings::JsonFileSettings;
use shipshape_core::shell::RemoteCommand;
use shipshape_core::Console;
use shipshape_tests::Lab;

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
    let lab_dir = Path::new(&lab.field("sshd_log"))
        .parent()
        .unwrap()
        .to_path_buf();
    let host_key = std::fs::read_to_string(lab_dir.join("ssh/ssh_host_ed25519_key.pub")).unwrap();
    let known_hosts = scratch.path().join("known_hosts");
    let key_fields: Vec<&str> = host_key.split_whitespace().take(2).collect();
    std::fs::write(
        &known_hosts,
        format!(
            "[127.0.0.1]:{} {}\n",
            lab.field("port"),
            key_fields.join(" ")
        ),
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
    std::env::set_var("SHIPSHAPE_HOME", scratch.path().join("data"));
    let runtime = tokio::runtime::Runtime::new().unwrap();
    let settings =
        Arc::new(JsonFileSettings::open(scratch.path().join("data/settings.json")).unwrap());
    let console = Console::new(settings);
    let target = runtime
        .block_on(console.ensure_lab_from_env())
        .unwrap()
        .expect("SHIPSHAPE_LAB names the lab");
    let shipshape_round = || {
        runtime.block_on(async {
            let started = Instant::now();
            let connection = console.connect(&target.name).await.unwrap();
            let output = connection.exec(&RemoteCommand::new("true")).await.unwrap();
            assert!(output.succeeded());
            console.disconnect(&target.name).await;
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
