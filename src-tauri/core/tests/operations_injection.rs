//! Hostile input against the two defences of every remote command: the validators, which
//! must let through only names the policy and host know, and the quoting, which must
//! deliver every word to the program exactly as given even when validation is skipped.
//! Words go through a real `/bin/sh -c`, as sshd runs them, into programs that echo their
//! arguments NUL-separated.

use std::os::unix::fs::PermissionsExt;
use std::path::{Path, PathBuf};
use std::process::Command;

use proptest::prelude::*;
use proptest::test_runner::{Config, TestRunner};
use shipshape_core::operations::{
    validate_migration, validate_service, validate_since, Compose, HostFacts, Operation,
};
use shipshape_core::policy::Policy;
use shipshape_core::shell::{quote, RemoteCommand};

const PRESENT: [&str; 2] = [
    "scripts/apply_migration_previous_price.py",
    "scripts/apply_migration_add_index.py",
];

fn runner(cases: u32) -> TestRunner {
    TestRunner::new(Config {
        cases,
        failure_persistence: None,
        ..Config::default()
    })
}

/// Strings built from what shells, option parsers and paths treat specially, mixed with
/// pieces of real names so that near misses are common.
fn hostile() -> impl Strategy<Value = String> {
    let fragments = prop::sample::select(vec![
        ";",
        "$(",
        ")",
        "`",
        "&&",
        "||",
        "|",
        "&",
        "-",
        "--",
        " ",
        "\n",
        "\t",
        "\r",
        "'",
        "\"",
        "\\",
        "*",
        "?",
        "[",
        "]",
        "~",
        "#",
        "$HOME",
        "${IFS}",
        "<",
        ">",
        "!",
        "{",
        "}",
        "=",
        "%s",
        "..",
        "/",
        ".",
        "\0",
        "é",
        "\u{202e}",
        "backend-aws",
        "db",
        "frontend-aws",
        "scripts/",
        "apply_migration_",
        "previous_price",
        ".py",
        "10m",
        "2024-06-01T",
        "x",
    ]);
    prop::collection::vec(fragments, 0..8).prop_map(|parts| parts.concat())
}

fn known_name() -> impl Strategy<Value = String> {
    let mut names: Vec<String> = Policy::builtin().services;
    names.extend(PRESENT.map(String::from));
    prop::sample::select(names)
}

/// Anything: hostile mixtures, arbitrary Unicode, printable ASCII, and exact names.
fn any_word() -> impl Strategy<Value = String> {
    prop_oneof![
        4 => hostile(),
        3 => any::<String>(),
        2 => "[ -~]{0,24}",
        1 => known_name(),
    ]
}

/// A word an `exec` can carry: anything but NUL, which no argv can hold.
fn shell_word() -> impl Strategy<Value = String> {
    any_word().prop_map(|word| word.replace('\0', ""))
}

#[test]
fn validators_admit_only_exact_known_names() {
    let policy = Policy::builtin();
    let on_host = policy.services.clone();
    let present: Vec<String> = PRESENT.map(String::from).to_vec();
    let host = HostFacts {
        compose: Compose::V2,
        services: on_host.clone(),
        migrations: present.clone(),
    };
    runner(2000)
        .run(&any_word(), |word| {
            let known_service = policy.services.contains(&word);
            prop_assert_eq!(
                validate_service(&word, &policy, &on_host).is_ok(),
                known_service
            );
            prop_assert_eq!(validate_service(&word, &policy, &[]).is_ok(), false);
            for operation in [
                Operation::logs(&word),
                Operation::Restart {
                    service: Some(word.clone()),
                },
                Operation::Stop {
                    service: Some(word.clone()),
                },
                Operation::UpService {
                    service: word.clone(),
                },
            ] {
                prop_assert_eq!(operation.validate(&policy, &host).is_ok(), known_service);
            }
            let known_script = present.contains(&word);
            prop_assert_eq!(
                validate_migration(&word, &policy, &present).is_ok(),
                known_script
            );
            let migrate = Operation::Migrate {
                script: word.clone(),
            };
            prop_assert_eq!(migrate.validate(&policy, &host).is_ok(), known_script);
            // A time docker accepts is always one plain word: nothing for sh to read.
            if validate_since(&word).is_ok() {
                prop_assert_eq!(quote(&word), word.clone());
                prop_assert!(!word.starts_with('-'));
            }
            Ok(())
        })
        .unwrap();
}

