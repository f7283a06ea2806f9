//! Jump hosts against real sshds: the lab's host is also reachable only through two
//! bastions in a network namespace (`lab.sh`, `ensure_bastions`). Shipshape reaches it
//! over one connection to the first bastion, through direct-tcpip channels, with no
//! local `ssh`; every host of the way is pinned on its own and checked before Shipshape
//! authenticates to it.

use std::path::Path;

use serde_json::Value;
use shipshape_tests::*;

const WRONG: &str = "SHA256:AAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAA";

/// The way to the hidden target: (lab field of its port, its sshd log, its fingerprint).
const WAY: [(&str, &str, &str); 3] = [
    (
        "bastion_port",
        "bastion_sshd_log",
        "bastion_host_key_fingerprint",
    ),
    (
        "inner_bastion_port",
        "inner_bastion_sshd_log",
        "inner_bastion_host_key_fingerprint",
    ),
    ("behind_port", "behind_sshd_log", "host_key_fingerprint"),
];

fn jumps(lab: &Lab) -> String {
    format!(
        "ubuntu@{}:{},127.0.0.1:{}",
        lab.field("bastion_host"),
        lab.field("bastion_port"),
        lab.field("inner_bastion_port")
    )
}

/// A known_hosts file as OpenSSH writes it (a port-22 host without brackets) vouching
/// for the bastions and the hidden target.
fn known_hosts(lab: &Lab, dir: &Path) -> std::path::PathBuf {
    let key = |file: &str| {
        let text = std::fs::read_to_string(lab.dir().join("ssh").join(file)).unwrap();
        text.split_whitespace()
            .take(2)
            .collect::<Vec<_>>()
            .join(" ")
    };
    let bastion = match lab.field("bastion_port").as_str() {
        "22" => lab.field("bastion_host"),
        port => format!("[{}]:{port}", lab.field("bastion_host")),
    };
    let lines = format!(
        "{bastion} {}\n[127.0.0.1]:{} {}\n[127.0.0.1]:{} {}\n",
        key("bastion_host_ed25519_key.pub"),
        lab.field("inner_bastion_port"),
        key("inner_bastion_host_ed25519_key.pub"),
        lab.field("behind_port"),
        key("ssh_host_ed25519_key.pub"),
    );
    let file = dir.join("known_hosts_vouching");
    std::fs::write(&file, lines).unwrap();
    file
}

fn add_hidden_target(lab: &Lab, home: &Path, name: &str) {
    let port = lab.field("behind_port");
    let jump = jumps(lab);
    let extra = ["--jump", jump.as_str(), "--env", "staging"];
    add_lab_target(&shipshape_binary(), lab, home, name, &port, &extra);
}

fn log_len(lab: &Lab, field: &str) -> usize {
    std::fs::metadata(lab.field(field)).map_or(0, |m| m.len() as usize)
}

fn logged_since(lab: &Lab, field: &str, from: usize) -> String {
    let bytes = std::fs::read(lab.field(field)).unwrap_or_default();
    text(&bytes[from.min(bytes.len())..])
}

#[test]
fn a_target_behind_two_bastions_is_reached_through_them_and_not_directly() {
    let _lab_lock = exclusive();
    let lab = Lab::from_env();
    let home = tempfile::tempdir().unwrap();
    add_hidden_target(&lab, home.path(), "hidden");

    let listed = ok(&shipshape(&lab, home.path(), &["target", "list"]));
    let via = format!(
        "via ubuntu@{}:{}, ubuntu@127.0.0.1:{}",
        lab.field("bastion_host"),
        lab.field("bastion_port"),
        lab.field("inner_bastion_port")
    );
    assert!(
        listed.contains(&via) && listed.contains("staging"),
        "{listed}"
    );

    // Nothing pinned yet: the first host of the way is the one named.
    let unpinned = shipshape(&lab, home.path(), &["ps", "hidden"]);
    assert_eq!(unpinned.status.code(), Some(3));
    let said = text(&unpinned.stderr);
    assert!(said.contains(&lab.field("bastion_host")), "{said}");

    let vouching = known_hosts(&lab, home.path());
    let pinned = ok(&shipshape(
        &lab,
        home.path(),
        &[
            "target",
            "trust",
            "hidden",
            "--known-hosts",
            vouching.to_str().unwrap(),
        ],
    ));
    for (_, _, fingerprint) in WAY {
        assert!(pinned.contains(&lab.field(fingerprint)), "{pinned}");
    }

    let logs_before: Vec<usize> = WAY.iter().map(|(_, l, _)| log_len(&lab, l)).collect();
    let ps = ok(&shipshape(&lab, home.path(), &["ps", "hidden"]));
    for service in ["backend-aws", "frontend-aws", "db"] {
        assert!(ps.contains(service), "{ps}");
    }
    // Each host of the way saw the lab user authenticate with the lab's key.
    for ((_, log, _), from) in WAY.iter().zip(logs_before) {
        let logged = logged_since(&lab, log, from);
        assert!(
            logged.contains("Accepted publickey for ubuntu"),
            "{log}: {logged}"
        );
    }

    // The same host and port without the jump hosts: nothing answers there.
    let direct_home = tempfile::tempdir().unwrap();
    let port = lab.field("behind_port");
    add_lab_target(
        &shipshape_binary(),
        &lab,
        direct_home.path(),
        "direct",
        &port,
        &[],
    );
    let direct = shipshape(&lab, direct_home.path(), &["target", "trust", "direct"]);
    let said = text(&direct.stderr);
    assert!(!direct.status.success(), "{said}");
    assert!(said.contains(&format!("127.0.0.1:{port}")), "{said}");
}

