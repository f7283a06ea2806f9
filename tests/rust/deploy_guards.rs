//! What stops a deploy or a rollback before it changes what it must not: origin moving
//! between the review and the pull (another push landing meanwhile) stops the deploy
//! after the pull, before any image or service changes; a rollback whose snapshot lost
//! a part on the host (a pruned image, the saved env file) changes nothing at all; a
//! target redefined midway (by another process) stops the deploy before its next command;
//! Ctrl-C during a rollback's restore stops it only once its `up` has run; a change another
//! process started before the deploy took the lock (a long migration) holds the deploy back;
//! a resume of a deploy killed before its pull was checked refuses the code it finds;
//! a deploy confirmed at the CLI's question runs nothing if its target was redefined
//! while it asked;
//! without a terminal nothing is read before --yes is asked for.

use std::io::BufRead;
use std::time::Duration;

use shipshape_tests::verification::{as_lab_user, assert_lab_clean, Restore, TARGET};
use shipshape_tests::*;

#[test]
fn a_deploy_stops_when_origin_moved_after_its_review() {
    let _lab_lock = exclusive();
    let lab = Lab::from_env();
    let home = tempfile::tempdir().unwrap();
    let origin = lab.field("origin");
    let before = as_lab_user(&lab, &["git", "rev-parse", "HEAD"])
        .trim()
        .to_string();
    let mut restore = Restore::default();
    restore.as_lab_user(&lab, &["rm", "-rf", "/home/ubuntu/.shipshape"]);
    restore.as_lab_user(&lab, &["git", "fetch", "-q", "origin", "main"]);
    restore.as_lab_user(&lab, &["git", "checkout", "-q", "-B", "main", &before]);
    restore.as_lab_user(
        &lab,
        &[
            "git",
            "-C",
            &origin,
            "update-ref",
            "refs/heads/main",
            &before,
        ],
    );

    let work = tempfile::tempdir().unwrap();
    run("chown", &["ubuntu", work.path().to_str().unwrap()]);
    let clone = work.path().join("p");
    let clone = clone.to_str().unwrap();
    as_lab_user(&lab, &["git", "clone", "-q", &origin, clone]);
    let push = |subject: &str| {
        let identity = [
            "-c",
            "user.name=Review Test",
            "-c",
            "user.email=review@example.invalid",
        ];
        let mut commit = vec!["git", "-C", clone];
        commit.extend_from_slice(&identity);
        commit.extend_from_slice(&["commit", "-q", "--allow-empty", "-m", subject]);
        as_lab_user(&lab, &commit);
        as_lab_user(&lab, &["git", "-C", clone, "push", "-q", "origin", "main"]);
        as_lab_user(&lab, &["git", "-C", clone, "rev-parse", "HEAD"])
            .trim()
            .to_string()
    };
    let reviewed = push("Reviewed change");

    let mut deploy = spawn_deploy(&lab, home.path(), "Held to its review", &[]);
    let pid = deploy.id().to_string();
    let stderr = deploy.stderr.take().unwrap();
    let mut unreviewed = String::new();
    let mut said = String::new();
    for line in std::io::BufReader::new(stderr).lines() {
        let line = line.unwrap();
        // The review is done: another push lands before the pull.
        if line.contains("→ Lock the host") && unreviewed.is_empty() {
            run("kill", &["-STOP", &pid]);
            let pushed = std::panic::catch_unwind(std::panic::AssertUnwindSafe(|| {
                push("Unreviewed change")
            }));
            run("kill", &["-CONT", &pid]);
            unreviewed = pushed.expect("the second push lands");
        }
        said.push_str(&line);
        said.push('\n');
    }
    let status = deploy.wait().unwrap();
    assert!(!unreviewed.is_empty(), "the deploy never locked: {said}");
    assert_eq!(status.code(), Some(1), "{said}");
    assert!(said.contains("origin moved since"), "{said}");
    assert!(
        said.contains(&format!("not to {}", &reviewed[..12])),
        "{said}"
    );
    assert!(!said.contains("→ Pull the images"), "{said}");
    assert!(!said.contains("→ Update the services"), "{said}");
    // The pull was undone: the next review shows the commit nobody reviewed.
    assert!(said.contains("The pull was undone"), "{said}");
    let head = as_lab_user(&lab, &["git", "rev-parse", "HEAD"]);
    assert_eq!(head.trim(), before, "{said}");
    let review = ok(&shipshape(&lab, home.path(), &["review", TARGET, "--json"]));
    assert!(review.contains("Unreviewed change"), "{review}");
    ok(&shipshape(&lab, home.path(), &["history", "verify"]));
    drop(restore);
    assert_lab_clean(&lab, home.path());
}

