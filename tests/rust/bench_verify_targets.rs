//! Benchmark, not a test: `shipshape verify A B`, two lab targets verified side by side
//! (each over its own connection), against the slower of `verify A` and `verify B` run
//! alone; release build, the three taking turns round by round, medians printed. Goal:
//! side by side <= 1.3 x the slower alone.
//!
//! Twice. First both targets are the lab's one sshd, so their host work shares this
//! machine's two cores. Beside that figure, the bound it lives under: the CPU the whole
//! machine spent during one verification alone (its host's work and the client's, from
//! `/proc/stat`); two need twice that, so on this machine's cores they cannot end
//! sooner than `2 × CPU / cores`, whatever the client does (and this machine's own floor:
//! two CPU-bound loops at once against one). Then each target is an sshd of its own
//! pinned to a core of its own (`taskset`; what it starts inherits the pin), as two
//! hosts each with their own CPU would be: what is left of the ratio is the client's
//! doing.
//!
//! Run as root: tests/with-keyring.sh cargo run -p shipshape-tests --bin bench-verify-targets
//! (SHIPSHAPE_BENCH_ROUNDS, default 7).

use std::net::{TcpListener, TcpStream};
use std::process::{Child, Command, Stdio};
use std::time::{Duration, Instant};

use shipshape_tests::{
    add_trusted_lab_target, cli_command, exclusive, release_cli, wait_until, Lab,
};

fn main() {
    let lab = Lab::from_env();
    let _lab_lock = exclusive();
    let home = tempfile::tempdir().unwrap();
    // Reports go beside the data folder, never in it: Shipshape refuses that.
    let reports = tempfile::tempdir().unwrap();
    let cli = release_cli();
    let rounds: usize = std::env::var("SHIPSHAPE_BENCH_ROUNDS")
        .ok()
        .and_then(|r| r.parse().ok())
        .unwrap_or(7);
    let run_counting_cpu = |args: &[&str]| -> (Duration, Duration) {
        let (started, cpu_before) = (Instant::now(), machine_cpu());
        let out = cli_command(&cli, &lab, home.path(), args).output().unwrap();
        if !out.status.success() {
            // The home is temporary: what failed (its report's rows) is printed before it goes.
            let said = String::from_utf8_lossy(&out.stderr);
            for record in failed_records(&said) {
                let report = reports.path().join(format!("{record}.md"));
                let mut write = cli_command(&cli, &lab, home.path(), &["report", &record]);
                let _ = write.arg("--out").arg(&report).output();
                let text = std::fs::read_to_string(&report).unwrap_or_default();
                for failed in text
                    .lines()
                    .filter(|l| l.starts_with("| ✘ Failed | ") && l.contains("(`"))
                {
                    eprintln!("{record}: {failed}");
                }
            }
            panic!("{args:?}: {said}");
        }
        (started.elapsed(), machine_cpu().saturating_sub(cpu_before))
    };
    let run = |args: &[&str]| -> Duration { run_counting_cpu(args).0 };
    // A, B alone and then side by side, taking turns; medians of the rounds, and of
    // the machine's CPU during A alone.
    let compare = |a: &str, b: &str| -> (f64, f64, f64, f64) {
        run(&["verify", a, b]); // warm: images, caches, the journal
        let (mut first, mut second, mut both) = (Vec::new(), Vec::new(), Vec::new());
        let mut cpu = Vec::new();
        for _ in 0..rounds {
            let (took, used) = run_counting_cpu(&["verify", a]);
            first.push(took);
            cpu.push(used);
            second.push(run(&["verify", b]));
            both.push(run(&["verify", a, b]));
        }
        (median(first), median(second), median(both), median(cpu))
    };
    run(&["target", "list"]);

    add_trusted_lab_target(
        &cli,
        &lab,
        home.path(),
        "Lab again",
        &lab.field("port"),
        &[],
    );
    let (first, second, both, cpu) = compare("Local lab", "Lab again");
    println!(
        "verify of two targets side by side, sharing the lab's {} cores: {both:.2} s; alone: {first:.2} s and {second:.2} s; \
         {:.2} x the slower alone (goal <= 1.3; median of {rounds} rounds, release build)",
        cores(),
        both / first.max(second)
    );
    let bound = 2.0 * cpu / cores() as f64;
    println!(
        "  one verification alone used {:.0} ms of this machine's CPU in {:.0} ms ({:.1} cores busy): two cannot end in less than {:.0} ms here, {:.2} x one alone",
        cpu * 1000.0,
        first * 1000.0,
        cpu / first,
        bound * 1000.0,
        bound / first
    );
    println!(
        "  this machine's own floor: two CPU-bound loops side by side take {:.2} x one alone",
        two_loops_ratio()
    );

    let pinned: Vec<PinnedSshd> = (0..2).map(|core| PinnedSshd::start(&lab, core)).collect();
    for sshd in &pinned {
        let name = format!("Lab on core {}", sshd.core);
        add_trusted_lab_target(&cli, &lab, home.path(), &name, &sshd.port.to_string(), &[]);
    }
    let (first, second, both, _) = compare("Lab on core 0", "Lab on core 1");
    println!(
        "  each host's work on a core of its own (an sshd pinned per target): {both:.2} s; alone: {first:.2} s and {second:.2} s; \
         {:.2} x the slower alone (goal <= 1.3)",
        both / first.max(second)
    );
}

