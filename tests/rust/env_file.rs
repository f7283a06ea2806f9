//! The env file editor against the lab: keys listed by name only; a value set from
//! standard input lands in `.env.aws` with its mode and owner kept and the old file
//! backed up; no value reaches the journal, the diagnostic log or the command line; and
//! a save whose connection is killed mid-write leaves the old file as it was.

use std::io::Write;
use std::path::Path;
use std::process::{Command, Stdio};
use std::time::{Duration, Instant};

use shipshape_core::env_file::{write_command, write_input};
use shipshape_tests::verification::{as_lab_user, Restore, TARGET};
use shipshape_tests::*;

const VALUE: &str = "fake-value-for-the-env-test-91c2";

fn set(lab: &Lab, home: &Path, key: &str, value: &str) -> std::process::Output {
    let mut child = Command::new(shipshape_binary())
        .args(["env", "set", TARGET, key])
        .env("SHIPSHAPE_HOME", home)
        .env("SHIPSHAPE_LAB", &lab.descriptor)
        .stdin(Stdio::piped())
        .stdout(Stdio::piped())
        .stderr(Stdio::piped())
        .spawn()
        .unwrap();
    writeln!(child.stdin.take().unwrap(), "{value}").unwrap();
    child.wait_with_output().unwrap()
}

#[test]
fn a_key_is_set_and_removed_by_name_and_its_value_is_kept_nowhere_else() {
    let _lab_lock = exclusive();
    let lab = Lab::from_env();
    let home = tempfile::tempdir().unwrap();
    let env_file = lab.project_dir().join(".env.aws");
    let before = sha256_of(&env_file);
    let mut restore = Restore::default();
    restore.as_lab_user(&lab, &["rm", "-rf", "/home/ubuntu/.shipshape/env-backups"]);
    restore.file(&env_file);

    let keys = ok(&shipshape(&lab, home.path(), &["env", "keys", TARGET]));
    assert!(keys.lines().any(|l| l == "DATABASE_URL"), "{keys}");
    let original = std::fs::read_to_string(&env_file).unwrap();
    for (_, value) in shipshape_core::dotenv::assignments(&original) {
        assert!(
            value.len() < 3 || !keys.contains(&value),
            "a value is listed: {keys}"
        );
    }

    let output = set(&lab, home.path(), "SHIPSHAPE_TEST_TOKEN", VALUE);
    let said = format!("{}{}", text(&output.stdout), text(&output.stderr));
    assert_eq!(output.status.code(), Some(0), "{said}");
    assert!(
        said.contains("added SHIPSHAPE_TEST_TOKEN") && !said.contains(VALUE),
        "{said}"
    );
    let now = std::fs::read_to_string(&env_file).unwrap();
    assert!(
        now.ends_with(&format!("SHIPSHAPE_TEST_TOKEN={VALUE}\n")),
        "{now}"
    );
    assert!(now.starts_with(&original), "the other lines changed");
    let mode = run("stat", &["-c", "%a %U", env_file.to_str().unwrap()]);
    assert_eq!(mode.trim(), "600 ubuntu");
    let backups = as_lab_user(&lab, &["ls", "/home/ubuntu/.shipshape/env-backups"]);
    assert_eq!(backups.lines().count(), 1, "{backups}");

    ok(&shipshape(
        &lab,
        home.path(),
        &["env", "unset", TARGET, "SHIPSHAPE_TEST_TOKEN"],
    ));
    assert_eq!(sha256_of(&env_file), before);
    let unset_again = shipshape(
        &lab,
        home.path(),
        &["env", "unset", TARGET, "SHIPSHAPE_TEST_TOKEN"],
    );
    assert_eq!(unset_again.status.code(), Some(2));

    // A value typed after the key, and a pipe that brought nothing: refused (exit 2),
    // nothing written, and the value typed never repeated.
    let typed = shipshape(
        &lab,
        home.path(),
        &["env", "set", TARGET, "SHIPSHAPE_TEST_TOKEN", VALUE],
    );
    let said = format!("{}{}", text(&typed.stdout), text(&typed.stderr));
    assert_eq!(typed.status.code(), Some(2), "{said}");
    assert!(!said.contains(VALUE), "{said}");
    let nothing = shipshape(
        &lab,
        home.path(),
        &["env", "set", TARGET, "SHIPSHAPE_TEST_TOKEN"],
    );
    let said = text(&nothing.stderr);
    assert_eq!(nothing.status.code(), Some(2), "{said}");
    assert!(said.contains("No value arrived"), "{said}");
    assert_eq!(sha256_of(&env_file), before);

    // Nothing Shipshape keeps holds the value: the journal, the diagnostic log, history.
    for file in files_below(home.path()) {
        let bytes = std::fs::read(&file).unwrap();
        let found = bytes.windows(VALUE.len()).any(|w| w == VALUE.as_bytes());
        assert!(!found, "{} holds the value", file.display());
    }
    let history = ok(&shipshape(&lab, home.path(), &["history", "--json"]));
    assert!(
        history.contains("Set SHIPSHAPE_TEST_TOKEN in .env.aws"),
        "{history}"
    );
    ok(&shipshape(&lab, home.path(), &["history", "verify"]));
}

