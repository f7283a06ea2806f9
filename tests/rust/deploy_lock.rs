//! The host's deploy lock against the lab: two deploys at once let exactly one through,
//! another operator's change waits for a deploy that holds it, a holder killed with
//! SIGKILL frees the lock with no one breaking it, and a deploy whose lock is broken
//! midway changes nothing more.

use std::time::{Duration, Instant};

use shipshape_tests::verification::{as_lab_user, assert_lab_clean, Restore, TARGET};
use shipshape_tests::*;

/// Two operators' data dirs, each knowing the lab target already (so their deploys
/// start together), and the host's ~/.shipshape put back afterwards.
fn two_operators(lab: &Lab) -> (tempfile::TempDir, tempfile::TempDir, Restore) {
    let (home_a, home_b) = (tempfile::tempdir().unwrap(), tempfile::tempdir().unwrap());
    let mut restore = Restore::default();
    restore.as_lab_user(lab, &["rm", "-rf", "/home/ubuntu/.shipshape"]);
    ok(&shipshape(lab, home_a.path(), &["lock", "status", TARGET]));
    ok(&shipshape(lab, home_b.path(), &["lock", "status", TARGET]));
    (home_a, home_b, restore)
}

#[test]
fn two_deploys_at_once_let_one_through_and_a_killed_holder_frees_the_lock() {
    let _lab_lock = exclusive();
    let lab = Lab::from_env();
    let (home_a, home_b, restore) = two_operators(&lab);

    let first = spawn_deploy(&lab, home_a.path(), "Deploy A", &[]);
    let second = spawn_deploy(&lab, home_b.path(), "Deploy B", &[]);
    let (first, second) = (
        first.wait_with_output().unwrap(),
        second.wait_with_output().unwrap(),
    );
    let codes = [first.status.code(), second.status.code()];
    let (winner, loser) = match codes {
        [Some(0), _] => (&first, &second),
        [_, Some(0)] => (&second, &first),
        _ => panic!(
            "neither deploy went through: {codes:?}\n{}\n{}",
            text(&first.stderr),
            text(&second.stderr)
        ),
    };
    let lost = text(&loser.stderr);
    assert_eq!(loser.status.code(), Some(4), "{lost}");
    assert!(
        lost.contains("is locked for a deploy by") && lost.contains("Deploy "),
        "{lost}"
    );
    assert!(text(&winner.stderr).contains("Free the host's deploy lock"));

    // A holder killed with SIGKILL while it holds the lock (its lab migration takes a
    // minute) frees it by itself; a change asked meanwhile is refused.
    let slow = ["--migrate", "apply_migration_backfill_prices.py"];
    let mut holder = spawn_deploy(&lab, home_a.path(), "Killed midway", &slow);
    let started = Instant::now();
    loop {
        let status = ok(&shipshape(&lab, home_b.path(), &["lock", "status", TARGET]));
        if status.contains("locked by") && status.contains("Killed midway") {
            break;
        }
        assert!(
            started.elapsed() < Duration::from_secs(30),
            "the lock was never taken: {status}"
        );
        std::thread::sleep(Duration::from_millis(100));
    }
    // Meanwhile another operator's change waits for it: refused before it runs.
    let restart = shipshape(&lab, home_b.path(), &["restart", TARGET, "backend-aws"]);
    let refused = text(&restart.stderr);
    assert_eq!(restart.status.code(), Some(4), "{refused}");
    assert!(refused.contains("is locked for a deploy by") && refused.contains("Killed midway"));
    let history = ok(&shipshape(&lab, home_b.path(), &["history", "--json"]));
    assert!(history.contains("\"not_started\""), "{history}");
    holder.kill().unwrap(); // SIGKILL
    holder.wait().unwrap();
    let killed = Instant::now();
    loop {
        let status = ok(&shipshape(&lab, home_b.path(), &["lock", "status", TARGET]));
        if status.contains("free (last held by") {
            break;
        }
        assert!(
            killed.elapsed() < Duration::from_secs(10),
            "the lock stayed held: {status}"
        );
        std::thread::sleep(Duration::from_millis(200));
    }
    // The step it was in (its change on the host) ends too, as the host's supervisor
    // sees the connection gone: a moment after the lock, which the next deploy would
    // otherwise find still busy.
    let ended = wait_until(Duration::from_secs(20), || {
        host_processes(&lab, "shipshape-change").is_empty()
    });
    assert!(ended, "the killed deploy's step still runs on the host");
    let history = ok(&shipshape(&lab, home_a.path(), &["history", "--json"]));
    assert!(history.contains("\"interrupted\""), "{history}");
    ok(&shipshape(&lab, home_a.path(), &["history", "verify"]));
    drop(restore);
    assert_lab_clean(&lab, home_b.path());
}

