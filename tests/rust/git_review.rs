//! Reviewing what `git pull origin main` would bring, against the lab's real origin:
//! the review must list exactly what was pushed, leave the project's checkout alone,
//! and agree with what the pull then does. Git is read directly, not through Shipshape.

use std::path::{Path, PathBuf};

use serde_json::Value;
use shipshape_tests::*;

/// Runs git as the lab's user, who owns the repositories.
fn git_as_lab_user(dir: &Path, args: &[&str]) -> String {
    let mut full = vec!["-u", "ubuntu", "--", "git", "-C", dir.to_str().unwrap()];
    full.extend_from_slice(args);
    run("runuser", &full).trim().to_string()
}

fn as_lab_user(args: &[&str]) -> String {
    let mut full = vec!["-u", "ubuntu", "--"];
    full.extend_from_slice(args);
    run("runuser", &full).trim().to_string()
}

/// A clone of the lab's origin owned by the lab's user, removed on drop.
struct OriginClone {
    work: PathBuf,
    dir: PathBuf,
}

impl OriginClone {
    fn new(lab: &Lab) -> OriginClone {
        let work = PathBuf::from(as_lab_user(&["mktemp", "-d"]));
        let dir = work.join("p");
        as_lab_user(&[
            "git",
            "clone",
            "-q",
            &lab.field("origin"),
            dir.to_str().unwrap(),
        ]);
        OriginClone { work, dir }
    }

    /// Appends `line` to `file` (creating it and its directory) and commits it.
    fn commit(&self, file: &str, line: &str, subject: &str) -> String {
        let path = self.dir.join(file);
        as_lab_user(&["mkdir", "-p", path.parent().unwrap().to_str().unwrap()]);
        as_lab_user(&[
            "sh",
            "-c",
            "printf '%s\\n' \"$1\" >> \"$2\"",
            "sh",
            line,
            path.to_str().unwrap(),
        ]);
        git_as_lab_user(&self.dir, &["add", file]);
        git_as_lab_user(
            &self.dir,
            &[
                "-c",
                "user.name=Review Test",
                "-c",
                "user.email=review@example.invalid",
                "commit",
                "-q",
                "-m",
                subject,
            ],
        );
        git_as_lab_user(&self.dir, &["rev-parse", "HEAD"])
    }
}

impl Drop for OriginClone {
    fn drop(&mut self) {
        std::fs::remove_dir_all(&self.work).ok();
    }
}

fn strings(value: &Value, fields: &[&str]) -> Vec<Vec<String>> {
    value
        .as_array()
        .expect("a JSON array")
        .iter()
        .map(|item| {
            fields
                .iter()
                .map(|f| item[*f].as_str().unwrap_or_default().to_string())
                .collect()
        })
        .collect()
}

