//! Key custody against the lab's real sshd and a real Secret Service, through the
//! `shipshape` CLI: keys made by ssh-keygen (passphrase-protected ed25519, RSA) and
//! generated keys, each proven by logging in.

use std::path::Path;
use std::process::{Command, Output, Stdio};

use serde_json::Value;
use shipshape_tests::*;

fn ssh_keygen(args: &[&str]) -> String {
    run("ssh-keygen", args)
}

fn fingerprint_of(public_key_file: &Path) -> String {
    ssh_keygen(&[
        "-l",
        "-E",
        "sha256",
        "-f",
        public_key_file.to_str().unwrap(),
    ])
    .split_whitespace()
    .nth(1)
    .unwrap()
    .to_string()
}

/// Runs `shipshape` with `stdin` piped in.
fn shipshape_stdin(lab: &Lab, home: &Path, args: &[&str], stdin: &str) -> Output {
    let mut child = Command::new(shipshape_binary())
        .args(args)
        .env("SHIPSHAPE_HOME", home)
        .env("SHIPSHAPE_LAB", &lab.descriptor)
        .stdin(Stdio::piped())
        .stdout(Stdio::piped())
        .stderr(Stdio::piped())
        .spawn()
        .unwrap();
    use std::io::Write;
    child
        .stdin
        .take()
        .unwrap()
        .write_all(stdin.as_bytes())
        .unwrap();
    child.wait_with_output().unwrap()
}

#[test]
fn passphrase_protected_ed25519_and_rsa_keys_from_ssh_keygen_import_and_connect() {
    let _lab_lock = exclusive();
    let lab = Lab::from_env();
    let home = tempfile::tempdir().unwrap();
    let keys = tempfile::tempdir().unwrap();
    // Names of this run's own: the keyring may outlive a run (a developer's), and an
    // import never replaces a key it holds.
    let run = std::time::SystemTime::now()
        .duration_since(std::time::UNIX_EPOCH)
        .unwrap()
        .as_nanos();
    let (ed_owned, rsa_owned) = (format!("ed-{run}"), format!("rsa-{run}"));
    let (ed_key, rsa_key) = (ed_owned.as_str(), rsa_owned.as_str());
    let with_rsa_owned = format!("with-{rsa_key}");
    let with_rsa = with_rsa_owned.as_str();
    let ed = keys.path().join("id_ed25519");
    let rsa = keys.path().join("id_rsa");
    ssh_keygen(&[
        "-q",
        "-t",
        "ed25519",
        "-N",
        "correct horse lab",
        "-C",
        "ed-test",
        "-f",
        ed.to_str().unwrap(),
    ]);
    ssh_keygen(&[
        "-q",
        "-t",
        "rsa",
        "-b",
        "3072",
        "-N",
        "",
        "-C",
        "rsa-test",
        "-f",
        rsa.to_str().unwrap(),
    ]);
    let _installed = AuthorizedKeys::install(
        &lab,
        &[&ed.with_extension("pub"), &rsa.with_extension("pub")],
    );

    let without = shipshape(
        &lab,
        home.path(),
        &["key", "import", ed_key, ed.to_str().unwrap()],
    );
    assert_eq!(without.status.code(), Some(2));
    assert!(
        text(&without.stderr).contains("protected by a passphrase"),
        "{}",
        text(&without.stderr)
    );
    let wrong = shipshape_stdin(
        &lab,
        home.path(),
        &[
            "key",
            "import",
            ed_key,
            ed.to_str().unwrap(),
            "--passphrase-stdin",
        ],
        "wrong\n",
    );
    assert_eq!(wrong.status.code(), Some(2));
    assert!(
        text(&wrong.stderr).contains(&format!("passphrase for the key {ed_key} is wrong")),
        "{}",
        text(&wrong.stderr)
    );

    ok(&shipshape_stdin(
        &lab,
        home.path(),
        &[
            "key",
            "import",
            ed_key,
            ed.to_str().unwrap(),
            "--passphrase-stdin",
        ],
        "correct horse lab\n",
    ));
    ok(&shipshape(
        &lab,
        home.path(),
        &["key", "import", rsa_key, rsa.to_str().unwrap()],
    ));

    let listed: Value = serde_json::from_str(&ok(&shipshape(
        &lab,
        home.path(),
        &["key", "list", "--json"],
    )))
    .unwrap();
    let find = |name: &str| {
        listed
            .as_array()
            .unwrap()
            .iter()
            .find(|k| k["name"] == name)
            .unwrap()
            .clone()
    };
    assert_eq!(
        find(ed_key)["fingerprint"],
        fingerprint_of(&ed.with_extension("pub"))
    );
    assert_eq!(find(ed_key)["algorithm"], "ssh-ed25519");
    assert_eq!(
        find(rsa_key)["fingerprint"],
        fingerprint_of(&rsa.with_extension("pub"))
    );
    assert_eq!(find(rsa_key)["algorithm"], "ssh-rsa");

    let port = lab.field("port");
    for key in [ed_key, rsa_key] {
        let name = format!("with-{key}");
        ok(&shipshape(
            &lab,
            home.path(),
            &[
                "target",
                "add",
                &name,
                "--host",
                "127.0.0.1",
                "--port",
                &port,
                "--key",
                key,
            ],
        ));
        let report: Value =
            serde_json::from_str(&ok(&shipshape(&lab, home.path(), &["ps", &name, "--json"])))
                .unwrap();
        assert_eq!(report["services"].as_array().unwrap().len(), 4, "{key}");
    }

    // The rsa key's name given the ed key's file (another key), and given its own.
    let import_ed_as_rsa = |home: &Path| {
        shipshape_stdin(
            &lab,
            home,
            &[
                "key",
                "import",
                rsa_key,
                ed.to_str().unwrap(),
                "--passphrase-stdin",
            ],
            "correct horse lab\n",
        )
    };
    let import_rsa = |home: &Path| {
        shipshape(
            &lab,
            home,
            &["key", "import", rsa_key, rsa.to_str().unwrap()],
        )
    };
    let services_with_rsa = || {
        let report: Value = serde_json::from_str(&ok(&shipshape(
            &lab,
            home.path(),
            &["ps", with_rsa, "--json"],
        )))
        .unwrap();
        report["services"].as_array().unwrap().len()
    };

    // The keyring loses a key the settings still name (a new keyring, another
    // machine): the same key's file restores it; another key's file does not.
    let settings = home.path().join("settings.json");
    let kept = std::fs::read(&settings).unwrap();
    ok(&shipshape(
        &lab,
        home.path(),
        &["target", "remove", with_rsa],
    ));
    ok(&shipshape(&lab, home.path(), &["key", "remove", rsa_key]));
    std::fs::write(&settings, kept).unwrap();
    let lost = shipshape(&lab, home.path(), &["ps", with_rsa]);
    assert_eq!(lost.status.code(), Some(2), "{}", text(&lost.stderr));
    let other = import_ed_as_rsa(home.path());
    assert_eq!(other.status.code(), Some(2));
    assert!(
        text(&other.stderr).contains("another key"),
        "{}",
        text(&other.stderr)
    );
    ok(&import_rsa(home.path()));
    assert_eq!(services_with_rsa(), 4);
    // Present in the keyring, it is not overwritten.
    let again = import_rsa(home.path());
    assert_eq!(again.status.code(), Some(2));
    assert!(text(&again.stderr).contains("already exists"));
    // Nor from another home on the same keyring, whose settings do not name it: only
    // the same key's file is recorded there.
    let other_home = tempfile::tempdir().unwrap();
    let other = import_ed_as_rsa(other_home.path());
    assert_eq!(other.status.code(), Some(2));
    assert!(
        text(&other.stderr).contains("already in the keyring"),
        "{}",
        text(&other.stderr)
    );
    ok(&import_rsa(other_home.path()));
    assert_eq!(services_with_rsa(), 4, "the first home still logs in");
}

