//! The operator's machine killed at random points: `shipshape verify` and `shipshape
//! deploy` (release builds, against the lab) are started one after another and each is
//! sent SIGKILL after a random delay within its usual run time. After each kill, within
//! 10 s, nothing of Shipshape's runs on the host and its deploy lock is free; the data
//! dir's files still parse, `.env.aws` is untouched and the host's audit log ends on a
//! whole line. At the end the journal's chain verifies and every record is complete or
//! marked interrupted (none left "running"). Prints one row for the proving ground's
//! table; exits 1 on any loss. git's lock files left in the checkout (one stops every
//! later pull until it is removed) have a row of their own: an open bug, counted and
//! shown but not yet a failure.
//!
//! `SHIPSHAPE_SIGKILL_RUNS` (default 100), `SHIPSHAPE_SIGKILL_SEED` to replay.

use std::path::Path;
use std::process::Stdio;
use std::time::{Duration, Instant};

use serde_json::Value;
use shipshape_tests::*;

const TARGET: &str = "Local lab";
/// A git process, by its arguments (`git pull`, `.../git-core/git merge`,
/// `git-upload-pack`).
const GIT: &str = "(^|/)git( |-|$)";

fn main() {
    let runs: u64 = number("SHIPSHAPE_SIGKILL_RUNS", 100);
    let clock = std::time::SystemTime::now().duration_since(std::time::UNIX_EPOCH);
    let seed = number(
        "SHIPSHAPE_SIGKILL_SEED",
        clock.map_or(7, |d| d.as_nanos() as u64),
    );
    let lab = Lab::from_env();
    let _lab_lock = exclusive();
    let home = tempfile::tempdir().unwrap();
    let cli = release_cli();
    let env_file = Path::new(&lab.field("project_dir")).join(".env.aws");
    let env_before = sha256_of(&env_file);
    let git_dir = Path::new(&lab.field("project_dir")).join(".git");
    let audit_log = Path::new("/home")
        .join(lab.field("user"))
        .join(".shipshape/audit.log");

    // How long each takes when left alone: the kills fall within that.
    let usual = |args: &[&str]| {
        let t0 = Instant::now();
        let done = cli_command(&cli, &lab, home.path(), args)
            .stdout(Stdio::null())
            .stderr(Stdio::null())
            .status()
            .unwrap();
        assert!(
            done.success(),
            "shipshape {args:?} fails even without a kill"
        );
        t0.elapsed()
    };
    let verify_args = ["verify", TARGET];
    let deploy_args = [
        "deploy",
        TARGET,
        "--yes",
        "--message",
        "sigkill proving ground",
    ];
    let spans = [usual(&verify_args), usual(&deploy_args)];

    let mut rng = seed | 1;
    let mut killed = 0;
    let mut finished = 0;
    let mut problems = Vec::new();
    let mut stale_git_locks = Vec::new();
    let t0 = Instant::now();
    for run in 0..runs {
        let (args, span): (&[&str], _) = match run % 2 {
            0 => (&verify_args, spans[0]),
            _ => (&deploy_args, spans[1]),
        };
        rng ^= rng << 13;
        rng ^= rng >> 7;
        rng ^= rng << 17;
        let delay = span.mul_f64((rng % 1000) as f64 / 1000.0 * 1.1);
        let mut child = cli_command(&cli, &lab, home.path(), args)
            .stdout(Stdio::null())
            .stderr(Stdio::null())
            .spawn()
            .unwrap();
        std::thread::sleep(delay);
        match child.try_wait().unwrap() {
            Some(_) => finished += 1,
            None => {
                child.kill().unwrap(); // SIGKILL
                killed += 1;
            }
        }
        child.wait().unwrap();
        let what = format!(
            "run {run} ({} killed after {} ms)",
            args[0],
            delay.as_millis()
        );
        if !wait_until(Duration::from_secs(10), || {
            host_processes(&lab, "shipshape-").is_empty()
        }) {
            problems.push(format!(
                "{what}: still running on the host: {:?}",
                host_processes(&lab, "shipshape-")
            ));
        }
        if !wait_until(Duration::from_secs(10), || {
            !lock_held(&cli, &lab, home.path())
        }) {
            problems.push(format!("{what}: the host's deploy lock is still held"));
        }
        if let Err(damage) = data_dir_parses(home.path()) {
            problems.push(format!("{what}: {damage}"));
        }
        if sha256_of(&env_file) != env_before {
            problems.push(format!("{what}: .env.aws changed"));
        }
        // Once no git runs there: a lock git still holds is not left behind.
        let git_gone = wait_until(Duration::from_secs(10), || {
            host_processes(&lab, GIT).is_empty()
        });
        let left = git_locks(&git_dir);
        if !git_gone {
            stale_git_locks.push(format!(
                "{what}: git still runs on the host 10 s on: {:?} (locks: {left:?})",
                host_processes(&lab, GIT)
            ));
        } else if !left.is_empty() {
            stale_git_locks.push(format!("{what}: {left:?}"));
            // Removed, so the runs after it still reach their pull.
            for lock in &left {
                let _ = std::fs::remove_file(git_dir.join(lock));
            }
        }
        let log = std::fs::read(&audit_log).unwrap_or_default();
        if log.last().is_some_and(|&byte| byte != b'\n') {
            problems.push(format!("{what}: the host's audit log ends mid-line"));
        }
    }

    let verified = cli_command(&cli, &lab, home.path(), &["history", "verify"])
        .output()
        .unwrap();
    if !verified.status.success() {
        problems.push(format!("history verify: {}", text(&verified.stderr)));
    }
    let listed = cli_command(&cli, &lab, home.path(), &["history", "--json"])
        .output()
        .unwrap();
    let records: Vec<Value> = serde_json::from_slice(&listed.stdout).unwrap_or_default();
    let count = |outcome: &str| records.iter().filter(|r| r["outcome"] == outcome).count();
    let interrupted = count("interrupted");
    let running = count("running");
    if running > 0 || records.is_empty() {
        problems.push(format!(
            "{running} of {} records left running",
            records.len()
        ));
    }
    println!(
        "sigkill: {runs} runs ({} verify, {} deploy) in {} s, seed {seed}: {killed} killed mid-run, {finished} finished first; \
         {} journal records ({interrupted} interrupted, {running} running); history verify {}",
        runs.div_ceil(2),
        runs / 2,
        t0.elapsed().as_secs(),
        records.len(),
        if verified.status.success() { "clean" } else { "BROKEN" },
    );
    println!(
        "| SIGKILL of the operator's machine at a random point of verify and deploy | {runs} | {} | {} |",
        if problems.is_empty() { "journal verifies; every record complete or interrupted; no lock held; nothing left on the host".to_string() } else { format!("FAILED: {}", problems.len()) },
        problems.len()
    );
    // Seen in two CI runs and in none of five runs by hand since; its cause is not
    // found yet, so it is counted and shown, not (yet) a failure of the suite.
    println!(
        "| git's lock file left in the lab checkout (or git still running) after a SIGKILLed run: an open bug, counted, not failed | {runs} | {} | {} |",
        match stale_git_locks.len() {
            0 => "none left".to_string(),
            n => format!("{n} found (listed in the log): a lock left stops every later pull until it is removed"),
        },
        stale_git_locks.len()
    );
    for stale in &stale_git_locks {
        eprintln!("sigkill: git lock left: {stale}");
        println!("sigkill: git lock left: {stale}");
    }
    for problem in &problems {
        eprintln!("sigkill: {problem}");
    }
    std::process::exit(i32::from(!problems.is_empty()));
}

