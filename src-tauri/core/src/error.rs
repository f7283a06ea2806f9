//! Errors carry a closed set of codes so every adapter (console, CLI) can act on them:
//! the UI picks a screen and the CLI picks an exit code from the code alone, never by
//! matching message text.

use serde::Serialize;
use ts_rs::TS;

/// What went wrong, as the UI and the CLI act on it.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, TS)]
#[serde(rename_all = "snake_case")]
pub enum ErrorCode {
    /// The host's key differs from the pinned one: possible impersonation.
    HostKeyMismatch,
    /// No key is pinned for this host yet: the operator must confirm one.
    HostKeyUnknown,
    /// The server refused our key.
    AuthRejected,
    NameNotResolved,
    ConnectionRefused,
    /// Connecting, or a remote command, took longer than its deadline.
    Timeout,
    /// The connection broke (or stopped answering) after it was established.
    ConnectionLost,
    /// Another change is already running on the target.
    Busy,
    /// The OS keyring (Secret Service, Keychain, Credential Manager) is unreachable or locked.
    KeyringUnavailable,
    KeyNotFound,
    /// A key could not be read (bad format).
    KeyInvalid,
    /// The key is encrypted: ask for its passphrase.
    PassphraseRequired,
    PassphraseWrong,
    TargetNotFound,
    /// Input that fails validation before anything runs.
    BadInput,
    /// The target or its policy changed between the plan the operator confirmed and
    /// the run: nothing ran.
    PlanChanged,
    /// A remote command ran and failed, or its output was not what the policy expects.
    RemoteFailed,
    /// A verification ran and at least one of its checks failed.
    ChecksFailed,
    /// The journal's hash chain is broken: a stored record was changed or removed.
    JournalBroken,
    /// A local file could not be read or written.
    Storage,
    /// The settings file is damaged: Shipshape reads nothing from it and never writes it.
    SettingsDamaged,
    /// Anything the SSH library reports that fits none of the above.
    Protocol,
    /// The operator stopped a deploy between two steps, or a verification.
    Stopped,
}

impl ErrorCode {
    /// The heading the console shows for an error with this code.
    pub fn title(self) -> &'static str {
        use ErrorCode::*;
        match self {
            HostKeyMismatch => "The host key does not match",
            HostKeyUnknown => "This host is not trusted yet",
            AuthRejected => "The server refused your key",
            NameNotResolved => "Host name not found",
            ConnectionRefused => "Connection refused",
            Timeout => "No answer in time",
            ConnectionLost => "Connection lost",
            Busy => "Another change is running",
            KeyringUnavailable => "The OS keyring is not available",
            KeyNotFound => "Key not in the keyring",
            KeyInvalid => "The key could not be read",
            PassphraseRequired => "This key needs its passphrase",
            PassphraseWrong => "Wrong passphrase",
            TargetNotFound => "Unknown target",
            BadInput => "That input is not valid",
            PlanChanged => "What you confirmed has changed",
            RemoteFailed => "The command failed on the host",
            ChecksFailed => "Checks failed",
            JournalBroken => "The journal was tampered with",
            Storage => "Could not use a local file",
            SettingsDamaged => "The settings file is damaged",
            Protocol => "SSH error",
            Stopped => "Stopped by the operator",
        }
    }

    /// Situations that call for more than a retry: someone may be impersonating the
    /// host, or the operator's own data is at stake.
    pub fn is_danger(self) -> bool {
        matches!(
            self,
            ErrorCode::HostKeyMismatch | ErrorCode::SettingsDamaged | ErrorCode::JournalBroken
        )
    }

    /// The CLI's exit code for this error (DESIGN.md: 1 remote failure, 2 bad input,
    /// 3 connection, host-trust or authentication failure).
    pub fn exit_code(self) -> i32 {
        use ErrorCode::*;
        match self {
            HostKeyMismatch | HostKeyUnknown | AuthRejected | NameNotResolved
            | ConnectionRefused | Timeout | ConnectionLost | Protocol => 3,
            BadInput | PlanChanged | TargetNotFound | KeyNotFound | KeyInvalid
            | PassphraseRequired | PassphraseWrong => 2,
            KeyringUnavailable => 3,
            Busy => 4,
            SettingsDamaged => 2,
            RemoteFailed | ChecksFailed | JournalBroken | Storage | Stopped => 1,
        }
    }
}