#[test]
fn a_resume_refuses_code_its_cut_short_deploy_pulled_and_never_checked() {
    let _lab_lock = exclusive();
    let lab = Lab::from_env();
    let home = tempfile::tempdir().unwrap();
    let before = as_lab_user(&lab, &["git", "rev-parse", "HEAD"])
        .trim()
        .to_string();
    let mut restore = Restore::default();
    restore.as_lab_user(&lab, &["rm", "-rf", "/home/ubuntu/.shipshape"]);
    restore.as_lab_user(&lab, &["git", "checkout", "-q", "-B", "main", &before]);

    // Killed as its pull of the code begins: after its snapshot, before the pull's check.
    let mut deploy = spawn_deploy(&lab, home.path(), "Cut short in its pull", &[]);
    let stderr = deploy.stderr.take().unwrap();
    let mut said = String::new();
    for line in std::io::BufReader::new(stderr).lines() {
        let line = line.unwrap();
        said.push_str(&line);
        said.push('\n');
        if line.contains("→ Pull the latest code") {
            deploy.kill().unwrap(); // SIGKILL
            break;
        }
    }
    deploy.wait().unwrap();
    assert!(said.contains("→ Pull the latest code"), "{said}");
    // What that pull brought (origin moved between its review and its pull, say): a
    // commit nobody was shown.
    let identity = [
        "-c",
        "user.name=Guard Test",
        "-c",
        "user.email=guard@example.invalid",
    ];
    let mut commit = vec!["git"];
    commit.extend_from_slice(&identity);
    commit.extend_from_slice(&[
        "commit",
        "-q",
        "--allow-empty",
        "-m",
        "Pulled, never checked",
    ]);
    as_lab_user(&lab, &commit);
    let head = as_lab_user(&lab, &["git", "rev-parse", "HEAD"]);
    let cut_short = newest_deploy_record(&lab, home.path());
    let id = cut_short["id"].as_str().unwrap();
    assert!(
        wait_until(Duration::from_secs(10), || {
            text(&shipshape(&lab, home.path(), &["lock", "status", TARGET]).stdout).contains("free")
        }),
        "the killed deploy's lock was never freed"
    );

    let resumed = shipshape(
        &lab,
        home.path(),
        &["deploy", TARGET, "--yes", "--resume", id],
    );
    let said = format!("{}\n{}", text(&resumed.stdout), text(&resumed.stderr));
    assert_eq!(resumed.status.code(), Some(1), "{said}");
    assert!(
        said.contains("before its pull was checked against its review"),
        "{said}"
    );
    assert!(!said.contains("→ Pull the images"), "{said}");
    assert_eq!(
        as_lab_user(&lab, &["git", "rev-parse", "HEAD"]),
        head,
        "{said}"
    );
    // Resume is still offered (the host may be put right), with why the last one was
    // refused beside it.
    let offered = text(&shipshape(&lab, home.path(), &["deploy", TARGET, "--dry-run"]).stderr);
    assert!(offered.contains(&format!("--resume {id}")), "{offered}");
    let refusal = offered
        .lines()
        .find(|l| l.starts_with("Its last resume ("))
        .unwrap_or_else(|| panic!("no word of the refused resume in:\n{offered}"));
    assert!(
        refusal.contains("before its pull was checked against its review"),
        "{refusal}"
    );
    drop(restore);
    assert_lab_clean(&lab, home.path());
}

