//! Benchmark, not a test: the whole `shipshape ps` and `shipshape health` processes (a
//! release build: start, read settings, key from the keyring, connect, verify the host,
//! run, print) against OpenSSH running the same command (`ssh host CMD`, no
//! multiplexing), in the same run, against the lab. Figures: median wall time per run,
//! and host CPU per run (the lab sshd's cgroup + the Docker daemons, above the idle
//! rate measured just before). Goals: <= 0.8 x the wall time, <= 1.1 x the host CPU.
//!
//! Then the whole verification (`shipshape verify NAME --report FILE.json`: cold connect
//! to report written) against the same probes run by a hand-tuned OpenSSH script (one
//! ControlMaster connection, six probes at a time, as sshd's session limit allows) and by
//! a naive one (one `ssh` per probe, in sequence). The scripts read the Docker engine
//! by `curl` and `docker logs`, as the probes' commands do; Shipshape asks the engine's
//! socket over its connection, which an OpenSSH script could only do through a local
//! forward and a local HTTP client. Shipshape and the hand-tuned script
//! take turns run by run, so the machine's slow spells fall on both. Goals: <= 0.5 x the first's wall
//! time, >= 8 x faster than the second, and less host CPU than either.
//!
//! Run as root: tests/with-keyring.sh cargo run -p shipshape-tests --bin bench-cli
//! (SHIPSHAPE_BENCH_ROUNDS, default 20; SHIPSHAPE_BENCH_CLI, default the release build
//! beside this binary's target dir).

use std::path::Path;
use std::process::Command;
use std::time::{Duration, Instant};

use shipshape_core::checks::probe::Probe;
use shipshape_core::operations::{Compose, Operation};
use shipshape_core::policy::Policy;
use shipshape_tests::host_cpu::MeasuredSshd;
use shipshape_tests::{exclusive, ok, release_cli, Lab};

struct Side {
    wall: Vec<Duration>,
    host_cpu: Duration,
}

impl Side {
    fn median(&self) -> Duration {
        let mut sorted = self.wall.clone();
        sorted.sort();
        sorted[sorted.len() / 2]
    }

    fn cpu_per_run(&self) -> f64 {
        self.host_cpu.as_secs_f64() / self.wall.len() as f64
    }
}

/// Runs `command` `rounds` times; each must succeed. Host CPU is counted above `idle`
/// (CPU per second of wall time with nobody connected).
fn measure(
    sshd: &MeasuredSshd,
    idle: f64,
    rounds: usize,
    mut command: impl FnMut() -> Command,
) -> Side {
    let before = sshd.used();
    let started = Instant::now();
    let wall = (0..rounds)
        .map(|_| {
            let clock = Instant::now();
            let out = command().output().expect("the command runs");
            let took = clock.elapsed();
            ok(&out);
            took
        })
        .collect();
    std::thread::sleep(Duration::from_millis(300)); // let exited processes be accounted
    let used = (sshd.used() - before).as_secs_f64() - idle * started.elapsed().as_secs_f64();
    Side {
        wall,
        host_cpu: Duration::from_secs_f64(used.max(0.0)),
    }
}

/// Like [`measure`], with the sides taking turns run by run, so a slow spell of the
/// machine falls on all of them alike; each run's host CPU is counted on its own.
fn measure_in_turns(
    sshd: &MeasuredSshd,
    idle: f64,
    rounds: usize,
    commands: &mut [&mut dyn FnMut() -> Command],
) -> Vec<Side> {
    let mut sides: Vec<Side> = commands
        .iter()
        .map(|_| Side {
            wall: Vec::new(),
            host_cpu: Duration::ZERO,
        })
        .collect();
    for _ in 0..rounds {
        for (side, command) in sides.iter_mut().zip(commands.iter_mut()) {
            let before = sshd.used();
            let started = Instant::now();
            let out = command().output().expect("the command runs");
            side.wall.push(started.elapsed());
            ok(&out);
            std::thread::sleep(Duration::from_millis(150)); // let exited processes be accounted
            let used =
                (sshd.used() - before).as_secs_f64() - idle * started.elapsed().as_secs_f64();
            side.host_cpu += Duration::from_secs_f64(used.max(0.0));
        }
    }
    sides
}

