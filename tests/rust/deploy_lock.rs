//! The host's deploy lock against the lab: two deploys at once let exactly one through,
//! a holder killed with SIGKILL frees the lock with no one breaking it, and a deploy
//! whose lock is broken midway changes nothing more.

use std::time::{Duration, Instant};

use shipshape_tests::verification::{assert_lab_clean, Restore, TARGET};
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
    // minute) frees it by itself.
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
    let stderr = deploy.stderr.take().unwrap();
    let (status, said) = std::thread::scope(|scope| {
        let reader = scope.spawn(|| {
            use std::io::BufRead;
            let mut said = String::new();
            for line in std::io::BufReader::new(stderr).lines() {
                let line = line.unwrap();
                if line.contains("→ Record a snapshot") {
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
    assert!(!said.contains("→ Update the services"), "{said}");
    ok(&shipshape(&lab, home_a.path(), &["history", "verify"]));
    drop(restore);
    assert_lab_clean(&lab, home_b.path());
}
