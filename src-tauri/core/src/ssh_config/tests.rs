//! Unit tests of resolution rules and errors. Agreement with the real `ssh -G` is checked
//! separately, in tests/ssh_config_agreement.rs.

use std::path::{Path, PathBuf};

use super::*;
use crate::error::Error;

/// A home directory with `files` (relative to it) written into it.
struct Home {
    dir: tempfile::TempDir,
}

impl Home {
    fn with(files: &[(&str, &str)]) -> Home {
        let dir = tempfile::tempdir().unwrap();
        for (name, contents) in files {
            let path = dir.path().join(name);
            std::fs::create_dir_all(path.parent().unwrap()).unwrap();
            std::fs::write(path, contents).unwrap();
        }
        Home { dir }
    }

    fn path(&self) -> &Path {
        self.dir.path()
    }

    fn config(&self) -> PathBuf {
        self.path().join(".ssh/config")
    }

    fn resolve(&self, alias: &str) -> crate::Result<ResolvedHost> {
        resolve(&self.config(), alias, self.path(), "op")
    }
}

fn config_with(text: &str) -> Home {
    Home::with(&[(".ssh/config", text)])
}

fn bad_input_message(result: crate::Result<ResolvedHost>) -> String {
    match result {
        Err(Error::BadInput(message)) => message,
        other => panic!("expected BadInput, got {other:?}"),
    }
}

#[test]
fn bad_port_names_file_and_line() {
    for port in ["0", "65536", "abc", "22x", "-1"] {
        let home = config_with(&format!("Host web\n  User a\n\n  Port {port}\n"));
        let message = bad_input_message(home.resolve("web"));
        assert_eq!(
            message,
            "~/.ssh/config line 4: Port must be a number between 1 and 65535, or a service /etc/services names."
        );
    }
}

#[test]
fn bad_port_in_a_block_that_does_not_apply_is_still_refused() {
    let home = config_with("Host other\n  Port 99999\nHost web\n  User a\n");
    let message = bad_input_message(home.resolve("web"));
    assert!(
        message.starts_with("~/.ssh/config line 2: Port"),
        "{message}"
    );
}

#[test]
fn bad_port_in_an_included_file_names_that_file() {
    let home = Home::with(&[
        (".ssh/config", "Include conf.d/*\n"),
        (".ssh/conf.d/web", "# web\nHost web\n  Port 0\n"),
    ]);
    let message = bad_input_message(home.resolve("web"));
    assert!(
        message.starts_with("~/.ssh/conf.d/web line 3: Port"),
        "{message}"
    );
}

#[test]
fn other_syntax_errors() {
    let cases = [
        (
            "Host web\n  HostName \"unclosed\n",
            "line 2: a quote is not closed.",
        ),
        ("Host web\n  User\n", "line 2: User needs a value."),
        ("Host web\n  User a b\n", "line 2: User takes one value"),
        ("Host web\nMatch\n", "line 2: Match needs a value."),
        ("Match host\n", "line 1: Match host needs a value."),
        (
            "Match all host web\n",
            "line 1: Match all cannot be combined",
        ),
        (
            "Match colour blue\n",
            "line 1: Match does not know the criterion colour.",
        ),
        (
            "Host web\n  ProxyJump jump:0\n",
            "line 2: ProxyJump jump:0 is not",
        ),
        ("Host web\n  HostName %r.lan\n", "line 2: HostName uses %r"),
        (
            "Host web\n  IdentityFile %C\n",
            "line 2: IdentityFile uses %C",
        ),
    ];
    for (text, expected) in cases {
        let message = bad_input_message(config_with(text).resolve("web"));
        assert!(message.contains(expected), "{text:?}: {message}");
    }
}

#[test]
fn a_missing_config_is_bad_input_saying_so() {
    let home = Home::with(&[]);
    for result in [
        home.resolve("web").map(|_| ()),
        list_aliases_with_home(&home.config(), home.path()).map(|_| ()),
    ] {
        assert!(
            matches!(result, Err(Error::BadInput(ref m)) if m.contains("there is no such file")),
            "{result:?}"
        );
    }
}

