//! One SSH connection per target (russh), multiplexing every command as its own channel.
//! The server's key is compared with the pinned fingerprint inside the key exchange, so a
//! host that fails the check is dropped before our key or user name is ever sent.
//!
//! Most commands finish and are kept whole as evidence ([`Connection::exec`]); a few
//! (`logs -f`) never finish by themselves, so [`Connection::exec_streaming`] hands their
//! output over as it arrives. Every command has a deadline and runs under a supervisor
//! that ends it when its channel closes: without a terminal, sshd would otherwise leave
//! it running on the host after the console is gone ([`run`]).

use std::sync::Arc;
use std::time::{Duration, Instant, SystemTime};

use russh::client::Handle;
use russh::keys::PrivateKey;
use serde::Serialize;
use ts_rs::TS;

use crate::error::{Error, Result};
use crate::shell::RemoteCommand;
use crate::trust::HostPin;

mod captured;
mod host_key;
mod route;
mod run;
mod socket;
mod tcp;

pub use captured::{Captured, KEPT_BYTES};
use host_key::PinnedHostKey;
pub use host_key::{host_key_algorithms, HostKeyOffer};
pub use route::Hop;
use route::Tunnel;
pub use run::{CommandEnd, CommandOutputSummary, Deadline, StreamChunk, StreamingCommand};
pub use socket::SocketAnswer;

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
    /// The jump hosts this connection passes through, open as long as it is.
    tunnel: Tunnel,
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
        Self::open_via(&[], endpoint, pin, key, timeout).await
    }

    /// [`Connection::open`] through `jumps`, in order: each hop's key is checked against
    /// its own pin before authenticating to it, and the next is reached through it.
    /// `timeout` is for each hop.
    pub async fn open_via(
        jumps: &[Hop],
        endpoint: &Endpoint,
        pin: Option<&HostPin>,
        key: &PrivateKey,
        timeout: Duration,
    ) -> Result<Connection> {
        let key_type = pin.and_then(|p| p.key_type.as_deref());
        let expected = pin.map(|p| p.fingerprint.as_str());
        Self::open_with(jumps, endpoint, expected, key_type, key, timeout).await
    }

    /// [`Connection::open_via`] with the pin's parts: the fingerprint expected (`None`:
    /// any key fails as unknown) and the key type asked for (`None`: the host's preferred).
    async fn open_with(
        jumps: &[Hop],
        endpoint: &Endpoint,
        pinned: Option<&str>,
        key_type: Option<&str>,
        key: &PrivateKey,
        timeout: Duration,
    ) -> Result<Connection> {
        let timeout = route::timeout_through(jumps.len(), timeout);
        tokio::time::timeout(
            timeout,
            Self::open_inner(jumps, endpoint, pinned, key_type, key),
        )
        .await
        .map_err(|_| Error::Timeout {
            what: format!("Connecting to {}:{}", endpoint.host, endpoint.port),
            seconds: timeout.as_secs(),
        })?
    }

    async fn open_inner(
        jumps: &[Hop],
        endpoint: &Endpoint,
        pinned: Option<&str>,
        key_type: Option<&str>,
        key: &PrivateKey,
    ) -> Result<Connection> {
        let tunnel = Tunnel::through(jumps).await?;
        let (mut handle, host_key) = tunnel.handshake(endpoint, pinned, key_type).await?;
        route::authenticate(&mut handle, endpoint, key).await?;
        Ok(Connection {
            handle: Arc::new(handle),
            tunnel,
            host: endpoint.host.clone(),
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
        // Owned at once: a caller gone while the command starts still ends it.
        let channel = run::CommandChannel::new(channel, permit);
        channel
            .get()
            .exec(true, sent.as_bytes())
            .await
            .map_err(lost)?;
        if let Some(input) = input {
            channel.get().data(input).await.map_err(lost)?;
            channel.get().eof().await.map_err(lost)?;
        }
        tracing::debug!(host = %self.host, command = %text, "started");
        Ok(StreamingCommand {
            channel,
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
        self.tunnel.close().await;
    }
}
