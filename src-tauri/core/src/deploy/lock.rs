//! The host's deploy lock. It is an `flock` held by a process on the host for exactly
//! as long as the channel that started it: the supervisor ends that process when the
//! channel closes, so a console or CLI that exits or is killed (even `kill -9`) frees the lock with no
//! one breaking it (one cut off by the network frees it once sshd notices the
//! connection is gone), and the kernel, not a file's
//! contents, says whether it is held. Beside it a holder file says who holds it, since
//! when and why; it is read, never trusted, to decide.

use serde::{Deserialize, Serialize};
use ts_rs::TS;

use crate::shell::RemoteCommand;

/// Takes the lock (waiting 0.2 s at most, so a status check in flight does not
/// refuse a deploy), writes the holder, says `acquired` and holds it until the channel
/// closes. Held by another deploy: says `held`, then the holder, and exits 4. A change
/// running (a migration, an `up`, a save of the env file that another console or CLI
/// started) holds it back too: each holds the lock shared for its whole run
/// ([`CHANGE_GATE`]), so the kernel refuses the exclusive lock while one runs, however
/// close together the two began. Then it says `busy`, then that change's command (its
/// supervisor goes by `shipshape-change`), and exits 4. Once it holds the lock, it
/// still looks for changes that took no share of it (a deploy's step still ending), but
/// not for one whose gate is yet to run: that one will be refused, and counting it too
/// would refuse both. `$1` is the holder (one line of JSON).
const ACQUIRE_SCRIPT: &str = r#"d="$HOME/.shipshape"
mkdir -p "$d" && chmod 700 "$d" && exec 9>>"$d/deploy.lock" || exit 2
changes() {
  for p in $(pgrep -u "$(id -u)" -f '[s]hipshape-change ' 2>/dev/null); do
    c=$(tr '\0\n' '\n ' <"/proc/$p/cmdline" 2>/dev/null | sed -n "${1}4{/^shipshape-change\$/!q;};5p")
    [ -z "$c" ] || { echo busy; printf '%s\n' "$c" | head -c 500; echo; exit 4; }
  done
}
if ! flock -w 0.2 9; then
  exec 8>>"$d/deploy.lock"
  if flock -s -n 8; then changes; echo busy; echo 'a save of the env file, or a change just ending'; exit 4; fi
  echo held; cat "$d/deploy.holder" 2>/dev/null; exit 4
fi
changes '3{/deploy\.lock/q;};'
printf '%s\npid=%s\n' "$1" "$$" >"$d/deploy.holder"
echo acquired
exec sleep 2147483647"#;

/// What a change runs before its command, in the same shell: the host's lock, taken
/// shared, for as long as the change's supervisor and its cleanup live (its command is
/// not handed the lock, so nothing it leaves running can hold a deploy back forever).
/// Many changes can hold it at once; a deploy's exclusive lock waits for all of them,
/// and a change refuses to begin under a deploy's: it says [`GATE_SAYS`] and exits
/// [`GATE_REFUSED`], having run nothing. A host where no deploy lock can exist (no
/// `flock`, a home it cannot write) runs the change ungated: no deploy can run there.
pub const CHANGE_GATE: &str = r#"d="$HOME/.shipshape"
if command -v flock >/dev/null 2>&1 && mkdir -p "$d" 2>/dev/null && chmod 700 "$d" 2>/dev/null && true 2>/dev/null >>"$d/deploy.lock"; then
  exec 9>>"$d/deploy.lock"
  flock -s -n 9 || { echo "shipshape: a deploy holds this host's lock; nothing was run" >&2; exit 75; }
fi"#;

/// The exit status of a change [`CHANGE_GATE`] refused (and of an env file's save).
pub const GATE_REFUSED: i64 = 75;
/// What the gate says on refusing (to standard error).
pub const GATE_SAYS: &str = "a deploy holds this host's lock";

/// Whether a change ended refused by the gate: it never ran.
pub fn refused_by_gate(exit_code: Option<i64>, stderr: &str) -> bool {
    exit_code == Some(GATE_REFUSED) && stderr.contains(GATE_SAYS)
}

/// `free` or `held` (by a deploy: changes hold it only shared), then the last holder
/// written.
const STATUS_SCRIPT: &str = r#"d="$HOME/.shipshape"
[ -e "$d/deploy.lock" ] || { echo free; exit 0; }
exec 9>>"$d/deploy.lock" || exit 2
if flock -s -n 9; then echo free; else echo held; fi
cat "$d/deploy.holder" 2>/dev/null
exit 0"#;

