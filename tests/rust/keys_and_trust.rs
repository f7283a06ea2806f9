//! Key custody and host trust against the lab's real sshd and a real Secret Service,
//! through the `shipshape` CLI: keys made by ssh-keygen (passphrase too), generated keys,
//! trust by fingerprint and from hashed known_hosts, and a swapped host key.

use std::path::Path;
use std::process::{Command, Output, Stdio};

use serde_json::Value;
use shipshape_tests::*;

const WRONG: &str = "SHA256:AAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAA";

fn ok(output: &Output) -> String {
    assert!(
        output.status.success(),
        "exit {:?}\nstdout: {}\nstderr: {}",
        output.status.code(),
        text(&output.stdout),
        text(&output.stderr)
    );
    text(&output.stdout)
}

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
        &["key", "import", "ed", ed.to_str().unwrap()],
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
            "ed",
            ed.to_str().unwrap(),
            "--passphrase-stdin",
        ],
        "wrong\n",
    );
    assert_eq!(wrong.status.code(), Some(2));
    assert!(
        text(&wrong.stderr).contains("passphrase for the key ed is wrong"),
        "{}",
        text(&wrong.stderr)
    );

    ok(&shipshape_stdin(
        &lab,
        home.path(),
        &[
            "key",
            "import",
            "ed",
            ed.to_str().unwrap(),
            "--passphrase-stdin",
        ],
        "correct horse lab\n",
    ));
    ok(&shipshape(
        &lab,
        home.path(),
        &["key", "import", "rsa", rsa.to_str().unwrap()],
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
        find("ed")["fingerprint"],
        fingerprint_of(&ed.with_extension("pub"))
    );
    assert_eq!(find("ed")["algorithm"], "ssh-ed25519");
    assert_eq!(
        find("rsa")["fingerprint"],
        fingerprint_of(&rsa.with_extension("pub"))
    );
    assert_eq!(find("rsa")["algorithm"], "ssh-rsa");

    let port = lab.field("port");
    for key in ["ed", "rsa"] {
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
}

#[test]
fn a_generated_key_connects_once_its_public_line_is_in_authorized_keys() {
    let _lab_lock = exclusive();
    let lab = Lab::from_env();
    let home = tempfile::tempdir().unwrap();
    let public_line = ok(&shipshape(
        &lab,
        home.path(),
        &["key", "generate", "fresh", "--comment", "made-by-test"],
    ));
    assert!(public_line.starts_with("ssh-ed25519 "), "{public_line}");
    assert_eq!(
        ok(&shipshape(&lab, home.path(), &["key", "public", "fresh"])),
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
            "fresh",
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

    // A key in use cannot be removed; once the target is gone it can.
    assert_eq!(
        shipshape(&lab, home.path(), &["key", "remove", "fresh"])
            .status
            .code(),
        Some(2)
    );
    ok(&shipshape(&lab, home.path(), &["target", "remove", "gen"]));
    ok(&shipshape(&lab, home.path(), &["key", "remove", "fresh"]));
    assert_eq!(
        shipshape(&lab, home.path(), &["key", "public", "fresh"])
            .status
            .code(),
        Some(2)
    );
}

fn add_rebuilt_target(lab: &Lab, home: &Path, name: &str) {
    let port = lab.field("rebuilt_port");
    ok(&shipshape(
        lab,
        home,
        &[
            "target",
            "add",
            name,
            "--host",
            "127.0.0.1",
            "--port",
            &port,
            "--key",
            "local-lab",
        ],
    ));
}

fn pinned(lab: &Lab, home: &Path, name: &str) -> Value {
    let targets: Value =
        serde_json::from_str(&ok(&shipshape(lab, home, &["target", "list", "--json"]))).unwrap();
    targets
        .as_array()
        .unwrap()
        .iter()
        .find(|t| t["target"]["name"] == name)
        .unwrap()["host_key"]
        .clone()
}

#[test]
fn an_unpinned_host_fails_until_trust_pins_the_right_fingerprint() {
    let _lab_lock = exclusive();
    let lab = Lab::from_env();
    let home = tempfile::tempdir().unwrap();
    add_rebuilt_target(&lab, home.path(), "fresh-host");

    let unpinned = shipshape(&lab, home.path(), &["ps", "fresh-host"]);
    assert_eq!(unpinned.status.code(), Some(3));
    assert!(
        text(&unpinned.stderr).contains("not trusted yet"),
        "{}",
        text(&unpinned.stderr)
    );

    // Without a fingerprint and without a terminal, nothing is trusted.
    let asked = shipshape(&lab, home.path(), &["target", "trust", "fresh-host"]);
    assert_eq!(asked.status.code(), Some(3));
    assert!(text(&asked.stderr).contains(&lab.field("rebuilt_host_key_fingerprint")));
    assert_eq!(pinned(&lab, home.path(), "fresh-host"), Value::Null);

    // A wrong fingerprint pins nothing.
    let wrong = shipshape(
        &lab,
        home.path(),
        &["target", "trust", "fresh-host", "--fingerprint", WRONG],
    );
    assert_eq!(wrong.status.code(), Some(3));
    assert_eq!(pinned(&lab, home.path(), "fresh-host"), Value::Null);
    let malformed = shipshape(
        &lab,
        home.path(),
        &[
            "target",
            "trust",
            "fresh-host",
            "--fingerprint",
            "SHA256:nope",
        ],
    );
    assert_eq!(malformed.status.code(), Some(2));

    let right = lab.field("rebuilt_host_key_fingerprint");
    ok(&shipshape(
        &lab,
        home.path(),
        &["target", "trust", "fresh-host", "--fingerprint", &right],
    ));
    assert_eq!(pinned(&lab, home.path(), "fresh-host"), right);
    ok(&shipshape(&lab, home.path(), &["ps", "fresh-host"]));
}

#[test]
fn trust_is_imported_from_a_hashed_known_hosts_file() {
    let _lab_lock = exclusive();
    let lab = Lab::from_env();
    let home = tempfile::tempdir().unwrap();
    add_rebuilt_target(&lab, home.path(), "from-known-hosts");
    let dir = tempfile::tempdir().unwrap();
    let known_hosts = dir.path().join("known_hosts");
    let host_key = std::fs::read_to_string(
        Path::new(&lab.field("sshd_log"))
            .parent()
            .unwrap()
            .join("ssh/rebuilt_host_ed25519_key.pub"),
    )
    .unwrap();
    let key_fields: Vec<&str> = host_key.split_whitespace().take(2).collect();
    std::fs::write(
        &known_hosts,
        format!(
            "[127.0.0.1]:{} {}\n",
            lab.field("rebuilt_port"),
            key_fields.join(" ")
        ),
    )
    .unwrap();
    ssh_keygen(&["-q", "-H", "-f", known_hosts.to_str().unwrap()]);
    let hashed = std::fs::read_to_string(&known_hosts).unwrap();
    assert!(
        hashed.starts_with("|1|"),
        "ssh-keygen -H did not hash: {hashed}"
    );

    ok(&shipshape(
        &lab,
        home.path(),
        &[
            "target",
            "trust",
            "from-known-hosts",
            "--known-hosts",
            known_hosts.to_str().unwrap(),
        ],
    ));
    assert_eq!(
        pinned(&lab, home.path(), "from-known-hosts"),
        lab.field("rebuilt_host_key_fingerprint")
    );

    // A known_hosts file that vouches for another key pins nothing.
    let other_home = tempfile::tempdir().unwrap();
    add_rebuilt_target(&lab, other_home.path(), "vouched-wrongly");
    let lab_key = std::fs::read_to_string(
        Path::new(&lab.field("sshd_log"))
            .parent()
            .unwrap()
            .join("ssh/ssh_host_ed25519_key.pub"),
    )
    .unwrap();
    let fields: Vec<&str> = lab_key.split_whitespace().take(2).collect();
    std::fs::write(
        &known_hosts,
        format!(
            "[127.0.0.1]:{} {}\n",
            lab.field("rebuilt_port"),
            fields.join(" ")
        ),
    )
    .unwrap();
    let refused = shipshape(
        &lab,
        other_home.path(),
        &[
            "target",
            "trust",
            "vouched-wrongly",
            "--known-hosts",
            known_hosts.to_str().unwrap(),
        ],
    );
    assert_eq!(refused.status.code(), Some(3));
    assert_eq!(
        pinned(&lab, other_home.path(), "vouched-wrongly"),
        Value::Null
    );
}

#[test]
fn a_swapped_host_key_is_refused_before_authentication() {
    let _lab_lock = exclusive();
    let lab = Lab::from_env();
    let home = tempfile::tempdir().unwrap();
    add_rebuilt_target(&lab, home.path(), "swapped");
    // Pretend the host was pinned before its key changed: pin the original lab key here.
    let pins = home.path().join("known_hosts");
    let mut existing = std::fs::read_to_string(&pins).unwrap_or_default();
    existing.push_str(&format!(
        "[127.0.0.1]:{} {}\n",
        lab.field("rebuilt_port"),
        lab.field("host_key_fingerprint")
    ));
    std::fs::write(&pins, existing).unwrap();

    let log = Path::new(&lab.field("rebuilt_sshd_log")).to_path_buf();
    let before = std::fs::metadata(&log).unwrap().len() as usize;
    let output = shipshape(&lab, home.path(), &["ps", "swapped"]);
    assert_eq!(output.status.code(), Some(3));
    let stderr = text(&output.stderr);
    assert!(
        stderr.contains("does not match")
            && stderr.contains(&lab.field("rebuilt_host_key_fingerprint")),
        "{stderr}"
    );
    std::thread::sleep(std::time::Duration::from_millis(300));
    let logged = String::from_utf8_lossy(&std::fs::read(&log).unwrap()[before..]).into_owned();
    assert!(logged.contains("Connection from 127.0.0.1"), "{logged}");
    assert!(
        !logged.contains("userauth-request"),
        "sshd saw an authentication attempt:\n{logged}"
    );
}

#[test]
fn a_target_imported_from_ssh_config_resolves_like_ssh_and_connects() {
    let _lab_lock = exclusive();
    let lab = Lab::from_env();
    let data = tempfile::tempdir().unwrap();
    let home = tempfile::tempdir().unwrap();
    let ssh_dir = home.path().join(".ssh");
    std::fs::create_dir_all(ssh_dir.join("conf.d")).unwrap();
    std::fs::copy(lab.field("client_key"), ssh_dir.join("lab_key")).unwrap();
    std::fs::write(
        ssh_dir.join("config"),
        "Include conf.d/*.conf\nHost *\n  User nobody-by-default\n  Port 22\n",
    )
    .unwrap();
    let port = lab.field("rebuilt_port");
    std::fs::write(
        ssh_dir.join("conf.d/lab.conf"),
        format!("Host lab-via-config\n  HostName 127.0.0.1\n  Port {port}\n  User ubuntu\n  IdentityFile ~/.ssh/lab_key\n"),
    )
    .unwrap();
    let with_home = |args: &[&str]| {
        shipshape_with(&lab, data.path(), args, |c| {
            c.env("HOME", home.path());
        })
    };

    let listed: Value =
        serde_json::from_str(&ok(&with_home(&["target", "ssh-config", "--json"]))).unwrap();
    let host = &listed.as_array().unwrap()[0];
    assert_eq!(host["alias"], "lab-via-config");
    assert_eq!(host["user"], "ubuntu"); // first value wins: the Include comes before Host *
    assert_eq!(host["port"].to_string(), port);

    ok(&with_home(&[
        "target",
        "import-ssh-config",
        "lab-via-config",
    ]));
    let keys: Value = serde_json::from_str(&ok(&with_home(&["key", "list", "--json"]))).unwrap();
    assert!(
        keys.as_array()
            .unwrap()
            .iter()
            .any(|k| k["name"] == "lab-via-config"),
        "{keys}"
    );
    ok(&with_home(&[
        "target",
        "trust",
        "lab-via-config",
        "--fingerprint",
        &lab.field("rebuilt_host_key_fingerprint"),
    ]));
    ok(&with_home(&["ps", "lab-via-config"]));
}