#[test]
fn first_value_wins_and_identity_files_accumulate() {
    let home = config_with(
        "Host web\n  Port 2200\n  IdentityFile ~/.ssh/web\nHost *\n  Port 22\n  User all\n  \
         IdentityFile ~/.ssh/web\n  IdentityFile ~/.ssh/all\n",
    );
    let web = home.resolve("web").unwrap();
    let key = |name: &str| format!("{}/.ssh/{name}", home.path().display());
    assert_eq!(web.port, Some(2200));
    assert_eq!(web.user.as_deref(), Some("all"));
    assert_eq!(web.identity_files, [key("web"), key("all")]);
    assert_eq!(web.hostname, "web");
}

#[test]
fn unset_values_stay_unset() {
    let home = config_with("Host other\n  User x\n");
    let resolved = home.resolve("Web.LAN").unwrap();
    assert_eq!(
        resolved,
        ResolvedHost {
            alias: "Web.LAN".into(),
            hostname: "web.lan".into(),
            user: None,
            port: None,
            identity_files: vec![],
            proxy_jump: None,
            proxy_command: None,
            unevaluated: Vec::new(),
        }
    );
}

#[test]
fn negated_patterns_veto_the_host_line() {
    let home = config_with("Host *.lan !printer.lan\n  User lan\nHost !web\n  User never\n");
    assert_eq!(
        home.resolve("nas.lan").unwrap().user.as_deref(),
        Some("lan")
    );
    assert_eq!(home.resolve("printer.lan").unwrap().user, None);
    assert_eq!(home.resolve("web").unwrap().user, None);
}

#[test]
fn host_lines_are_case_sensitive_but_match_host_is_not() {
    let home = config_with("Host web\n  Port 1000\nMatch host WEB\n  User matched\n");
    let upper = home.resolve("WEB").unwrap();
    assert_eq!((upper.port, upper.user.as_deref()), (None, Some("matched")));
    assert_eq!(upper.hostname, "web");
}

#[test]
fn match_host_sees_the_host_name_set_so_far() {
    let home = config_with(
        "Host web\n  HostName %h.example.com\nMatch host *.example.com\n  Port 2222\n\
         Match originalhost web user deploy\n  User never\nMatch originalhost web localuser op\n  User op-web\n",
    );
    let web = home.resolve("web").unwrap();
    assert_eq!(web.hostname, "web.example.com");
    assert_eq!(web.port, Some(2222));
    assert_eq!(web.user.as_deref(), Some("op-web"));
}

#[test]
fn unevaluated_match_criteria_never_match_and_are_named() {
    let home = config_with(
        "Match exec \"true\"\n  User exec\nMatch !exec \"false\"\n  User not-exec\n\
         Match host nothing exec \"true\"\n  Port 1\n\
         Match final host web\n  User final\nMatch all\n  User all\n",
    );
    let web = home.resolve("web").unwrap();
    // `final` matches in the final pass, but User was set by then (first value wins).
    assert_eq!(web.user.as_deref(), Some("all"));
    assert_eq!(web.unevaluated.len(), 2, "{:?}", web.unevaluated);
    assert!(
        web.unevaluated[0].contains("line 1: Match exec true was not evaluated"),
        "{:?}",
        web.unevaluated
    );
}

#[test]
fn match_criteria_written_with_equals_read_as_ssh_reads_them() {
    let home = config_with(
        "Match tagged=\n  User tagged\nMatch !exec=false\n  Port 2\n\
         Match Host=web originalhost=web\n  User eq\n",
    );
    let web = home.resolve("web").unwrap();
    assert_eq!(web.user.as_deref(), Some("eq"));
    assert_eq!(web.port, None);
    assert!(
        web.unevaluated[0].contains("Match tagged  was not evaluated"),
        "{:?}",
        web.unevaluated
    );
    assert!(
        web.unevaluated[1].contains("Match !exec false was not evaluated"),
        "{:?}",
        web.unevaluated
    );
    // Only the criteria that take a value do so: `all=x` is no criterion.
    assert!(config_with("Match all=x\n  User a\n")
        .resolve("web")
        .is_err());
}

