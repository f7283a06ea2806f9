//! One SSH connection per target (russh), multiplexing every command as its own channel.
//! The server's key is compared with the pinned fingerprint inside the key exchange, so a
//! host that fails the check is dropped before our key or user name is ever sent.
//!
//! Most commands finish and are kept whole as evidence ([`Connection::exec`]); a few
//! (`logs -f`) never finish by themselves, so [`Connection::exec_streaming`] hands their
//! output over as it arrives. Every command has a deadline and runs under a supervisor
//! that ends it when its channel closes: without a terminal, sshd would otherwise leave
//! it running on the host after the console is gone ([`run`]).

use std::sync::{Arc, Mutex};
use std::time::{Duration, Instant, SystemTime};

use russh::client::{self, Handle};
use russh::keys::{PrivateKey, PrivateKeyWithHashAlg};
use serde::Serialize;
use ts_rs::TS;

use crate::error::{Error, Result};
use crate::shell::RemoteCommand;
use crate::trust::HostPin;

mod captured;
mod host_key;
mod run;

pub use captured::{Captured, KEPT_BYTES};
use host_key::PinnedHostKey;
pub use host_key::{host_key_algorithms, HostKeyOffer};
pub use run::{CommandEnd, CommandOutputSummary, Deadline, StreamChunk, StreamingCommand};

/// Ends a streamed command ([`Connection::exec_streaming`]); cloned freely, cancelled once.
pub use tokio_util::sync::CancellationToken;

/// Where to connect and as whom.
#[derive(Debug, Clone)]
pub struct Endpoint {
    pub host: String,
    pub port: u16,
    pub user: String,
}

/// The outcome of one remote command, kept whole as evidence.
#[derive(Debug, Clone, Serialize, TS)]
pub struct CommandOutput {
    /// Exactly the text that was sent to the host.
    pub command: String,
    pub stdout: String,
    pub stderr: String,
    /// `None` when the command ended without an exit status (killed by a signal).
    pub exit_code: Option<i64>,
    pub started_at: String,
    #[ts(type = "number")]
    pub duration_ms: u64,
}

impl CommandOutput {
    pub fn succeeded(&self) -> bool {
        self.exit_code == Some(0)
    }

    /// The output if its command succeeded; otherwise the failure, saying what it was for.
    pub fn required(self, what: &str) -> Result<CommandOutput> {
        match self.succeeded() {
            true => Ok(self),
            false => Err(Error::RemoteFailed {
                what: what.into(),
                exit_code: self.exit_code.unwrap_or(-1),
                detail: self.stderr.trim().to_string(),
            }),
        }
    }
}

pub struct Connection {
    handle: Arc<Handle<PinnedHostKey>>,
    host: String,
    host_key: String,
    /// The fingerprint of the key this connection authenticated with.
    client_key: String,
    /// Channels this connection may have open at once ([`MAX_CHANNELS`]).
    channels: Arc<tokio::sync::Semaphore>,
}

/// OpenSSH's sshd refuses an eleventh session on one connection (`MaxSessions 10`):
/// a verification's probes beside a deploy's lock, the live view and a log follow could
/// ask for more. Commands past this many wait for a channel to close.
pub const MAX_CHANNELS: usize = 8;

/// How long a channel the host refused (a lower `MaxSessions`) is asked for again.
const CHANNEL_RETRY: Duration = Duration::from_secs(10);

/// How long to wait for the TCP connection, key exchange and authentication together.
pub const CONNECT_TIMEOUT: Duration = Duration::from_secs(15);

/// A host silent this long is asked whether it is still there...
pub const KEEPALIVE_INTERVAL: Duration = Duration::from_secs(4);
/// ...and after this many unanswered asks the connection counts as lost: a host that
/// stops answering mid-command is noticed within about 12 s.
pub const KEEPALIVE_MAX: usize = 2;

