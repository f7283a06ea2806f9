//! The only way a remote command is made: typed arguments, each quoted for POSIX `sh`.
//! Nothing from the UI is ever pasted into a command line; it becomes one quoted word.
//!
//! Every command also runs under a small supervisor ([`RemoteCommand::supervised`]):
//! without a terminal, sshd leaves a command running when its client goes away (killed,
//! crashed, network gone), and a `docker events` or `logs -f` would then live on the
//! production host until its next write fails, which for a quiet stream is never.

use std::fmt;

/// A command to run on the host: a program with arguments, in a working directory.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct RemoteCommand {
    dir: Option<String>,
    words: Vec<String>,
    /// Run by the supervisor if the command is abandoned (its input ends first).
    cleanup: Option<String>,
    /// What it is to the host's deploy lock.
    role: Role,
}

/// A command's part in the host's deploy lock ([`crate::deploy::lock`]).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum Role {
    /// Reads the host: the lock is not its concern.
    Read,
    /// Changes the host outside a deploy: it holds the lock shared while it runs
    /// ([`crate::deploy::lock::CHANGE_GATE`]), so no deploy begins under it, and it does
    /// not begin under a deploy.
    Change,
    /// Changes the host as a step of the deploy that holds the lock on this connection.
    DeployStep,
}

impl RemoteCommand {
    pub fn new(program: &str) -> Self {
        RemoteCommand {
            dir: None,
            words: vec![program.to_string()],
            cleanup: None,
            role: Role::Read,
        }
    }

    /// Marks this command as a change to the host, run outside any deploy: it refuses
    /// to begin while a deploy holds the host's lock, and holds a deploy back while it
    /// runs (on the host, in one step the kernel decides, whatever was read before).
    pub fn as_change(mut self) -> Self {
        self.role = Role::Change;
        self
    }

    /// Marks this command as a change made by the deploy that holds the host's lock.
    pub fn as_deploy_step(mut self) -> Self {
        self.role = Role::DeployStep;
        self
    }

    /// `cleanup` runs on the host if this command is abandoned (cancelled, or its
    /// connection gone) after its process group is ended: for work the group does not
    /// hold, like a script `docker compose exec` started in a container.
    pub fn cleaned_up_by(mut self, cleanup: &RemoteCommand) -> Self {
        self.cleanup = Some(cleanup.render());
        self
    }

    pub fn arg(mut self, word: impl Into<String>) -> Self {
        self.words.push(word.into());
        self
    }

    pub fn args<I: IntoIterator<Item = S>, S: Into<String>>(mut self, words: I) -> Self {
        self.words.extend(words.into_iter().map(Into::into));
        self
    }

    /// Runs the command in `dir` (`cd DIR && ...`), as the policy's steps do.
    pub fn in_dir(mut self, dir: impl Into<String>) -> Self {
        self.dir = Some(dir.into());
        self
    }

    /// The exact text sent to the host, also what the UI shows.
    pub fn render(&self) -> String {
        let command = self
            .words
            .iter()
            .map(|w| quote(w))
            .collect::<Vec<_>>()
            .join(" ");
        match &self.dir {
            Some(dir) => format!("cd {} && {command}", quote(dir)),
            None => command,
        }
    }
}

