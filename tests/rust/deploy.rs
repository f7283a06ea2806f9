//! The guided deploy against the lab: a commit pushed to origin and a new image behind
//! the same tag in the registry are deployed (asserted through git and Docker
//! directly), a rollback puts back the commit, the images and `.env.aws` (its hash), a
//! Ctrl-C stops between steps and a resume keeps the snapshot. The host's lock:
//! `deploy_lock.rs`; what stops a deploy before it changes anything: `deploy_guards.rs`.

use shipshape_tests::verification::{as_lab_user, assert_lab_clean, Restore, TARGET};
use shipshape_tests::*;

/// Puts the lab back as the seed has it after a test moved origin, the registry's
/// market-updater tag, the project's checkout and `.env.aws` (a `Restore` runs its
/// undos last first, so they are registered in reverse).
fn put_back(lab: &Lab, restore: &mut Restore, commit: &str, market_updater: &str, tag: &str) {
    restore.as_lab_user(lab, &["rm", "-rf", "/home/ubuntu/.shipshape"]);
    restore.as_lab_user(
        lab,
        &[
            "docker",
            "compose",
            "--profile",
            "aws",
            "up",
            "-d",
            "--wait",
        ],
    );
    restore.file(&lab.project_dir().join(".env.aws"));
    restore.command("docker", &["push", "-q", tag]);
    restore.command("docker", &["tag", market_updater, tag]);
    restore.as_lab_user(lab, &["git", "fetch", "-q", "origin", "main"]);
    restore.as_lab_user(lab, &["git", "checkout", "-q", "-B", "main", commit]);
    let origin = lab.field("origin");
    restore.as_lab_user(
        lab,
        &[
            "git",
            "-C",
            &origin,
            "update-ref",
            "refs/heads/main",
            commit,
        ],
    );
}