#[test]
fn a_save_cut_off_mid_write_leaves_the_old_file() {
    let _lab_lock = exclusive();
    let lab = Lab::from_env();
    let env_file = lab.project_dir().join(".env.aws");
    let old = std::fs::read(&env_file).unwrap();
    let before = sha256_of(&env_file);
    let mut restore = Restore::default();
    restore.as_lab_user(&lab, &["rm", "-rf", "/home/ubuntu/.shipshape/env-backups"]);
    restore.file(&env_file);

    // The exact command a save sends, over OpenSSH: half the new text arrives, then the
    // client is killed, which cuts the connection with the write half done.
    let mut new = old.clone();
    new.extend(format!("SHIPSHAPE_TEST_TOKEN={VALUE}\n").bytes());
    let old_sha = shipshape_core::checklist::sha256_hex(&old);
    let command = write_command(".env.aws", &lab.field("project_dir"));
    let input = write_input(&new, Some(&old_sha));
    let input = input.expose().as_bytes();
    assert!(
        !command.render().contains(&old_sha),
        "no hash of the file in `ps`"
    );
    let known_hosts = tempfile::NamedTempFile::new().unwrap();
    std::fs::write(
        known_hosts.path(),
        lab.known_hosts_line(&lab.field("port"), "ssh_host_ed25519_key.pub"),
    )
    .unwrap();
    let mut ssh = Command::new("ssh")
        .args([
            "-o",
            "BatchMode=yes",
            "-o",
            "StrictHostKeyChecking=yes",
            "-o",
            "IdentitiesOnly=yes",
        ])
        .arg("-o")
        .arg(format!(
            "UserKnownHostsFile={}",
            known_hosts.path().display()
        ))
        .args([
            "-i",
            &lab.field("client_key"),
            "-p",
            &lab.field("port"),
            "ubuntu@127.0.0.1",
        ])
        .arg(command.render())
        .stdin(Stdio::piped())
        .stdout(Stdio::null())
        .stderr(Stdio::null())
        .spawn()
        .unwrap();
    let mut stdin = ssh.stdin.take().unwrap();
    // The header line and half the text.
    let header = input.len() - new.len();
    let half = new.len() / 2;
    stdin.write_all(&input[..header + half]).unwrap();
    stdin.flush().unwrap();
    // Each write has a temporary file of its own beside the env file.
    let project = lab.project_dir();
    let partial = || {
        std::fs::read_dir(&project)
            .unwrap()
            .flatten()
            .map(|entry| entry.path())
            .find(|path| {
                path.file_name()
                    .is_some_and(|n| n.to_string_lossy().starts_with(".env.aws.shipshape-"))
            })
    };
    let written = || {
        partial()
            .and_then(|p| std::fs::metadata(p).ok())
            .map_or(0, |m| m.len())
    };
    let deadline = Instant::now() + Duration::from_secs(10);
    while written() < half as u64 {
        assert!(
            Instant::now() < deadline,
            "the half-written file never appeared on the host"
        );
        std::thread::sleep(Duration::from_millis(20));
    }
    ssh.kill().unwrap();
    ssh.wait().unwrap();
    drop(stdin);

    let deadline = Instant::now() + Duration::from_secs(10);
    while partial().is_some() {
        assert!(
            Instant::now() < deadline,
            "the half-written file was left on the host"
        );
        std::thread::sleep(Duration::from_millis(50));
    }
    assert_eq!(sha256_of(&env_file), before, "the old file changed");
    let listed = as_lab_user(
        &lab,
        &[
            "sh",
            "-c",
            "ls /home/ubuntu/.shipshape/env-backups 2>/dev/null || true",
        ],
    );
    // The test began with no backups (its Restore clears them): a cut-off save made none.
    assert!(
        listed.trim().is_empty(),
        "a cut-off save made a backup: {listed}"
    );
    let left = Command::new("pgrep")
        .args(["-u", "ubuntu", "-f", "shipshape-env-write"])
        .output()
        .unwrap();
    assert!(
        left.stdout.is_empty(),
        "the write script still runs: {}",
        text(&left.stdout)
    );
}