#[test]
fn a_generated_key_connects_once_its_public_line_is_in_authorized_keys() {
    let _lab_lock = exclusive();
    let lab = Lab::from_env();
    let home = tempfile::tempdir().unwrap();
    // Its own name: a run that failed midway may have left its key in the keyring.
    let fresh = format!("fresh-{}", std::process::id());
    let fresh = fresh.as_str();
    let public_line = ok(&shipshape(
        &lab,
        home.path(),
        &["key", "generate", fresh, "--comment", "made-by-test"],
    ));
    assert!(public_line.starts_with("ssh-ed25519 "), "{public_line}");
    assert_eq!(
        ok(&shipshape(&lab, home.path(), &["key", "public", fresh])),
        public_line
    );
    let port = lab.field("port");
    ok(&shipshape(
        &lab,
        home.path(),
        &[
            "target",
            "add",
            "gen",
            "--host",
            "127.0.0.1",
            "--port",
            &port,
            "--key",
            fresh,
        ],
    ));

    let refused = shipshape(&lab, home.path(), &["ps", "gen"]);
    assert_eq!(refused.status.code(), Some(3));
    let stderr = text(&refused.stderr);
    assert!(
        stderr.contains("refused the key") && stderr.contains(public_line.trim()),
        "{stderr}"
    );

    let dir = tempfile::tempdir().unwrap();
    let file = dir.path().join("fresh.pub");
    std::fs::write(&file, &public_line).unwrap();
    let _installed = AuthorizedKeys::install(&lab, &[&file]);
    ok(&shipshape(&lab, home.path(), &["ps", "gen"]));

    // Another home on the same keyring cannot generate over it.
    let other_home = tempfile::tempdir().unwrap();
    let over = shipshape(&lab, other_home.path(), &["key", "generate", fresh]);
    assert_eq!(over.status.code(), Some(2));
    assert!(
        text(&over.stderr).contains("already in the keyring"),
        "{}",
        text(&over.stderr)
    );
    ok(&shipshape(&lab, home.path(), &["ps", "gen"]));

    // A key in use cannot be removed; once the target is gone it can.
    assert_eq!(
        shipshape(&lab, home.path(), &["key", "remove", fresh])
            .status
            .code(),
        Some(2)
    );
    ok(&shipshape(&lab, home.path(), &["target", "remove", "gen"]));
    ok(&shipshape(&lab, home.path(), &["key", "remove", fresh]));
    assert_eq!(
        shipshape(&lab, home.path(), &["key", "public", fresh])
            .status
            .code(),
        Some(2)
    );

    // Settings that cannot be read: no key is made (one would stay in the keyring, its
    // name taken, with nothing to list or remove it), so once repaired the name is free.
    let damaged = tempfile::tempdir().unwrap();
    let settings = damaged.path().join("settings.json");
    // JSON whose keys list is not one: the CLI starts, and only that part is damaged.
    std::fs::write(&settings, "{\"keys\": 5}").unwrap();
    let refused = shipshape(&lab, damaged.path(), &["key", "generate", fresh]);
    assert_ne!(refused.status.code(), Some(0));
    assert!(
        text(&refused.stderr).contains("damaged"),
        "{}",
        text(&refused.stderr)
    );
    std::fs::remove_file(&settings).unwrap();
    ok(&shipshape(
        &lab,
        damaged.path(),
        &["key", "generate", fresh],
    ));
    ok(&shipshape(&lab, damaged.path(), &["key", "remove", fresh]));
}