#[test]
fn a_deploy_brings_the_new_commit_and_image_and_a_rollback_puts_everything_back() {
    let _lab_lock = exclusive();
    let lab = Lab::from_env();
    let home = tempfile::tempdir().unwrap();
    let project = lab.project_dir();
    let env_file = project.join(".env.aws");
    let tag = format!("{}/atp/market-updater:lab", lab.field("registry"));
    let before_commit = as_lab_user(&lab, &["git", "rev-parse", "HEAD"])
        .trim()
        .to_string();
    let before_image = image_id(&tag);
    let before_env = sha256_of(&env_file);
    let mut restore = Restore::default();
    put_back(&lab, &mut restore, &before_commit, &before_image, &tag);

    // Origin gains a commit that changes the backend's command.
    let work = tempfile::tempdir().unwrap();
    run("chown", &["ubuntu", work.path().to_str().unwrap()]);
    let clone = work.path().join("p");
    let clone_dir = clone.to_str().unwrap();
    as_lab_user(
        &lab,
        &["git", "clone", "-q", &lab.field("origin"), clone_dir],
    );
    let compose = clone.join("docker-compose.yml");
    let seeded = std::fs::read_to_string(&compose).unwrap();
    assert!(seeded.contains(r#""--workers", "2""#));
    std::fs::write(
        &compose,
        seeded.replace(r#""--workers", "2""#, r#""--workers", "3""#),
    )
    .unwrap();
    let git = |args: &[&str]| {
        let mut full = vec![
            "git",
            "-C",
            clone_dir,
            "-c",
            "user.name=Deploy Test",
            "-c",
            "user.email=deploy@example.invalid",
        ];
        full.extend_from_slice(args);
        as_lab_user(&lab, &full)
    };
    git(&["commit", "-q", "-am", "Backend: three workers"]);
    git(&["push", "-q", "origin", "main"]);

    // The registry gains a new image behind the same tag; the host still has the old one.
    run(
        "docker",
        &[
            "commit",
            "-c",
            "LABEL shipshape.test=deploy",
            &lab.container("market-updater-aws"),
            &tag,
        ],
    );
    let new_image = image_id(&tag);
    assert_ne!(new_image, before_image);
    run("docker", &["push", "-q", &tag]);
    run("docker", &["tag", &before_image, &tag]);

    // The review shows the commit, the compose change and the image that moves; a
    // reviewer approves it with their key.
    let review = ok(&shipshape(&lab, home.path(), &["review", TARGET, "--json"]));
    let review: serde_json::Value = serde_json::from_str(&review).unwrap();
    assert_eq!(
        review["commits"][0]["subject"], "Backend: three workers",
        "{review}"
    );
    let changed = review["compose"]["rows"]
        .as_array()
        .unwrap()
        .iter()
        .find(|r| r["kind"] == "changed")
        .unwrap_or_else(|| panic!("no changed line in {}", review["compose"]));
    assert_eq!(
        (changed["before"].as_str(), changed["after"].as_str()),
        (Some(r#"      - "2""#), Some(r#"      - "3""#))
    );
    let moves = |service: &str| {
        review["images"]
            .as_array()
            .unwrap()
            .iter()
            .find(|i| i["service"] == service)
            .unwrap()["changes"]
            .clone()
    };
    assert_eq!(
        (moves("market-updater-aws"), moves("backend-aws")),
        (true.into(), false.into()),
        "{}",
        review["images"]
    );
    let review_id = review["id"].as_str().unwrap().to_string();
    let reviewer = run_key("reviewer");
    ok(&shipshape(
        &lab,
        home.path(),
        &["key", "generate", &reviewer],
    ));
    let approve = |review: &str| {
        let args = [
            "approve",
            review,
            "--key",
            &reviewer,
            "--as",
            "Rita Reviewer",
        ];
        ok(&shipshape(&lab, home.path(), &args))
    };
    approve(&review_id);
    let deploy_under = |review: &str, extra: &[&str]| {
        let mut args = vec![
            "deploy",
            TARGET,
            "--yes",
            "--message",
            "Three workers",
            "--review",
            review,
        ];
        args.extend_from_slice(extra);
        shipshape(&lab, home.path(), &args)
    };

    // Origin moves on after the approval: the deploy refuses to run under it.
    std::fs::write(clone.join("NOTES.md"), "late change\n").unwrap();
    git(&["add", "NOTES.md"]);
    git(&["commit", "-q", "-m", "Notes after the review"]);
    git(&["push", "-q", "origin", "main"]);
    let new_commit = git(&["rev-parse", "HEAD"]).trim().to_string();
    let output = deploy_under(&review_id, &[]);
    let said = format!("{}\n{}", text(&output.stdout), text(&output.stderr));
    assert_eq!(output.status.code(), Some(2), "{said}");
    assert!(
        said.contains("no longer what review") && said.contains("the commits"),
        "{said}"
    );
    assert_eq!(
        as_lab_user(&lab, &["git", "rev-parse", "HEAD"]).trim(),
        before_commit
    );
    let review_id = ok(&shipshape(&lab, home.path(), &["review", TARGET]))
        .trim()
        .to_string();
    // An approval by a key this console does not hold is not taken: a journal entry
    // could carry any key it was signed with.
    let passer_by = run_key("passer-by");
    ok(&shipshape(
        &lab,
        home.path(),
        &["key", "generate", &passer_by],
    ));
    ok(&shipshape(
        &lab,
        home.path(),
        &[
            "approve",
            &review_id,
            "--key",
            &passer_by,
            "--as",
            "Passer By",
        ],
    ));
    ok(&shipshape(
        &lab,
        home.path(),
        &["key", "remove", &passer_by],
    ));
    let unknown = deploy_under(&review_id, &[]);
    let said = text(&unknown.stderr);
    assert_eq!(unknown.status.code(), Some(2), "{said}");
    assert!(said.contains("not one of this console's keys"), "{said}");
    // A review is approved once: the reviewer approves a fresh one.
    let review_id = ok(&shipshape(&lab, home.path(), &["review", TARGET]))
        .trim()
        .to_string();
    approve(&review_id);
    // What runs on the database is part of what was approved: none, here.
    let migrating = deploy_under(
        &review_id,
        &["--migrate", "apply_migration_backfill_prices.py"],
    );
    let said = text(&migrating.stderr);
    assert_eq!(migrating.status.code(), Some(2), "{said}");
    assert!(
        said.contains("approved to run none as migrations"),
        "{said}"
    );

    // The dry run shows what changes the host, exactly as the deploy then runs it.
    let plan = ok(&shipshape(
        &lab,
        home.path(),
        &["deploy", TARGET, "--dry-run"],
    ));
    let planned = printed_commands(&plan);
    assert!(plan.contains("$ cd /home/ubuntu/automated-trading-platform && docker compose --profile aws up -d --remove-orphans"), "{plan}");
    // Reports go beside the data folder, never in it: Shipshape refuses that.
    let reports = tempfile::tempdir().unwrap();
    let report = reports.path().join("deploy.md");
    let output = deploy_under(&review_id, &["--report", report.to_str().unwrap()]);
    let said = format!("{}\n{}", text(&output.stdout), text(&output.stderr));
    assert_eq!(output.status.code(), Some(0), "{said}");
    for step in [
        "Check the Never Do rules",
        "Lock the host",
        "Record a snapshot",
        "Pull the latest code",
        "Pull the images",
        "Update the services",
        "Run the verification checklist",
        "Free the host's deploy lock",
    ] {
        assert!(said.contains(step), "no step {step:?} in:\n{said}");
    }
    assert!(
        said.contains("$ cd /home/ubuntu/automated-trading-platform && git pull origin main"),
        "{said}"
    );
    assert_ran_as_planned(&planned, &said);
    assert_eq!(
        as_lab_user(&lab, &["git", "rev-parse", "HEAD"]).trim(),
        new_commit
    );
    let backend = run(
        "docker",
        &[
            "inspect",
            "-f",
            "{{json .Args}}",
            &lab.container("backend-aws"),
        ],
    );
    assert!(backend.contains(r#""--workers","3""#), "{backend}");
    assert_eq!(running_image(&lab, "market-updater-aws"), new_image);
    // --report writes the verification that ended the deploy, on the new commit.
    let written = std::fs::read_to_string(&report).unwrap();
    assert!(
        written.starts_with("# Deployment verification: Local lab"),
        "{written}"
    );
    assert!(
        written.contains(&new_commit),
        "the report does not name {new_commit}"
    );
    // It lists the review and the approval; so does the PDF of the same deploy.
    for expected in [
        "## Deploy",
        "Approved by Rita Reviewer",
        "Backend: three workers",
        "| market-updater-aws |",
        "-       - \"2\"\n+       - \"3\"",
    ] {
        assert!(
            written.contains(expected),
            "no {expected:?} in the report:\n{written}"
        );
    }
    let deploy_id = finished_deploy_id(&said);
    let pdf = reports.path().join("deploy.pdf");
    ok(&shipshape(
        &lab,
        home.path(),
        &["report", &deploy_id, "--out", pdf.to_str().unwrap()],
    ));
    let pdf_text = run("pdftotext", &[pdf.to_str().unwrap(), "-"]);
    for expected in [
        "Approved by Rita Reviewer",
        "Backend: three workers",
        "Images the pull moves",
    ] {
        assert!(
            pdf_text.contains(expected),
            "the PDF has no {expected:?}:\n{pdf_text}"
        );
    }
    let audit = std::fs::read_to_string("/home/ubuntu/.shipshape/audit.log").unwrap();
    assert!(
        audit.contains("Pull the images: done") && audit.contains("Three workers"),
        "{audit}"
    );
    let lock = ok(&shipshape(&lab, home.path(), &["lock", "status", TARGET]));
    assert!(lock.contains("free (last held by"), "{lock}");

    // The env file changes after the deploy; a rollback puts all three back.
    as_lab_user(&lab, &["sh", "-c", "printf 'LATE_CHANGE=1\\n' >> .env.aws"]);
    assert_ne!(sha256_of(&env_file), before_env);
    let rollback = |extra: &str| {
        let reason = "Three workers overload the database";
        shipshape(
            &lab,
            home.path(),
            &["rollback", TARGET, extra, "--reason", reason],
        )
    };
    // Its dry run names the image each tag goes back to, and changes nothing.
    let plan = ok(&rollback("--dry-run"));
    let planned = printed_commands(&plan);
    let retag = format!("docker tag {before_image} {tag}");
    assert!(planned.contains(&retag), "no {retag:?} in:\n{plan}");
    assert_eq!(running_image(&lab, "market-updater-aws"), new_image);
    let output = rollback("--yes");
    let said = format!("{}\n{}", text(&output.stdout), text(&output.stderr));
    assert_eq!(output.status.code(), Some(0), "{said}");
    assert!(said.contains("Restore the snapshot"), "{said}");
    assert_ran_as_planned(&planned, &said);
    assert_eq!(
        as_lab_user(&lab, &["git", "rev-parse", "HEAD"]).trim(),
        before_commit
    );
    assert_eq!(running_image(&lab, "market-updater-aws"), before_image);
    assert_eq!(sha256_of(&env_file), before_env);
    let mode = run("stat", &["-c", "%a %U", env_file.to_str().unwrap()]);
    assert_eq!(mode.trim(), "600 ubuntu");
    let history = ok(&shipshape(&lab, home.path(), &["history", "--json"]));
    assert!(
        history.contains("Roll back: Three workers overload the database"),
        "{history}"
    );
    ok(&shipshape(&lab, home.path(), &["history", "verify"]));

    drop(restore);
    assert_lab_clean(&lab, home.path());
}

#[test]
fn ctrl_c_stops_a_deploy_between_steps_and_a_resume_keeps_its_snapshot() {
    let _lab_lock = exclusive();
    let lab = Lab::from_env();
    let home = tempfile::tempdir().unwrap();
    let mut restore = Restore::default();
    restore.as_lab_user(&lab, &["rm", "-rf", "/home/ubuntu/.shipshape"]);
    ok(&shipshape(&lab, home.path(), &["lock", "status", TARGET]));

    // Ctrl-C while the snapshot is being taken: it finishes, nothing after it runs.
    let mut deploy = spawn_deploy(&lab, home.path(), "Stopped midway", &[]);
    let stderr = deploy.stderr.take().unwrap();
    let pid = deploy.id().to_string();
    let reader = std::thread::spawn(move || {
        use std::io::BufRead;
        let mut said = String::new();
        for line in std::io::BufReader::new(stderr).lines() {
            let line = line.unwrap();
            if line.contains("→ Record a snapshot") {
                run("kill", &["-INT", &pid]);
            }
            said.push_str(&line);
            said.push('\n');
        }
        said
    });
    let status = deploy.wait().unwrap();
    let said = reader.join().unwrap();
    assert_eq!(status.code(), Some(1), "{said}");
    assert!(said.contains("Stopping once this step ends"), "{said}");
    assert!(said.contains("stopped as asked"), "{said}");
    assert!(
        said.contains("Record a snapshot to roll back to (")
            && !said.contains("Pull the latest code"),
        "{said}"
    );
    assert!(said.contains("Free the host's deploy lock"), "{said}");
    let lock = ok(&shipshape(&lab, home.path(), &["lock", "status", TARGET]));
    assert!(lock.contains("free"), "{lock}");
    let stopped = newest_deploy_record(&lab, home.path());
    assert!(
        stopped["title"]
            .as_str()
            .unwrap()
            .starts_with("Deploy stopped after Record a snapshot"),
        "{stopped}"
    );
    let id = stopped["id"].as_str().unwrap();
    // The next deploy says so, and how to go on from it; its resume does not.
    let dry = |args: &[&str]| text(&shipshape(&lab, home.path(), args).stderr);
    let said = dry(&["deploy", TARGET, "--dry-run"]);
    assert!(
        said.contains(&format!(
            "did not finish: {}",
            stopped["title"].as_str().unwrap()
        )),
        "{said}"
    );
    assert!(said.contains(&format!("--resume {id}")), "{said}");
    assert!(!dry(&["deploy", TARGET, "--dry-run", "--resume", id]).contains("did not finish"));
    // A new deploy refused at the host's lock (held by hand) changed nothing: the
    // stopped one can still go on, and is still said to.
    let user = lab.field("user");
    let lock_file = format!("/home/{user}/.shipshape/deploy.lock");
    let mut holder = std::process::Command::new("runuser")
        .args(["-u", &user, "--", "flock", "-o", &lock_file, "sleep", "600"])
        .spawn()
        .unwrap();
    // Let go even if an assertion below fails (a `Restore` runs on a panic too).
    restore.command("pkill", &["-u", &user, "-f", "^sleep 600$"]);
    assert!(
        wait_until(std::time::Duration::from_secs(10), || {
            !host_processes(&lab, "^sleep 600$").is_empty()
        }),
        "the lock was never taken by hand"
    );
    let refused = shipshape(&lab, home.path(), &["deploy", TARGET, "--yes"]);
    let _ = std::process::Command::new("pkill")
        .args(["-u", &user, "-f", "^sleep 600$"])
        .status();
    holder.wait().unwrap();
    assert_eq!(refused.status.code(), Some(4), "{}", text(&refused.stderr));
    let newest = newest_deploy_record(&lab, home.path());
    assert_ne!(newest["id"], id, "{newest}");
    assert_eq!(newest["ended_before_snapshot"], true, "{newest}");
    let said = dry(&["deploy", TARGET, "--dry-run"]);
    assert!(said.contains(&format!("--resume {id}")), "{said}");

    // Resuming keeps that snapshot (a new one would record a half-deployed host).
    let resumed = shipshape(
        &lab,
        home.path(),
        &["deploy", TARGET, "--yes", "--resume", id],
    );
    let said = format!("{}\n{}", text(&resumed.stdout), text(&resumed.stderr));
    assert_eq!(resumed.status.code(), Some(0), "{said}");
    assert!(
        said.contains("Keep the snapshot of the deploy resumed") && said.contains(id),
        "{said}"
    );
    assert!(
        !said.contains("Record a snapshot to roll back to"),
        "{said}"
    );
    let finished = finished_deploy_id(&said);
    let again = shipshape(
        &lab,
        home.path(),
        &["deploy", TARGET, "--yes", "--resume", &finished],
    );
    assert_eq!(again.status.code(), Some(2), "{}", text(&again.stderr));
    assert!(text(&again.stderr).contains("nothing to resume"));
    // Nor the deploy it resumed, now finished by the resume (its command recalled from
    // the shell's history, say): it would record its old snapshot as the newest.
    let recalled = shipshape(
        &lab,
        home.path(),
        &["deploy", TARGET, "--yes", "--resume", id],
    );
    assert_eq!(
        recalled.status.code(),
        Some(2),
        "{}",
        text(&recalled.stderr)
    );
    assert!(
        [
            finished.as_str(),
            id,
            "and finished: there is nothing to resume"
        ]
        .iter()
        .all(|part| text(&recalled.stderr).contains(part)),
        "{}",
        text(&recalled.stderr)
    );
    ok(&shipshape(&lab, home.path(), &["history", "verify"]));
    drop(restore);
    assert_lab_clean(&lab, home.path());
}
