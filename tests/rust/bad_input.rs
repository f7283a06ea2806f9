//! The bad-input sweep: every `shipshape` command, read from its own `--help` (so a new
//! command is swept the day it lands), given arguments that are missing, empty, over-long,
//! full of control bytes, or of the wrong type. An argument vector cannot hold a NUL, so
//! the NUL cases go where one can arrive: a file the command reads, and standard input.
//! Each run must end with exit 2 and a short sentence on stderr that a terminal cannot act
//! on, and leave the data dir, the keyring and the host exactly as they were.

use std::collections::BTreeMap;
use std::path::{Path, PathBuf};

use shipshape_tests::*;

/// One argument of a command, as its usage line and option list show it.
#[derive(Clone, Debug)]
struct Slot {
    /// The value's name (`NAME`, `HOST`, `LINES`).
    value: String,
    /// `--host` for an option, none for a positional argument.
    option: Option<String>,
    required: bool,
}

/// A command without subcommands, and the arguments it takes a value for.
#[derive(Debug)]
struct Leaf {
    path: Vec<String>,
    slots: Vec<Slot>,
}

#[derive(Clone, Copy, Debug, PartialEq)]
enum Bad {
    Empty,
    OverLong,
    ControlBytes,
    WrongType,
}

/// Every leaf command below `path`, with its slots.
fn leaves(cli: &Path, path: &[String]) -> Vec<Leaf> {
    let mut args: Vec<&str> = path.iter().map(String::as_str).collect();
    args.push("--help");
    let help = text(
        &std::process::Command::new(cli)
            .args(&args)
            .output()
            .unwrap()
            .stdout,
    );
    let subcommands: Vec<String> = help
        .lines()
        .skip_while(|l| *l != "Commands:")
        .skip(1)
        .take_while(|l| !l.is_empty())
        .filter_map(|l| l.split_whitespace().next())
        .filter(|name| *name != "help")
        .map(str::to_string)
        .collect();
    if subcommands.is_empty() {
        return vec![Leaf {
            path: path.to_vec(),
            slots: slots(&help),
        }];
    }
    subcommands
        .iter()
        .flat_map(|sub| {
            let mut deeper = path.to_vec();
            deeper.push(sub.clone());
            leaves(cli, &deeper)
        })
        .collect()
}

/// The slots of one command's help: required ones from its usage line, optional ones
/// that take a value from its option list (flags take none, so they are not swept).
fn slots(help: &str) -> Vec<Slot> {
    let usage = help
        .lines()
        .find_map(|l| l.strip_prefix("Usage: "))
        .expect("a usage line");
    let words: Vec<&str> = usage.split_whitespace().collect();
    let mut slots = Vec::new();
    let mut i = 0;
    while i < words.len() {
        let word = words[i];
        if word.starts_with("--") && i + 1 < words.len() && words[i + 1].starts_with('<') {
            slots.push(Slot {
                value: words[i + 1].trim_matches(|c| "<>".contains(c)).to_string(),
                option: Some(word.to_string()),
                required: true,
            });
            i += 2;
            continue;
        }
        let bare = word.trim_end_matches("...");
        if let Some(name) = bare.strip_prefix('<').and_then(|w| w.strip_suffix('>')) {
            slots.push(positional(name, true));
        } else if let Some(name) = bare.strip_prefix("[<").and_then(|w| w.strip_suffix(">]")) {
            slots.push(positional(name, false));
        } else if bare.starts_with('[') && bare != "[OPTIONS]" {
            slots.push(positional(bare.trim_matches(|c| "[]".contains(c)), false));
        }
        i += 1;
    }
    for line in help.lines().skip_while(|l| *l != "Options:") {
        let Some(option) = line.split_whitespace().find(|w| w.starts_with("--")) else {
            continue;
        };
        let option = option.trim_end_matches(',');
        let Some(value) = line
            .split_whitespace()
            .skip_while(|w| *w != option)
            .nth(1)
            .filter(|w| w.starts_with('<'))
        else {
            continue;
        };
        if slots.iter().any(|s| s.option.as_deref() == Some(option)) {
            continue;
        }
        slots.push(Slot {
            value: value.trim_matches(|c| "<>".contains(c)).to_string(),
            option: Some(option.to_string()),
            required: false,
        });
    }
    slots
}

fn positional(name: &str, required: bool) -> Slot {
    Slot {
        value: name.to_string(),
        option: None,
        required,
    }
}

