//! Faults against the real lab: a Docker engine that stops answering, an sshd session
//! that freezes mid-command, a client killed mid-stream. Each must end as a typed error
//! (exit 3, never 0 or 1) within its deadline, and leave nothing running on the host;
//! Ctrl-C while the CLI waits on a silent host ends it at once (exit 130).

use std::path::Path;
use std::process::{Child, Command};
use std::time::{Duration, Instant};

use serde_json::Value;
use shipshape_tests::*;

/// Sends SIGCONT to `pid` when dropped, so a failing test never leaves the lab frozen.
struct Stopped(String);

impl Stopped {
    fn stop(pid: &str) -> Stopped {
        run("kill", &["-STOP", pid]);
        Stopped(pid.to_string())
    }
}

impl Drop for Stopped {
    fn drop(&mut self) {
        let _ = Command::new("kill").args(["-CONT", &self.0]).status();
    }
}

/// The host's processes of the lab user that Shipshape started (its supervisor, the
/// watcher, or compose commands), one `pid command` line each.
fn shipshape_processes_on_host() -> Vec<String> {
    host_processes(&Lab::from_env(), "shipshape-|logs -f|docker events")
}

/// A policy file with short deadlines, so a hung command ends within seconds.
fn quick_policy(home: &Path) -> String {
    let path = home.join("quick-policy.toml");
    std::fs::write(&path, "deadline_read_seconds = 3\n").unwrap();
    path.display().to_string()
}

#[test]
fn a_hung_docker_engine_ends_ps_by_its_deadline_with_exit_3_and_then_works_again() {
    let _lab_lock = exclusive();
    let lab = Lab::from_env();
    let home = tempfile::tempdir().unwrap();
    let policy = quick_policy(home.path());
    ok(&shipshape(
        &lab,
        home.path(),
        &[
            "target",
            "add",
            "quick",
            "--host",
            "127.0.0.1",
            "--port",
            &lab.field("port"),
            "--dir",
            &lab.field("project_dir"),
            "--key",
            "local-lab",
            "--policy",
            &policy,
        ],
    ));
    ok(&shipshape(
        &lab,
        home.path(),
        &[
            "target",
            "trust",
            "quick",
            "--fingerprint",
            &lab.field("host_key_fingerprint"),
        ],
    ));
    ok(&shipshape(&lab, home.path(), &["ps", "quick"]));

    let dockerd = run("pgrep", &["-xo", "dockerd"]);
    let frozen = Stopped::stop(dockerd.trim());
    let started = Instant::now();
    let out = shipshape(&lab, home.path(), &["ps", "quick"]);
    let took = started.elapsed();
    let stderr = text(&out.stderr);
    assert_eq!(out.status.code(), Some(3), "{stderr}");
    assert!(stderr.contains("within 3 s"), "{stderr}");
    assert!(took < Duration::from_secs(10), "took {took:?}");
    drop(frozen);

    ok(&shipshape(&lab, home.path(), &["ps", "quick"]));
    assert!(
        wait_until(Duration::from_secs(5), || shipshape_processes_on_host()
            .is_empty()),
        "left on the host: {:?}",
        shipshape_processes_on_host()
    );
}