#[test]
fn match_final_reads_the_config_again_with_the_host_name() {
    let home = config_with(
        "Host web\n  HostName web.example.com\nMatch final host web.example.com\n  User final\n  Port 2200\n\
         Host *.example.com\n  IdentityFile ~/.ssh/id_example\nMatch canonical\n  Port 9\n",
    );
    let web = home.resolve("web").unwrap();
    assert_eq!((web.user.as_deref(), web.port), (Some("final"), Some(2200)));
    assert!(
        web.identity_files
            .iter()
            .any(|f| f.ends_with("/.ssh/id_example")),
        "{:?}",
        web.identity_files
    );
    let other = home.resolve("other").unwrap();
    assert_eq!((other.user, other.port), (None, Some(9)));
}

#[test]
fn include_inside_a_host_block_applies_only_to_that_host() {
    let home = Home::with(&[
        (
            ".ssh/config",
            "Host web\n  Include web.conf\nHost *\n  User default\n",
        ),
        (".ssh/web.conf", "User from-include\nHost db\n  Port 5432\n"),
    ]);
    assert_eq!(
        home.resolve("web").unwrap().user.as_deref(),
        Some("from-include")
    );
    let db = home.resolve("db").unwrap();
    assert_eq!((db.user.as_deref(), db.port), (Some("default"), None));
}

#[test]
fn include_restores_the_including_block_afterwards() {
    let home = Home::with(&[
        (".ssh/config", "Host web\n  Include a.conf\n  Port 2000\n"),
        (".ssh/a.conf", "Host nothing\n"),
    ]);
    assert_eq!(home.resolve("web").unwrap().port, Some(2000));
}

#[test]
fn recursive_include_is_refused() {
    let home = config_with("Host web\n  Include config\n");
    let message = bad_input_message(home.resolve("web"));
    assert!(
        message.contains("line 2: Include nests more than 16"),
        "{message}"
    );
    assert!(list_aliases_with_home(&home.config(), home.path()).is_err());
}

#[test]
fn an_include_that_walks_the_whole_filesystem_is_refused_not_followed() {
    // Through /proc and /sys this would read for minutes (found by the fuzz harness).
    let home = config_with("Include /*/*/*/*\nHost web\n  Port 2000\n");
    let message = bad_input_message(home.resolve("web"));
    assert!(
        message.contains(
            "line 1: Include \"/*/*/*/*\" looks through more than 10000 directory entries"
        ),
        "{message}"
    );
    assert!(list_aliases_with_home(&home.config(), home.path()).is_err());
}

#[test]
fn a_config_that_is_not_a_regular_file_is_refused_without_waiting_on_it() {
    let home = Home::with(&[]);
    std::fs::create_dir_all(home.path().join(".ssh")).unwrap();
    // A FIFO with no writer: opened the plain way, the read would wait for ever.
    assert!(std::process::Command::new("mkfifo")
        .arg(home.config())
        .status()
        .unwrap()
        .success());
    let message = bad_input_message(home.resolve("web"));
    assert!(
        message.contains("is not a regular file, so not an ssh_config file"),
        "{message}"
    );
}

