//! `ssh_config::resolve` is only worth having if it agrees with OpenSSH, so this runs the
//! installed `ssh` on every config and alias of tests/ssh_config_corpus and compares.
//!
//! `ssh -G` prints the resolved options without connecting. It prints IdentityFile
//! unexpanded, though, so the expanded paths come from a second run that really starts a
//! connection through `ProxyCommand=false` (no network, no DNS: the proxy exits at once)
//! and logs each key file it would try. ssh reads `Include`s from `$HOME/.ssh` but
//! expands `~` and `%d` in IdentityFile with the home directory of the password database,
//! so each corpus folder is copied into a temporary `$HOME/.ssh` and that temporary home
//! is swapped for the real one before comparing key paths.

#![cfg(unix)]

use std::collections::HashMap;
use std::os::unix::fs::PermissionsExt;
use std::path::{Path, PathBuf};
use std::process::{Command, Stdio};

use shipshape_core::ssh_config::{self, ResolvedHost};

/// The login name and home directory ssh itself uses (from the password database).
struct LocalAccount {
    user: String,
    home: String,
}

#[test]
fn resolve_agrees_with_ssh_on_the_corpus() {
    let Some(account) = probe_local_account() else {
        panic!(
            "this test compares with `ssh -G`, which does not work here (Debian: openssh-client)"
        );
    };
    let folders = corpus("ssh_config_corpus");
    assert!(
        folders.len() >= 15,
        "the corpus has only {} configs",
        folders.len()
    );

    let mut disagreements = Vec::new();
    let mut compared = 0;
    for folder in &folders {
        let name = folder.file_name().unwrap().to_string_lossy().into_owned();
        let (home, config) = in_temp_home(folder);
        if let Err(error) = ssh_config::list_aliases_with_home(&config, home.path()) {
            disagreements.push(format!("{name}: list_aliases failed: {error}"));
        }
        let aliases =
            std::fs::read_to_string(folder.join("aliases")).expect("each folder has aliases");
        for alias in aliases.lines().map(str::trim).filter(|a| !a.is_empty()) {
            compared += 1;
            let context = format!("{name}, alias {alias}");
            let ours = match ssh_config::resolve(&config, alias, home.path(), &account.user) {
                Ok(resolved) => resolved,
                Err(error) => {
                    disagreements.push(format!("{context}: resolve failed: {error}"));
                    continue;
                }
            };
            let theirs = ssh_dump(&config, alias, home.path(), &account);
            compare(
                &context,
                &ours,
                &theirs,
                &config,
                home.path(),
                &account,
                &mut disagreements,
            );
        }
    }
    assert!(
        disagreements.is_empty(),
        "ssh_config::resolve disagrees with `ssh -G` ({} of {compared} lookups):\n  {}",
        disagreements.len(),
        disagreements.join("\n  ")
    );
}

fn compare(
    context: &str,
    ours: &ResolvedHost,
    theirs: &HashMap<String, Vec<String>>,
    config: &Path,
    home: &Path,
    account: &LocalAccount,
    disagreements: &mut Vec<String>,
) {
    let first = |key: &str| theirs.get(key).and_then(|values| values.first()).cloned();
    let mut check = |what: &str, ours: Option<String>, theirs: Option<String>| {
        if ours != theirs {
            disagreements.push(format!("{context}: {what}: ours {ours:?}, ssh {theirs:?}"));
        }
    };
    check("hostname", Some(ours.hostname.clone()), first("hostname"));
    check(
        "user",
        Some(ours.user.clone().unwrap_or_else(|| account.user.clone())),
        first("user"),
    );
    check(
        "port",
        Some(ours.port.unwrap_or(22).to_string()),
        first("port"),
    );
    check("proxyjump", ours.proxy_jump.clone(), first("proxyjump"));
    // ssh prints the command's words joined by one space, or `none`.
    check(
        "proxycommand",
        ours.proxy_command.clone(),
        first("proxycommand").map(|_| theirs["proxycommand"].join(" ").trim().to_string()),
    );

    let listed = theirs.get("identityfile").cloned().unwrap_or_default();
    if ours.identity_files.is_empty() {
        // ssh then lists only its default key files.
        if let Some(configured) = listed.iter().find(|f| !f.starts_with("~/.ssh/id_")) {
            disagreements.push(format!(
                "{context}: identityfile: ours none, ssh lists {configured}"
            ));
        }
        return;
    }
    if listed.len() != ours.identity_files.len() {
        disagreements.push(format!(
            "{context}: identityfile count: ours {:?}, ssh -G {listed:?}",
            ours.identity_files
        ));
    }
    let ours_as_ssh_sees_them: Vec<String> = ours
        .identity_files
        .iter()
        .map(|path| with_real_home(path, home, &account.home))
        .collect();
    let expanded = ssh_expanded_identity_files(config, &ours.alias, home, account);
    if ours_as_ssh_sees_them != expanded {
        disagreements.push(format!(
            "{context}: identityfile: ours {ours_as_ssh_sees_them:?}, ssh {expanded:?}"
        ));
    }
}

