//! Faults of the network and the disk against the real lab: one connection's packets
//! dropped mid-command (the network goes silent, nothing is refused), and a full disk
//! while the host's `.env.aws` or the operator's report is written. Each must end as a
//! clear error with its exit code, with the journal saying what happened, no
//! half-written file on either side, and nothing left running on the host.

use std::path::{Path, PathBuf};
use std::process::{Command, Stdio};
use std::time::{Duration, Instant};

use serde_json::Value;
use shipshape_tests::*;

/// iptables rules that drop every packet of one loopback connection, removed on drop
/// (so a failing test never leaves the lab's sshd unreachable).
struct Dropped(Vec<Vec<String>>);

impl Dropped {
    fn connection(client_port: u16, server_port: u16) -> Dropped {
        let rules: Vec<Vec<String>> = [(client_port, server_port), (server_port, client_port)]
            .iter()
            .map(|(from, to)| {
                ["INPUT", "-i", "lo", "-p", "tcp", "--sport"]
                    .iter()
                    .map(|s| s.to_string())
                    .chain([from.to_string(), "--dport".into(), to.to_string()])
                    .chain(["-j".into(), "DROP".into()])
                    .collect()
            })
            .collect();
        for rule in &rules {
            let mut args = vec!["-I".to_string()];
            args.extend(rule.iter().cloned());
            run(
                "iptables",
                &args.iter().map(String::as_str).collect::<Vec<_>>(),
            );
        }
        Dropped(rules)
    }
}

impl Drop for Dropped {
    fn drop(&mut self) {
        for rule in &self.0 {
            let mut args = vec!["-D".to_string()];
            args.extend(rule.iter().cloned());
            let _ = Command::new("iptables").args(&args).status();
        }
    }
}

/// A small tmpfs, filled to the last byte, unmounted on drop.
struct FullDisk {
    dir: PathBuf,
}

impl FullDisk {
    /// Mounts it at `dir`, owned by `owner`, copies `files` in, then fills it.
    fn at(dir: &Path, owner: &str, files: &[&Path]) -> FullDisk {
        std::fs::create_dir_all(dir).unwrap();
        let uid = run("id", &["-u", owner]).trim().to_string();
        let gid = run("id", &["-g", owner]).trim().to_string();
        let options = format!("size=256k,mode=0755,uid={uid},gid={gid}");
        run(
            "mount",
            &[
                "-t",
                "tmpfs",
                "-o",
                &options,
                "tmpfs",
                dir.to_str().unwrap(),
            ],
        );
        let disk = FullDisk {
            dir: dir.to_path_buf(),
        };
        for file in files {
            let to = dir.join(file.file_name().unwrap());
            std::fs::copy(file, &to).unwrap();
            run("chown", &[&format!("{uid}:{gid}"), to.to_str().unwrap()]);
        }
        // dd stops with "No space left on device": the disk is full.
        let filler = format!("of={}", dir.join("filler").display());
        let _ = Command::new("dd")
            .args(["if=/dev/zero", &filler, "bs=4k"])
            .stderr(Stdio::null())
            .status();
        disk
    }

    /// The names of the files in it, sorted.
    fn files(&self) -> Vec<String> {
        let mut names: Vec<String> = std::fs::read_dir(&self.dir)
            .unwrap()
            .map(|e| e.unwrap().file_name().to_string_lossy().into_owned())
            .collect();
        names.sort();
        names
    }

    fn free(&self) {
        std::fs::remove_file(self.dir.join("filler")).unwrap();
    }
}

impl Drop for FullDisk {
    fn drop(&mut self) {
        let _ = Command::new("umount").arg(&self.dir).status();
        let _ = std::fs::remove_dir(&self.dir);
    }
}

/// The local port of `pid`'s TCP connection to `server_port` on loopback.
fn client_port(pid: u32, server_port: u16) -> Option<u16> {
    let listing = run("ss", &["-tnpH", "state", "established"]);
    listing
        .lines()
        .filter(|l| l.contains(&format!("pid={pid},")))
        .find_map(|l| {
            let mut words = l.split_whitespace();
            let local = words.nth(2)?;
            let peer = words.next()?;
            peer.ends_with(&format!(":{server_port}"))
                .then(|| local.rsplit(':').next()?.parse().ok())?
        })
}

fn history(lab: &Lab, home: &Path) -> Vec<Value> {
    serde_json::from_str::<Value>(&ok(&shipshape(lab, home, &["history", "--json"])))
        .unwrap()
        .as_array()
        .unwrap()
        .clone()
}

