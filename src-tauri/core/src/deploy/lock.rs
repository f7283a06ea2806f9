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
/// closes. Held by someone else: says `held`, then the holder, and exits 4. A change
/// already running (its supervisor named `shipshape-change`: a migration, an `up`
/// another console or CLI started before the lock was taken; changes check the lock
/// before they start) holds it back too: says `busy`, then that change's command, and
/// exits 4. `$1` is the holder (one line of JSON).
const ACQUIRE_SCRIPT: &str = r#"d="$HOME/.shipshape"
mkdir -p "$d" && chmod 700 "$d" && exec 9>>"$d/deploy.lock" || exit 2
if ! flock -w 0.2 9; then echo held; cat "$d/deploy.holder" 2>/dev/null; exit 4; fi
for p in $(pgrep -u "$(id -u)" -f '[s]hipshape-change ' 2>/dev/null); do
  c=$(tr '\0\n' '\n ' <"/proc/$p/cmdline" 2>/dev/null | sed -n '4{/^shipshape-change$/!q;};5p')
  [ -z "$c" ] || { echo busy; printf '%s\n' "$c" | head -c 500; echo; exit 4; }
done
printf '%s\npid=%s\n' "$1" "$$" >"$d/deploy.holder"
echo acquired
exec sleep 2147483647"#;

/// `free` or `held`, then the last holder written.
const STATUS_SCRIPT: &str = r#"d="$HOME/.shipshape"
[ -e "$d/deploy.lock" ] || { echo free; exit 0; }
exec 9>>"$d/deploy.lock" || exit 2
if flock -n 9; then echo free; else echo held; fi
cat "$d/deploy.holder" 2>/dev/null
exit 0"#;

/// Ends the holder's process (its pid is in the holder file), then waits for the lock
/// to come free; `free` if nobody held it, `broken` once it is free, exit 1 if it stays
/// held.
const BREAK_SCRIPT: &str = r#"d="$HOME/.shipshape"
[ -e "$d/deploy.lock" ] || { echo free; exit 0; }
exec 9>>"$d/deploy.lock" || exit 2
if flock -n 9; then echo free; exit 0; fi
pid=$(sed -n 's/^pid=\([0-9][0-9]*\)$/\1/p' "$d/deploy.holder")
[ -n "$pid" ] && kill "$pid" 2>/dev/null
if flock -w 5 9; then echo broken; else echo 'still held'; exit 1; fi"#;

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