#[derive(Debug, thiserror::Error)]
pub enum Error {
    /// `expected`: the pinned fingerprint, or the one the operator gave to pin.
    #[error(
        "The host key of {host} does not match the one expected ({expected}): the server offered {actual}."
    )]
    HostKeyMismatch {
        host: String,
        expected: String,
        actual: String,
    },
    #[error(
        "{host} is not trusted yet. It offered a {key_type} key with fingerprint {fingerprint}."
    )]
    HostKeyUnknown {
        host: String,
        key_type: String,
        fingerprint: String,
    },
    #[error("The server {host} refused the key {key} for user {user}.")]
    AuthRejected {
        host: String,
        user: String,
        key: String,
    },
    #[error("The name {host} could not be resolved.")]
    NameNotResolved { host: String },
    #[error("{host}:{port} refused the connection.")]
    ConnectionRefused { host: String, port: u16 },
    #[error("The jump host {via} could not open a connection to {host}:{port} ({reason}).")]
    JumpRefused {
        via: String,
        host: String,
        port: u16,
        reason: String,
    },
    #[error("{what} timed out after {seconds} s.")]
    Timeout { what: String, seconds: u64 },
    #[error("{host} did not finish `{command}` within {seconds} s, so Shipshape ended it there.")]
    CommandTimeout {
        host: String,
        command: String,
        seconds: u64,
    },
    #[error("The connection to {host} was lost.")]
    ConnectionLost { host: String },
    #[error("The connection to {host} was lost while `{command}` ran: it may or may not have finished there.")]
    Interrupted { host: String, command: String },
    #[error("{target} is busy: {running} is still running.")]
    Busy { target: String, running: String },
    #[error("{host} is locked for a deploy by {holder}.")]
    HostLocked { host: String, holder: String },
    #[error("The OS keyring is not reachable: {cause}.")]
    KeyringUnavailable { cause: String },
    #[error("No key named {} is in the keyring.", crate::input::shown(.0))]
    KeyNotFound(String),
    #[error("The key {name} could not be read: {cause}")]
    KeyInvalid { name: String, cause: String },
    #[error("The key {0} is protected by a passphrase.")]
    PassphraseRequired(String),
    #[error("The passphrase for the key {0} is wrong.")]
    PassphraseWrong(String),
    #[error("No target named {}.", crate::input::shown(.0))]
    TargetNotFound(String),
    #[error("{0}")]
    BadInput(String),
    #[error("{}", plan_changed(.target, *.what))]
    PlanChanged { target: String, what: PlanChange },
    #[error("{}", remote_failed(.what, *.exit_code))]
    RemoteFailed {
        what: String,
        exit_code: i64,
        detail: String,
    },
    #[error("The step \"{step}\" did not succeed: {detail}")]
    StepFailed { step: String, detail: String },
    #[error("Stopped by the operator after \"{after}\": the steps after it did not run.")]
    Stopped { after: String },
    /// A read the operator stopped before it ended (a verification).
    #[error("{what} was stopped by the operator before it ended.")]
    Cancelled { what: String },
    #[error("{} of {total} checks failed on {target}: {}.", failed.len(), failed.join(", "))]
    ChecksFailed {
        target: String,
        total: usize,
        failed: Vec<String>,
    },
    #[error("The journal's record {record} (entry {seq}) does not hold: {reason}.")]
    JournalBroken {
        seq: i64,
        record: String,
        reason: String,
    },
    /// A report's journal head that the journal (its chain intact) does not hold.
    #[error("The journal holds no entry with hash {head}, the head the report names. Either the report was made from another journal, or entries were removed from this one's end, or its chain was rewritten, since the report was made.")]
    JournalMissing { head: String },
    #[error("Could not use {path}: {cause}")]
    Storage { path: String, cause: String },
    #[error("Entry {seq} ({record}) of the journal holds in its chain, but {reason}: the history and reports leave out what it records.")]
    JournalUnreadable {
        seq: i64,
        record: String,
        reason: String,
    },
    #[error("The settings file {path} is damaged ({}).", damage(*.line, .problem))]
    SettingsDamaged {
        /// 0: no one line (the file is not text, or a part of it is not what it must be).
        path: String,
        line: usize,
        problem: String,
    },
    #[error("SSH error: {0}")]
    Protocol(String),
}