/// The files the sweep hands to commands that read one.
struct Fixtures {
    dir: tempfile::TempDir,
}

impl Fixtures {
    fn new() -> Fixtures {
        let dir = tempfile::tempdir().unwrap();
        std::fs::write(dir.path().join("nul"), b"\0host\0\0key\0").unwrap();
        std::fs::create_dir(dir.path().join("a-directory")).unwrap();
        Fixtures { dir }
    }

    fn path(&self, name: &str) -> String {
        self.dir.path().join(name).to_string_lossy().into_owned()
    }
}

/// Whether a slot names a file the command reads.
fn reads_a_file(value: &str) -> bool {
    matches!(value, "FILE" | "CONFIG" | "KNOWN_HOSTS" | "POLICY")
}

/// The bad value of `bad` for `slot`, if it has one.
fn bad_value(slot: &Slot, bad: Bad, fixtures: &Fixtures) -> Option<String> {
    let value = slot.value.as_str();
    match bad {
        Bad::Empty => Some(String::new()),
        // An argument may be up to 128 KiB; this is a typo's worst case, not a limit test.
        Bad::OverLong => Some("x".repeat(100_000)),
        Bad::ControlBytes if reads_a_file(value) => Some(fixtures.path("nul")),
        Bad::ControlBytes => Some("bad\u{1}\u{7f}\u{1b}[2Jname".to_string()),
        Bad::WrongType => match value {
            "PORT" | "LINES" => Some("many".to_string()),
            "SINCE" => Some("soon".to_string()),
            "HOST" => Some("a host name with spaces".to_string()),
            "FINGERPRINT" => Some("MD5:00:11".to_string()),
            "REPORT" => Some(fixtures.path("report.exe")),
            "TO" | "DEPLOY_ID" | "REVIEW_ID" | "REVIEW" => Some("not-an-id".to_string()),
            _ if reads_a_file(value) => Some(fixtures.path("a-directory")),
            _ => None,
        },
    }
}

/// A valid value for a command's leading NAME, so the sweep reaches the arguments after
/// it: the lab's target, or a key name not in the keyring yet.
fn valid_name(leaf: &Leaf) -> &'static str {
    if leaf.path[0] == "key" || leaf.path.join(" ") == "target add" {
        "sweep-new"
    } else {
        "Local lab"
    }
}

/// The argument vectors of one leaf under one kind of bad input: for each slot with a bad
/// value, that slot bad, the other required slots bad too except a leading NAME (valid,
/// so that what follows it is checked), optional slots left out.
fn cases(leaf: &Leaf, bad: Bad, fixtures: &Fixtures) -> Vec<Vec<String>> {
    let mut cases = Vec::new();
    for (index, slot) in leaf.slots.iter().enumerate() {
        let Some(bad_here) = bad_value(slot, bad, fixtures) else {
            continue;
        };
        let mut args = leaf.path.clone();
        let mut complete = true;
        for (other_index, other) in leaf.slots.iter().enumerate() {
            let value = if other_index == index {
                bad_here.clone()
            } else if !other.required {
                continue;
            } else if other.option.is_none() && other.value.starts_with("NAME") {
                valid_name(leaf).to_string()
            } else if let Some(value) = bad_value(other, bad, fixtures) {
                value
            } else {
                complete = false;
                break;
            };
            args.extend(other.option.clone());
            args.push(value);
        }
        if complete {
            cases.push(args);
        }
    }
    cases
}

/// Everything a bad input must leave as it was: the data dir's files, the keyring's
/// entries, and on the host the env file, the audit log and the containers.
fn state(lab: &Lab, home: &Path) -> BTreeMap<String, String> {
    let mut state = BTreeMap::new();
    // The diagnostics log grows with every run, as it should; what it holds is the
    // secret scan's business.
    for file in files_below(home)
        .into_iter()
        .filter(|f| !f.starts_with(home.join("logs")))
    {
        let key = file
            .strip_prefix(home)
            .unwrap()
            .to_string_lossy()
            .into_owned();
        state.insert(format!("data dir: {key}"), sha256_of(&file));
    }
    let keyring = std::process::Command::new("secret-tool")
        .args(["search", "--all", "service", "shipshape"])
        .output()
        .unwrap();
    let mut entries: Vec<String> = text(&keyring.stdout)
        .lines()
        .chain(text(&keyring.stderr).lines())
        .filter(|l| l.starts_with("attribute.username"))
        .map(str::to_string)
        .collect();
    entries.sort();
    state.insert("keyring".into(), entries.join(", "));
    let project = lab.project_dir();
    state.insert(
        "host: .env.aws".into(),
        sha256_of(&project.join(".env.aws")),
    );
    let audit_log = PathBuf::from("/home")
        .join(lab.field("user"))
        .join(".shipshape/audit.log");
    state.insert(
        "host: audit log".into(),
        std::fs::read(&audit_log)
            .map(|l| l.len())
            .unwrap_or(0)
            .to_string(),
    );
    state.insert(
        "host: containers".into(),
        run(
            "docker",
            &[
                "ps",
                "--all",
                "--no-trunc",
                "--format",
                "{{.ID}} {{.State}}",
            ],
        ),
    );
    state
}