#[test]
fn review_lists_exactly_what_was_pushed_and_the_pull_brings_it() {
    let _lab_lock = exclusive();
    let lab = Lab::from_env();
    let home = tempfile::tempdir().unwrap();
    let cli = |args: &[&str]| ok(&shipshape(&lab, home.path(), args));
    let project = PathBuf::from(lab.field("project_dir"));

    // The notes file this test modifies exists on origin (a fresh lab has none), and
    // the project starts level with origin, so the review can only show this test's
    // commits.
    let setup = OriginClone::new(&lab);
    setup.commit("DEPLOY_NOTES.md", "Deploy notes", "Start the deploy notes");
    git_as_lab_user(&setup.dir, &["push", "-q", "origin", "main"]);
    drop(setup);
    cli(&["git-pull", "Local lab"]);
    let head = git_as_lab_user(&project, &["rev-parse", "HEAD"]);

    let stamp = format!(
        "{}-{}",
        std::process::id(),
        std::time::SystemTime::now()
            .duration_since(std::time::UNIX_EPOCH)
            .unwrap()
            .as_nanos()
    );
    let added = format!("docs/review-{stamp}.md");
    let clone = OriginClone::new(&lab);
    let first = clone.commit(
        &added,
        "notes for the review",
        &format!("Add notes {stamp}"),
    );
    let second = clone.commit(
        "DEPLOY_NOTES.md",
        &format!("reviewed {stamp}"),
        &format!("Update deploy notes {stamp}"),
    );
    git_as_lab_user(&clone.dir, &["push", "-q", "origin", "main"]);

    let review: Value = serde_json::from_str(&cli(&["git-review", "Local lab", "--json"])).unwrap();
    assert_eq!(
        strings(&review["commits"], &["hash", "author", "subject"]),
        [
            [
                second.clone(),
                "Review Test".into(),
                format!("Update deploy notes {stamp}")
            ],
            [
                first.clone(),
                "Review Test".into(),
                format!("Add notes {stamp}")
            ],
        ],
        "{review:#}"
    );
    for commit in review["commits"].as_array().unwrap() {
        let date = commit["date"].as_str().unwrap();
        assert!(
            date.len() >= 20 && date.as_bytes()[10] == b'T',
            "not ISO 8601: {date}"
        );
    }
    let mut files = strings(&review["files"], &["status", "path"]);
    files.sort();
    assert_eq!(
        files,
        [
            ["A".to_string(), added.clone()],
            ["M".into(), "DEPLOY_NOTES.md".into()]
        ],
        "{review:#}"
    );
    let short_head = review["head"].as_str().unwrap();
    assert!(
        short_head.len() >= 4 && head.starts_with(short_head),
        "head {short_head} is not a short form of {head}"
    );
    assert_eq!(review["upstream"], "origin/main");
    let cd = format!("cd {} && ", project.display());
    let commands: Vec<String> = serde_json::from_value(review["commands"].clone()).unwrap();
    assert_eq!(
        commands,
        [
            format!("{cd}git fetch origin main"),
            format!("{cd}git rev-parse --short HEAD"),
            format!("{cd}git log --no-color --format=%H%x1f%an%x1f%aI%x1f%s HEAD..origin/main"),
            format!("{cd}git diff --no-color --name-status HEAD...origin/main"),
        ]
    );

    // Reviewing changed nothing the services run from.
    assert_eq!(git_as_lab_user(&project, &["rev-parse", "HEAD"]), head);
    assert!(!project.join(&added).exists());
    assert_eq!(
        git_as_lab_user(&project, &["status", "--porcelain"]),
        "",
        "the review touched the working tree"
    );

    // Every step of the review is in the history, as it ran.
    let history: Value = serde_json::from_str(&cli(&["history", "--json"])).unwrap();
    let recorded: Vec<String> = strings(&history, &["command"])
        .into_iter()
        .map(|mut fields| fields.remove(0))
        .collect();
    assert!(
        recorded.windows(commands.len()).any(|w| w == commands),
        "the review's commands are not in the history: {recorded:#?}"
    );

    let text = cli(&["git-review", "Local lab"]);
    assert!(text.contains("2 incoming commits"), "{text}");
    assert!(text.contains(&second[..7]), "{text}");
    assert!(text.contains(&format!("A  {added}")), "{text}");

    cli(&["git-pull", "Local lab"]);
    assert_eq!(git_as_lab_user(&project, &["rev-parse", "HEAD"]), second);
    let after: Value = serde_json::from_str(&cli(&["git-review", "Local lab", "--json"])).unwrap();
    assert_eq!(after["commits"], serde_json::json!([]), "{after:#}");
    assert_eq!(after["files"], serde_json::json!([]), "{after:#}");
    assert!(second.starts_with(after["head"].as_str().unwrap()));
    let text = cli(&["git-review", "Local lab"]);
    assert!(text.contains("Already up to date"), "{text}");
}

#[test]
fn a_fetch_that_fails_ends_the_review_with_exit_1() {
    let _lab_lock = exclusive();
    let lab = Lab::from_env();
    let home = tempfile::tempdir().unwrap();
    let cli = |args: &[&str]| ok(&shipshape(&lab, home.path(), args));

    // A checkout whose compose project is fine but whose origin is gone. The lab's host
    // is already pinned and its key in the keyring (every run sets the lab target up).
    let clone = OriginClone::new(&lab);
    git_as_lab_user(
        &clone.dir,
        &["remote", "set-url", "origin", "/nonexistent/origin.git"],
    );
    as_lab_user(&["touch", clone.dir.join(".env.aws").to_str().unwrap()]);
    cli(&[
        "target",
        "add",
        "no origin",
        "--host",
        "127.0.0.1",
        "--port",
        &lab.field("port"),
        "--dir",
        clone.dir.to_str().unwrap(),
        "--key",
        "local-lab",
    ]);

    let output = shipshape(&lab, home.path(), &["git-review", "no origin"]);
    let stderr = text(&output.stderr);
    assert_eq!(output.status.code(), Some(1), "{stderr}");
    assert!(
        stderr.contains("Fetching origin main to review what a pull would bring failed"),
        "{stderr}"
    );
    assert!(stderr.contains("/nonexistent/origin.git"), "{stderr}");

    // Nothing ran after the failed fetch.
    let history: Value = serde_json::from_str(&cli(&["history", "--json"])).unwrap();
    let steps = strings(&history, &["target", "title"]);
    assert_eq!(
        steps
            .iter()
            .filter(|s| s[0] == "no origin")
            .map(|s| s[1].as_str())
            .collect::<Vec<_>>(),
        ["Fetch the latest code"]
    );
}