/// Ends the holder's process (its pid is in the holder file), then waits for the lock
/// to come free of deploys (changes hold it shared, and are left alone); `free` if nobody held it, `broken` once it is free, exit 1 if it stays
/// held.
const BREAK_SCRIPT: &str = r#"d="$HOME/.shipshape"
[ -e "$d/deploy.lock" ] || { echo free; exit 0; }
exec 9>>"$d/deploy.lock" || exit 2
if flock -s -n 9; then echo free; exit 0; fi
pid=$(sed -n 's/^pid=\([0-9][0-9]*\)$/\1/p' "$d/deploy.holder")
[ -n "$pid" ] && kill "$pid" 2>/dev/null
if flock -s -w 5 9; then echo broken; else echo 'still held'; exit 1; fi"#;

/// Appends `$1` (one line) to the host's audit log, which other operators read.
const AUDIT_SCRIPT: &str = r#"d="$HOME/.shipshape"
mkdir -p "$d" && chmod 700 "$d" && printf '%s\n' "$1" >>"$d/audit.log""#;

/// Who holds the lock, as written when it was taken.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize, TS)]
pub struct LockHolder {
    pub operator: String,
    /// The fingerprint of the key the holder's session authenticated with.
    pub key_fingerprint: String,
    /// The machine the holder runs on.
    pub machine: String,
    pub since: String,
    pub message: String,
    /// The deploy that holds it.
    pub deploy: String,
}

impl LockHolder {
    /// This machine's operator, now, holding (or acting on) the lock for `deploy`.
    pub fn new(operator: String, key_fingerprint: &str, message: &str, deploy: &str) -> LockHolder {
        LockHolder {
            operator,
            key_fingerprint: key_fingerprint.to_string(),
            machine: std::fs::read_to_string("/proc/sys/kernel/hostname")
                .map(|h| h.trim().to_string())
                .unwrap_or_else(|_| "unknown".into()),
            since: crate::history::now(),
            message: message.to_string(),
            deploy: deploy.to_string(),
        }
    }

    /// "root@laptop (SHA256:…) since T: message"
    pub fn describe(&self) -> String {
        format!(
            "{}@{} ({}) since {}: {}",
            self.operator, self.machine, self.key_fingerprint, self.since, self.message
        )
    }
}

#[derive(Debug, Clone, PartialEq, Eq, Serialize, TS)]
pub struct LockStatus {
    pub held: bool,
    /// The holder now, or the last one if the lock is free (`None`: never taken).
    pub holder: Option<LockHolder>,
    /// Exactly what breaking it runs on the host, shown before anyone does.
    pub break_command: String,
}

pub fn acquire_command(holder: &LockHolder) -> RemoteCommand {
    let line = serde_json::to_string(holder).expect("a holder serializes");
    RemoteCommand::new("sh").args(["-c", ACQUIRE_SCRIPT, "shipshape-lock", &line])
}

pub fn status_command() -> RemoteCommand {
    RemoteCommand::new("sh").args(["-c", STATUS_SCRIPT, "shipshape-lock-status"])
}

pub fn break_command() -> RemoteCommand {
    RemoteCommand::new("sh").args(["-c", BREAK_SCRIPT, "shipshape-lock-break"])
}

/// An audit line on the host: `TIME operator@machine (KEY) TARGET DEPLOY STEP: TEXT`, on
/// one line whatever the text holds.
pub fn audit_command(holder: &LockHolder, step: &str, text: &str) -> RemoteCommand {
    let now = humantime::format_rfc3339_seconds(std::time::SystemTime::now()).to_string();
    let line = format!(
        "{now} {}@{} ({}) {} {step}: {text}",
        holder.operator, holder.machine, holder.key_fingerprint, holder.deploy
    )
    .replace(['\n', '\r'], " ");
    RemoteCommand::new("sh").args(["-c", AUDIT_SCRIPT, "shipshape-audit", &line])
}

/// The holder file's text: its JSON line (a `pid=` line follows it).
pub fn parse_holder(text: &str) -> Option<LockHolder> {
    text.lines().find_map(|l| serde_json::from_str(l).ok())
}