/// The records of the targets a verification's summary lines say failed
/// ("NAME: 10 pass, 1 fail, 1 manual (record ID)", on stderr).
fn failed_records(said: &str) -> Vec<String> {
    said.lines()
        .filter(|line| line.contains(" fail"))
        .filter_map(|line| line.split("(record ").nth(1))
        .map(|rest| rest.trim_end_matches(')').to_string())
        .collect()
}

/// The CPU time every core of this machine has spent busy so far: `/proc/stat`'s first
/// line, in the kernel's 10 ms ticks, is user nice system idle iowait irq softirq steal
/// (guest time is counted in user); busy is all but idle and iowait.
fn machine_cpu() -> Duration {
    let stat = std::fs::read_to_string("/proc/stat").unwrap_or_default();
    let ticks: Vec<u64> = stat
        .lines()
        .next()
        .unwrap_or_default()
        .split_whitespace()
        .skip(1)
        .filter_map(|n| n.parse().ok())
        .collect();
    let busy: u64 = [0, 1, 2, 5, 6, 7]
        .iter()
        .filter_map(|&i| ticks.get(i))
        .sum();
    Duration::from_millis(busy * 10)
}

fn median(mut runs: Vec<Duration>) -> f64 {
    runs.sort();
    runs[runs.len() / 2].as_secs_f64()
}

/// A CPU-bound loop alone, then two at once (medians of 5 turns): what two verifications
/// that keep both cores busy could at best take, next to one.
fn two_loops_ratio() -> f64 {
    let spin = || {
        let started = Instant::now();
        let mut sum: u64 = 0;
        for i in 0..100_000_000u64 {
            sum = std::hint::black_box(sum.wrapping_add(i.wrapping_mul(i)));
        }
        started.elapsed()
    };
    let (mut alone, mut both) = (Vec::new(), Vec::new());
    for _ in 0..5 {
        alone.push(spin());
        let started = Instant::now();
        std::thread::scope(|s| {
            s.spawn(spin);
            s.spawn(spin);
        });
        both.push(started.elapsed());
    }
    median(both) / median(alone)
}

fn cores() -> usize {
    std::thread::available_parallelism().map_or(1, |n| n.get())
}

/// A second sshd of the lab (its config, its host keys), on a free loopback port, pinned
/// to one core: every session's processes inherit the pin. Ended on drop.
struct PinnedSshd {
    core: usize,
    port: u16,
    child: Child,
    _log_dir: tempfile::TempDir,
}

impl PinnedSshd {
    fn start(lab: &Lab, core: usize) -> PinnedSshd {
        let port = TcpListener::bind("127.0.0.1:0")
            .and_then(|l| l.local_addr())
            .unwrap()
            .port();
        let config = lab.dir().join("sshd.conf");
        let log_dir = tempfile::tempdir().unwrap();
        let log = log_dir.path().join("sshd.log");
        let child = Command::new("taskset")
            .args(["-c", &core.to_string(), "/usr/sbin/sshd", "-D", "-f"])
            .arg(&config)
            .args(["-o", &format!("Port={port}"), "-o", "PidFile=none", "-E"])
            .arg(&log)
            .stdin(Stdio::null())
            .spawn()
            .expect("taskset and sshd run");
        let listening = wait_until(Duration::from_secs(10), || {
            TcpStream::connect(("127.0.0.1", port)).is_ok()
        });
        assert!(listening, "the pinned sshd listens: see {}", log.display());
        PinnedSshd {
            core,
            port,
            child,
            _log_dir: log_dir,
        }
    }
}

impl Drop for PinnedSshd {
    fn drop(&mut self) {
        let _ = self.child.kill();
        let _ = self.child.wait();
    }
}