/// Our paths were expanded with the temporary home; ssh's with the real one.
fn with_real_home(path: &str, temporary_home: &Path, real_home: &str) -> String {
    let temporary_home = temporary_home.display().to_string();
    let real_home_slash = if real_home.ends_with('/') {
        real_home.to_string()
    } else {
        format!("{real_home}/")
    };
    path.replace(&format!("{temporary_home}/"), &real_home_slash)
        .replace(&temporary_home, real_home)
}

fn ssh_command(home: &Path, account: &LocalAccount) -> Command {
    let mut command = Command::new("ssh");
    command
        .env_clear()
        .env("HOME", home)
        .env("USER", &account.user)
        .env("PATH", std::env::var_os("PATH").unwrap_or_default())
        .stdin(Stdio::null());
    command
}

/// `ssh -G` output as keyword → values (several for identityfile).
fn ssh_dump(
    config: &Path,
    alias: &str,
    home: &Path,
    account: &LocalAccount,
) -> HashMap<String, Vec<String>> {
    let output = ssh_command(home, account)
        .arg("-G")
        .arg("-F")
        .arg(config)
        .arg(alias)
        .output()
        .expect("ssh runs");
    assert!(
        output.status.success(),
        "ssh -G -F {} {alias} failed: {}",
        config.display(),
        String::from_utf8_lossy(&output.stderr)
    );
    let mut dump: HashMap<String, Vec<String>> = HashMap::new();
    for line in String::from_utf8_lossy(&output.stdout).lines() {
        if let Some((keyword, value)) = line.split_once(' ') {
            dump.entry(keyword.to_string())
                .or_default()
                .push(value.to_string());
        }
    }
    dump
}

/// The key files ssh would try, expanded, from its debug log. Each is logged twice, the
/// second time with `-cert` appended.
fn ssh_expanded_identity_files(
    config: &Path,
    alias: &str,
    home: &Path,
    account: &LocalAccount,
) -> Vec<String> {
    let output = ssh_command(home, account)
        .args([
            "-vvv",
            "-o",
            "ProxyCommand=false",
            "-o",
            "BatchMode=yes",
            "-F",
        ])
        .arg(config)
        .arg(alias)
        .arg("true")
        .output()
        .expect("ssh runs");
    let log = String::from_utf8_lossy(&output.stderr);
    let logged: Vec<&str> = log
        .lines()
        .filter_map(|line| line.strip_prefix("debug1: identity file "))
        .filter_map(|rest| rest.rsplit_once(" type ").map(|(path, _)| path))
        .collect();
    let mut files: Vec<String> = Vec::new();
    for path in logged {
        let is_cert_twin = files
            .last()
            .is_some_and(|previous| path == format!("{previous}-cert"));
        if !is_cert_twin {
            files.push(path.to_string());
        }
    }
    files
}

fn probe_local_account() -> Option<LocalAccount> {
    let output = Command::new("ssh")
        .args(["-G", "-F", "/dev/null", "probe.invalid"])
        .env_remove("HOME")
        .stdin(Stdio::null())
        .output()
        .ok()
        .filter(|output| output.status.success())?;
    let dump = String::from_utf8_lossy(&output.stdout).into_owned();
    let value = |keyword: &str| {
        dump.lines()
            .find_map(|line| line.strip_prefix(&format!("{keyword} ")))
            .map(str::to_string)
    };
    let user = value("user")?;
    let known_hosts = value("userknownhostsfile")?;
    let home = known_hosts
        .split(' ')
        .next()?
        .strip_suffix("/.ssh/known_hosts")?
        .to_string();
    Some(LocalAccount { user, home })
}