/// What the status script printed.
pub fn parse_status(text: &str) -> LockStatus {
    let mut lines = text.splitn(2, '\n');
    let held = lines.next().map(str::trim) == Some("held");
    LockStatus {
        held,
        holder: lines.next().and_then(parse_holder),
        break_command: break_command().render(),
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use std::io::Read;
    use std::process::{Child, Command, Stdio};
    use std::sync::Mutex;

    /// A deploy looks for changes among all of this user's processes: the tests that
    /// start some take turns.
    static HOST: Mutex<()> = Mutex::new(());

    /// `text` run by `sh` as sshd would, with `home` as `$HOME` and its input kept open.
    fn start(home: &std::path::Path, text: &str) -> Child {
        Command::new("sh")
            .arg("-c")
            .arg(text)
            .env("HOME", home)
            .stdin(Stdio::piped())
            .stdout(Stdio::piped())
            .stderr(Stdio::piped())
            .spawn()
            .unwrap()
    }

    /// Runs `text` to its end, its input open all along (its end would end a change):
    /// exit status, standard output, standard error.
    fn run(home: &std::path::Path, text: &str) -> (Option<i32>, String, String) {
        let mut child = start(home, text);
        let _input = child.stdin.take();
        let out = child.wait_with_output().unwrap();
        let said = |bytes: &[u8]| String::from_utf8_lossy(bytes).into_owned();
        (out.status.code(), said(&out.stdout), said(&out.stderr))
    }

    /// A deploy taking the lock: its first line (`acquired`, `held`, `busy`) and, if it
    /// holds the lock, its process (the lock is freed when it is killed).
    fn take_lock(home: &std::path::Path) -> (String, Child) {
        // (`exec`: the process is the script's, so killing it frees the lock.)
        let mut deploy = start(
            home,
            &format!("exec {}", acquire_command(&holder()).render()),
        );
        // A byte at a time: what follows the first line stays in the pipe.
        let (mut first, mut byte) = (Vec::new(), [0u8]);
        let stdout = deploy.stdout.as_mut().unwrap();
        while stdout.read(&mut byte).unwrap() == 1 && byte[0] != b'\n' {
            first.push(byte[0]);
        }
        (String::from_utf8(first).unwrap(), deploy)
    }

    fn change(script: &str) -> RemoteCommand {
        RemoteCommand::new("sh").args(["-c", script]).as_change()
    }

    #[test]
    fn a_deploy_holding_the_lock_keeps_a_change_from_beginning_but_not_its_own_steps() {
        let _host = HOST.lock().unwrap_or_else(|e| e.into_inner());
        let home = tempfile::tempdir().unwrap();
        let ran = home.path().join("ran");
        let touch = format!("touch '{}'", ran.display());
        let (said, mut deploy) = take_lock(home.path());
        assert_eq!(said, "acquired");

        let (code, _, stderr) = run(home.path(), &change(&touch).supervised());
        assert!(
            refused_by_gate(code.map(i64::from), &stderr),
            "{code:?} {stderr}"
        );
        assert!(!ran.exists(), "the refused change ran");
        assert!(run(home.path(), &status_command().render())
            .1
            .starts_with("held\n"));

        let step = RemoteCommand::new("sh")
            .args(["-c", &touch])
            .as_deploy_step();
        assert_eq!(run(home.path(), &step.supervised()).0, Some(0));
        assert!(ran.exists(), "the deploy's own step ran");

        // A save of the env file is a change too: nothing is written.
        let save = crate::env_file::write_command(".env.aws", home.path().to_str().unwrap());
        let mut saving = start(home.path(), &save.render());
        let input = crate::env_file::write_input(b"A=1\n", None);
        let mut stdin = saving.stdin.take().unwrap();
        std::io::Write::write_all(&mut stdin, input.expose().as_bytes()).unwrap();
        drop(stdin);
        let saved = saving.wait_with_output().unwrap();
        let stderr = String::from_utf8_lossy(&saved.stderr);
        assert!(
            refused_by_gate(saved.status.code().map(i64::from), &stderr),
            "{stderr}"
        );
        assert!(
            !home.path().join(".env.aws").exists(),
            "the save wrote under a deploy"
        );

        deploy.kill().unwrap();
        deploy.wait().unwrap();
        std::fs::remove_file(&ran).unwrap();
        assert_eq!(run(home.path(), &change(&touch).supervised()).0, Some(0));
        assert!(ran.exists(), "the change ran once the deploy ended");
    }

    #[test]
    fn a_running_change_holds_a_deploy_back_and_leaves_the_lock_free_to_read_and_unbroken() {
        let _host = HOST.lock().unwrap_or_else(|e| e.into_inner());
        let home = tempfile::tempdir().unwrap();
        let started = home.path().join("started");
        let script = format!("touch '{}'; sleep 30", started.display());
        let mut running = start(home.path(), &change(&script).supervised());
        let deadline = std::time::Instant::now() + std::time::Duration::from_secs(5);
        while !started.exists() {
            assert!(std::time::Instant::now() < deadline, "the change started");
            std::thread::sleep(std::time::Duration::from_millis(20));
        }

        let (said, deploy) = take_lock(home.path());
        let rest = deploy.wait_with_output().unwrap();
        assert_eq!(said, "busy");
        assert_eq!(rest.status.code(), Some(4));
        let rest_said = String::from_utf8_lossy(&rest.stdout);
        assert!(rest_said.contains("sleep 30"), "{rest_said}");
        // Nobody holds it as a deploy: the status says free, and a break ends nobody.
        assert!(run(home.path(), &status_command().render())
            .1
            .starts_with("free\n"));
        assert_eq!(run(home.path(), &break_command().render()).1, "free\n");
        assert!(
            running.try_wait().unwrap().is_none(),
            "the change was ended"
        );

        // Its connection closes: once it is ended (a second at most), a deploy goes ahead.
        drop(running.stdin.take());
        running.wait().unwrap();
        let deadline = std::time::Instant::now() + std::time::Duration::from_secs(5);
        loop {
            let (said, mut deploy) = take_lock(home.path());
            let _ = deploy.kill();
            deploy.wait().unwrap();
            if said == "acquired" {
                break;
            }
            assert!(std::time::Instant::now() < deadline, "still {said}");
            std::thread::sleep(std::time::Duration::from_millis(100));
        }
    }

    #[test]
    fn a_change_and_a_deploy_begun_together_never_run_at_once() {
        let _host = HOST.lock().unwrap_or_else(|e| e.into_inner());
        let home = tempfile::tempdir().unwrap();
        // The change looks at the lock itself, at its start and 0.3 s later: a deploy
        // holding it then is a deploy running beside it.
        let lock = home.path().join(".shipshape/deploy.lock");
        let look = format!("flock -s -n '{}' true || echo beside", lock.display());
        let script = format!("{look}; sleep 0.3; {look}");
        let mut outcomes = std::collections::BTreeMap::new();
        for _ in 0..10 {
            let (change, deploy) = std::thread::scope(|s| {
                let change = s.spawn(|| run(home.path(), &change(&script).supervised()));
                let deploy = s.spawn(|| take_lock(home.path()));
                (change.join().unwrap(), deploy.join().unwrap())
            });
            let (said, mut process) = deploy;
            let _ = process.kill();
            process.wait().unwrap();
            let (code, stdout, _) = change;
            assert!(!stdout.contains("beside"), "a deploy ran beside the change");
            *outcomes.entry((code, said)).or_insert(0) += 1;
        }
        for (code, said) in outcomes.keys() {
            assert!(
                matches!(
                    (code, said.as_str()),
                    (Some(0), "busy" | "acquired") | (Some(75), "acquired")
                ),
                "{outcomes:?}"
            );
        }
    }

    fn holder() -> LockHolder {
        LockHolder {
            operator: "ann".into(),
            key_fingerprint: "SHA256:abc".into(),
            machine: "laptop".into(),
            since: "2026-01-01T00:00:00Z".into(),
            message: "release 1.2; it's 'quoted'\nand two lines".into(),
            deploy: "deploy-1".into(),
        }
    }

    #[test]
    fn the_holder_travels_as_one_quoted_argument_and_reads_back() {
        let text = acquire_command(&holder()).render();
        assert!(
            text.contains("shipshape-lock '{\"operator\":\"ann\""),
            "{text}"
        );
        let status = parse_status(&format!(
            "held\n{}\npid=42\n",
            serde_json::to_string(&holder()).unwrap()
        ));
        assert!(status.held);
        assert_eq!(status.holder, Some(holder()));
        assert_eq!(
            parse_status("free\n"),
            LockStatus {
                held: false,
                holder: None,
                break_command: break_command().render(),
            }
        );
        let audit = audit_command(&holder(), "lock", "x\ny").render();
        assert!(
            !audit.contains("x\ny") && audit.contains("deploy-1 lock: x y"),
            "{audit}"
        );
    }
}