#[test]
fn a_frozen_sshd_session_during_a_migration_exits_3_and_is_recorded_as_interrupted() {
    let _lab_lock = exclusive();
    let lab = Lab::from_env();
    let home = tempfile::tempdir().unwrap();
    let mut migrate = spawn_cli(
        &lab,
        home.path(),
        &["migrate", "Local lab", "apply_migration_backfill_prices.py"],
    );
    // The supervisor of the migration, and the sshd process serving its session.
    let mut supervisor = String::new();
    assert!(
        wait_until(Duration::from_secs(20), || {
            supervisor = text(
                &Command::new("pgrep")
                    .args(["-u", "ubuntu", "-f", "shipshape-change.*apply_migration"])
                    .output()
                    .unwrap()
                    .stdout,
            )
            .lines()
            .next()
            .unwrap_or_default()
            .to_string();
            !supervisor.is_empty()
        }),
        "the migration started"
    );
    // Up from the supervisor to the first sshd: the session process.
    let mut session = supervisor.clone();
    for _ in 0..5 {
        session = run("ps", &["-o", "ppid=", "-p", &session])
            .trim()
            .to_string();
        if run("ps", &["-o", "args=", "-p", &session]).contains("sshd") {
            break;
        }
    }
    assert!(
        run("ps", &["-o", "args=", "-p", &session]).contains("sshd"),
        "an sshd session serves the supervisor"
    );
    let frozen = Stopped::stop(&session);
    let started = Instant::now();
    let status = wait_for_exit(&mut migrate, Duration::from_secs(30));
    let took = started.elapsed();
    let stderr = {
        let mut text_err = String::new();
        std::io::Read::read_to_string(migrate.stderr.as_mut().unwrap(), &mut text_err).unwrap();
        text_err
    };
    drop(frozen);
    assert_eq!(status, Some(3), "{stderr}");
    assert!(took <= Duration::from_secs(15), "noticed after {took:?}");
    assert!(stderr.contains("was lost while"), "{stderr}");

    let history: Value =
        serde_json::from_str(&ok(&shipshape(&lab, home.path(), &["history", "--json"]))).unwrap();
    let last = history.as_array().unwrap().last().unwrap().clone();
    assert_eq!(last["outcome"], "interrupted", "{last:#}");
    assert!(last["exit_code"].is_null());
    // The frozen session, once thawed, finds its client gone: the supervisor ends the
    // migration's command.
    assert!(
        wait_until(Duration::from_secs(10), || shipshape_processes_on_host()
            .is_empty()),
        "left on the host: {:?}",
        shipshape_processes_on_host()
    );
}

fn wait_for_exit(child: &mut Child, limit: Duration) -> Option<i32> {
    let start = Instant::now();
    while start.elapsed() < limit {
        if let Some(status) = child.try_wait().unwrap() {
            return status.code();
        }
        std::thread::sleep(Duration::from_millis(50));
    }
    child.kill().ok();
    None
}

/// A follow killed with `signal` leaves nothing behind on the host within 5 s.
fn killed_follow_leaves_nothing(signal: &str) {
    let _lab_lock = exclusive();
    let lab = Lab::from_env();
    let home = tempfile::tempdir().unwrap();
    let mut follow = spawn_cli(
        &lab,
        home.path(),
        &["logs", "Local lab", "market-updater-aws", "-n", "1", "-f"],
    );
    assert!(
        wait_until(Duration::from_secs(20), || {
            shipshape_processes_on_host()
                .iter()
                .any(|p| p.contains("compose --profile aws logs"))
        }),
        "the follow started"
    );
    run("kill", &[signal, &follow.id().to_string()]);
    wait_for_exit(&mut follow, Duration::from_secs(5));
    assert!(
        wait_until(Duration::from_secs(5), || shipshape_processes_on_host()
            .is_empty()),
        "5 s after {signal}, left on the host: {:?}",
        shipshape_processes_on_host()
    );
}

#[test]
fn a_follow_killed_with_sigterm_leaves_nothing_on_the_host() {
    killed_follow_leaves_nothing("-TERM");
}

#[test]
fn a_follow_killed_with_sigkill_leaves_nothing_on_the_host() {
    killed_follow_leaves_nothing("-KILL");
}