fn main() {
    let _lab_lock = exclusive();
    let lab = Lab::from_env();
    let rounds: usize = std::env::var("SHIPSHAPE_BENCH_ROUNDS")
        .ok()
        .and_then(|v| v.parse().ok())
        .unwrap_or(20);
    let cli = release_cli();
    if !cli.exists() {
        println!("cli benchmark skipped: no release build at {} (cargo build --release -p shipshape-cli)", cli.display());
        return;
    }
    let Some(sshd) = MeasuredSshd::start(&lab) else {
        println!(
            "cli benchmark skipped: no writable cpuacct cgroup (needs root and cgroup v1 cpuacct)"
        );
        return;
    };

    // Shipshape's side: its own data dir, the lab target set up and trusted, the facts
    // learned once (as after any first use).
    let home = tempfile::tempdir().unwrap();
    let shipshape = |args: &[&str]| {
        let mut command = Command::new(&cli);
        command
            .args(args)
            .env("SHIPSHAPE_HOME", home.path())
            .env("SHIPSHAPE_LAB", &lab.descriptor);
        command
    };
    ok(&shipshape(&["ps", "Local lab"]).output().unwrap());
    ok(&shipshape(&["health", "Local lab"]).output().unwrap());

    // OpenSSH's side: the same key, the same pinned host key, the same command text.
    let known_hosts = home.path().join("openssh_known_hosts");
    std::fs::write(
        &known_hosts,
        lab.known_hosts_line(&lab.field("port"), "ssh_host_ed25519_key.pub"),
    )
    .unwrap();
    let client_key = lab.field("client_key");
    let policy = Policy::builtin();
    let project = lab.field("project_dir");
    let options = ssh_options(&known_hosts, &client_key, &lab.field("port"));
    let ssh = |remote: String| {
        let options = options.clone();
        move || {
            let mut command = Command::new("ssh");
            command
                .args(["-o", "ControlMaster=no", "-o", "ControlPath=none"])
                .args(&options)
                .args(["ubuntu@127.0.0.1", &remote]);
            command
        }
    };
    let ps_text = Operation::Ps
        .command(&policy, &project, Compose::V2)
        .render();
    let health_text = Operation::Health
        .command(&policy, &project, Compose::V2)
        .render();
    ok(&ssh(ps_text.clone())().output().unwrap());

    let idle_window = Duration::from_secs(3);
    let idle_before = sshd.used();
    std::thread::sleep(idle_window);
    let idle = (sshd.used() - idle_before).as_secs_f64() / idle_window.as_secs_f64();

    println!("whole-process `ps` and `health`, {rounds} runs each, release build; host CPU above idle ({:.3} s/s):", idle);
    for (name, args, remote) in [
        ("ps", ["ps", "Local lab"], ps_text),
        ("health", ["health", "Local lab"], health_text),
    ] {
        let openssh = measure(&sshd, idle, rounds, ssh(remote.clone()));
        let ours = measure(&sshd, idle, rounds, || shipshape(&args));
        let row = |who: &str, side: &Side| {
            println!(
                "  {name:<7} {who:<34} wall {:7.1} ms   host CPU {:6.1} ms/run",
                side.median().as_secs_f64() * 1e3,
                side.cpu_per_run() * 1e3
            )
        };
        row("openssh (ssh host CMD, no mux)", &openssh);
        row(&format!("shipshape {name} (release)"), &ours);
        println!(
            "  {name:<7} {:<34} wall {:7.2}      host CPU {:6.2}      (goals <= 0.80, <= 1.10)",
            "ratio shipshape / openssh",
            ours.median().as_secs_f64() / openssh.median().as_secs_f64(),
            ours.cpu_per_run() / openssh.cpu_per_run().max(f64::EPSILON)
        );
    }

    verification(
        &sshd,
        idle,
        rounds,
        &shipshape,
        &options,
        &policy,
        &project,
        home.path(),
    );
}

fn ssh_options(known_hosts: &Path, client_key: &str, port: &str) -> Vec<String> {
    [
        "-o",
        "BatchMode=yes",
        "-o",
        "StrictHostKeyChecking=yes",
        "-o",
        &format!("UserKnownHostsFile={}", known_hosts.display()),
        "-o",
        "IdentitiesOnly=yes",
        "-i",
        client_key,
        "-p",
        port,
    ]
    .iter()
    .map(|s| s.to_string())
    .collect()
}

