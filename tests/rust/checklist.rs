//! The verification checklist against the lab: a clean lab passes all twelve items;
//! each way of breaking the lab that an item exists to catch makes that item fail, with
//! evidence quoting the cause, and the CLI exit 1. Reports are then read as their
//! readers read them: `ssh-keygen -Y verify`, an independent JSON Schema validator,
//! `qpdf`, `pdftotext`, `cmark-gfm`; and no value of the lab's `.env.aws` is anywhere.

use std::path::{Path, PathBuf};
use std::process::Command;

use serde_json::Value;
use shipshape_tests::*;

const TARGET: &str = "Local lab";

fn project(lab: &Lab) -> PathBuf {
    PathBuf::from(lab.field("project_dir"))
}

/// Runs a command as the lab's user in the project directory.
fn as_lab_user(lab: &Lab, args: &[&str]) -> String {
    let mut full = vec!["-u", "ubuntu", "--", "sh", "-c"];
    let script = format!("cd {} && \"$@\"", project(lab).display());
    full.push(&script);
    full.push("sh");
    full.extend_from_slice(args);
    run("runuser", &full)
}

/// `shipshape verify` with a JSON report; the exit code and the report.
fn verify(lab: &Lab, home: &Path) -> (i32, Value) {
    let report = home.join("report.json");
    let output = shipshape(
        lab,
        home,
        &["verify", TARGET, "--report", report.to_str().unwrap()],
    );
    let code = output.status.code().unwrap_or(-1);
    let text = std::fs::read_to_string(&report).unwrap_or_else(|_| {
        panic!(
            "no report; exit {code}\n{}\n{}",
            text(&output.stdout),
            text(&output.stderr)
        )
    });
    (code, serde_json::from_str(&text).unwrap())
}

fn item<'a>(report: &'a Value, id: &str) -> &'a Value {
    report["items"]
        .as_array()
        .unwrap()
        .iter()
        .find(|i| i["id"] == id)
        .unwrap_or_else(|| panic!("no item {id}"))
}