impl Connection {
    /// Connects, verifies the host key against `pin` (asking the host for the pinned key's
    /// type), then authenticates with `key`. With no pin, fails with
    /// [`Error::HostKeyUnknown`] carrying what the host offered, so the operator can
    /// compare and pin it.
    pub async fn open(
        endpoint: &Endpoint,
        pin: Option<&HostPin>,
        key: &PrivateKey,
        timeout: Duration,
    ) -> Result<Connection> {
        let key_type = pin.and_then(|p| p.key_type.as_deref());
        let expected = pin.map(|p| p.fingerprint.as_str());
        Self::open_with(endpoint, expected, key_type, key, timeout).await
    }

    /// [`Connection::open`] with the pin's parts: the fingerprint expected (`None`: any
    /// key fails as unknown) and the key type asked for (`None`: the host's preferred).
    async fn open_with(
        endpoint: &Endpoint,
        pinned: Option<&str>,
        key_type: Option<&str>,
        key: &PrivateKey,
        timeout: Duration,
    ) -> Result<Connection> {
        let seconds = timeout.as_secs();
        let asked = host_key::preferences(key_type)?;
        tokio::time::timeout(
            timeout,
            Self::open_inner(endpoint, pinned, key_type, asked, key),
        )
        .await
        .map_err(|_| Error::Timeout {
            what: format!("Connecting to {}:{}", endpoint.host, endpoint.port),
            seconds,
        })?
    }

    async fn open_inner(
        endpoint: &Endpoint,
        pinned: Option<&str>,
        key_type: Option<&str>,
        asked: russh::Preferred,
        key: &PrivateKey,
    ) -> Result<Connection> {
        let host = endpoint.host.clone();
        let addresses: Vec<_> = tokio::net::lookup_host((host.as_str(), endpoint.port))
            .await
            .map_err(|_| Error::NameNotResolved { host: host.clone() })?
            .collect();
        if addresses.is_empty() {
            return Err(Error::NameNotResolved { host });
        }
        let stream = tokio::net::TcpStream::connect(&addresses[..])
            .await
            .map_err(|e| match e.kind() {
                std::io::ErrorKind::ConnectionRefused => Error::ConnectionRefused {
                    host: host.clone(),
                    port: endpoint.port,
                },
                _ => Error::Protocol(format!("could not reach {host}:{}: {e}", endpoint.port)),
            })?;
        stream.set_nodelay(true).ok();

        let config = Arc::new(client::Config {
            keepalive_interval: Some(KEEPALIVE_INTERVAL),
            keepalive_max: KEEPALIVE_MAX,
            inactivity_timeout: None,
            preferred: asked,
            ..Default::default()
        });
        let seen = Arc::new(Mutex::new(None));
        let verifier = PinnedHostKey {
            expected: pinned.map(str::to_string),
            seen: seen.clone(),
        };
        let mut handle = match client::connect_stream(config, stream, verifier).await {
            Ok(handle) => handle,
            Err(error) => {
                let seen = seen.lock().unwrap().clone();
                return Err(match (error, seen, pinned) {
                    (russh::Error::UnknownKey, Some(seen), Some(expected)) => {
                        Error::HostKeyMismatch {
                            host: format!("{host}:{}", endpoint.port),
                            expected: expected.to_string(),
                            actual: seen.fingerprint,
                        }
                    }
                    (russh::Error::UnknownKey, Some(seen), None) => Error::HostKeyUnknown {
                        host: format!("{host}:{}", endpoint.port),
                        key_type: seen.key_type,
                        fingerprint: seen.fingerprint,
                    },
                    // The host holds no key of the type asked for (the pinned one).
                    (
                        russh::Error::NoCommonAlgo {
                            kind: russh::AlgorithmKind::Key,
                            ..
                        },
                        _,
                        _,
                    ) if key_type.is_some() => host_key::type_missing(
                        format!("{host}:{}", endpoint.port),
                        pinned,
                        key_type.unwrap_or_default(),
                    ),
                    (error, _, _) => protocol_error(&host, error),
                });
            }
        };
        let host_key = seen
            .lock()
            .unwrap()
            .as_ref()
            .map(|s| s.fingerprint.clone())
            .unwrap_or_default();

        let hash = handle
            .best_supported_rsa_hash()
            .await
            .map_err(|e| protocol_error(&host, e))?
            .flatten();
        let auth = handle
            .authenticate_publickey(
                &endpoint.user,
                PrivateKeyWithHashAlg::new(Arc::new(key.clone()), hash),
            )
            .await
            .map_err(|e| protocol_error(&host, e))?;
        if !auth.success() {
            return Err(Error::AuthRejected {
                host,
                user: endpoint.user.clone(),
                key: key.public_key().to_openssh().unwrap_or_default(),
            });
        }
        Ok(Connection {
            handle: Arc::new(handle),
            host,
            host_key,
            client_key: key
                .public_key()
                .fingerprint(russh::keys::HashAlg::Sha256)
                .to_string(),
            channels: Arc::new(tokio::sync::Semaphore::new(MAX_CHANNELS)),
        })
    }