/// OpenSSH's sshd opens at most ten sessions on one connection; asking for more at once
/// (a verification's probes beside a deploy's lock, the live view and a follow) used to
/// end the extra commands as a lost connection. Now they wait their turn, and all run.
#[test]
fn more_commands_at_once_than_sshd_allows_sessions_all_run() {
    let _lab_lock = exclusive();
    let LabConsole {
        runtime,
        console,
        target,
        data: _data,
    } = lab_console();
    let connection = runtime.block_on(console.connect(&target)).unwrap();
    let deadline = shipshape_core::ssh::Deadline::Total(Duration::from_secs(20));
    let command = shipshape_core::shell::RemoteCommand::new("sleep").arg("0.5");
    let outputs = runtime.block_on(async {
        let runs = (0..16).map(|_| connection.exec(&command, deadline));
        futures_join_all(runs).await
    });
    for (i, output) in outputs.into_iter().enumerate() {
        let output = output.unwrap_or_else(|e| panic!("command {i} did not run: {e}"));
        assert_eq!(output.exit_code, Some(0), "command {i}: {}", output.stderr);
    }
}

/// Awaits every future, side by side (tokio's `JoinSet` would need `'static` ones).
async fn futures_join_all<F: std::future::Future>(
    futures: impl Iterator<Item = F>,
) -> Vec<F::Output> {
    let mut pinned: Vec<std::pin::Pin<Box<F>>> = futures.map(Box::pin).collect();
    let mut done: Vec<Option<F::Output>> = pinned.iter().map(|_| None).collect();
    std::future::poll_fn(|cx| {
        let mut pending = false;
        for (future, slot) in pinned.iter_mut().zip(done.iter_mut()) {
            if slot.is_none() {
                match future.as_mut().poll(cx) {
                    std::task::Poll::Ready(value) => *slot = Some(value),
                    std::task::Poll::Pending => pending = true,
                }
            }
        }
        if pending {
            std::task::Poll::Pending
        } else {
            std::task::Poll::Ready(())
        }
    })
    .await;
    done.into_iter()
        .map(|v| v.expect("every future finished"))
        .collect()
}

/// The migration script's processes in the backend container, as `docker top` sees them.
fn migration_in_container(lab: &Lab) -> Vec<String> {
    let top = Command::new("docker")
        .args(["top", &lab.container("backend-aws"), "-o", "pid,args"])
        .output()
        .unwrap();
    text(&top.stdout)
        .lines()
        .filter(|l| {
            l.contains("apply_migration_backfill_prices.py") && !l.contains("shipshape-stop")
        })
        .map(str::to_string)
        .collect()
}

/// Stopping a migration ends `docker compose exec` on the host, which alone would leave
/// the script running in the container (an operator could start it a second time beside
/// it): the stop reaches into the container, and the history says so.
#[test]
fn a_stopped_migration_is_stopped_in_the_container_too() {
    let _lab_lock = exclusive();
    let lab = Lab::from_env();
    let LabConsole {
        runtime,
        console,
        target,
        data: _data,
    } = lab_console();
    let operation = shipshape_core::operations::Operation::Migrate {
        script: "apply_migration_backfill_prices.py".into(),
    };
    let cancel = shipshape_core::ssh::CancellationToken::new();
    let stop = cancel.clone();
    let outcome = runtime.block_on(async {
        let watch = async {
            let started = Instant::now();
            while migration_in_container(&lab).is_empty() {
                assert!(
                    started.elapsed() < Duration::from_secs(30),
                    "the migration never started"
                );
                tokio::time::sleep(Duration::from_millis(200)).await;
            }
            stop.cancel();
        };
        let run = console.run_operation_streaming(&target, &operation, |_, _| {}, &cancel);
        let (outcome, ()) = tokio::join!(run, watch);
        outcome
    });
    let outcome = outcome.unwrap();
    assert!(
        outcome
            .title
            .contains("cancelled; stopped in the container"),
        "{}",
        outcome.title
    );
    let stopped = Instant::now();
    while !migration_in_container(&lab).is_empty() {
        assert!(
            stopped.elapsed() < Duration::from_secs(5),
            "still running in the container: {:?}",
            migration_in_container(&lab)
        );
        std::thread::sleep(Duration::from_millis(200));
    }
}