/// What is wrong with one run's outcome, if anything.
fn judge(output: &std::process::Output) -> Option<String> {
    let stderr = &output.stderr;
    let said = text(stderr);
    if output.status.code() != Some(2) {
        return Some(format!("exit {:?}, not 2", output.status.code()));
    }
    if said.trim().is_empty() {
        return Some("nothing said on stderr".into());
    }
    if said.contains("panicked") {
        return Some("a panic".into());
    }
    if stderr.len() > 2000 {
        return Some(format!(
            "{} bytes on stderr, the value echoed whole",
            stderr.len()
        ));
    }
    if let Some(byte) = stderr
        .iter()
        .find(|b| (**b < 0x20 && **b != b'\n') || **b == 0x7f)
    {
        return Some(format!("a control byte 0x{byte:02x} on stderr"));
    }
    None
}

#[test]
fn every_command_refuses_bad_input_with_exit_2_and_changes_nothing() {
    let _lab_lock = exclusive();
    let lab = Lab::from_env();
    let home = tempfile::tempdir().unwrap();
    let cli = shipshape_binary();
    // The first run sets up the lab target; the sweep starts from there.
    ok(&shipshape(&lab, home.path(), &["target", "list"]));
    let fixtures = Fixtures::new();
    let all = leaves(&cli, &[]);
    assert!(
        all.len() >= 30,
        "only {} commands found: {all:?}",
        all.len()
    );

    let mut before = state(&lab, home.path());
    let mut runs = 0;
    let mut changes = 0;
    let mut failures = Vec::new();
    for leaf in &all {
        let mut tried: Vec<Vec<String>> = Vec::new();
        if leaf.slots.iter().any(|s| s.required) {
            tried.push(leaf.path.clone());
        }
        for bad in [Bad::Empty, Bad::OverLong, Bad::ControlBytes, Bad::WrongType] {
            tried.extend(cases(leaf, bad, &fixtures));
        }
        for args in tried {
            let args: Vec<&str> = args.iter().map(String::as_str).collect();
            let output = shipshape_with(&lab, home.path(), &args, |command| {
                command.stdin(std::fs::File::open(fixtures.path("nul")).unwrap());
            });
            runs += 1;
            let shown: Vec<String> = args
                .iter()
                .map(|a| match a.len() {
                    0..=40 => format!("{a:?}"),
                    n => format!("<{n} bytes>"),
                })
                .collect();
            if let Some(problem) = judge(&output) {
                let said: String = text(&output.stderr).chars().take(300).collect();
                failures.push(format!(
                    "shipshape {}: {problem}\n    {said}",
                    shown.join(" ")
                ));
            }
            let after = state(&lab, home.path());
            if after != before {
                let changed: Vec<&String> = after
                    .iter()
                    .filter(|(k, v)| before.get(*k) != Some(v))
                    .map(|(k, _)| k)
                    .chain(before.keys().filter(|k| !after.contains_key(*k)))
                    .collect();
                failures.push(format!(
                    "shipshape {}: changed {changed:?}",
                    shown.join(" ")
                ));
                changes += 1;
                before = after;
            }
        }
    }
    let refused = runs - failures.len();
    println!(
        "bad-input sweep: {} commands, {runs} runs, {refused} refused as they should be",
        all.len()
    );
    proving_ground_row(&format!(
        "| bad input: every CLI command ({} of them; missing, empty, over-long, control bytes and NUL, wrong type) | {runs} | {refused} refused with exit 2 and a short sentence, {} not | {changes} |",
        all.len(),
        failures.len()
    ));
    assert!(
        failures.is_empty(),
        "{} of {runs} runs were not refused cleanly:\n{}",
        failures.len(),
        failures.join("\n")
    );
}