/// Asserts `id` failed, its verdict says `cause`, and some evidence output shows it too.
fn assert_fails(report: &Value, code: i32, id: &str, cause: &str, in_evidence: &str) {
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

/// Puts things back when dropped, even when an assertion failed.
struct Restore(Vec<Box<dyn FnOnce()>>);

impl Restore {
    fn new() -> Self {
        Restore(Vec::new())
    }
    fn then(&mut self, undo: impl FnOnce() + 'static) {
        self.0.push(Box::new(undo));
    }
}

impl Drop for Restore {
    fn drop(&mut self) {
        while let Some(undo) = self.0.pop() {
            undo();
        }
    }
}

fn quiet(program: &str, args: &[&str]) {
    let _ = Command::new(program).args(args).output();
}

/// The values of the lab's `.env.aws` (the file the lab installs).
fn lab_secret_values() -> Vec<String> {
    let file = Path::new(env!("CARGO_MANIFEST_DIR")).join("lab/env.aws.example");
    std::fs::read_to_string(file)
        .unwrap()
        .lines()
        .filter(|l| !l.starts_with('#'))
        .filter_map(|l| l.split_once('=').map(|(_, v)| v.to_string()))
        .filter(|v| v.len() >= 4)
        .collect()
}

fn tool(name: &str) -> String {
    let venv = std::env::var("HOME").unwrap_or_else(|_| "/root".into())
        + "/.cache/shipshape/tools/venv/bin/"
        + name;
    if Path::new(&venv).exists() {
        venv
    } else {
        name.to_string()
    }
}

#[test]
fn a_clean_lab_passes_and_its_reports_hold_up_to_their_readers() {
    let _lab_lock = exclusive();
    let lab = Lab::from_env();
    let home = tempfile::tempdir().unwrap();
    let (code, report) = verify(&lab, home.path());
    let items = report["items"].as_array().unwrap();
    let ids: Vec<&str> = items.iter().map(|i| i["id"].as_str().unwrap()).collect();
    assert_eq!(
        ids,
        [
            "code-deployed",
            "images-pulled",
            "services-updated",
            "services-running",
            "env-configured",
            "migrations",
            "health",
            "logs-clean",
            "no-reload",
            "no-systemd-mix",
            "aws-profile-only",
            "compose-only"
        ]
    );
    for i in items {
        assert_ne!(i["status"], "fail", "{i:#}");
        for e in i["evidence"].as_array().unwrap() {
            let output = e["output"].as_str().unwrap();
            let hash = run("sh", &["-c", "printf %s \"$1\" | sha256sum", "sh", output]);
            assert!(
                hash.starts_with(e["sha256"].as_str().unwrap()),
                "sha256 of {}",
                e["command"]
            );
        }
    }
    assert_eq!(item(&report, "migrations")["status"], "manual");
    assert_eq!(code, 0, "nothing failed, so exit 0");
    assert_eq!(report["schema"], "shipshape.report/v1");
    assert_eq!(report["summary"]["fail"], 0);
    assert!(item(&report, "env-configured")["note"]
        .as_str()
        .unwrap()
        .contains("5 keys .env.aws.example names"));

    // Every format, signed; a reviewer co-signs the PDF.
    let id = report["record_id"].as_str().unwrap();
    let dir = home.path();
    for name in ["r.md", "r.html", "r.pdf", "r.json"] {
        ok(&shipshape(
            &lab,
            dir,
            &[
                "report",
                id,
                "--out",
                dir.join(name).to_str().unwrap(),
                "--sign",
                "local-lab",
            ],
        ));
    }
    ok(&shipshape(&lab, dir, &["key", "generate", "lab-reviewer"]));
    ok(&shipshape(
        &lab,
        dir,
        &[
            "report",
            "cosign",
            dir.join("r.pdf").to_str().unwrap(),
            "--key",
            "lab-reviewer",
        ],
    ));
    let allowed = dir.join("allowed_signers");
    let operator_key = ok(&shipshape(&lab, dir, &["key", "public", "local-lab"]));
    let reviewer_key = ok(&shipshape(&lab, dir, &["key", "public", "lab-reviewer"]));
    std::fs::write(
        &allowed,
        format!("operator {}reviewer {}", operator_key, reviewer_key),
    )
    .unwrap();
    let ssh_verify = |file: &Path, signature: &Path, identity: &str| {
        Command::new("ssh-keygen")
            .args([
                "-Y",
                "verify",
                "-f",
                allowed.to_str().unwrap(),
                "-I",
                identity,
                "-n",
                "shipshape-report",
            ])
            .arg("-s")
            .arg(signature)
            .stdin(std::fs::File::open(file).unwrap())
            .output()
            .unwrap()
            .status
            .success()
    };
    for name in ["r.md", "r.html", "r.pdf", "r.json"] {
        let file = dir.join(name);
        assert!(
            ssh_verify(&file, &dir.join(format!("{name}.sig")), "operator"),
            "{name}.sig"
        );
    }
    assert!(ssh_verify(
        &dir.join("r.pdf"),
        &dir.join("r.pdf.lab-reviewer.sig"),
        "reviewer"
    ));
    let mut changed = std::fs::read(dir.join("r.pdf")).unwrap();
    let middle = changed.len() / 2;
    changed[middle] ^= 1;
    std::fs::write(dir.join("r2.pdf"), changed).unwrap();
    assert!(
        !ssh_verify(&dir.join("r2.pdf"), &dir.join("r.pdf.sig"), "operator"),
        "a changed byte must not verify"
    );
    assert!(!ssh_verify(
        &dir.join("r2.pdf"),
        &dir.join("r.pdf.lab-reviewer.sig"),
        "reviewer"
    ));

    // The JSON against the committed schema, by a validator that is not Shipshape.
    let schema =
        Path::new(env!("CARGO_MANIFEST_DIR")).join("../schemas/shipshape.report.v1.schema.json");
    run(
        &tool("check-jsonschema"),
        &[
            "--schemafile",
            schema.to_str().unwrap(),
            dir.join("r.json").to_str().unwrap(),
        ],
    );

    // The PDF: structurally sound, every item's title extractable.
    run("qpdf", &["--check", dir.join("r.pdf").to_str().unwrap()]);
    let pdf_text = run(
        "pdftotext",
        &["-layout", dir.join("r.pdf").to_str().unwrap(), "-"],
    )
    .split_whitespace()
    .collect::<Vec<_>>()
    .join(" ");
    for i in items {
        let title = i["title"]
            .as_str()
            .unwrap()
            .split_whitespace()
            .collect::<Vec<_>>()
            .join(" ");
        assert!(
            pdf_text.contains(&title),
            "pdftotext does not find {title:?}"
        );
    }
    assert!(pdf_text.contains("Page 1 of"));

    // The Markdown renders its tables (GitHub's extension) and escapes nothing away.
    let html = run(
        "cmark-gfm",
        &["-e", "table", dir.join("r.md").to_str().unwrap()],
    );
    assert!(html.matches("<table>").count() >= 4, "tables render");
    assert!(html.contains("Code deployed via SSH"));

    // No value of .env.aws anywhere: reports, signatures, the journal, logs, settings.
    let secrets = lab_secret_values();
    assert!(secrets.len() >= 4);
    for file in files_below(dir) {
        let bytes = std::fs::read(&file).unwrap();
        let text = String::from_utf8_lossy(&bytes);
        for secret in &secrets {
            assert!(
                !text.contains(secret.as_str()),
                "{} holds a value of .env.aws",
                file.display()
            );
        }
    }
    let journal = std::fs::read(dir.join("journal.sqlite3")).unwrap();
    assert!(journal.len() > 10_000, "the journal is written");

    // The journal holds; one flipped byte in a stored record is named.
    let verified = shipshape(&lab, dir, &["history", "verify"]);
    assert_eq!(
        verified.status.code(),
        Some(0),
        "{}",
        text(&verified.stderr)
    );
    let db = dir.join("journal.sqlite3");
    run(
        "python3",
        &[
            "-c",
            "import sqlite3,sys; d=sqlite3.connect(sys.argv[1]); d.execute(\"UPDATE entries SET body = replace(body, '\\\"pass\\\"', '\\\"fail\\\"') WHERE seq = 2\"); d.commit()",
            db.to_str().unwrap(),
        ],
    );
    let broken = shipshape(&lab, dir, &["history", "verify"]);
    assert_eq!(broken.status.code(), Some(1));
    let said = text(&broken.stderr);
    assert!(said.contains(id) && said.contains("entry 2"), "{said}");
}

#[test]
fn each_broken_guardrail_fails_its_item_with_the_cause_in_evidence() {
    let _lab_lock = exclusive();
    let lab = Lab::from_env();
    let home = tempfile::tempdir().unwrap();
    let dir = project(&lab);
    let compose_file = dir.join("docker-compose.yml");

    // --reload in the backend's command (the compose file as the host has it).
    {
        let mut restore = Restore::new();
        let original = std::fs::read_to_string(&compose_file).unwrap();
        let path = compose_file.clone();
        restore.then(move || std::fs::write(&path, original).unwrap());
        let text = std::fs::read_to_string(&compose_file)
            .unwrap()
            .replace("\"--workers\", \"2\"", "\"--workers\", \"2\", \"--reload\"");
        std::fs::write(&compose_file, text).unwrap();
        let (code, report) = verify(&lab, home.path());
        assert_fails(&report, code, "no-reload", "--reload", "--reload");
        // The tracked compose file changed on the host: the code is not origin's.
        assert_fails(
            &report,
            code,
            "code-deployed",
            "docker-compose.yml",
            "docker-compose.yml",
        );
        // And compose would recreate the backend.
        assert_fails(&report, code, "services-updated", "backend-aws", "Recreate");
    }

    // A systemd unit for a compose service.
    {
        let mut restore = Restore::new();
        let unit = Path::new("/etc/systemd/system/backend-aws.service");
        std::fs::create_dir_all(unit.parent().unwrap()).unwrap();
        std::fs::write(
            unit,
            format!(
                "[Service]\nWorkingDirectory={}\nExecStart=/usr/bin/gunicorn app\n",
                dir.display()
            ),
        )
        .unwrap();
        restore.then(|| {
            let _ = std::fs::remove_file("/etc/systemd/system/backend-aws.service");
        });
        let (code, report) = verify(&lab, home.path());
        assert_fails(
            &report,
            code,
            "no-systemd-mix",
            "backend-aws.service",
            "backend-aws.service",
        );
    }

    // A container of the project from another profile.
    {
        let mut restore = Restore::new();
        let override_file = dir.join("docker-compose.override.yml");
        let image = format!("{}/atp/market-updater:lab", lab.field("registry"));
        std::fs::write(
            &override_file,
            format!("services:\n  worker-dev:\n    image: {image}\n    profiles: [dev]\n"),
        )
        .unwrap();
        let lab_dir = dir.clone();
        restore.then(move || {
            quiet(
                "runuser",
                &[
                    "-u",
                    "ubuntu",
                    "--",
                    "sh",
                    "-c",
                    &format!(
                        "cd {} && docker compose --profile dev rm -sf worker-dev",
                        lab_dir.display()
                    ),
                ],
            );
            let _ = std::fs::remove_file(lab_dir.join("docker-compose.override.yml"));
        });
        as_lab_user(
            &lab,
            &[
                "docker",
                "compose",
                "--profile",
                "dev",
                "up",
                "-d",
                "worker-dev",
            ],
        );
        let (code, report) = verify(&lab, home.path());
        assert_fails(
            &report,
            code,
            "aws-profile-only",
            "worker-dev",
            "worker-dev",
        );
    }

    // A production port served outside compose.
    {
        let mut restore = Restore::new();
        let frontend = lab.container("frontend-aws");
        run("docker", &["stop", "-t", "1", &frontend]);
        let name = frontend.clone();
        restore.then(move || quiet("docker", &["start", &name]));
        let mut server = Command::new("python3")
            .args(["-m", "http.server", "3000", "--bind", "127.0.0.1"])
            .stdout(std::process::Stdio::null())
            .stderr(std::process::Stdio::null())
            .spawn()
            .unwrap();
        std::thread::sleep(std::time::Duration::from_millis(800));
        let (code, report) = verify(&lab, home.path());
        server.kill().unwrap();
        server.wait().unwrap();
        assert_fails(
            &report,
            code,
            "compose-only",
            "127.0.0.1:3000",
            "127.0.0.1:3000",
        );
        // A stopped service is caught too.
        assert_fails(
            &report,
            code,
            "services-running",
            "frontend-aws is exited",
            "\"Status\": \"exited\"",
        );
    }

    // A key missing from .env.aws; and the file readable by others.
    {
        let mut restore = Restore::new();
        let env_file = dir.join(".env.aws");
        let original = std::fs::read_to_string(&env_file).unwrap();
        let (path, saved) = (env_file.clone(), original.clone());
        restore.then(move || {
            std::fs::write(&path, saved).unwrap();
            run("chmod", &["600", path.to_str().unwrap()]);
        });
        let without: String = original
            .lines()
            .filter(|l| !l.starts_with("EXCHANGE_API_SECRET="))
            .map(|l| format!("{l}\n"))
            .collect();
        std::fs::write(&env_file, without).unwrap();
        let (code, report) = verify(&lab, home.path());
        assert_fails(
            &report,
            code,
            "env-configured",
            "EXCHANGE_API_SECRET",
            "EXCHANGE_API_SECRET=",
        );
        run("chmod", &["644", env_file.to_str().unwrap()]);
        let (code, report) = verify(&lab, home.path());
        assert_fails(&report, code, "env-configured", "mode 644", "644 ubuntu");
    }

    // A local commit that is not on origin.
    {
        let mut restore = Restore::new();
        let head = as_lab_user(&lab, &["git", "rev-parse", "HEAD"])
            .trim()
            .to_string();
        let lab_dir = dir.clone();
        restore.then(move || {
            quiet(
                "runuser",
                &[
                    "-u",
                    "ubuntu",
                    "--",
                    "git",
                    "-C",
                    lab_dir.to_str().unwrap(),
                    "reset",
                    "-q",
                    "--hard",
                    &head,
                ],
            );
        });
        as_lab_user(
            &lab,
            &[
                "git",
                "-c",
                "user.name=Hotfix",
                "-c",
                "user.email=hotfix@example.invalid",
                "commit",
                "-q",
                "--allow-empty",
                "-m",
                "hotfix on the host",
            ],
        );
        let local = as_lab_user(&lab, &["git", "rev-parse", "HEAD"])
            .trim()
            .to_string();
        let (code, report) = verify(&lab, home.path());
        assert_fails(&report, code, "code-deployed", &local[..12], &local);
    }

    // An error in the backend's log; an image pulled but not in use.
    {
        let mut restore = Restore::new();
        let backend = lab.container("backend-aws");
        run(
            "docker",
            &[
                "exec",
                &backend,
                "sh",
                "-c",
                "echo 'ERROR lab: database connection refused' > /proc/1/fd/1",
            ],
        );
        let tag = format!("{}/atp/market-updater:lab", lab.field("registry"));
        let original = run("docker", &["image", "inspect", "-f", "{{.Id}}", &tag])
            .trim()
            .to_string();
        let other = format!("{}/atp/frontend:lab", lab.field("registry"));
        run("docker", &["tag", &other, &tag]);
        let (tag_back, id_back) = (tag.clone(), original.clone());
        restore.then(move || quiet("docker", &["tag", &id_back, &tag_back]));
        // The health endpoint gone: the probe gets a 404.
        run("docker", &["exec", &backend, "rm", "-f", "/www/api/health"]);
        let (code, report) = verify(&lab, home.path());
        assert_fails(&report, code, "health", "HTTP 404", "404");
        assert_fails(
            &report,
            code,
            "logs-clean",
            "ERROR lab: database connection refused",
            "ERROR lab: database connection refused",
        );
        assert_fails(
            &report,
            code,
            "images-pulled",
            "market-updater-aws runs",
            &original[..19],
        );
        // The log line stays in the container's log and the endpoint is gone: make the
        // backend anew so later tests start clean.
        drop(restore);
        let backend_name = backend.clone();
        run("docker", &["rm", "-f", &backend_name]);
        as_lab_user(
            &lab,
            &[
                "docker",
                "compose",
                "--profile",
                "aws",
                "up",
                "-d",
                "--wait",
                "backend-aws",
            ],
        );
    }

    let (code, report) = verify(&lab, home.path());
    let failed: Vec<&Value> = report["items"]
        .as_array()
        .unwrap()
        .iter()
        .filter(|i| i["status"] == "fail")
        .collect();
    assert!(
        failed.is_empty() && code == 0,
        "the lab is back to clean: {failed:#?}"
    );
}

#[test]
fn a_verify_killed_midway_is_recorded_as_interrupted_and_the_chain_holds() {
    let _lab_lock = exclusive();
    let lab = Lab::from_env();
    let home = tempfile::tempdir().unwrap();
    // A frozen Docker engine keeps the probes waiting: the kill lands mid-verification.
    let dockerd = std::fs::read_to_string(lab.dir().join("dockerd.pid"))
        .unwrap()
        .trim()
        .to_string();
    run("kill", &["-STOP", &dockerd]);
    let thaw = dockerd.clone();
    let _thaw = Restore(vec![Box::new(move || quiet("kill", &["-CONT", &thaw]))]);
    let mut verify = Command::new(shipshape_binary())
        .args(["verify", TARGET])
        .env("SHIPSHAPE_HOME", home.path())
        .env("SHIPSHAPE_LAB", &lab.descriptor)
        .stdout(std::process::Stdio::null())
        .stderr(std::process::Stdio::null())
        .spawn()
        .unwrap();
    let started = std::time::Instant::now();
    let running = loop {
        let history = shipshape(&lab, home.path(), &["history", "--json"]);
        let records: Value = serde_json::from_slice(&history.stdout).unwrap_or(Value::Null);
        let found = records
            .as_array()
            .into_iter()
            .flatten()
            .find(|r| r["kind"] == "verification")
            .cloned();
        if let Some(record) = found {
            break record;
        }
        assert!(
            started.elapsed().as_secs() < 20,
            "the verification never started"
        );
        std::thread::sleep(std::time::Duration::from_millis(100));
    };
    assert_eq!(running["outcome"], "running", "{running:#}");
    std::thread::sleep(std::time::Duration::from_millis(500));
    verify.kill().unwrap();
    verify.wait().unwrap();

    let history: Value =
        serde_json::from_str(&ok(&shipshape(&lab, home.path(), &["history", "--json"]))).unwrap();
    let record = history
        .as_array()
        .unwrap()
        .iter()
        .find(|r| r["id"] == running["id"])
        .unwrap()
        .clone();
    assert_eq!(record["outcome"], "interrupted", "{record:#}");
    let verified = shipshape(&lab, home.path(), &["history", "verify"]);
    assert_eq!(
        verified.status.code(),
        Some(0),
        "{}",
        text(&verified.stderr)
    );
}