    /// A session channel, once one of [`MAX_CHANNELS`] is free, asked again for a while
    /// if the host refuses it (its own limit may be lower); the permit lives as long as
    /// the command that uses it.
    async fn open_channel(
        &self,
    ) -> Result<(
        russh::Channel<russh::client::Msg>,
        tokio::sync::OwnedSemaphorePermit,
    )> {
        let permit = self
            .channels
            .clone()
            .acquire_owned()
            .await
            .expect("the channel semaphore is never closed");
        let asked = Instant::now();
        let mut pause = Duration::from_millis(50);
        loop {
            match self.handle.channel_open_session().await {
                Ok(channel) => return Ok((channel, permit)),
                Err(russh::Error::ChannelOpenFailure(reason)) if asked.elapsed() < CHANNEL_RETRY => {
                    tracing::debug!(host = %self.host, ?reason, "the host refused a channel; asking again");
                    tokio::time::sleep(pause).await;
                    pause = (pause * 2).min(Duration::from_millis(800));
                }
                Err(russh::Error::ChannelOpenFailure(reason)) => {
                    return Err(Error::Protocol(format!(
                        "{} refused to open another session for {} s ({reason:?}): its sshd allows fewer at once than Shipshape needs (MaxSessions).",
                        self.host,
                        CHANNEL_RETRY.as_secs()
                    )))
                }
                Err(_) => {
                    return Err(Error::ConnectionLost {
                        host: self.host.clone(),
                    })
                }
            }
        }
    }

    /// The fingerprint the server proved it holds.
    pub fn host_key(&self) -> &str {
        &self.host_key
    }

    /// The fingerprint (`SHA256:...`) of the key that authenticated: who acted.
    pub fn client_key(&self) -> &str {
        &self.client_key
    }

    pub fn host(&self) -> &str {
        &self.host
    }

    pub fn is_closed(&self) -> bool {
        self.handle.is_closed()
    }

    /// Starts `command` on its own channel, under its supervisor, without waiting for
    /// output, so a failure to start (a lost connection, a refused channel) is known
    /// before anything streams.
    pub async fn start_streaming(
        &self,
        command: &RemoteCommand,
        deadline: Deadline,
    ) -> Result<StreamingCommand> {
        self.start(command, &command.supervised(), None, deadline)
            .await
    }

    /// Opens a channel and runs `sent` on it (the command as `command` renders it, or
    /// under its supervisor), with `input` on its standard input if given.
    async fn start(
        &self,
        command: &RemoteCommand,
        sent: &str,
        input: Option<&[u8]>,
        deadline: Deadline,
    ) -> Result<StreamingCommand> {
        let text = command.render();
        let started_at = humantime::format_rfc3339_millis(SystemTime::now()).to_string();
        let clock = Instant::now();
        let lost = |_| Error::ConnectionLost {
            host: self.host.clone(),
        };
        let (channel, permit) = self.open_channel().await?;
        channel.exec(true, sent.as_bytes()).await.map_err(lost)?;
        if let Some(input) = input {
            channel.data(input).await.map_err(lost)?;
            channel.eof().await.map_err(lost)?;
        }
        tracing::debug!(host = %self.host, command = %text, "started");
        Ok(StreamingCommand {
            channel,
            _permit: permit,
            handle: self.handle.clone(),
            command: text,
            started_at,
            clock,
            deadline,
        })
    }