impl Error {
    pub fn code(&self) -> ErrorCode {
        match self {
            Error::HostKeyMismatch { .. } => ErrorCode::HostKeyMismatch,
            Error::HostKeyUnknown { .. } => ErrorCode::HostKeyUnknown,
            Error::AuthRejected { .. } => ErrorCode::AuthRejected,
            Error::NameNotResolved { .. } => ErrorCode::NameNotResolved,
            Error::ConnectionRefused { .. } | Error::JumpRefused { .. } => {
                ErrorCode::ConnectionRefused
            }
            Error::Timeout { .. } | Error::CommandTimeout { .. } => ErrorCode::Timeout,
            Error::ConnectionLost { .. } | Error::Interrupted { .. } => ErrorCode::ConnectionLost,
            Error::Busy { .. } | Error::HostLocked { .. } => ErrorCode::Busy,
            Error::KeyringUnavailable { .. } => ErrorCode::KeyringUnavailable,
            Error::KeyNotFound(_) => ErrorCode::KeyNotFound,
            Error::KeyInvalid { .. } => ErrorCode::KeyInvalid,
            Error::PassphraseRequired(_) => ErrorCode::PassphraseRequired,
            Error::PassphraseWrong(_) => ErrorCode::PassphraseWrong,
            Error::TargetNotFound(_) => ErrorCode::TargetNotFound,
            Error::BadInput(_) => ErrorCode::BadInput,
            Error::PlanChanged { .. } => ErrorCode::PlanChanged,
            Error::RemoteFailed { .. } | Error::StepFailed { .. } => ErrorCode::RemoteFailed,
            Error::Stopped { .. } | Error::Cancelled { .. } => ErrorCode::Stopped,
            Error::ChecksFailed { .. } => ErrorCode::ChecksFailed,
            Error::JournalBroken { .. } | Error::JournalMissing { .. } => ErrorCode::JournalBroken,
            Error::Storage { .. } | Error::JournalUnreadable { .. } => ErrorCode::Storage,
            Error::SettingsDamaged { .. } => ErrorCode::SettingsDamaged,
            Error::Protocol(_) => ErrorCode::Protocol,
        }
    }

    /// A part of the settings file (`what`: "the targets list") that is JSON but not
    /// what it must hold: the file is damaged, as for bad JSON.
    pub(crate) fn settings_part(what: &str, problem: impl std::fmt::Display) -> Error {
        Error::SettingsDamaged {
            path: "settings.json".into(),
            line: 0,
            problem: format!("{what} is unreadable: {problem}"),
        }
    }

    pub(crate) fn storage(
        path: impl AsRef<std::path::Path>,
        cause: impl std::fmt::Display,
    ) -> Self {
        Error::Storage {
            path: path.as_ref().display().to_string(),
            cause: cause.to_string(),
        }
    }