#[test]
fn a_rollback_whose_snapshot_lost_a_part_changes_nothing() {
    let _lab_lock = exclusive();
    let lab = Lab::from_env();
    let home = tempfile::tempdir().unwrap();
    let mut restore = Restore::default();
    restore.as_lab_user(&lab, &["rm", "-rf", "/home/ubuntu/.shipshape"]);
    let deployed = spawn_deploy(&lab, home.path(), "Nothing new", &[])
        .wait_with_output()
        .unwrap();
    let said = text(&deployed.stderr);
    assert_eq!(deployed.status.code(), Some(0), "{said}");
    let deploy_id = finished_deploy_id(&said);
    let head = as_lab_user(&lab, &["git", "rev-parse", "HEAD"]);
    // The snapshot's copy of .env.aws is gone (cleaned up by hand, say).
    let saved = format!("/home/ubuntu/.shipshape/snapshots/{deploy_id}/env.aws");
    as_lab_user(&lab, &["rm", &saved]);

    let rollback = shipshape(
        &lab,
        home.path(),
        &[
            "rollback",
            TARGET,
            "--yes",
            "--reason",
            "test: a part of the snapshot is gone",
        ],
    );
    let said = text(&rollback.stderr);
    assert_eq!(rollback.status.code(), Some(1), "{said}");
    let refused =
        "cannot be put back, so nothing was changed (missing on the host: the saved env file)";
    assert!(said.contains(refused), "{said}");
    assert!(!said.contains("git checkout"), "{said}");
    assert_eq!(as_lab_user(&lab, &["git", "rev-parse", "HEAD"]), head);
    ok(&shipshape(&lab, home.path(), &["history", "verify"]));
    drop(restore);
    assert_lab_clean(&lab, home.path());
}

/// Another process (the CLI beside the window) points the lab target's name at another
/// project on the same host; it is not the lab's first run, so it does not put the lab's
/// definition back.
fn point_elsewhere(lab: &Lab, home: &std::path::Path) {
    let port = lab.field("port");
    let add = [
        "target",
        "add",
        TARGET,
        "--host",
        "127.0.0.1",
        "--port",
        &port,
        "--key",
        "local-lab",
        "--dir",
        "/home/ubuntu/another-project",
        "--env",
        "staging",
    ];
    for args in [&["target", "remove", TARGET][..], &add] {
        let said = shipshape_with(lab, home, args, |c| {
            c.env_remove("SHIPSHAPE_LAB");
        });
        assert_eq!(said.status.code(), Some(0), "{}", text(&said.stderr));
    }
}

#[test]
fn a_deploy_stops_when_its_target_is_redefined_midway() {
    let _lab_lock = exclusive();
    let lab = Lab::from_env();
    let home = tempfile::tempdir().unwrap();
    let before = as_lab_user(&lab, &["git", "rev-parse", "HEAD"]);
    let mut restore = Restore::default();
    restore.as_lab_user(&lab, &["rm", "-rf", "/home/ubuntu/.shipshape"]);
    let mut deploy = spawn_deploy(&lab, home.path(), "Redefined midway", &[]);
    let pid = deploy.id().to_string();
    let stderr = deploy.stderr.take().unwrap();
    let mut redefined = false;
    let mut said = String::new();
    for line in std::io::BufReader::new(stderr).lines() {
        let line = line.unwrap();
        if line.contains("→ Record a snapshot") && !redefined {
            run("kill", &["-STOP", &pid]);
            let changed = std::panic::catch_unwind(std::panic::AssertUnwindSafe(|| {
                point_elsewhere(&lab, home.path());
            }));
            run("kill", &["-CONT", &pid]);
            changed.expect("the target is redefined");
            redefined = true;
        }
        said.push_str(&line);
        said.push('\n');
    }
    let status = deploy.wait().unwrap();
    assert!(redefined, "the deploy never reached its snapshot: {said}");
    assert_eq!(status.code(), Some(1), "{said}");
    assert!(
        said.contains("was changed (or removed) while this ran"),
        "{said}"
    );
    assert!(said.contains("automated-trading-platform"), "{said}");
    assert!(!said.contains("→ Pull the latest code"), "{said}");
    assert!(said.contains("Free the host's deploy lock"), "{said}");
    assert_eq!(as_lab_user(&lab, &["git", "rev-parse", "HEAD"]), before);
    // The lab's own definition comes back with the next run pointed at it.
    let lock = ok(&shipshape(&lab, home.path(), &["lock", "status", TARGET]));
    assert!(lock.contains("free"), "{lock}");
    ok(&shipshape(&lab, home.path(), &["history", "verify"]));
    drop(restore);
    assert_lab_clean(&lab, home.path());
}