/// The supervisor, a constant script for POSIX `sh` (the command arrives as `$1`, never
/// pasted in). It starts the command in a process group of its own with no input, then
/// watches its own input with the shell's `read` (a fork, no program to start: each one
/// would cost host CPU on every command). The end of that input, which comes when
/// Shipshape cancels or the connection closes for any reason, ends the whole group
/// (TERM, then KILL if it still runs 2 s later), then runs the command's cleanup (`$2`)
/// if it has one, which the supervisor's own end no longer interrupts: the one process
/// meant to outlive the connection, and only as long as the cleanup takes. SIGTERM from
/// the client (which sshd sends to the whole session, the watcher too) ends the group
/// and the watcher at once, runs the cleanup, and leaves behind one short-lived process
/// that sends KILL to a group still running 2 s later, as the watcher would have: the
/// supervisor itself exits at once, so its caller is not kept waiting (waiting for the
/// group in the supervisor also saw the ended command's unreaped zombie as running). When
/// the command ends by itself, the watcher is ended and the command's exit status is
/// passed on. A change's share of the deploy lock (descriptor 9, [`gated_supervisor`]) is
/// kept by the supervisor, its watcher and that last process, never by the command: what
/// the command leaves running cannot hold deploys back.
const SUPERVISOR: &str = r#"S=setsid; command -v setsid >/dev/null 2>&1 || S=
$S sh -c 'eval "$1"' shipshape-command "$1" </dev/null 9>&- & c=$!
end() { kill -"${2:-TERM}" -"$1" 2>/dev/null || kill -"${2:-TERM}" "$1" 2>/dev/null; }
exec 3<&0
(while read -r _; do :; done; trap '' TERM HUP; end "$c"; [ -z "$2" ] || sh -c "$2"; for i in 1 2; do kill -0 -"$c" 2>/dev/null || kill -0 "$c" 2>/dev/null || exit 0; sleep 1; done; end "$c" KILL) <&3 >/dev/null 2>&1 & w=$!
exec 3<&-
trap 'trap "" TERM HUP INT; end "$c"; kill "$w" 2>/dev/null; [ -z "$2" ] || sh -c "$2" >/dev/null 2>&1; (for i in 1 2 3 4 5 6 7 8 9 10; do sleep 0.2 2>/dev/null || sleep 1; kill -0 -"$c" 2>/dev/null || exit 0; done; end "$c" KILL) </dev/null >/dev/null 2>&1 & exit 143' TERM HUP INT
wait "$c"; s=$?
kill "$w" 2>/dev/null
exit "$s""#;

/// The name the supervisor gives itself (`$0`), so it can be recognised on the host.
pub const SUPERVISOR_NAME: &str = "shipshape-supervisor";
/// The supervisor's name when its command changes the host.
pub const CHANGE_NAME: &str = "shipshape-change";

impl RemoteCommand {
    /// The text actually sent to the host: [`RemoteCommand::render`] run under the
    /// supervisor. What the operator is shown stays `render()`, the command itself.
    pub fn supervised(&self) -> String {
        let name = match self.role {
            Role::Read => SUPERVISOR_NAME,
            Role::Change | Role::DeployStep => CHANGE_NAME,
        };
        let script = match self.role {
            Role::Change => gated_supervisor(),
            Role::Read | Role::DeployStep => SUPERVISOR.to_string(),
        };
        let mut text = format!("sh -c {} {name} {}", quote(&script), quote(&self.render()));
        if let Some(cleanup) = &self.cleanup {
            text.push(' ');
            text.push_str(&quote(cleanup));
        }
        text
    }
}

/// The supervisor of a change made outside a deploy: the host's lock taken shared
/// first, in the supervisor's own shell.
fn gated_supervisor() -> String {
    format!("{}\n{SUPERVISOR}", crate::deploy::lock::CHANGE_GATE)
}

/// The command inside a [`RemoteCommand::supervised`] text, for hosts that answer
/// commands from a table (the in-process test host). `None` if it is not one.
pub fn unsupervised(text: &str) -> Option<String> {
    let named = [SUPERVISOR.to_string(), gated_supervisor()]
        .iter()
        .find_map(|script| text.strip_prefix(&format!("sh -c {} ", quote(script))))?;
    let words = [SUPERVISOR_NAME, CHANGE_NAME]
        .iter()
        .find_map(|name| named.strip_prefix(name)?.strip_prefix(' '))?;
    // The command, then its cleanup if it has one: each one word as `quote` made it.
    let command = match words.strip_prefix('\'') {
        Some(_) => {
            let mut end = 1;
            loop {
                let close = end + words[end..].find('\'')?;
                match words[close..].starts_with(r"'\''") {
                    true => end = close + 4,
                    false => break close + 1,
                }
            }
        }
        None => words.find(' ').unwrap_or(words.len()),
    };
    unquote(&words[..command])
}

/// The inverse of [`quote`] for a single word it produced.
fn unquote(word: &str) -> Option<String> {
    let Some(inner) = word.strip_prefix('\'').and_then(|w| w.strip_suffix('\'')) else {
        return (quote(word) == word).then(|| word.to_string());
    };
    let text = inner.replace(r"'\''", "'");
    (quote(&text) == word).then_some(text)
}

impl fmt::Display for RemoteCommand {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(&self.render())
    }
}

