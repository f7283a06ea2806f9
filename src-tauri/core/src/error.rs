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
    /// A remote command ran and failed, or its output was not what the policy expects.
    RemoteFailed,
    /// A local file could not be read or written.
    Storage,
    /// The settings file is damaged: Shipshape reads nothing from it and never writes it.
    SettingsDamaged,
    /// Anything the SSH library reports that fits none of the above.
    Protocol,
}

impl ErrorCode {
    /// The CLI's exit code for this error (DESIGN.md: 1 remote failure, 2 bad input,
    /// 3 connection, host-trust or authentication failure).
    pub fn exit_code(self) -> i32 {
        use ErrorCode::*;
        match self {
            HostKeyMismatch | HostKeyUnknown | AuthRejected | NameNotResolved
            | ConnectionRefused | Timeout | ConnectionLost | Protocol => 3,
            BadInput | TargetNotFound | KeyNotFound | KeyInvalid | PassphraseRequired
            | PassphraseWrong => 2,
            KeyringUnavailable => 3,
            Busy => 4,
            SettingsDamaged => 2,
            RemoteFailed | Storage => 1,
        }
    }
}

#[derive(Debug, thiserror::Error)]
pub enum Error {
    #[error("The host key of {host} does not match the pinned key: expected {expected}, the server offered {actual}. Do not continue until you know why.")]
    HostKeyMismatch {
        host: String,
        expected: String,
        actual: String,
    },
    #[error("{host} is not trusted yet. It offered a {key_type} key with fingerprint {fingerprint}; confirm it before connecting.")]
    HostKeyUnknown {
        host: String,
        key_type: String,
        fingerprint: String,
    },
    #[error("The server {host} refused the key {key}. Add its public key to ~/.ssh/authorized_keys for user {user} on the host.")]
    AuthRejected {
        host: String,
        user: String,
        key: String,
    },
    #[error(
        "The name {host} could not be resolved. Check the host name or IP address of the target."
    )]
    NameNotResolved { host: String },
    #[error("{host}:{port} refused the connection. Check that sshd runs there and that the port is right.")]
    ConnectionRefused { host: String, port: u16 },
    #[error(
        "{what} timed out after {seconds} s. Check the network path to the host and try again."
    )]
    Timeout { what: String, seconds: u64 },
    #[error("{host} did not finish `{command}` within {seconds} s, so Shipshape ended it. The host may be overloaded or Docker may be stuck: check the host, then try again.")]
    CommandTimeout {
        host: String,
        command: String,
        seconds: u64,
    },
    #[error("The connection to {host} was lost. Reconnect and try again.")]
    ConnectionLost { host: String },
    #[error("The connection to {host} was lost while `{command}` ran: it may or may not have finished there. Reconnect and check the status before running it again.")]
    Interrupted { host: String, command: String },
    #[error("{target} is busy: {running} is still running. Wait for it to end, or stop it, then try again.")]
    Busy { target: String, running: String },
    #[error("The OS keyring is not reachable: {cause}. {fix}")]
    KeyringUnavailable { cause: String, fix: String },
    #[error("No key named {0} is in the keyring. Import or generate it on the Keys screen.")]
    KeyNotFound(String),
    #[error("The key {name} could not be read: {cause}")]
    KeyInvalid { name: String, cause: String },
    #[error("The key {0} is protected by a passphrase. Enter it to import the key.")]
    PassphraseRequired(String),
    #[error("The passphrase for the key {0} is wrong. Try again.")]
    PassphraseWrong(String),
    #[error("No target named {0}.")]
    TargetNotFound(String),
    #[error("{0}")]
    BadInput(String),
    #[error("{what} failed on the host (exit code {exit_code}).")]
    RemoteFailed {
        what: String,
        exit_code: i64,
        detail: String,
    },
    #[error("Could not use {path}: {cause}")]
    Storage { path: String, cause: String },
    #[error("The settings file {path} is damaged (line {line}: {problem}). Shipshape will not change it: repair it, or move it aside to start afresh, then try again.")]
    SettingsDamaged {
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
            Error::ConnectionRefused { .. } => ErrorCode::ConnectionRefused,
            Error::Timeout { .. } | Error::CommandTimeout { .. } => ErrorCode::Timeout,
            Error::ConnectionLost { .. } | Error::Interrupted { .. } => ErrorCode::ConnectionLost,
            Error::Busy { .. } => ErrorCode::Busy,
            Error::KeyringUnavailable { .. } => ErrorCode::KeyringUnavailable,
            Error::KeyNotFound(_) => ErrorCode::KeyNotFound,
            Error::KeyInvalid { .. } => ErrorCode::KeyInvalid,
            Error::PassphraseRequired(_) => ErrorCode::PassphraseRequired,
            Error::PassphraseWrong(_) => ErrorCode::PassphraseWrong,
            Error::TargetNotFound(_) => ErrorCode::TargetNotFound,
            Error::BadInput(_) => ErrorCode::BadInput,
            Error::RemoteFailed { .. } => ErrorCode::RemoteFailed,
            Error::Storage { .. } => ErrorCode::Storage,
            Error::SettingsDamaged { .. } => ErrorCode::SettingsDamaged,
            Error::Protocol(_) => ErrorCode::Protocol,
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

    /// Technical detail worth showing folded below the message.
    pub fn detail(&self) -> Option<String> {
        match self {
            Error::RemoteFailed { detail, .. } if !detail.is_empty() => Some(detail.clone()),
            Error::HostKeyMismatch {
                expected, actual, ..
            } => Some(format!(
                "pinned: {expected}\noffered: {actual}\nNo authentication was attempted."
            )),
            _ => None,
        }
    }
}

pub type Result<T, E = Error> = std::result::Result<T, E>;

/// An error as it crosses to the UI: the code decides the screen, the message is one
/// plain sentence (or two: what happened, what to do), the detail is folded below.
#[derive(Debug, Clone, Serialize, TS)]
pub struct ErrorReport {
    pub code: ErrorCode,
    pub message: String,
    pub detail: Option<String>,
}

impl From<&Error> for ErrorReport {
    fn from(error: &Error) -> Self {
        ErrorReport {
            code: error.code(),
            message: error.to_string(),
            detail: error.detail(),
        }
    }
}

impl From<Error> for ErrorReport {
    fn from(error: Error) -> Self {
        ErrorReport::from(&error)
    }
}
