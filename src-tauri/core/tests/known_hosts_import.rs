//! Hashed known_hosts entries can only be checked against what OpenSSH itself writes, so
//! this builds a known_hosts file from real keys, lets `ssh-keygen -H` hash it, and
//! compares what `keys_for` finds with the fingerprints and line numbers `ssh-keygen`
//! reports.

#![cfg(unix)]

use std::path::{Path, PathBuf};
use std::process::Command;

use shipshape_core::known_hosts_import::{keys_for, revoked_keys_for, KnownKey};

fn ssh_keygen(args: &[&str]) -> Option<String> {
    let output = Command::new("ssh-keygen").args(args).output().ok()?;
    assert!(
        output.status.success(),
        "ssh-keygen {args:?} failed: {}",
        String::from_utf8_lossy(&output.stderr)
    );
    Some(String::from_utf8_lossy(&output.stdout).into_owned())
}

/// A fresh key pair; returns the public key line and its SHA256 fingerprint as
/// `ssh-keygen -l` prints it.
fn generate_key(dir: &Path, name: &str, key_type: &str) -> Option<(String, String)> {
    let path = dir.join(name);
    let path = path.to_str().unwrap();
    ssh_keygen(&["-q", "-t", key_type, "-N", "", "-C", "", "-f", path])?;
    let public = std::fs::read_to_string(format!("{path}.pub")).unwrap();
    let listing = ssh_keygen(&["-l", "-E", "sha256", "-f", &format!("{path}.pub")])?;
    let fingerprint = listing.split_whitespace().nth(1).unwrap().to_string();
    assert!(fingerprint.starts_with("SHA256:"), "{listing}");
    Some((public.trim().to_string(), fingerprint))
}

/// The line numbers `ssh-keygen -F` reports for a host name (`host` or `[host]:port`).
fn lines_ssh_keygen_finds(known_hosts: &Path, name: &str) -> Vec<usize> {
    let output = Command::new("ssh-keygen")
        .args(["-F", name, "-f"])
        .arg(known_hosts)
        .output()
        .unwrap();
    String::from_utf8_lossy(&output.stdout)
        .lines()
        .filter_map(|line| line.rsplit_once("found: line "))
        .map(|(_, number)| number.trim().parse().unwrap())
        .collect()
}

fn found(known_hosts: &Path, host: &str, port: u16) -> Vec<(String, usize)> {
    keys_for(known_hosts, host, port)
        .unwrap()
        .into_iter()
        .map(
            |KnownKey {
                 fingerprint, line, ..
             }| (fingerprint, line),
        )
        .collect()
}

#[test]
fn hashed_entries_written_by_ssh_keygen_are_found() {
    let dir = tempfile::tempdir().unwrap();
    let Some((web_key, web_fp)) = generate_key(dir.path(), "web", "ed25519") else {
        panic!("ssh-keygen is needed to write hashed entries (Debian: openssh-client)");
    };
    let (alt_port_key, alt_port_fp) = generate_key(dir.path(), "alt", "ed25519").unwrap();
    let (loopback_key, loopback_fp) = generate_key(dir.path(), "loopback", "ed25519").unwrap();
    let (second_web_key, second_web_fp) = generate_key(dir.path(), "web2", "ecdsa").unwrap();
    let (other_key, _) = generate_key(dir.path(), "other", "ed25519").unwrap();

    let known_hosts: PathBuf = dir.path().join("known_hosts");
    let plain = format!(
        "# comment\n\
         web.example.test {web_key}\n\
         [127.0.0.1]:2222 {alt_port_key}\n\
         127.0.0.1 {loopback_key}\n\
         other.example.test {other_key}\n\
         web.example.test {second_web_key}\n"
    );
    std::fs::write(&known_hosts, plain).unwrap();
    ssh_keygen(&["-H", "-f", known_hosts.to_str().unwrap()]).unwrap();

    let hashed = std::fs::read_to_string(&known_hosts).unwrap();
    let entries: Vec<&str> = hashed
        .lines()
        .filter(|l| !l.is_empty() && !l.starts_with('#'))
        .collect();
    assert_eq!(entries.len(), 5, "{hashed}");
    assert!(
        entries.iter().all(|l| l.starts_with("|1|")),
        "not hashed:\n{hashed}"
    );
    assert!(!hashed.contains("example.test") && !hashed.contains("127.0.0.1"));

    let expectations = [
        (
            "web.example.test",
            22,
            vec![web_fp.clone(), second_web_fp.clone()],
        ),
        (
            "WEB.Example.Test",
            22,
            vec![web_fp.clone(), second_web_fp.clone()],
        ),
        ("127.0.0.1", 2222, vec![alt_port_fp.clone()]),
        ("127.0.0.1", 22, vec![loopback_fp.clone()]),
        ("web.example.test", 2222, vec![]),
        ("127.0.0.1", 2200, vec![]),
        ("db.example.test", 22, vec![]),
    ];
    for (host, port, fingerprints) in expectations {
        let keys = found(&known_hosts, host, port);
        let found_fingerprints: Vec<String> = keys.iter().map(|(fp, _)| fp.clone()).collect();
        assert_eq!(found_fingerprints, fingerprints, "{host}:{port}");

        let name = if port == 22 {
            host.to_ascii_lowercase()
        } else {
            format!("[{}]:{port}", host.to_ascii_lowercase())
        };
        let lines: Vec<usize> = keys.iter().map(|(_, line)| *line).collect();
        assert_eq!(lines, lines_ssh_keygen_finds(&known_hosts, &name), "{name}");
    }

    let ecdsa = keys_for(&known_hosts, "web.example.test", 22).unwrap();
    assert_eq!(ecdsa[0].key_type, "ssh-ed25519");
    assert_eq!(ecdsa[1].key_type, "ecdsa-sha2-nistp256");
}

#[test]
fn revoked_keys_are_withheld_and_reported() {
    let dir = tempfile::tempdir().unwrap();
    let Some((good_key, good_fp)) = generate_key(dir.path(), "good", "ed25519") else {
        panic!("ssh-keygen is needed to write hashed entries (Debian: openssh-client)");
    };
    let (bad_key, bad_fp) = generate_key(dir.path(), "bad", "ed25519").unwrap();
    let known_hosts = dir.path().join("known_hosts");
    std::fs::write(
        &known_hosts,
        format!(
            "web.example.test {good_key}\n\
             web.example.test {bad_key}\n\
             @cert-authority *.example.test {good_key}\n"
        ),
    )
    .unwrap();
    ssh_keygen(&["-H", "-f", known_hosts.to_str().unwrap()]).unwrap();
    let mut contents = std::fs::read_to_string(&known_hosts).unwrap();
    contents.push_str(&format!("@revoked *.example.test {bad_key}\n"));
    std::fs::write(&known_hosts, contents).unwrap();

    assert_eq!(found(&known_hosts, "web.example.test", 22), [(good_fp, 1)]);
    let revoked = revoked_keys_for(&known_hosts, "web.example.test", 22).unwrap();
    assert_eq!(revoked.len(), 1);
    assert_eq!(revoked[0].fingerprint, bad_fp);
    assert!(revoked_keys_for(&known_hosts, "web.example.test", 2222)
        .unwrap()
        .is_empty());
}
