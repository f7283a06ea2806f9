//! The hostile host: the lab's `sshd-hostile` login, whose `docker`, `git` and `curl`
//! answer with invalid UTF-8, terminal escapes, a 10 MB line, 1 GB of output, almost-right
//! JSON or output that never ends (tests/lab/hostile/shim.sh). Each mode is tried on each
//! command that reads such output (`ps`, `logs`, `git-review`, `health`, `verify`) with
//! the release CLI. Every run must end (its deadline at most), without a panic, with
//! nothing in what it prints that a terminal would act on, with the CLI's peak memory
//! under 300 MB, and with nothing left running on the host. Prints one row per mode for
//! the proving ground's table; exits 1 on any failure.

use std::path::Path;
use std::time::{Duration, Instant};

use shipshape_tests::*;

const MODES: &[&str] = &[
    "invalid-utf8",
    "escapes",
    "long-line",
    "gigabyte",
    "almost-json",
    "endless",
];
const COMMANDS: &[&[&str]] = &[
    &["ps", "hostile"],
    &["logs", "hostile", "backend-aws", "-n", "200"],
    &["git-review", "hostile"],
    &["health", "hostile"],
    &["verify", "hostile"],
];
const MEMORY_LIMIT: u64 = 300 * 1024 * 1024;
/// What may not outlive a command on the host: its supervisor, a shim's `yes`.
const LEFT_ON_HOST: &str = "shipshape-|^yes ";

fn main() {
    let lab = Lab::from_env();
    let _lab_lock = exclusive();
    let home = tempfile::tempdir().unwrap();
    let cli = release_cli();
    let mode_file = lab.field("hostile_mode");
    let policy = home.path().join("quick.toml");
    // Short deadlines: a command that never ends is cut within seconds.
    std::fs::write(
        &policy,
        "deadline_read_seconds = 5\ndeadline_health_seconds = 5\n",
    )
    .unwrap();
    let policy = ["--policy", policy.to_str().unwrap()];
    let port = lab.field("hostile_port");
    add_trusted_lab_target(&cli, &lab, home.path(), "hostile", &port, &policy);

    let mut failures = 0;
    let mut rows = Vec::new();
    for mode in MODES {
        std::fs::write(&mode_file, mode).unwrap();
        let mut peak_of_mode = 0;
        let mut exits = Vec::new();
        let mut problems = Vec::new();
        for args in COMMANDS {
            let run = run_watched(&cli, &lab, home.path(), args);
            peak_of_mode = peak_of_mode.max(run.peak);
            exits.push(format!(
                "{} {}",
                args[0],
                run.exit.map_or("signal".into(), |c| c.to_string())
            ));
            let what = format!("{mode}: shipshape {}", args.join(" "));
            match run.exit {
                Some(0..=4) => {}
                other => problems.push(format!("{what} ended with {other:?} (101 is a panic)")),
            }
            if let Some(at) = run.printed.iter().position(|&b| b == 0x1b) {
                let around = &run.printed[at.saturating_sub(20)..(at + 20).min(run.printed.len())];
                problems.push(format!(
                    "{what} printed an escape: {}",
                    around.escape_ascii()
                ));
            }
            if run.printed.windows(2).any(|w| w == [0xc2, 0x9b]) {
                problems.push(format!("{what} printed a C1 control sequence introducer"));
            }
            if run.peak > MEMORY_LIMIT {
                problems.push(format!("{what} peaked at {} MB", run.peak >> 20));
            }
            if run.took > Duration::from_secs(60) {
                problems.push(format!("{what} took {} s", run.took.as_secs()));
            }
            if !wait_until(Duration::from_secs(10), || {
                host_processes(&lab, LEFT_ON_HOST).is_empty()
            }) {
                problems.push(format!(
                    "{what} left on the host: {:?}",
                    host_processes(&lab, LEFT_ON_HOST)
                ));
            }
        }
        for problem in &problems {
            eprintln!("hostile host: {problem}");
        }
        failures += problems.len();
        rows.push(format!(
            "| hostile host: {mode} (ps, logs, git-review, health, verify) | {} | {}; peak memory {} MB | {} |",
            COMMANDS.len(),
            if problems.is_empty() { format!("no panic, nothing a terminal acts on, exits {}", exits.join(", ")) } else { format!("FAILED: {}", problems.len()) },
            peak_of_mode >> 20,
            problems.len()
        ));
    }
    std::fs::write(&mode_file, "").unwrap();
    for row in rows {
        println!("{row}");
    }
    std::process::exit(i32::from(failures > 0));
}

struct Run {
    exit: Option<i32>,
    /// Peak resident memory of the CLI, in bytes.
    peak: u64,
    printed: Vec<u8>,
    took: Duration,
}

/// Runs the CLI, reading its peak memory (VmHWM) as it goes; killed after 90 s.
fn run_watched(cli: &Path, lab: &Lab, home: &Path, args: &[&str]) -> Run {
    let t0 = Instant::now();
    let out_file = tempfile::tempfile().unwrap();
    let err_file = tempfile::tempfile().unwrap();
    let mut child = cli_command(cli, lab, home, args)
        .stdout(out_file.try_clone().unwrap())
        .stderr(err_file.try_clone().unwrap())
        .spawn()
        .unwrap();
    let status_file = format!("/proc/{}/status", child.id());
    let mut peak = 0;
    let status = loop {
        if let Ok(status) = std::fs::read_to_string(&status_file) {
            if let Some(kb) = status
                .lines()
                .find_map(|l| l.strip_prefix("VmHWM:"))
                .and_then(|v| v.trim().trim_end_matches(" kB").trim().parse::<u64>().ok())
            {
                peak = peak.max(kb * 1024);
            }
        }
        if let Some(status) = child.try_wait().unwrap() {
            break status;
        }
        if t0.elapsed() > Duration::from_secs(90) {
            child.kill().ok();
            break child.wait().unwrap();
        }
        std::thread::sleep(Duration::from_millis(20));
    };
    let mut printed = Vec::new();
    for mut file in [out_file, err_file] {
        use std::io::{Read, Seek};
        file.rewind().unwrap();
        file.read_to_end(&mut printed).unwrap();
    }
    Run {
        exit: status.code(),
        peak,
        printed,
        took: t0.elapsed(),
    }
}