    /// What to do next, in one or two sentences: the only place remedies are written
    /// (the CLI prints it under the message, the console shows it in the error panel).
    /// Empty where the message itself says it (bad input names what was expected).
    pub fn remedy(&self) -> String {
        match self {
            Error::HostKeyMismatch { .. } => "This can mean the host was rebuilt or re-keyed, or that someone is impersonating it. Shipshape stopped before sending your key. Compare the offered fingerprint with the one in the EC2 console's system log (or ask whoever rebuilt the host) before re-pinning.".into(),
            Error::HostKeyUnknown { .. } => "Compare the fingerprint with the one in the EC2 console's system log, then pin it: on the Targets screen, or `shipshape target trust NAME --fingerprint SHA256:…` (or `--known-hosts FILE`, or on a terminal, where it asks).".into(),
            Error::AuthRejected { user, key, .. } => format!("Add this public key to ~/.ssh/authorized_keys for user {user} on the host: {key}"),
            Error::NameNotResolved { .. } => "Check the target's host name or IP address.".into(),
            Error::ConnectionRefused { .. } => "Check that sshd runs on the host and that the port is right.".into(),
            Error::JumpRefused { .. } => "Check the target's host and port as the jump host sees them, and that the jump host may reach it (its firewall or security group, and AllowTcpForwarding in its sshd_config).".into(),
            Error::Timeout { .. } => "Check the network path to the host (VPN, security group), then try again.".into(),
            Error::CommandTimeout { .. } => "The host may be overloaded, or Docker on it may be stuck: check the host, then reconnect and try again.".into(),
            Error::ConnectionLost { .. } => "Reconnect and try again.".into(),
            Error::Interrupted { .. } => "Reconnect and check the service status before running it again.".into(),
            Error::Busy { .. } => "Wait for it to end, or stop it, then try again: one change runs on a target at a time.".into(),
            Error::HostLocked { .. } => "Wait for that deploy to end. If its holder can no longer be reached, break the lock deliberately with `shipshape lock release NAME --reason TEXT`: the reason is recorded here and on the host.".into(),
            Error::KeyringUnavailable { .. } => "Unlock your keyring, or start a Secret Service (for example gnome-keyring) in your desktop session, then try again.".into(),
            Error::KeyNotFound(_) => "Import or generate it on the Keys screen (or `shipshape key import`).".into(),
            Error::KeyInvalid { .. } => "Check that the file is an OpenSSH private key.".into(),
            Error::PassphraseRequired(_) => "Enter its passphrase to import the key (the CLI asks on a terminal, or reads it with --passphrase-stdin).".into(),
            Error::PassphraseWrong(_) => "Check the passphrase and try again.".into(),
            Error::TargetNotFound(_) => "Pick one of the targets listed (`shipshape target list`).".into(),
            Error::BadInput(_) => String::new(),
            Error::PlanChanged { .. } => "Look at its plan again (`--dry-run` prints it; without `--yes`, it is shown before the question) and confirm what it shows now.".into(),
            Error::RemoteFailed { .. } => "Read the host's output; nothing else was run.".into(),
            Error::Stopped { .. } => "The host is as that step left it and the lock is free. A deploy resumes with `shipshape deploy NAME --resume DEPLOY_ID` (the snapshot it took stays the one a rollback returns to), or is rolled back with `shipshape rollback NAME --reason TEXT`; a rollback is checked with `shipshape verify NAME`, or run again.".into(),
            Error::Cancelled { .. } => "Nothing on the host was changed, and nothing of it was recorded as checked. Run it again when ready.".into(),
            Error::StepFailed { .. } => "The steps after it did not run. Read its output in the deploy record (`shipshape history`); if the host was changed, roll back with `shipshape rollback NAME --reason TEXT`.".into(),
            Error::ChecksFailed { .. } => "Read each failed item's evidence, fix the cause on the host and verify again, or waive the item with a written reason.".into(),
            Error::JournalBroken { .. } => "Entries from that one on cannot be trusted. Keep the journal file as it is for whoever audits it, and compare it with a backup.".into(),
            Error::JournalMissing { .. } => "Keep the journal file as it is for whoever audits it, and compare it with a backup, and with the journal of whoever made the report.".into(),
            Error::Storage { .. } => "Check that file and its permissions.".into(),
            Error::JournalUnreadable { .. } => "Nothing in it was changed. Read it with the Shipshape version that wrote it (a newer one, if this one is older), and keep the journal file as it is; if this version wrote it, attach Shipshape's diagnostic log to a bug report.".into(),
            Error::SettingsDamaged { .. } => "Shipshape will not change the file, so nothing is lost: repair it in a text editor, or move the file aside to start afresh, then try again.".into(),
            Error::Protocol(_) => "Try again; if it keeps happening, check the host's sshd log and attach Shipshape's diagnostic log to a bug report.".into(),
        }
    }