#[test]
fn two_saves_at_once_never_mix_and_each_says_what_happened() {
    let _lab_lock = exclusive();
    let lab = Lab::from_env();
    let env_file = lab.project_dir().join(".env.aws");
    let mut restore = Restore::default();
    restore.as_lab_user(&lab, &["rm", "-rf", "/home/ubuntu/.shipshape/env-backups"]);
    restore.file(&env_file);
    let before = std::fs::read_to_string(&env_file).unwrap();

    // Two operators (two homes, two processes) save different keys at the same moment,
    // the second value ending in a backslash (a Windows path).
    let homes = [tempfile::tempdir().unwrap(), tempfile::tempdir().unwrap()];
    let saves = [
        ("SHIPSHAPE_TEST_ONE", "fake-one".to_string()),
        ("SHIPSHAPE_TEST_TWO", r"C:\fake\path\".to_string()),
    ];
    let outputs: Vec<std::process::Output> = std::thread::scope(|scope| {
        let running: Vec<_> = saves
            .iter()
            .zip(&homes)
            .map(|((key, value), home)| {
                let lab = &lab;
                scope.spawn(move || set(lab, home.path(), key, value))
            })
            .collect();
        running.into_iter().map(|r| r.join().unwrap()).collect()
    });

    let now = std::fs::read_to_string(&env_file).unwrap();
    let read: std::collections::BTreeMap<String, String> =
        shipshape_core::dotenv::assignments(&now)
            .into_iter()
            .collect();
    // Every key the file had is still there, as it was.
    for (key, value) in shipshape_core::dotenv::assignments(&before) {
        assert_eq!(read.get(&key), Some(&value), "{key} changed:\n{now}");
    }
    for ((key, value), output) in saves.iter().zip(&outputs) {
        let said = text(&output.stderr);
        match output.status.code() {
            // Saved: it reads back exactly as given.
            Some(0) => assert_eq!(read.get(*key), Some(value), "{said}\n{now}"),
            // Refused: it says why and wrote nothing.
            Some(2) | Some(4) => {
                assert!(said.contains("nothing was written"), "{said}");
                assert!(!read.contains_key(*key), "{now}");
            }
            other => panic!("{key}: exit {other:?}: {said}"),
        }
    }
    assert!(
        outputs.iter().any(|o| o.status.success()),
        "neither save went through"
    );
    eprintln!(
        "two saves at once: exits {:?}",
        outputs.iter().map(|o| o.status.code()).collect::<Vec<_>>()
    );
    // Compose reads the file.
    let config = as_lab_user(
        &lab,
        &[
            "sh",
            "-c",
            "cd /home/ubuntu/automated-trading-platform && docker compose --env-file .env.aws --profile aws config -q && echo read",
        ],
    );
    assert!(config.contains("read"), "{config}");
}