#[test]
fn a_deploy_whose_lock_is_broken_midway_changes_nothing_more() {
    let _lab_lock = exclusive();
    let lab = Lab::from_env();
    let (home_a, home_b, restore) = two_operators(&lab);

    // Another operator breaks the lock while the snapshot is taken: from then on
    // another deploy could start, so this one must not change the host any more.
    let mut deploy = spawn_deploy(&lab, home_a.path(), "Lock broken midway", &[]);
    let pid = deploy.id().to_string();
    let stderr = deploy.stderr.take().unwrap();
    let (status, said) = std::thread::scope(|scope| {
        let reader = scope.spawn(|| {
            use std::io::BufRead;
            let mut said = String::new();
            for line in std::io::BufReader::new(stderr).lines() {
                let line = line.unwrap();
                if line.contains("→ Record a snapshot") {
                    // The deploy waits while the lock is broken: its next change comes after.
                    run("kill", &["-STOP", &pid]);
                    let broken = shipshape(
                        &lab,
                        home_b.path(),
                        &[
                            "lock",
                            "release",
                            TARGET,
                            "--reason",
                            "test: holder unreachable",
                        ],
                    );
                    run("kill", &["-CONT", &pid]);
                    // A change of the host: its environment and address are said first.
                    let marked = text(&broken.stderr);
                    assert!(
                        marked.contains("target") && marked.contains("127.0.0.1"),
                        "{marked}"
                    );
                    said.push_str(&format!("[lock released: {}]\n", ok(&broken).trim()));
                }
                said.push_str(&line);
                said.push('\n');
            }
            said
        });
        let status = deploy.wait().unwrap();
        (status, reader.join().unwrap())
    });
    assert_eq!(status.code(), Some(1), "{said}");
    assert!(said.contains("[lock released"), "{said}");
    assert!(said.contains("the lock was lost"), "{said}");
    assert!(!said.contains("→ Pull the latest code"), "{said}");
    ok(&shipshape(&lab, home_a.path(), &["history", "verify"]));
    drop(restore);
    assert_lab_clean(&lab, home_b.path());
}

#[test]
fn a_host_that_never_says_it_took_the_lock_ends_the_deploy_by_its_read_deadline() {
    let _lab_lock = exclusive();
    let lab = Lab::from_env();
    let (home, files) = (tempfile::tempdir().unwrap(), tempfile::tempdir().unwrap());
    let policy = files.path().join("quick-reads.toml");
    std::fs::write(&policy, "deadline_read_seconds = 5\n").unwrap();
    let (port, dir) = (lab.field("port"), lab.field("project_dir"));
    let extra = ["--policy", policy.to_str().unwrap(), "--dir", &dir];
    add_trusted_lab_target(
        &shipshape_binary(),
        &lab,
        home.path(),
        "stuck",
        &port,
        &extra,
    );
    let mut restore = Restore::default();
    restore.as_lab_user(&lab, &["rm", "-rf", "/home/ubuntu/.shipshape"]);
    // The holder file a FIFO: writing it blocks for ever, as on a home whose disk hangs.
    as_lab_user(
        &lab,
        &[
            "sh",
            "-c",
            "rm -rf ~/.shipshape && mkdir -m 700 ~/.shipshape && mkfifo ~/.shipshape/deploy.holder",
        ],
    );

    let mut deploy = spawn_cli(
        &lab,
        home.path(),
        &["deploy", "stuck", "--yes", "--message", "Stuck home"],
    );
    let ended = wait_until(Duration::from_secs(60), || {
        deploy.try_wait().unwrap().is_some()
    });
    if !ended {
        deploy.kill().unwrap();
    }
    let out = deploy.wait_with_output().unwrap();
    let said = text(&out.stderr);
    assert!(ended, "still waiting for the lock after 60 s: {said}");
    assert_eq!(out.status.code(), Some(3), "{said}");
    assert!(said.contains("deploy.lock` within 5 s"), "{said}");
    assert!(!said.contains("→ Record a snapshot"), "{said}");
    // Its process on the host ended with its channel: nothing holds the lock.
    let gone = wait_until(Duration::from_secs(5), || {
        host_processes(&lab, "sleep 2147483647|deploy\\.holder").is_empty()
    });
    assert!(gone, "{:?}", host_processes(&lab, "deploy"));
    let history = ok(&shipshape(&lab, home.path(), &["history"]));
    assert!(
        history.contains("Deploy failed at Lock the host"),
        "{history}"
    );
    ok(&shipshape(&lab, home.path(), &["history", "verify"]));
    drop(restore);
    assert_lab_clean(&lab, home.path());
}