#[test]
fn a_deploy_confirmed_at_the_question_runs_nothing_once_its_target_is_redefined() {
    use std::io::{Read, Write};
    let _lab_lock = exclusive();
    let lab = Lab::from_env();
    let home = tempfile::tempdir().unwrap();
    let before = as_lab_user(&lab, &["git", "rev-parse", "HEAD"]);
    let mut restore = Restore::default();
    restore.as_lab_user(&lab, &["rm", "-rf", "/home/ubuntu/.shipshape"]);
    // On a terminal (util-linux's `script` gives it one), as an operator runs it: the
    // review and the plan are shown, then the question.
    let command = format!(
        "{} deploy '{TARGET}' --message 'Confirmed on another plan'",
        shipshape_binary().display()
    );
    let mut deploy = std::process::Command::new("script")
        .args(["-qec", &command, "/dev/null"])
        .env("SHIPSHAPE_HOME", home.path())
        .env("SHIPSHAPE_LAB", &lab.descriptor)
        .stdin(std::process::Stdio::piped())
        .stdout(std::process::Stdio::piped())
        .spawn()
        .unwrap();
    let mut terminal = deploy.stdout.take().unwrap();
    let mut said = Vec::new();
    let mut chunk = [0u8; 4096];
    while !text(&said).contains("[y/N]") {
        let read = terminal.read(&mut chunk).unwrap();
        assert!(read > 0, "no question asked: {}", text(&said));
        said.extend_from_slice(&chunk[..read]);
    }
    assert!(text(&said).contains("docker compose --profile aws up -d"));
    point_elsewhere(&lab, home.path());
    deploy.stdin.take().unwrap().write_all(b"y\n").unwrap();
    terminal.read_to_end(&mut said).unwrap();
    let status = deploy.wait().unwrap();
    let said = text(&said);
    assert_eq!(status.code(), Some(2), "{said}");
    assert!(said.contains("changed after its plan was shown"), "{said}");
    assert!(said.contains("nothing ran"), "{said}");
    assert!(!said.contains("→ Lock the host"), "{said}");
    assert_eq!(as_lab_user(&lab, &["git", "rev-parse", "HEAD"]), before);
    let history = ok(&shipshape(&lab, home.path(), &["history", "--json"]));
    assert!(!history.contains("\"kind\": \"deploy\""), "{history}");
    drop(restore);
    assert_lab_clean(&lab, home.path());
}

#[test]
fn ctrl_c_during_a_rollbacks_restore_still_brings_the_services_to_it() {
    let _lab_lock = exclusive();
    let lab = Lab::from_env();
    let home = tempfile::tempdir().unwrap();
    let mut restore = Restore::default();
    restore.as_lab_user(&lab, &["rm", "-rf", "/home/ubuntu/.shipshape"]);
    let deployed = spawn_deploy(&lab, home.path(), "Something to roll back to", &[])
        .wait_with_output()
        .unwrap();
    assert_eq!(
        deployed.status.code(),
        Some(0),
        "{}",
        text(&deployed.stderr)
    );

    let reason = "test: Ctrl-C midway";
    let mut rollback = spawn_cli(
        &lab,
        home.path(),
        &["rollback", TARGET, "--yes", "--reason", reason],
    );
    let pid = rollback.id().to_string();
    let stderr = rollback.stderr.take().unwrap();
    let mut said = String::new();
    for line in std::io::BufReader::new(stderr).lines() {
        let line = line.unwrap();
        if line.contains("→ Restore the snapshot") {
            run("kill", &["-INT", &pid]);
        }
        said.push_str(&line);
        said.push('\n');
    }
    let status = rollback.wait().unwrap();
    assert_eq!(status.code(), Some(1), "{said}");
    assert!(said.contains("Stopping once this step ends"), "{said}");
    // The restore and its `up` are one change: the stop comes after both.
    assert!(said.contains("✔ Restore the snapshot"), "{said}");
    assert!(said.contains("✔ Update the services"), "{said}");
    assert!(!said.contains("→ Run the verification checklist"), "{said}");
    assert!(said.contains("Free the host's deploy lock"), "{said}");
    assert!(said.contains("shipshape verify NAME"), "{said}");
    ok(&shipshape(&lab, home.path(), &["history", "verify"]));
    drop(restore);
    assert_lab_clean(&lab, home.path());
}

