//! The verification checklist against the lab: a clean lab passes all twelve items, and
//! its reports are read as their readers read them: `ssh-keygen -Y verify`, an
//! independent JSON Schema validator, `qpdf`, `pdftotext`, `cmark-gfm`; no value of the
//! lab's `.env.aws` is anywhere; the journal names a changed record and survives a
//! verification killed midway. Breaking the lab is `checklist_breaks.rs`.

use std::path::Path;
use std::process::Command;

use serde_json::Value;
use shipshape_tests::verification::*;
use shipshape_tests::*;

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
    // A log longer than a page of the PDF (its evidence is printed whole there too).
    run(
        "docker",
        &[
            "exec",
            &lab.container("backend-aws"),
            "sh",
            "-c",
            "i=0; while [ $i -lt 90 ]; do i=$((i+1)); echo \"request $i served in 3 ms\"; done > /proc/1/fd/1",
        ],
    );
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
        // A clean lab passes every item but the migrations, which await a tick.
        let expected = match i["id"].as_str() {
            Some("migrations") => "manual",
            _ => "pass",
        };
        assert_eq!(i["status"], expected, "{i:#}");
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
    assert_eq!(report["summary"]["pass"], 11);
    // Which policy judged it: the builtin one, by a digest of the rules in effect.
    assert_eq!(report["policy"]["source"], "builtin");
    assert_eq!(report["policy"]["sha256"].as_str().unwrap().len(), 64);
    assert!(item(&report, "env-configured")["note"]
        .as_str()
        .unwrap()
        .contains("5 keys .env.aws.example names"));

    // Every format, signed; a reviewer co-signs the PDF.
    let id = report["record_id"].as_str().unwrap();
    let dir = home.path();
    // Reports go beside the data folder, never in it: Shipshape refuses that.
    let reports = tempfile::tempdir().unwrap();
    let out = reports.path();
    for name in ["r.md", "r.html", "r.pdf", "r.json"] {
        ok(&shipshape(
            &lab,
            dir,
            &[
                "report",
                id,
                "--out",
                out.join(name).to_str().unwrap(),
                "--sign",
                "local-lab",
            ],
        ));
    }
    let reviewer = run_key("lab-reviewer");
    let reviewer = reviewer.as_str();
    ok(&shipshape(&lab, dir, &["key", "generate", reviewer]));
    ok(&shipshape(
        &lab,
        dir,
        &[
            "report",
            "cosign",
            out.join("r.pdf").to_str().unwrap(),
            "--key",
            reviewer,
        ],
    ));
    let allowed = dir.join("allowed_signers");
    let operator_key = ok(&shipshape(&lab, dir, &["key", "public", "local-lab"]));
    let reviewer_key = ok(&shipshape(&lab, dir, &["key", "public", reviewer]));
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
        let file = out.join(name);
        assert!(
            ssh_verify(&file, &out.join(format!("{name}.sig")), "operator"),
            "{name}.sig"
        );
    }
    assert!(ssh_verify(
        &out.join("r.pdf"),
        &out.join(format!("r.pdf.{reviewer}.sig")),
        "reviewer"
    ));
    let mut changed = std::fs::read(out.join("r.pdf")).unwrap();
    let middle = changed.len() / 2;
    changed[middle] ^= 1;
    std::fs::write(out.join("r2.pdf"), changed).unwrap();
    assert!(
        !ssh_verify(&out.join("r2.pdf"), &out.join("r.pdf.sig"), "operator"),
        "a changed byte must not verify"
    );
    assert!(!ssh_verify(
        &out.join("r2.pdf"),
        &out.join(format!("r.pdf.{reviewer}.sig")),
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
            out.join("r.json").to_str().unwrap(),
        ],
    );

    // The PDF: structurally sound, every item's title extractable.
    run("qpdf", &["--check", out.join("r.pdf").to_str().unwrap()]);
    let pdf_text = run(
        "pdftotext",
        &["-layout", out.join("r.pdf").to_str().unwrap(), "-"],
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
    // Each evidence's output whole, as in the other formats: the logs' last line too.
    let logs = items.iter().find(|i| i["id"] == "logs-clean").unwrap();
    let output = logs["evidence"][0]["output"].as_str().unwrap();
    let last = output.lines().rev().find(|l| l.trim().len() > 8).unwrap();
    let last = last.split_whitespace().collect::<Vec<_>>().join(" ");
    assert!(output.lines().count() > 90, "{output}");
    assert!(pdf_text.contains(&last), "pdftotext does not find {last:?}");

    // The Markdown renders its tables (GitHub's extension) and escapes nothing away.
    let html = run(
        "cmark-gfm",
        &["-e", "table", out.join("r.md").to_str().unwrap()],
    );
    assert!(html.matches("<table>").count() >= 4, "tables render");
    assert!(html.contains("Code deployed via SSH"));

    // No value of .env.aws anywhere: reports, signatures, the journal, logs, settings.
    let secrets = lab_secret_values();
    assert!(secrets.len() >= 4);
    for file in files_below(dir).into_iter().chain(files_below(out)) {
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
    // And no report is made, let alone signed, from the journal as it is now.
    let refused = shipshape(
        &lab,
        dir,
        &[
            "report",
            id,
            "--out",
            out.join("after.md").to_str().unwrap(),
            "--sign",
            "local-lab",
        ],
    );
    assert_eq!(refused.status.code(), Some(1), "{}", text(&refused.stderr));
    assert!(!out.join("after.md").exists() && !out.join("after.md.sig").exists());
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
    let mut thaw_later = Restore::default();
    thaw_later.command("kill", &["-CONT", &dockerd]);
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

/// The engine's probes are asked of its socket over the connection; a host whose sshd
/// refuses socket forwarding (the lab's hostile login, polite here) is read by `curl`
/// and `docker logs` instead, to the same verdicts.
#[test]
fn the_engine_is_read_over_the_connection_and_by_commands_where_sshd_forbids_it() {
    let _lab_lock = exclusive();
    let lab = Lab::from_env();
    let home = tempfile::tempdir().unwrap();
    std::fs::write(lab.field("hostile_mode"), "").unwrap();
    let (code, direct) = verify(&lab, home.path());
    assert_eq!(code, 0);
    let name = "no forwarding";
    let port = lab.field("hostile_port");
    add_trusted_lab_target(&shipshape_binary(), &lab, home.path(), name, &port, &[]);
    let reports = tempfile::tempdir().unwrap();
    let report = reports.path().join("commands.json");
    let out = shipshape(
        &lab,
        home.path(),
        &["verify", name, "--report", report.to_str().unwrap()],
    );
    assert_eq!(out.status.code(), Some(0), "{}", text(&out.stderr));
    let by_commands: Value =
        serde_json::from_str(&std::fs::read_to_string(&report).unwrap()).unwrap();

    let commands = |report: &Value, id: &str| -> Vec<String> {
        item(report, id)["evidence"]
            .as_array()
            .unwrap()
            .iter()
            .map(|e| e["command"].as_str().unwrap().to_string())
            .collect()
    };
    for id in [
        "images-pulled",
        "logs-clean",
        "compose-only",
        "services-running",
    ] {
        assert_eq!(
            item(&direct, id)["status"],
            item(&by_commands, id)["status"],
            "{id}"
        );
        let asked = commands(&direct, id);
        assert!(
            asked.iter().any(|c| c.starts_with("GET /containers/json")
                && c.ends_with("(the Docker engine's API at /var/run/docker.sock on the host, asked over the SSH connection: no process started)")),
            "{id} did not ask the engine's socket: {asked:#?}"
        );
        let ran = commands(&by_commands, id);
        assert!(
            ran.iter().all(|c| !c.starts_with("GET "))
                && ran.iter().any(|c| c.contains("curl -sS --unix-socket")),
            "{id} was not read by commands: {ran:#?}"
        );
    }
    assert_eq!(direct["images"], by_commands["images"]);
    // The logs read from the engine's frames are the lines `docker logs` prints.
    let logs = |report: &Value| -> String {
        item(report, "logs-clean")["evidence"]
            .as_array()
            .unwrap()
            .iter()
            .map(|e| e["output"].as_str().unwrap())
            .collect()
    };
    for text in [logs(&direct), logs(&by_commands)] {
        assert!(
            text.contains("== backend-aws\n")
                && text.contains("== frontend-aws\n")
                && text.contains("response:200"),
            "{text}"
        );
        assert!(
            !text.contains('\u{1}') && !text.contains('\u{0}'),
            "{text:?}"
        );
    }
}