#[test]
fn proxy_jump_and_proxy_command_exclude_each_other() {
    let home = config_with(
        "Host a\n  ProxyJump ssh://bob@jump:2200\nHost b\n  ProxyCommand nc %h %p\n\
         Host c\n  ProxyJump none\nHost *\n  ProxyJump fallback\n",
    );
    assert_eq!(
        home.resolve("a").unwrap().proxy_jump.as_deref(),
        Some("bob@jump:2200")
    );
    assert_eq!(home.resolve("b").unwrap().proxy_jump, None);
    assert_eq!(
        home.resolve("b").unwrap().proxy_command.as_deref(),
        Some("nc %h %p")
    );
    assert!(home
        .resolve("b")
        .unwrap()
        .unsupported()
        .unwrap()
        .contains("ProxyCommand nc %h %p"));
    // Jump hosts Shipshape follows itself; a proxy command it never runs.
    assert_eq!(home.resolve("a").unwrap().unsupported(), None);
    assert_eq!(home.resolve("c").unwrap().proxy_jump, None);
    assert_eq!(home.resolve("c").unwrap().unsupported(), None);
    assert_eq!(
        home.resolve("d").unwrap().proxy_jump.as_deref(),
        Some("fallback")
    );
}

#[test]
fn identity_file_tokens_use_final_values() {
    let home = config_with(
        "Host Web\n  HostName %h.Example.com\n  User deploy\n  Port 2222\n  \
         IdentityFile ~/keys/%h-%r-%p-%u-%n\n  IdentityFile %d/%%\n",
    );
    let web = home.resolve("Web").unwrap();
    let home_dir = home.path().display().to_string();
    assert_eq!(
        web.identity_files,
        [
            format!("{home_dir}/keys/web.example.com-deploy-2222-op-Web"),
            format!("{home_dir}/%"),
        ]
    );
}

#[test]
fn aliases_are_literal_names_in_file_order() {
    let home = Home::with(&[
        (
            ".ssh/config",
            "Host web db\n  User a\nHost *.lan !printer.lan web\nInclude conf.d/*\n\
             Match host x\nHost db\nHost web?\nHost \"quoted name\"\n",
        ),
        (".ssh/conf.d/1", "Host nas\n"),
        (".ssh/conf.d/2", "Host router web\n"),
    ]);
    let aliases = list_aliases_with_home(&home.config(), home.path()).unwrap();
    assert_eq!(aliases, ["web", "db", "nas", "router", "quoted name"]);
}

#[test]
fn errors_outside_the_home_show_the_full_path() {
    let dir = tempfile::tempdir().unwrap();
    let config = dir.path().join("config");
    std::fs::write(&config, "Port x\n").unwrap();
    let elsewhere = tempfile::tempdir().unwrap();
    let message = bad_input_message(resolve(&config, "web", elsewhere.path(), "op"));
    assert_eq!(
        message,
        format!(
            "{} line 1: Port must be a number between 1 and 65535, or a service /etc/services names.",
            config.display()
        )
    );
}

#[test]
fn the_systems_config_is_read_after_the_users_and_its_includes_are_its_own() {
    let home = Home::with(&[
        (
            ".ssh/config",
            "Host app\n  HostName 10.20.1.5\nHost mine\n  User me\n",
        ),
        // Relative to the system file's directory, not to ~/.ssh.
        (
            "etc/ssh/ssh_config",
            "Include ssh_config.d/*.conf\nHost *\n  User sysuser\n",
        ),
        (
            "etc/ssh/ssh_config.d/corp.conf",
            "Match host 10.20.*\n  ProxyJump bastion.corp\n",
        ),
        (
            ".ssh/ssh_config.d/corp.conf",
            "Host *\n  ProxyJump wrong.dir\n",
        ),
    ]);
    let system = home.path().join("etc/ssh/ssh_config");
    let app = resolve_with_system(&home.config(), Some(&system), "app", home.path(), "op").unwrap();
    assert_eq!(app.proxy_jump.as_deref(), Some("bastion.corp"));
    assert_eq!(app.user.as_deref(), Some("sysuser"));
    // The user's value wins; with `-F` (no system file) the system's are not seen.
    let mine =
        resolve_with_system(&home.config(), Some(&system), "mine", home.path(), "op").unwrap();
    assert_eq!(mine.user.as_deref(), Some("me"));
    assert_eq!(home.resolve("app").unwrap().proxy_jump, None);
}
