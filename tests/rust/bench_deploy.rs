//! Benchmark, not a test: the time the guided deploy adds over the same commands run by
//! hand. Shipshape's side is the whole `shipshape deploy NAME --yes` process (release
//! build: start, connect, the Never Do checks, the review, the lock, the snapshot, `git
//! pull`, `pull`, `up -d --remove-orphans`, the verification, the audit lines, the lock
//! freed). The hand's side is the same commands, as that deploy recorded them, typed over
//! one OpenSSH ControlMaster connection: each step's commands in order, the lock held in
//! the background for the whole run (as a careful operator would), then the verification's
//! probes six at a time. Origin and the registry hold nothing new, so every round deploys
//! the same state and the lab is left as it was. The sides take turns. Goal: <= 1.1 x.
//!
//! Run as root: tests/with-keyring.sh cargo run -p shipshape-tests --bin bench-deploy
//! (SHIPSHAPE_BENCH_DEPLOY_ROUNDS, default 5; SHIPSHAPE_BENCH_CLI, default the release
//! build beside this binary's target dir).

use std::process::Command;
use std::time::{Duration, Instant};

use shipshape_core::checks::probe::Probe;
use shipshape_core::policy::Policy;
use shipshape_tests::{exclusive, finished_deploy_id, ok, release_cli, text, Lab};