    /// Runs `command` on its own channel, handing each piece of output to `sink` as it
    /// arrives, until it ends, `cancel` fires or `deadline` passes; the summary says
    /// which ([`StreamingCommand::pump`]).
    pub async fn exec_streaming(
        &self,
        command: &RemoteCommand,
        deadline: Deadline,
        sink: impl FnMut(StreamChunk<'_>) + Send,
        cancel: &CancellationToken,
    ) -> Result<CommandOutputSummary> {
        Ok(self
            .start_streaming(command, deadline)
            .await?
            .pump(sink, cancel)
            .await)
    }

    /// Runs one command on its own channel and collects its output and exit status. A
    /// command past `deadline` is ended and is an [`Error::CommandTimeout`]; one whose
    /// connection broke is an [`Error::ConnectionLost`].
    pub async fn exec(&self, command: &RemoteCommand, deadline: Deadline) -> Result<CommandOutput> {
        let started = self.start_streaming(command, deadline).await?;
        self.collect(started).await
    }

    /// Runs `command` with `input` as its standard input, collecting its output. The
    /// supervisor is not used here: it gives its command no input. A command run this
    /// way must end by itself once its input ends, as a cut connection ends it; the
    /// input never appears in the command's arguments, where `ps` would show it.
    pub async fn exec_with_input(
        &self,
        command: &RemoteCommand,
        input: &[u8],
        deadline: Deadline,
    ) -> Result<CommandOutput> {
        let started = self
            .start(command, &command.render(), Some(input), deadline)
            .await?;
        self.collect(started).await
    }

    /// Reads a started command to its end, keeping its output bounded ([`Captured`]).
    async fn collect(&self, started: StreamingCommand) -> Result<CommandOutput> {
        let deadline = started.deadline;
        let (mut stdout, mut stderr) = (Captured::default(), Captured::default());
        let summary = started
            .pump(
                |chunk| match chunk {
                    StreamChunk::Stdout(bytes) => stdout.push(bytes),
                    StreamChunk::Stderr(bytes) => stderr.push(bytes),
                },
                &CancellationToken::new(),
            )
            .await;
        self.ended_as_error(&summary, deadline)?;
        Ok(CommandOutput {
            command: summary.command,
            stdout: stdout.text(),
            stderr: stderr.text(),
            exit_code: summary.exit_code,
            started_at: summary.started_at,
            duration_ms: summary.duration_ms,
        })
    }

    /// The error a command's end amounts to, if it did not simply exit (or get cancelled).
    pub fn ended_as_error(&self, summary: &CommandOutputSummary, deadline: Deadline) -> Result<()> {
        match summary.end {
            CommandEnd::TimedOut => Err(Error::CommandTimeout {
                host: self.host.clone(),
                command: summary.command.clone(),
                seconds: deadline.seconds(),
            }),
            CommandEnd::ConnectionLost => Err(Error::ConnectionLost {
                host: self.host.clone(),
            }),
            CommandEnd::Exited(_) | CommandEnd::Cancelled => Ok(()),
        }
    }

    pub async fn close(&self) {
        let _ = self
            .handle
            .disconnect(russh::Disconnect::ByApplication, "", "en")
            .await;
    }
}

fn protocol_error(host: &str, error: russh::Error) -> Error {
    match error {
        russh::Error::Disconnect | russh::Error::HUP | russh::Error::SendError => {
            Error::ConnectionLost {
                host: host.to_string(),
            }
        }
        other => Error::Protocol(other.to_string()),
    }
}