/// Runs `line` as sshd would, with `bin` first on the PATH, and splits what the echoing
/// program printed back into words.
fn run(line: &str, bin: &Path) -> Vec<String> {
    let path = format!(
        "{}:{}",
        bin.display(),
        std::env::var("PATH").unwrap_or_default()
    );
    let output = Command::new("/bin/sh")
        .arg("-c")
        .arg(line)
        .env("PATH", path)
        .output()
        .expect("/bin/sh runs");
    assert!(output.status.success(), "{line}: {output:?}");
    let text = String::from_utf8(output.stdout).expect("the words were UTF-8");
    let mut words: Vec<String> = text.split('\0').map(String::from).collect();
    assert_eq!(
        words.pop().as_deref(),
        Some(""),
        "output ends with NUL: {line}"
    );
    words
}

#[test]
fn quoted_words_reach_the_program_unchanged() {
    let bin = tempfile::tempdir().unwrap();
    let words = prop::collection::vec(shell_word(), 0..6);
    runner(192)
        .run(&words, |words| {
            let line = RemoteCommand::new("printf")
                .arg("%s\\0")
                .args(words.clone())
                .arg("end")
                .render();
            let mut expected = words.clone();
            expected.push("end".into());
            prop_assert_eq!(run(&line, bin.path()), expected, "{}", line);
            Ok(())
        })
        .unwrap();
}

#[test]
fn any_project_directory_is_entered_literally() {
    let root = tempfile::tempdir().unwrap();
    let root = root.path().canonicalize().unwrap();
    let name = shell_word().prop_filter("a single path component", |name| {
        !name.is_empty() && name != "." && name != ".." && !name.contains('/') && name.len() < 200
    });
    runner(96)
        .run(&name, |name| {
            let dir = root.join(&name);
            std::fs::create_dir_all(&dir).unwrap();
            let line = RemoteCommand::new("pwd")
                .arg("-P")
                .in_dir(dir.to_str().unwrap())
                .render();
            let output = Command::new("/bin/sh")
                .arg("-c")
                .arg(&line)
                .output()
                .unwrap();
            let printed = String::from_utf8(output.stdout).unwrap();
            prop_assert_eq!(printed, format!("{}\n", dir.display()), "{}", line);
            Ok(())
        })
        .unwrap();
}

/// Stand-ins for the host's programs that print the words they were given.
fn echoing_programs() -> tempfile::TempDir {
    let bin = tempfile::tempdir().unwrap();
    for program in ["docker", "docker-compose", "git", "curl", "ls"] {
        let path: PathBuf = bin.path().join(program);
        std::fs::write(
            &path,
            format!("#!/bin/sh\nprintf '%s\\0' {program} \"$@\"\n"),
        )
        .unwrap();
        std::fs::set_permissions(&path, std::fs::Permissions::from_mode(0o755)).unwrap();
    }
    bin
}

#[test]
fn unvalidated_operations_still_inject_nothing() {
    let bin = echoing_programs();
    let project = tempfile::tempdir().unwrap();
    let dir = project.path().to_str().unwrap().to_string();
    let policy = Policy::builtin();
    let cases = (shell_word(), shell_word(), any::<bool>());
    runner(128)
        .run(&cases, |(service, since, v1)| {
            let compose = if v1 { Compose::V1 } else { Compose::V2 };
            let mut prefix: Vec<String> = compose
                .program_words()
                .iter()
                .map(|w| w.to_string())
                .collect();
            prefix.extend(["--profile".into(), "aws".into()]);
            let with = |rest: &[&str]| -> Vec<String> {
                prefix
                    .iter()
                    .cloned()
                    .chain(rest.iter().map(|w| w.to_string()))
                    .collect()
            };
            let tail = if v1 { "--tail" } else { "-n" };
            let cases = [
                (
                    Operation::Logs {
                        service: service.clone(),
                        lines: 7,
                        follow: true,
                        since: Some(since.clone()),
                        timestamps: false,
                    },
                    with(&["logs", tail, "7", "--since", &since, "-f", &service]),
                ),
                (
                    Operation::Restart {
                        service: Some(service.clone()),
                    },
                    with(&["restart", &service]),
                ),
                (
                    Operation::UpService {
                        service: service.clone(),
                    },
                    with(&["up", "-d", &service]),
                ),
                (
                    Operation::Migrate {
                        script: service.clone(),
                    },
                    with(&["exec", "-T", "backend-aws", "python", &service]),
                ),
            ];
            for (operation, expected) in cases {
                let line = operation.command(&policy, &dir, compose).render();
                prop_assert_eq!(run(&line, bin.path()), expected, "{}", line);
            }
            Ok(())
        })
        .unwrap();
}
