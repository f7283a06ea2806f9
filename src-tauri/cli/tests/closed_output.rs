//! Output the CLI cannot write: a reader that closed early (`| head`) ends it quietly,
//! and a full disk is a storage failure (exit 1); neither is a panic's exit 101.

use std::process::{Command, Stdio};

fn shipshape(home: &std::path::Path) -> Command {
    let mut command = Command::new(env!("CARGO_BIN_EXE_shipshape"));
    command
        .env("SHIPSHAPE_HOME", home)
        .env_remove("SHIPSHAPE_LAB")
        .stdin(Stdio::null());
    command
}

#[test]
fn a_reader_that_closes_early_or_a_full_disk_is_no_crash() {
    let home = tempfile::tempdir().unwrap();
    let added = shipshape(home.path())
        .args(["target", "add", "fake", "--host", "192.0.2.1"])
        .output()
        .unwrap();
    assert!(added.status.success(), "{added:?}");

    // The reader is gone before the first byte.
    let mut early = shipshape(home.path())
        .args(["completions", "bash"])
        .stdout(Stdio::piped())
        .stderr(Stdio::piped())
        .spawn()
        .unwrap();
    drop(early.stdout.take());
    let ended = early.wait_with_output().unwrap();
    let said = String::from_utf8_lossy(&ended.stderr);
    assert!(!said.contains("panicked"), "{said}");
    assert_ne!(ended.status.code(), Some(101), "{said}");

    for args in [&["completions", "bash"][..], &["target", "list"][..]] {
        let full = std::fs::OpenOptions::new()
            .write(true)
            .open("/dev/full")
            .unwrap();
        let out = shipshape(home.path())
            .args(args)
            .stdout(full)
            .output()
            .unwrap();
        let said = String::from_utf8_lossy(&out.stderr);
        assert_eq!(out.status.code(), Some(1), "{args:?}: {said}");
        assert!(!said.contains("panicked"), "{args:?}: {said}");
    }
}