#[test]
fn a_changed_host_key_on_any_hop_is_refused_before_authenticating_there() {
    let _lab_lock = exclusive();
    let lab = Lab::from_env();
    let home = tempfile::tempdir().unwrap();
    add_hidden_target(&lab, home.path(), "hidden");
    let vouching = known_hosts(&lab, home.path());
    let args = [
        "target",
        "trust",
        "hidden",
        "--known-hosts",
        vouching.to_str().unwrap(),
    ];
    ok(&shipshape(&lab, home.path(), &args));
    let pins_file = home.path().join("known_hosts");
    let pins = std::fs::read_to_string(&pins_file).unwrap();

    for (index, (_, log, fingerprint)) in WAY.iter().enumerate() {
        let right = lab.field(fingerprint);
        assert!(pins.contains(&right), "{pins}");
        std::fs::write(&pins_file, pins.replace(&right, WRONG)).unwrap();
        let before = log_len(&lab, log);
        let refused = shipshape(&lab, home.path(), &["ps", "hidden"]);
        let said = text(&refused.stderr);
        assert_eq!(refused.status.code(), Some(3), "hop {index}: {said}");
        assert!(
            said.contains("does not match") && said.contains(&right),
            "hop {index}: {said}"
        );
        let logged = logged_since(&lab, log, before);
        assert!(
            !logged.contains("userauth-request"),
            "hop {index}: its sshd saw an authentication attempt:\n{logged}"
        );
    }
    // The first bastion's key changed and the target is not pinned yet: trust shows
    // the bastion (it cannot be passed through until then), and refuses it as changed.
    let target_pin = lab.field(WAY[2].2);
    let bastion_pin = lab.field(WAY[0].2);
    let without_target: String = pins
        .lines()
        .filter(|line| !line.contains(&target_pin))
        .map(|line| format!("{line}\n"))
        .collect();
    std::fs::write(&pins_file, without_target.replace(&bastion_pin, WRONG)).unwrap();
    let looked = shipshape(&lab, home.path(), &["target", "trust", "hidden"]);
    let said = text(&looked.stderr);
    assert_eq!(looked.status.code(), Some(3), "{said}");
    assert!(said.contains("hidden's jump host"), "{said}");
    assert!(
        said.contains(&format!("currently pinned: {WRONG} (DIFFERENT)")),
        "{said}"
    );
    assert!(said.contains("does not match"), "{said}");

    std::fs::write(&pins_file, &pins).unwrap();
    ok(&shipshape(&lab, home.path(), &["ps", "hidden"]));
}

#[test]
fn a_proxy_jump_host_imported_from_ssh_config_connects_through_its_bastion() {
    let _lab_lock = exclusive();
    let lab = Lab::from_env();
    let data = tempfile::tempdir().unwrap();
    let home = tempfile::tempdir().unwrap();
    let ssh_dir = home.path().join(".ssh");
    std::fs::create_dir_all(&ssh_dir).unwrap();
    std::fs::copy(lab.field("client_key"), ssh_dir.join("lab_key")).unwrap();
    std::fs::write(
        ssh_dir.join("config"),
        format!(
            "Host dmz-bastion\n  HostName {}\n  Port {}\n\
             Host hidden-lab\n  HostName 127.0.0.1\n  Port {}\n  ProxyJump dmz-bastion\n\
             Host *\n  User ubuntu\n  IdentityFile ~/.ssh/lab_key\n",
            lab.field("bastion_host"),
            lab.field("bastion_port"),
            lab.field("behind_port"),
        ),
    )
    .unwrap();
    let with_home = |args: &[&str]| {
        shipshape_with(&lab, data.path(), args, |c| {
            c.env("HOME", home.path());
        })
    };

    ok(&with_home(&["target", "import-ssh-config", "hidden-lab"]));
    let targets: Value =
        serde_json::from_str(&ok(&with_home(&["target", "list", "--json"]))).unwrap();
    let target = targets
        .as_array()
        .unwrap()
        .iter()
        .map(|t| &t["target"])
        .find(|t| t["name"] == "hidden-lab")
        .unwrap_or_else(|| panic!("hidden-lab not listed: {targets}"));
    assert_eq!(target["jump"][0]["host"], lab.field("bastion_host"));
    assert_eq!(target["jump"][0]["user"], "ubuntu");

    let vouching = known_hosts(&lab, data.path());
    ok(&with_home(&[
        "target",
        "trust",
        "hidden-lab",
        "--known-hosts",
        vouching.to_str().unwrap(),
    ]));
    let ps = ok(&with_home(&["ps", "hidden-lab"]));
    assert!(ps.contains("backend-aws"), "{ps}");
}