/// Quotes one word for POSIX `sh`. Plain words stay readable; anything else is wrapped
/// in single quotes, inside which `sh` interprets nothing.
pub fn quote(word: &str) -> String {
    let plain = !word.is_empty()
        && word
            .chars()
            .all(|c| c.is_ascii_alphanumeric() || "_-./:=@%+,".contains(c));
    if plain {
        word.to_string()
    } else {
        format!("'{}'", word.replace('\'', r"'\''"))
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn renders_the_policy_command_readably() {
        let command = RemoteCommand::new("docker")
            .args(["compose", "--profile", "aws", "ps"])
            .in_dir("/home/ubuntu/automated-trading-platform");
        assert_eq!(
            command.render(),
            "cd /home/ubuntu/automated-trading-platform && docker compose --profile aws ps"
        );
    }

    #[test]
    fn the_supervised_text_runs_the_command_and_keeps_its_output_and_status() {
        let command = RemoteCommand::new("sh")
            .arg("-c")
            .arg("printf 'out %s' \"$1\"; printf err >&2; exit 7")
            .arg("x")
            .arg("it's $(id)");
        // The channel's input stays open while the command runs, as over SSH.
        let mut child = std::process::Command::new("sh")
            .arg("-c")
            .arg(command.supervised())
            .stdin(std::process::Stdio::piped())
            .stdout(std::process::Stdio::piped())
            .stderr(std::process::Stdio::piped())
            .spawn()
            .unwrap();
        let _input_open = child.stdin.take();
        let status = child.wait().unwrap();
        let read = |pipe: &mut dyn std::io::Read| {
            let mut text = String::new();
            pipe.read_to_string(&mut text).unwrap();
            text
        };
        assert_eq!(read(child.stdout.as_mut().unwrap()), "out it's $(id)");
        assert_eq!(read(child.stderr.as_mut().unwrap()), "err");
        assert_eq!(status.code(), Some(7));
        assert_eq!(
            unsupervised(&command.supervised()).as_deref(),
            Some(command.render().as_str())
        );
        assert_eq!(unsupervised("echo hi"), None);
    }

    #[test]
    fn the_end_of_input_ends_the_supervised_command_and_its_children() {
        use std::io::Read;
        let dir = tempfile::tempdir().unwrap();
        let marker = dir.path().join("child");
        // A command whose child outlives it unless its process group is ended.
        let command = RemoteCommand::new("sh").arg("-c").arg(format!(
            "sleep 30 & echo $! > {}; wait",
            quote(marker.to_str().unwrap())
        ));
        let mut child = std::process::Command::new("sh")
            .arg("-c")
            .arg(command.supervised())
            .stdin(std::process::Stdio::piped())
            .stdout(std::process::Stdio::piped())
            .spawn()
            .unwrap();
        let deadline = std::time::Instant::now() + std::time::Duration::from_secs(5);
        while !marker.exists() || std::fs::read_to_string(&marker).unwrap().trim().is_empty() {
            assert!(std::time::Instant::now() < deadline, "the command started");
            std::thread::sleep(std::time::Duration::from_millis(20));
        }
        let sleeper = std::fs::read_to_string(&marker).unwrap().trim().to_string();
        drop(child.stdin.take()); // the channel closes
        let status = child.wait().unwrap();
        let mut rest = String::new();
        child
            .stdout
            .take()
            .unwrap()
            .read_to_string(&mut rest)
            .unwrap();
        assert!(!status.success());
        let deadline = std::time::Instant::now() + std::time::Duration::from_secs(5);
        while std::path::Path::new(&format!("/proc/{sleeper}")).exists()
            && !std::fs::read_to_string(format!("/proc/{sleeper}/stat"))
                .unwrap_or_default()
                .contains(") Z ")
        {
            assert!(
                std::time::Instant::now() < deadline,
                "the command's child {sleeper} still runs"
            );
            std::thread::sleep(std::time::Duration::from_millis(50));
        }
    }

    #[test]
    fn a_command_deaf_to_sigterm_is_killed_after_the_clients_signal() {
        use std::os::unix::process::CommandExt;
        let dir = tempfile::tempdir().unwrap();
        let marker = dir.path().join("deaf");
        let command = RemoteCommand::new("sh").arg("-c").arg(format!(
            "trap '' TERM; sleep 30 & echo $! > {}; wait",
            quote(marker.to_str().unwrap())
        ));
        // A session of its own, as sshd gives a command: its signal goes to the whole
        // process group (killpg), the supervisor's watcher included.
        let mut child = std::process::Command::new("sh")
            .arg("-c")
            .arg(command.supervised())
            .stdin(std::process::Stdio::piped())
            .process_group(0)
            .spawn()
            .unwrap();
        let deadline = std::time::Instant::now() + std::time::Duration::from_secs(5);
        while !marker.exists() || std::fs::read_to_string(&marker).unwrap().trim().is_empty() {
            assert!(std::time::Instant::now() < deadline, "the command started");
            std::thread::sleep(std::time::Duration::from_millis(20));
        }
        let sleeper = std::fs::read_to_string(&marker).unwrap().trim().to_string();
        let group = format!("-{}", child.id());
        let signalled = std::process::Command::new("kill")
            .args(["-TERM", "--", &group])
            .status()
            .unwrap();
        assert!(signalled.success());
        drop(child.stdin.take()); // and the end of input, as the client sends both
        child.wait().unwrap();
        let deadline = std::time::Instant::now() + std::time::Duration::from_secs(6);
        while std::path::Path::new(&format!("/proc/{sleeper}")).exists()
            && !std::fs::read_to_string(format!("/proc/{sleeper}/stat"))
                .unwrap_or_default()
                .contains(") Z ")
        {
            assert!(
                std::time::Instant::now() < deadline,
                "the command {sleeper}, deaf to TERM, still runs"
            );
            std::thread::sleep(std::time::Duration::from_millis(50));
        }
    }

    #[test]
    fn an_abandoned_command_is_cleaned_up_and_one_that_ended_is_not() {
        let dir = tempfile::tempdir().unwrap();
        let run = |command: &str, name: &str| {
            let marker = dir.path().join(name);
            let cleanup = RemoteCommand::new("touch").arg(marker.to_str().unwrap());
            let command = RemoteCommand::new("sh")
                .args(["-c", command])
                .cleaned_up_by(&cleanup);
            assert_eq!(
                unsupervised(&command.supervised()).as_deref(),
                Some(command.render().as_str())
            );
            let mut child = std::process::Command::new("sh")
                .arg("-c")
                .arg(command.supervised())
                .stdin(std::process::Stdio::piped())
                .spawn()
                .unwrap();
            (child.stdin.take(), child, marker)
        };
        let seen = |marker: &std::path::Path| {
            let deadline = std::time::Instant::now() + std::time::Duration::from_secs(5);
            while !marker.exists() && std::time::Instant::now() < deadline {
                std::thread::sleep(std::time::Duration::from_millis(20));
            }
            marker.exists()
        };

        let (input, mut child, marker) = run("sleep 30", "abandoned");
        std::thread::sleep(std::time::Duration::from_millis(200));
        drop(input); // the connection is gone
        child.wait().unwrap();
        assert!(seen(&marker), "the cleanup ran");

        // The client's SIGTERM (a dropped channel) runs it too.
        let (_input, mut child, marker) = run("sleep 30", "signalled");
        std::thread::sleep(std::time::Duration::from_millis(200));
        // To the supervisor itself, as sshd signals the login shell that runs it (bash
        // runs it in its place; this test's `sh` keeps it as a child).
        let _ = std::process::Command::new("pkill")
            .args(["-TERM", "-P", &child.id().to_string()])
            .status();
        child.wait().unwrap();
        assert!(seen(&marker), "the cleanup ran on SIGTERM");

        let (input, mut child, marker) = run("exit 0", "ended");
        assert!(child.wait().unwrap().success());
        drop(input);
        std::thread::sleep(std::time::Duration::from_millis(500));
        assert!(
            !marker.exists(),
            "a command that ended is not cleaned up after"
        );
    }

    #[test]
    fn hostile_words_become_one_inert_argument() {
        // Run through a real sh: every hostile word must come back as exactly one argument.
        let hostile = [
            "; touch /tmp/x",
            "$(id)",
            "`id`",
            "a && b",
            "it's",
            "",
            "\n",
            "*",
            "-rf",
        ];
        for word in hostile {
            let line = RemoteCommand::new("printf").arg("%s\\0").arg(word).render();
            let out = std::process::Command::new("sh")
                .arg("-c")
                .arg(&line)
                .output()
                .unwrap();
            assert_eq!(
                String::from_utf8(out.stdout).unwrap(),
                format!("{word}\0"),
                "{line}"
            );
        }
    }
}
