//! What the checklist's lab tests share: `shipshape verify` with a JSON report, reading
//! its items, asserting a failure with its cause, and putting back what a test broke.

use std::path::{Path, PathBuf};
use std::process::Command;

use serde_json::Value;

use crate::{run, shipshape, text, Lab};

pub const TARGET: &str = "Local lab";

/// Runs a command as the lab's user in the project directory; its output.
pub fn as_lab_user(lab: &Lab, args: &[&str]) -> String {
    let script = format!("cd {} && \"$@\"", lab.field("project_dir"));
    let mut full = vec!["-u", "ubuntu", "--", "sh", "-c", &script, "sh"];
    full.extend_from_slice(args);
    run("runuser", &full)
}

/// `shipshape verify` with a JSON report: the exit code and the report.
pub fn verify(lab: &Lab, home: &Path) -> (i32, Value) {
    // Beside the data folder, never in it: Shipshape refuses that.
    let reports = tempfile::tempdir().unwrap();
    let report = reports.path().join("report.json");
    let output = shipshape(
        lab,
        home,
        &["verify", TARGET, "--report", report.to_str().unwrap()],
    );
    let code = output.status.code().unwrap_or(-1);
    let written = std::fs::read_to_string(&report).unwrap_or_else(|_| {
        panic!(
            "no report; exit {code}\n{}\n{}",
            text(&output.stdout),
            text(&output.stderr)
        )
    });
    (code, serde_json::from_str(&written).unwrap())
}

pub fn item<'a>(report: &'a Value, id: &str) -> &'a Value {
    report["items"]
        .as_array()
        .unwrap()
        .iter()
        .find(|i| i["id"] == id)
        .unwrap_or_else(|| panic!("no item {id}"))
}

/// Asserts `id` failed, its verdict says `cause`, and some evidence output shows
/// `in_evidence`; and that the CLI exited 1.
pub fn assert_fails(report: &Value, code: i32, id: &str, cause: &str, in_evidence: &str) {
    let item = item(report, id);
    assert_eq!(item["status"], "fail", "{id}: {item:#}");
    assert_eq!(code, 1, "a failed check exits 1");
    let note = item["note"].as_str().unwrap();
    assert!(
        note.contains(cause),
        "{id}'s verdict does not quote {cause:?}: {note}"
    );
    let evidence = item["evidence"].as_array().unwrap();
    assert!(
        evidence
            .iter()
            .any(|e| e["output"].as_str().unwrap().contains(in_evidence)),
        "{id}'s evidence does not show {in_evidence:?}"
    );
}

/// Asserts a verification of the lab finds it as clean as it is built: every item
/// passed but the migrations, which await a person's tick; and exits 0.
pub fn assert_lab_clean(lab: &Lab, home: &Path) {
    // A backend just recreated (by a deploy, a rollback, a restore) reports "starting"
    // for a few seconds: the lab as built is the one whose healthcheck passed.
    let backend = lab.container("backend-aws");
    crate::wait_until(std::time::Duration::from_secs(60), || {
        let health = Command::new("docker")
            .args(["inspect", "-f", "{{.State.Health.Status}}", &backend])
            .output()
            .map(|o| String::from_utf8_lossy(&o.stdout).trim().to_string())
            .unwrap_or_default();
        health == "healthy"
    });
    let (code, report) = verify(lab, home);
    let items = report["items"].as_array().unwrap();
    assert_eq!(items.len(), 12, "{report:#}");
    let off: Vec<&Value> = items
        .iter()
        .filter(|i| {
            let expected = match i["id"].as_str() {
                Some("migrations") => "manual",
                _ => "pass",
            };
            i["status"] != expected
        })
        .collect();
    assert!(
        off.is_empty() && code == 0,
        "the lab is not clean (exit {code}): {off:#?}"
    );
}

/// Puts things back when dropped, last first, even when an assertion failed.
#[derive(Default)]
pub struct Restore(Vec<Box<dyn FnOnce()>>);

impl Restore {
    pub fn then(&mut self, undo: impl FnOnce() + 'static) {
        self.0.push(Box::new(undo));
    }

    /// Runs `program ARGS` when dropped, whatever it returns.
    pub fn command(&mut self, program: &str, args: &[&str]) {
        let (program, args) = (
            program.to_string(),
            args.iter().map(|a| a.to_string()).collect::<Vec<_>>(),
        );
        self.then(move || {
            let _ = Command::new(program).args(args).output();
        });
    }

    /// Runs `args` as the lab's user in the project directory when dropped, whatever it
    /// returns (a failed undo must not turn a test's failure into an abort).
    pub fn as_lab_user(&mut self, lab: &Lab, args: &[&str]) {
        let script = format!("cd {} && \"$@\"", lab.field("project_dir"));
        let mut full = vec!["-u", "ubuntu", "--", "sh", "-c", &script, "sh"];
        full.extend_from_slice(args);
        self.command("runuser", &full);
    }

    /// Writes `path` back as it is now (contents and mode), or removes it if it does not
    /// exist now.
    pub fn file(&mut self, path: &Path) {
        use std::os::unix::fs::PermissionsExt;
        let path: PathBuf = path.to_path_buf();
        let saved = std::fs::read(&path).ok();
        let mode = std::fs::metadata(&path)
            .ok()
            .map(|m| m.permissions().mode());
        self.then(move || match (saved, mode) {
            (Some(bytes), Some(mode)) => {
                std::fs::write(&path, bytes).unwrap();
                std::fs::set_permissions(&path, std::fs::Permissions::from_mode(mode)).unwrap();
            }
            _ => {
                let _ = std::fs::remove_file(&path);
            }
        });
    }
}

impl Drop for Restore {
    fn drop(&mut self) {
        while let Some(undo) = self.0.pop() {
            undo();
        }
    }
}