    /// [`Error::remedy`] as the window says it: by its screens and buttons where the
    /// terminal's names a command (the window cannot run one, and has the button).
    pub fn remedy_in_window(&self) -> String {
        match self {
            Error::HostKeyUnknown { .. } => "Compare the fingerprint with the one in the EC2 console's system log, then pin it on the Targets screen: Trust… on the target's row (Check key once its own key is pinned and a jump host's is not).".into(),
            Error::HostLocked { .. } => "Wait for that deploy to end. If its holder can no longer be reached, break the lock deliberately on the Deploy screen (Break the lock…): the reason is recorded here and on the host.".into(),
            Error::KeyNotFound(_) => "Import or generate it on the Keys screen.".into(),
            Error::PassphraseRequired(_) => "Enter its passphrase to import the key.".into(),
            Error::TargetNotFound(_) => "Pick one of the targets listed on the Targets screen.".into(),
            Error::PlanChanged { .. } => "Open the confirmation again: it shows the plan as it is now.".into(),
            Error::Stopped { .. } => "The host is as that step left it and the lock is free. On the Deploy screen, Resume… goes on where it is offered (a deploy that took its snapshot, which stays the one a rollback returns to), Roll back… returns the host to a snapshot, and a stopped rollback is run again from there; the Checklist screen verifies the host.".into(),
            Error::StepFailed { .. } => "The steps after it did not run; the step's note, and what it printed last if anything, are under it on the Deploy screen. If the host was changed, return it to the snapshot with Roll back… there.".into(),
            other => other.remedy(),
        }
    }

    /// Technical detail worth showing folded below the message.
    pub fn detail(&self) -> Option<String> {
        match self {
            Error::RemoteFailed { detail, .. } if !detail.is_empty() => Some(detail.clone()),
            Error::HostKeyMismatch {
                expected, actual, ..
            } => Some(format!(
                "expected: {expected}\noffered: {actual}\nNo authentication was attempted."
            )),
            _ => None,
        }
    }
}

pub type Result<T, E = Error> = std::result::Result<T, E>;

/// What changed under a plan an operator confirmed ([`Error::PlanChanged`]).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum PlanChange {
    /// The target's definition or its policy (another window, the CLI).
    Definition,
    /// The steps, the definition unchanged: a newer snapshot to return to, or the other
    /// Compose found on the host.
    Steps,
}

fn plan_changed(target: &str, what: PlanChange) -> String {
    let target = crate::input::shown(target);
    match what {
        PlanChange::Definition => format!("{target} or its policy changed after its plan was shown (in another window, or from the command line): nothing ran."),
        PlanChange::Steps => format!("What would run on {target} changed after its plan was shown (a deploy since took a newer snapshot, or the host was found to run the other Compose): nothing ran."),
    }
}

/// A remote command that exited 0 but answered with what Shipshape cannot read (a host
/// that prints garbage) did not fail on the host: saying "exit code 0" would confuse.
fn remote_failed(what: &str, exit_code: i64) -> String {
    match exit_code {
        0 => format!("{what}: the host answered, but not with what was expected."),
        code => format!("{what} failed on the host (exit code {code})."),
    }
}