#[test]
fn a_connection_whose_packets_are_dropped_mid_migration_exits_3_and_is_recorded_as_interrupted() {
    let _lab_lock = exclusive();
    let lab = Lab::from_env();
    let home = tempfile::tempdir().unwrap();
    let port: u16 = lab.field("port").parse().unwrap();
    let mut migrate = spawn_cli(
        &lab,
        home.path(),
        &["migrate", "Local lab", "apply_migration_backfill_prices.py"],
    );
    assert!(
        wait_until(Duration::from_secs(20), || !host_processes(
            &lab,
            "shipshape-change.*apply_migration"
        )
        .is_empty()),
        "the migration started"
    );
    let local = client_port(migrate.id(), port).expect("the CLI's connection to sshd");
    let dropped = Dropped::connection(local, port);
    let started = Instant::now();
    let mut status = None;
    while started.elapsed() < Duration::from_secs(45) && status.is_none() {
        status = migrate.try_wait().unwrap().map(|s| s.code());
        std::thread::sleep(Duration::from_millis(100));
    }
    let took = started.elapsed();
    let mut stderr = String::new();
    if status.is_none() {
        let _ = migrate.kill();
    }
    let _ = migrate.wait();
    std::io::Read::read_to_string(migrate.stderr.as_mut().unwrap(), &mut stderr).unwrap();
    drop(dropped);
    println!("packets dropped: the CLI said so after {took:?}");
    assert_eq!(status, Some(Some(3)), "{stderr}");
    assert!(stderr.contains("was lost while"), "{stderr}");
    let last = history(&lab, home.path()).last().unwrap().clone();
    assert_eq!(last["outcome"], "interrupted", "{last:#}");
    // Packets flow again: the host's sshd learns the client is gone, and the supervisor
    // ends the migration's command.
    assert!(
        wait_until(Duration::from_secs(30), || host_processes(
            &lab,
            "shipshape-"
        )
        .is_empty()),
        "left on the host: {:?}",
        host_processes(&lab, "shipshape-")
    );
}

#[test]
fn a_full_disk_on_the_host_while_env_aws_is_written_changes_nothing_and_says_so() {
    let _lab_lock = exclusive();
    let lab = Lab::from_env();
    let home = tempfile::tempdir().unwrap();
    let user = lab.field("user");
    let project = PathBuf::from("/home")
        .join(&user)
        .join("shipshape-full-disk");
    let disk = FullDisk::at(&project, &user, &[&lab.project_dir().join(".env.aws")]);
    let before = sha256_of(&project.join(".env.aws"));
    let dir = ["--dir", project.to_str().unwrap()];
    add_trusted_lab_target(
        &shipshape_binary(),
        &lab,
        home.path(),
        "Full disk",
        &lab.field("port"),
        &dir,
    );
    // The value on standard input, from a file: one empty line (an empty value).
    let value = home.path().join("value");
    std::fs::write(&value, "\n").unwrap();
    let set = shipshape_with(
        &lab,
        home.path(),
        &["env", "set", "Full disk", "SHIPSHAPE_FULL_DISK_PROBE"],
        |command| {
            command.stdin(std::fs::File::open(&value).unwrap());
        },
    );
    let said = text(&set.stderr);
    println!(
        "full disk on the host: exit {:?}: {said}",
        set.status.code()
    );
    assert_eq!(set.status.code(), Some(1), "{said}");
    assert!(said.contains("No space left on device"), "{said}");
    assert_eq!(
        sha256_of(&project.join(".env.aws")),
        before,
        "the env file changed"
    );
    assert_eq!(
        disk.files(),
        [".env.aws", "filler"],
        "a half-written file is left"
    );
    // The journal says the write ran and failed.
    let last = history(&lab, home.path()).last().unwrap().clone();
    assert_eq!(last["outcome"], "exited", "{last:#}");
    assert!(
        last["exit_code"].as_i64().is_some_and(|code| code != 0),
        "{last:#}"
    );
}

#[test]
fn a_full_disk_here_while_a_report_is_written_leaves_no_file_and_loses_nothing() {
    let _lab_lock = exclusive();
    let lab = Lab::from_env();
    let home = tempfile::tempdir().unwrap();
    let place = tempfile::tempdir().unwrap();
    let disk = FullDisk::at(&place.path().join("full"), "root", &[]);
    let report = disk.dir.join("report.pdf");
    let verify = shipshape(
        &lab,
        home.path(),
        &["verify", "Local lab", "--report", report.to_str().unwrap()],
    );
    let said = text(&verify.stderr);
    println!(
        "full disk here: exit {:?}: {}",
        verify.status.code(),
        said.lines().last().unwrap_or_default()
    );
    assert_eq!(verify.status.code(), Some(1), "{said}");
    assert!(said.contains("No space left on device"), "{said}");
    assert_eq!(disk.files(), ["filler"], "a half-written report is left");
    // The verification itself was kept: once there is room, its report is written.
    let record = said
        .split("(record ")
        .nth(1)
        .and_then(|rest| rest.split(')').next())
        .expect("the verification's record")
        .to_string();
    disk.free();
    ok(&shipshape(
        &lab,
        home.path(),
        &["report", &record, "--out", report.to_str().unwrap()],
    ));
    assert!(run("pdftotext", &[report.to_str().unwrap(), "-"]).contains("Local lab"));
}

#[test]
fn a_report_that_cannot_be_written_there_is_refused_before_any_check_runs() {
    let _lab_lock = exclusive();
    let lab = Lab::from_env();
    let home = tempfile::tempdir().unwrap();
    ok(&shipshape(&lab, home.path(), &["target", "list"]));
    // A folder that exists but takes no new file (not even root's).
    let verify = shipshape(
        &lab,
        home.path(),
        &[
            "verify",
            "Local lab",
            "--report",
            "/proc/shipshape-report.json",
        ],
    );
    let said = text(&verify.stderr);
    assert_eq!(verify.status.code(), Some(2), "{said}");
    assert!(said.contains("cannot be written there"), "{said}");
    assert!(history(&lab, home.path()).is_empty(), "a check ran");
}