#[test]
fn a_deploy_waits_for_a_change_another_process_started_before_it() {
    let _lab_lock = exclusive();
    let lab = Lab::from_env();
    let home = tempfile::tempdir().unwrap();
    let before = as_lab_user(&lab, &["git", "rev-parse", "HEAD"]);
    let mut restore = Restore::default();
    restore.as_lab_user(&lab, &["rm", "-rf", "/home/ubuntu/.shipshape"]);
    // Another operator's CLI runs a long migration; the lock was free when it started.
    let script = "apply_migration_backfill_prices.py";
    let mut migrate = spawn_cli(&lab, home.path(), &["migrate", TARGET, script]);
    let running = wait_until(Duration::from_secs(20), || {
        !host_processes(&lab, "shipshape-change.*apply_migration").is_empty()
    });
    let deploy = spawn_deploy(&lab, home.path(), "Beside a migration", &[])
        .wait_with_output()
        .unwrap();
    let migration_went_on = host_processes(&lab, "shipshape-change.*apply_migration");
    let _ = migrate.kill(); // its supervisor ends the migration with its channel
    let _ = migrate.wait();
    let said = text(&deploy.stderr);
    assert!(running, "the migration started");
    assert_eq!(deploy.status.code(), Some(4), "{said}");
    assert!(said.contains("is busy") && said.contains(script), "{said}");
    assert!(!said.contains("→ Record a snapshot"), "{said}");
    assert!(
        !migration_went_on.is_empty(),
        "the deploy left the migration alone"
    );
    assert_eq!(as_lab_user(&lab, &["git", "rev-parse", "HEAD"]), before);
    let gone = wait_until(Duration::from_secs(20), || {
        host_processes(&lab, "shipshape-change.*apply_migration").is_empty()
    });
    assert!(gone, "the migration ended with its CLI");
    let lock = ok(&shipshape(&lab, home.path(), &["lock", "status", TARGET]));
    assert!(lock.contains("free"), "{lock}");
    drop(restore);
    assert_lab_clean(&lab, home.path());
}

#[test]
fn without_a_terminal_or_yes_a_deploy_or_rollback_is_refused_before_it_reads_the_host() {
    let _lab_lock = exclusive();
    let lab = Lab::from_env();
    let home = tempfile::tempdir().unwrap();
    ok(&shipshape(&lab, home.path(), &["target", "list"]));
    let deploy = shipshape(
        &lab,
        home.path(),
        &["deploy", TARGET, "--message", "No terminal"],
    );
    assert_eq!(deploy.status.code(), Some(2), "{}", text(&deploy.stderr));
    assert!(
        text(&deploy.stderr).contains("--yes"),
        "{}",
        text(&deploy.stderr)
    );
    // A short reason is the first thing said, not the missing terminal.
    let rollback = shipshape(
        &lab,
        home.path(),
        &["rollback", TARGET, "--reason", "short"],
    );
    assert_eq!(rollback.status.code(), Some(2));
    assert!(
        text(&rollback.stderr).contains("at least 10 characters"),
        "{}",
        text(&rollback.stderr)
    );
    // Nothing was fetched, read or recorded: the review's git fetch included.
    let history = ok(&shipshape(&lab, home.path(), &["history", "--json"]));
    assert_eq!(history.trim(), "[]", "{history}");
}