/// An error as it crosses to the UI: the code decides the screen, the title heads it,
/// the message says what happened, the remedy what to do (as the window says it), the
/// detail is folded below.
#[derive(Debug, Clone, Serialize, TS)]
pub struct ErrorReport {
    pub code: ErrorCode,
    /// A heading for the code.
    pub title: String,
    /// What happened.
    pub message: String,
    /// What to do next; may be empty.
    pub remedy: String,
    pub detail: Option<String>,
    /// Deserves a stronger treatment than an ordinary failure.
    pub danger: bool,
}

impl From<&Error> for ErrorReport {
    /// Shown as sentences: a value the message quotes is cut short and its control
    /// characters made visible, wherever the message was written.
    fn from(error: &Error) -> Self {
        let code = error.code();
        let shown = |text: &str| crate::terminal::printable(&crate::input::brief(text));
        ErrorReport {
            code,
            title: code.title().to_string(),
            message: shown(&error.to_string()),
            remedy: shown(&error.remedy_in_window()),
            detail: error
                .detail()
                .map(|detail| crate::terminal::printable(&detail)),
            danger: code.is_danger(),
        }
    }
}

impl From<Error> for ErrorReport {
    fn from(error: Error) -> Self {
        ErrorReport::from(&error)
    }
}

/// Where the settings file is damaged, and how.
fn damage(line: usize, problem: &str) -> String {
    match line {
        0 => problem.to_string(),
        line => format!("line {line}: {problem}"),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_command_that_exited_0_with_garbage_is_not_said_to_have_failed_with_exit_0() {
        let unreadable = |exit_code| Error::RemoteFailed {
            what: "Reading the output of docker compose ps".into(),
            exit_code,
            detail: String::new(),
        };
        assert_eq!(
            unreadable(0).to_string(),
            "Reading the output of docker compose ps: the host answered, but not with what was expected."
        );
        assert!(unreadable(3)
            .to_string()
            .ends_with("failed on the host (exit code 3)."));
    }

    #[test]
    fn a_report_carries_its_title_what_happened_and_what_to_do() {
        let error = Error::AuthRejected {
            host: "h".into(),
            user: "ubuntu".into(),
            key: "ssh-ed25519 AAAA test".into(),
        };
        let report = ErrorReport::from(&error);
        assert_eq!(report.title, "The server refused your key");
        assert_eq!(
            report.message,
            "The server h refused the key ssh-ed25519 AAAA test for user ubuntu."
        );
        assert!(report.remedy.contains("authorized_keys for user ubuntu"));
        assert!(report.remedy.contains("ssh-ed25519 AAAA test"));
        assert!(!report.danger);

        let mismatch = ErrorReport::from(Error::HostKeyMismatch {
            host: "h:22".into(),
            expected: "SHA256:a".into(),
            actual: "SHA256:b".into(),
        });
        assert!(mismatch.danger);
        assert!(mismatch.remedy.contains("impersonating"));
        // What to do is said once: never in the message as well.
        assert!(!mismatch.message.contains("impersonating"));
    }

    #[test]
    fn the_window_is_told_its_screens_and_buttons_never_a_command_to_type() {
        let errors = [
            Error::HostKeyUnknown {
                host: "h:22".into(),
                key_type: "ssh-ed25519".into(),
                fingerprint: "SHA256:a".into(),
            },
            Error::HostLocked {
                host: "h".into(),
                holder: "ann@laptop".into(),
            },
            Error::KeyNotFound("k".into()),
            Error::PassphraseRequired("k".into()),
            Error::TargetNotFound("t".into()),
            Error::Stopped {
                after: "Pull".into(),
            },
            Error::StepFailed {
                step: "Pull".into(),
                detail: "x".into(),
            },
        ];
        for error in errors {
            let report = ErrorReport::from(&error);
            assert!(
                !report.remedy.contains("shipshape ") && !report.remedy.contains("CLI"),
                "{error:?}: {}",
                report.remedy
            );
            assert!(!report.remedy.is_empty());
            // The terminal is still told the commands.
            assert!(error.remedy().contains("shipshape ") || error.remedy().contains("CLI"));
        }
    }
}