/// git's own lock files (`index.lock`, a ref's `.lock`): one left behind stops every
/// later `git pull` of the checkout until someone removes it by hand.
fn git_locks(git_dir: &Path) -> Vec<String> {
    let mut found = Vec::new();
    let mut dirs = vec![git_dir.to_path_buf()];
    while let Some(dir) = dirs.pop() {
        for entry in std::fs::read_dir(&dir).into_iter().flatten().flatten() {
            let path = entry.path();
            if path.is_dir() && entry.file_name() != "objects" {
                dirs.push(path);
            } else if path.extension().is_some_and(|e| e == "lock") {
                found.push(
                    path.strip_prefix(git_dir)
                        .unwrap_or(&path)
                        .display()
                        .to_string(),
                );
            }
        }
    }
    found
}

fn lock_held(cli: &Path, lab: &Lab, home: &Path) -> bool {
    let out = cli_command(cli, lab, home, &["lock", "status", TARGET, "--json"])
        .output()
        .unwrap();
    let status: Value = serde_json::from_slice(&out.stdout).unwrap_or(Value::Null);
    status["held"] != false
}

/// The data dir's files are whole: the settings are JSON, each pin has its fields.
fn data_dir_parses(home: &Path) -> Result<(), String> {
    let settings = home.join("settings.json");
    if let Ok(bytes) = std::fs::read(&settings) {
        serde_json::from_slice::<Value>(&bytes)
            .map_err(|e| format!("settings.json is damaged: {e}"))?;
    }
    if let Ok(pins) = std::fs::read_to_string(home.join("known_hosts")) {
        let whole = pins
            .lines()
            .filter(|l| !l.starts_with('#') && !l.trim().is_empty())
            .all(|l| l.split_whitespace().count() >= 2 && l.contains("SHA256:"));
        if !whole || !pins.ends_with('\n') {
            return Err("known_hosts is damaged".into());
        }
    }
    Ok(())
}

fn number(name: &str, default: u64) -> u64 {
    std::env::var(name)
        .ok()
        .and_then(|v| v.parse().ok())
        .unwrap_or(default)
}
