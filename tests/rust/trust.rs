//! Host trust against the lab's real sshd, through the `shipshape` CLI: nothing trusted
//! silently, trust by fingerprint or from a hashed known_hosts file, a swapped host key
//! refused before authentication, and targets imported from ~/.ssh/config.

use std::path::Path;

use serde_json::Value;
use shipshape_tests::*;

const WRONG: &str = "SHA256:AAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAA";

fn ssh_keygen(args: &[&str]) -> String {
    run("ssh-keygen", args)
}

fn add_rebuilt_target(lab: &Lab, home: &Path, name: &str) {
    let port = lab.field("rebuilt_port");
    add_lab_target(&shipshape_binary(), lab, home, name, &port, &[]);
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
    // --hop names a jump host; this target has none, so it pins nothing (it once
    // pinned the target itself).
    let no_such_hop = shipshape(
        &lab,
        home.path(),
        &[
            "target",
            "trust",
            "fresh-host",
            "--fingerprint",
            &right,
            "--hop",
            "1",
        ],
    );
    assert_eq!(
        no_such_hop.status.code(),
        Some(2),
        "{}",
        text(&no_such_hop.stdout)
    );
    assert!(
        text(&no_such_hop.stderr).contains("it has 0"),
        "{}",
        text(&no_such_hop.stderr)
    );
    assert_eq!(pinned(&lab, home.path(), "fresh-host"), Value::Null);
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
    std::fs::write(
        &known_hosts,
        lab.known_hosts_line(&lab.field("rebuilt_port"), "rebuilt_host_ed25519_key.pub"),
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
    std::fs::write(
        &known_hosts,
        lab.known_hosts_line(&lab.field("rebuilt_port"), "ssh_host_ed25519_key.pub"),
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
        format!("Host lab-via-config\n  HostName 127.0.0.1\n  Port {port}\n  User ubuntu\n  IdentityFile ~/.ssh/lab_key\n\
                 Host lab-behind-proxy\n  HostName 127.0.0.1\n  Port {port}\n  ProxyCommand nc bastion.example.invalid %p\n"),
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

    // A host ssh reaches through a proxy command is refused, not imported as a direct
    // one: Shipshape never runs the command.
    let refused = with_home(&["target", "import-ssh-config", "lab-behind-proxy"]);
    assert_eq!(refused.status.code(), Some(2), "{}", text(&refused.stderr));
    assert!(
        text(&refused.stderr).contains("ProxyCommand nc bastion.example.invalid %p"),
        "{}",
        text(&refused.stderr)
    );
    let targets = ok(&with_home(&["target", "list"]));
    assert!(!targets.contains("lab-behind-proxy"), "{targets}");

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

/// The lab's host holds ed25519, ECDSA and RSA keys, as an EC2 host does. An operator who
/// has only the RSA fingerprint (an older console output, say) pins that key: the pin
/// records its type, and every connection asks the host for it. Before pins had types,
/// the host showed its ed25519 key and the RSA fingerprint was refused as a mismatch.
#[test]
fn a_host_is_pinned_by_its_rsa_or_ecdsa_key_and_connects_with_it() {
    let _lab_lock = exclusive();
    let lab = Lab::from_env();
    let home = tempfile::tempdir().unwrap();
    let port = lab.field("port");
    add_lab_target(
        &shipshape_binary(),
        &lab,
        home.path(),
        "many-keys",
        &port,
        &[],
    );
    let pin_line = || {
        let pins = std::fs::read_to_string(home.path().join("known_hosts")).unwrap();
        let line = pins
            .lines()
            .find(|l| l.starts_with(&format!("[127.0.0.1]:{port} ")));
        line.unwrap_or_default().to_string()
    };

    let rsa = lab.field("rsa_host_key_fingerprint");
    let trusted = ok(&shipshape(
        &lab,
        home.path(),
        &["target", "trust", "many-keys", "--fingerprint", &rsa],
    ));
    assert!(trusted.contains("ssh-rsa"), "{trusted}");
    assert_eq!(pin_line(), format!("[127.0.0.1]:{port} {rsa} ssh-rsa"));
    ok(&shipshape(&lab, home.path(), &["ps", "many-keys"]));
    // Looking again compares the pin with the host's key of the pinned type.
    let looked = shipshape(&lab, home.path(), &["target", "trust", "many-keys"]);
    let said = text(&looked.stderr);
    assert!(
        said.contains(&format!("currently pinned: {rsa} (same)")),
        "{said}"
    );

    // From a known_hosts file that lists only the host's ECDSA key.
    let dir = tempfile::tempdir().unwrap();
    let known_hosts = dir.path().join("known_hosts");
    std::fs::write(
        &known_hosts,
        lab.known_hosts_line(&port, "ssh_host_ecdsa_key.pub"),
    )
    .unwrap();
    ok(&shipshape(
        &lab,
        home.path(),
        &[
            "target",
            "trust",
            "many-keys",
            "--known-hosts",
            known_hosts.to_str().unwrap(),
        ],
    ));
    let ecdsa = lab.field("ecdsa_host_key_fingerprint");
    assert_eq!(
        pin_line(),
        format!("[127.0.0.1]:{port} {ecdsa} ecdsa-sha2-nistp256")
    );
    ok(&shipshape(&lab, home.path(), &["ps", "many-keys"]));

    // A fingerprint the host does not hold is refused, naming every key it does hold.
    let refused = shipshape(
        &lab,
        home.path(),
        &["target", "trust", "many-keys", "--fingerprint", WRONG],
    );
    assert_eq!(refused.status.code(), Some(3));
    let said = text(&refused.stderr);
    assert!(said.contains(&rsa) && said.contains(&ecdsa), "{said}");
    assert_eq!(
        pin_line(),
        format!("[127.0.0.1]:{port} {ecdsa} ecdsa-sha2-nistp256")
    );
}