/// One ControlMaster connection, the probes six at a time over it, then the master ends.
const HAND_TUNED: &str = r#"dir=$1; shift
sock="$dir/control"
ssh $SSH_OPTIONS -o ControlMaster=yes -o "ControlPath=$sock" -o ControlPersist=yes -fN ubuntu@127.0.0.1
printf '%s\0' "$@" | xargs -0 -P 6 -I{} ssh $SSH_OPTIONS -o "ControlPath=$sock" ubuntu@127.0.0.1 {} >/dev/null 2>&1 || true
ssh -o "ControlPath=$sock" -O exit ubuntu@127.0.0.1 2>/dev/null || true"#;

/// One `ssh` per probe, one after the other.
const NAIVE: &str = r#"shift
for probe; do ssh $SSH_OPTIONS -o ControlMaster=no -o ControlPath=none ubuntu@127.0.0.1 "$probe" >/dev/null 2>&1 || true; done"#;

#[allow(clippy::too_many_arguments)]
fn verification(
    sshd: &MeasuredSshd,
    idle: f64,
    rounds: usize,
    shipshape: &dyn Fn(&[&str]) -> Command,
    options: &[String],
    policy: &Policy,
    project: &str,
    home: &Path,
) {
    let rounds = rounds.max(3);
    let probes: Vec<String> = Probe::ALL
        .iter()
        .map(|p| p.command(policy, project).render())
        .collect();
    // Beside the data folder, never in it: Shipshape refuses that.
    let reports = tempfile::tempdir().unwrap();
    let report = reports.path().join("bench-report.json");
    let script = |text: &'static str| {
        let probes = probes.clone();
        let options = options.join(" ");
        let dir = home.to_path_buf();
        move || {
            let mut command = Command::new("sh");
            command
                .args(["-c", text, "bench", dir.to_str().unwrap()])
                .args(&probes)
                .env("SSH_OPTIONS", &options);
            command
        }
    };
    // A failed check (exit 1) is still a whole verification with its report written.
    let mut ours = || {
        let inner = shipshape(&["verify", "Local lab", "--report", report.to_str().unwrap()]);
        let mut command = Command::new("sh");
        command
            .args(["-c", "\"$0\" \"$@\"; [ $? -le 1 ]"])
            .arg(inner.get_program())
            .args(inner.get_args())
            .envs(inner.get_envs().filter_map(|(k, v)| v.map(|v| (k, v))));
        command
    };
    let mut tuned = script(HAND_TUNED);
    let [ours, tuned]: [Side; 2] =
        measure_in_turns(sshd, idle, rounds, &mut [&mut ours, &mut tuned])
            .try_into()
            .unwrap_or_else(|_| unreachable!());
    let naive = measure(sshd, idle, rounds.min(3), script(NAIVE));
    println!(
        "whole verification ({} probes), {rounds} runs each, Shipshape and the hand-tuned script taking turns (the naive one {}):",
        probes.len(),
        rounds.min(3)
    );
    for (who, side) in [
        ("shipshape verify --report (release)", &ours),
        ("openssh ControlMaster, 6 in parallel", &tuned),
        ("openssh one ssh per probe, in turn", &naive),
    ] {
        println!(
            "  verify  {who:<37} wall {:7.1} ms   host CPU {:6.1} ms/run",
            side.median().as_secs_f64() * 1e3,
            side.cpu_per_run() * 1e3
        );
    }
    let ratio = |a: &Side, b: &Side| a.median().as_secs_f64() / b.median().as_secs_f64();
    let cpu = |a: &Side, b: &Side| a.cpu_per_run() / b.cpu_per_run().max(f64::EPSILON);
    println!(
        "  verify  ratio to hand-tuned  wall {:5.2}  host CPU {:5.2}   (goals <= 0.50, < 1.00)",
        ratio(&ours, &tuned),
        cpu(&ours, &tuned)
    );
    println!(
        "  verify  ratio to naive       wall {:5.2}  host CPU {:5.2}   (goals <= 0.125, < 1.00); {:.1}x faster",
        ratio(&ours, &naive),
        cpu(&ours, &naive),
        1.0 / ratio(&ours, &naive)
    );
}