/// The hand's run: `$1` a scratch dir, `$2` the lock's command, then the step commands,
/// `--probes--`, and the probes. The lock is held with a terminal (`-tt`): without one,
/// as Shipshape's supervisor exists to prevent, its `sleep` would outlive the session
/// and keep the host locked.
const BY_HAND: &str = r#"dir=$1; lock=$2; shift 2
sock="$dir/control"
ssh $SSH_OPTIONS -o ControlMaster=yes -o "ControlPath=$sock" -o ControlPersist=yes -fN ubuntu@127.0.0.1 || exit
ssh -tt $SSH_OPTIONS -o "ControlPath=$sock" ubuntu@127.0.0.1 "$lock" </dev/null >/dev/null 2>&1 & held=$!
while [ $# -gt 0 ] && [ "$1" != "--probes--" ]; do
  ssh $SSH_OPTIONS -o "ControlPath=$sock" ubuntu@127.0.0.1 "$1" >/dev/null 2>&1 || { echo "failed: $1" >&2; kill $held; exit 1; }
  shift
done
shift
printf '%s\0' "$@" | xargs -0 -P 6 -I{} ssh $SSH_OPTIONS -o "ControlPath=$sock" ubuntu@127.0.0.1 {} >/dev/null 2>&1 || true
kill $held; wait $held 2>/dev/null
ssh -o "ControlPath=$sock" -O exit ubuntu@127.0.0.1 2>/dev/null || true"#;

fn median(times: &[Duration]) -> Duration {
    let mut sorted = times.to_vec();
    sorted.sort();
    sorted[sorted.len() / 2]
}

fn main() {
    let _lab_lock = exclusive();
    let lab = Lab::from_env();
    let rounds: usize = std::env::var("SHIPSHAPE_BENCH_DEPLOY_ROUNDS")
        .ok()
        .and_then(|v| v.parse().ok())
        .unwrap_or(5)
        .max(3);
    let cli = release_cli();
    if !cli.exists() {
        println!(
            "deploy benchmark skipped: no release build at {}",
            cli.display()
        );
        return;
    }
    let home = tempfile::tempdir().unwrap();
    let shipshape = |args: &[&str]| {
        let mut command = Command::new(&cli);
        command
            .args(args)
            .env("SHIPSHAPE_HOME", home.path())
            .env("SHIPSHAPE_LAB", &lab.descriptor);
        command
    };
    let deploy = || shipshape(&["deploy", "Local lab", "--yes", "--message", "benchmark"]);

    // A first deploy, to learn the host's facts and to read the commands it ran.
    let first = deploy().output().unwrap();
    let said = text(&first.stderr);
    ok(&first);
    let id = finished_deploy_id(&said);
    // Beside the data folder, never in it: Shipshape refuses that.
    let reports = tempfile::tempdir().unwrap();
    let report = reports.path().join("deploy.json");
    ok(
        &shipshape(&["report", &id, "--out", report.to_str().unwrap()])
            .output()
            .unwrap(),
    );
    let report: serde_json::Value =
        serde_json::from_str(&std::fs::read_to_string(&report).unwrap()).unwrap();
    let mut lock = String::new();
    let mut steps: Vec<String> = Vec::new();
    for step in report["deploy"]["steps"].as_array().unwrap() {
        let commands = step["commands"]
            .as_array()
            .unwrap()
            .iter()
            .map(|c| c.as_str().unwrap().to_string());
        match step["step"].as_str().unwrap() {
            "lock" => lock = commands.into_iter().next().unwrap_or_default(),
            "unlock" | "verify" => {}
            _ => steps.extend(commands.map(|c| by_hand_equivalent(&c, &lab))),
        }
    }
    assert!(
        !lock.is_empty() && !steps.is_empty(),
        "no commands in {}",
        report["deploy"]
    );
    let policy = Policy::builtin();
    let probes: Vec<String> = Probe::ALL
        .iter()
        .map(|p| p.command(&policy, &lab.field("project_dir")).render())
        .collect();

    let known_hosts = home.path().join("openssh_known_hosts");
    std::fs::write(
        &known_hosts,
        lab.known_hosts_line(&lab.field("port"), "ssh_host_ed25519_key.pub"),
    )
    .unwrap();
    let options = format!(
        "-o BatchMode=yes -o StrictHostKeyChecking=yes -o UserKnownHostsFile={} -o IdentitiesOnly=yes -i {} -p {}",
        known_hosts.display(),
        lab.field("client_key"),
        lab.field("port")
    );
    let by_hand = || {
        let mut command = Command::new("sh");
        command
            .args([
                "-c",
                BY_HAND,
                "by-hand",
                home.path().to_str().unwrap(),
                &lock,
            ])
            .args(&steps)
            .arg("--probes--")
            .args(&probes)
            .env("SSH_OPTIONS", &options);
        command
    };

    let (mut ours, mut hand) = (Vec::new(), Vec::new());
    for _ in 0..rounds {
        for (times, mut command) in [(&mut ours, deploy()), (&mut hand, by_hand())] {
            let clock = Instant::now();
            let out = command.output().unwrap();
            times.push(clock.elapsed());
            ok(&out);
        }
    }
    let (ours, hand) = (median(&ours), median(&hand));
    println!(
        "guided deploy, nothing new to bring ({} step commands + lock, {} probes), {rounds} runs each, taking turns:",
        steps.len(),
        probes.len()
    );
    println!(
        "  by hand over one ControlMaster connection   wall {:8.1} ms",
        hand.as_secs_f64() * 1e3
    );
    println!(
        "  shipshape deploy --yes (release)            wall {:8.1} ms",
        ours.as_secs_f64() * 1e3
    );
    println!(
        "  ratio shipshape / by hand                   wall {:8.2}    (goal <= 1.10)",
        ours.as_secs_f64() / hand.as_secs_f64()
    );
}

/// What an operator by hand runs for a step's command: the command itself, or for the
/// Docker engine's requests Shipshape asked of its socket over the connection, the
/// probe's `curl` command that reads the same (recognised by its requests).
fn by_hand_equivalent(command: &str, lab: &Lab) -> String {
    if !command.starts_with("GET ") {
        return command.to_string();
    }
    let probe = if command.contains("/logs?") {
        Probe::Logs
    } else if command.contains("\nGET /images/") {
        Probe::Images
    } else if command.starts_with("GET /containers/json\n") {
        Probe::Publishers
    } else {
        Probe::Containers
    };
    probe
        .command(&Policy::builtin(), &lab.field("project_dir"))
        .render()
}