/// The process's peak resident memory so far, in bytes.
fn peak_rss() -> u64 {
    let status = std::fs::read_to_string("/proc/self/status").unwrap();
    let line = status.lines().find(|l| l.starts_with("VmHWM:")).unwrap();
    let kib: u64 = line.split_whitespace().nth(1).unwrap().parse().unwrap();
    kib * 1024
}

/// A host that prints far more than anyone reads (here 256 MB on one command): what is
/// kept is its start and its end, and the operator's memory stays bounded.
#[test]
fn a_flood_of_output_is_kept_bounded() {
    let _lab_lock = exclusive();
    let LabConsole {
        runtime,
        console,
        target,
        data: _data,
    } = lab_console();
    let connection = runtime.block_on(console.connect(&target)).unwrap();
    let flood = shipshape_core::shell::RemoteCommand::new("sh").args([
        "-c",
        "echo first line; head -c 268435456 /dev/zero | tr '\\0' x; echo; echo last line",
    ]);
    let before = peak_rss();
    let started = Instant::now();
    let output = runtime
        .block_on(connection.exec(
            &flood,
            shipshape_core::ssh::Deadline::Total(Duration::from_secs(120)),
        ))
        .unwrap();
    let grew = peak_rss().saturating_sub(before);
    println!(
        "256 MB of output in {:.1} s: {} bytes kept, peak memory grew {:.1} MB",
        started.elapsed().as_secs_f64(),
        output.stdout.len(),
        grew as f64 / 1e6
    );
    assert!(output.stdout.starts_with("first line\n"));
    assert!(output.stdout.ends_with("last line\n"));
    assert!(output.stdout.contains("bytes not kept"));
    assert!(output.stdout.len() <= shipshape_core::ssh::KEPT_BYTES + 100);
    assert!(grew < 96 * 1024 * 1024, "memory grew by {grew} bytes");
}

#[test]
fn ctrl_c_while_a_change_waits_on_a_silent_host_exits_130_at_once_and_records_nothing() {
    let _lab_lock = exclusive();
    let lab = Lab::from_env();
    let home = tempfile::tempdir().unwrap();
    let port = lab.field("rebuilt_port");
    add_lab_target(&shipshape_binary(), &lab, home.path(), "silent", &port, &[]);
    let fingerprint = lab.field("rebuilt_host_key_fingerprint");
    ok(&shipshape(
        &lab,
        home.path(),
        &["target", "trust", "silent", "--fingerprint", &fingerprint],
    ));
    // Then its sshd stops answering: the kernel still takes the connection, and reading
    // the host's services (to check the one named) waits up to the 15 s connect deadline.
    let sshd = std::fs::read_to_string(lab.dir().join("sshd-rebuilt.pid")).unwrap();
    let frozen = Stopped::stop(sshd.trim());

    let mut restart = spawn_cli(&lab, home.path(), &["restart", "silent", "frontend-aws"]);
    let stderr = restart.stderr.take().unwrap();
    let said = std::thread::spawn(move || std::io::read_to_string(stderr).unwrap());
    std::thread::sleep(Duration::from_secs(2));
    run("kill", &["-INT", &restart.id().to_string()]);
    let interrupted = Instant::now();
    let code = wait_for_exit(&mut restart, Duration::from_secs(40));
    let took = interrupted.elapsed();
    drop(frozen);
    let said = said.join().unwrap();
    assert_eq!(code, Some(130), "{said}");
    assert!(
        took < Duration::from_secs(3),
        "took {took:?} after Ctrl-C: {said}"
    );
    assert!(said.contains("before anything was sent to it"), "{said}");
    let history = ok(&shipshape(&lab, home.path(), &["history", "--json"]));
    let history: Value = serde_json::from_str(&history).unwrap();
    assert_eq!(history.as_array().map(Vec::len), Some(0), "{history}");
}