/// A commit on origin that would break a Never Do rule (`--reload` in the backend's
/// command) is refused by the deploy's review, before the lock, the snapshot or the
/// pull: the host's checkout, containers and lock stay as they were.
#[test]
fn a_deploy_refuses_a_commit_whose_config_would_reload() {
    let _lab_lock = exclusive();
    let lab = Lab::from_env();
    let home = tempfile::tempdir().unwrap();
    let origin = lab.field("origin");
    let project = lab.project_dir();
    let head = || git_as_lab_user(&project, &["rev-parse", "HEAD"]);
    let before = head();
    let mut restore = verification::Restore::default();
    restore.as_lab_user(&lab, &["rm", "-rf", "/home/ubuntu/.shipshape"]);
    restore.as_lab_user(&lab, &["git", "fetch", "-q", "origin", "main"]);
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
    // Should the deploy go through (the check broken), the host is put back too (undone
    // last first: the checkout, then the services).
    restore.as_lab_user(
        &lab,
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
    restore.as_lab_user(&lab, &["git", "checkout", "-q", "-B", "main", &before]);

    let clone = OriginClone::new(&lab);
    let compose = clone.dir.join("docker-compose.yml");
    let config = std::fs::read_to_string(&compose).unwrap();
    let reloading = config.replace("\"--workers\", \"2\"", "\"--workers\", \"2\", \"--reload\"");
    assert_ne!(
        config, reloading,
        "the lab's backend command has --workers 2"
    );
    std::fs::write(&compose, reloading).unwrap();
    clone.commit(
        "docker-compose.yml",
        "# reload for development",
        "Reload the backend",
    );
    git_as_lab_user(&clone.dir, &["push", "-q", "origin", "main"]);
    let containers = || run("docker", &["ps", "-q", "--no-trunc"]);
    let running = containers();

    let output = shipshape(
        &lab,
        home.path(),
        &[
            "deploy",
            verification::TARGET,
            "--yes",
            "--message",
            "Reload (test)",
        ],
    );
    let stderr = text(&output.stderr);
    assert_eq!(output.status.code(), Some(1), "{stderr}");
    assert!(
        stderr.contains("would break the Never Do rules"),
        "{stderr}"
    );
    assert!(stderr.contains("backend-aws \"--reload\""), "{stderr}");
    assert!(
        !stderr.contains("→ Lock the host"),
        "it went on to the lock: {stderr}"
    );
    assert_eq!(head(), before, "the host's checkout moved");
    assert_eq!(containers(), running, "a container changed");
    let lock = ok(&shipshape(
        &lab,
        home.path(),
        &["lock", "status", verification::TARGET],
    ));
    assert!(lock.contains("free"), "{lock}");
}

#[test]
fn an_unknown_target_is_bad_input() {
    let lab = Lab::from_env();
    let home = tempfile::tempdir().unwrap();
    let output = shipshape(&lab, home.path(), &["git-review", "no such target"]);
    assert_eq!(output.status.code(), Some(2), "{}", text(&output.stderr));
}

/// A commit message and a log line that hold terminal escape sequences (retitle the
/// window, clear the screen) are printed with the sequences shown as text: nothing the
/// host sends can control the operator's terminal.
#[test]
fn escape_sequences_from_the_host_never_reach_the_terminal() {
    let _lab_lock = exclusive();
    let lab = Lab::from_env();
    let home = tempfile::tempdir().unwrap();
    let cli = |args: &[&str]| ok(&shipshape(&lab, home.path(), args));
    let origin = lab.field("origin");
    let was = as_lab_user(&["git", "-C", &origin, "rev-parse", "main"]);
    let mut restore = shipshape_tests::verification::Restore::default();
    restore.as_lab_user(&lab, &["git", "fetch", "-q", "origin", "main"]);
    restore.as_lab_user(
        &lab,
        &["git", "-C", &origin, "update-ref", "refs/heads/main", &was],
    );

    let hostile = "Owned \u{1b}]0;owned\u{7}\u{1b}[2Jcleared";
    let clone = OriginClone::new(&lab);
    clone.commit("docs/escape.md", "escape", hostile);
    git_as_lab_user(&clone.dir, &["push", "-q", "origin", "main"]);
    let printed = cli(&["git-review", "Local lab"]);
    assert!(
        !printed.contains(['\u{1b}', '\u{7}']),
        "raw escapes printed: {printed:?}"
    );
    assert!(
        printed.contains("Owned ^[]0;owned^G^[[2Jcleared"),
        "{printed}"
    );

    let container = lab.container("market-updater-aws");
    run(
        "docker",
        &[
            "exec",
            &container,
            "sh",
            "-c",
            "printf '\\033]0;owned\\007\\033[2Jcleared-log\\n' > /proc/1/fd/1",
        ],
    );
    let logs = cli(&["logs", "Local lab", "market-updater-aws", "-n", "20"]);
    assert!(
        !logs.contains(['\u{1b}', '\u{7}']),
        "raw escapes printed: {logs:?}"
    );
    assert!(logs.contains("^[]0;owned^G^[[2Jcleared-log"), "{logs}");
}