/// Copies a corpus folder; ssh refuses included files others can write, so modes are set.
/// The folders of `tests/NAME`, one config (and its aliases) each, in order.
fn corpus(name: &str) -> Vec<PathBuf> {
    let corpus = Path::new(env!("CARGO_MANIFEST_DIR"))
        .join("tests")
        .join(name);
    let mut folders: Vec<PathBuf> = std::fs::read_dir(&corpus)
        .unwrap_or_else(|e| panic!("{}: {e}", corpus.display()))
        .map(|entry| entry.unwrap().path())
        .filter(|path| path.is_dir())
        .collect();
    folders.sort();
    folders
}

/// A temporary home whose `.ssh` is a copy of `folder`, and its config file.
fn in_temp_home(folder: &Path) -> (tempfile::TempDir, PathBuf) {
    let home = tempfile::tempdir().unwrap();
    let dot_ssh = home.path().join(".ssh");
    copy_tree(folder, &dot_ssh);
    let config = dot_ssh.join("config");
    (home, config)
}

fn copy_tree(from: &Path, to: &Path) {
    std::fs::create_dir_all(to).unwrap();
    std::fs::set_permissions(to, std::fs::Permissions::from_mode(0o700)).unwrap();
    for entry in std::fs::read_dir(from).unwrap() {
        let entry = entry.unwrap();
        let target = to.join(entry.file_name());
        if entry.file_type().unwrap().is_dir() {
            copy_tree(&entry.path(), &target);
        } else {
            std::fs::copy(entry.path(), &target).unwrap();
            std::fs::set_permissions(&target, std::fs::Permissions::from_mode(0o600)).unwrap();
        }
    }
}

/// Files `ssh` refuses as a whole (tests/ssh_config_refused: an unknown keyword anywhere,
/// in an Include too, unless an IgnoreUnknown already in force names it; an algorithm
/// list naming what ssh does not have) are refused by `resolve` too, at the same file and
/// line when ssh names one.
#[test]
fn resolve_refuses_what_ssh_refuses() {
    let Some(account) = probe_local_account() else {
        panic!(
            "this test compares with `ssh -G`, which does not work here (Debian: openssh-client)"
        );
    };
    let folders = corpus("ssh_config_refused");
    assert!(
        folders.len() >= 7,
        "the refused corpus has {} configs",
        folders.len()
    );
    let mut disagreements = Vec::new();
    for folder in &folders {
        let name = folder.file_name().unwrap().to_string_lossy().into_owned();
        let (home, config) = in_temp_home(folder);
        let aliases = std::fs::read_to_string(folder.join("aliases")).unwrap();
        for alias in aliases.lines().map(str::trim).filter(|a| !a.is_empty()) {
            let theirs = ssh_command(home.path(), &account)
                .arg("-G")
                .arg("-F")
                .arg(&config)
                .arg(alias)
                .output()
                .expect("ssh runs");
            let said = String::from_utf8_lossy(&theirs.stderr).into_owned();
            if theirs.status.success() {
                disagreements.push(format!("{name}: ssh accepts it; the corpus is wrong"));
                continue;
            }
            let ours = match ssh_config::resolve(&config, alias, home.path(), &account.user) {
                Ok(_) => {
                    disagreements.push(format!(
                        "{name}: ssh refuses it ({said:?}), resolve accepts it"
                    ));
                    continue;
                }
                Err(error) => error.to_string(),
            };
            // "FILE: line N:" (keywords) or "FILE line N:" (values), as ssh writes them.
            let located = |text: &str| {
                let at = text.find(" line ")?;
                let file = text[..at]
                    .trim_end_matches(':')
                    .rsplit('/')
                    .next()?
                    .to_string();
                let number: String = text[at + 6..]
                    .chars()
                    .take_while(char::is_ascii_digit)
                    .collect();
                Some((file, number))
            };
            if let Some(theirs) = located(&said) {
                if located(&ours) != Some(theirs.clone()) {
                    disagreements.push(format!(
                        "{name}: ssh names {theirs:?} ({said:?}), ours says {ours:?}"
                    ));
                }
            }
        }
    }
    assert!(disagreements.is_empty(), "{}", disagreements.join("\n"));
}
