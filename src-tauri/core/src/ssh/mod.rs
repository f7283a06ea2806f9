//! One SSH connection per target (russh), multiplexing every command as its own channel.
//! The server's key is compared with the pinned fingerprint inside the key exchange, so a
//! host that fails the check is dropped before our key or user name is ever sent.
//!
//! Most commands finish and are kept whole as evidence ([`Connection::exec`]); a few
//! (`logs -f`) never finish by themselves, so [`Connection::exec_streaming`] hands their
//! output over as it arrives and ends them on request — signalling the remote process,
//! because without a terminal sshd leaves it running until its next write fails.

use std::sync::{Arc, Mutex};
use std::time::{Duration, Instant, SystemTime};

use russh::client::{self, Handle, Msg};
use russh::keys::{HashAlg, PrivateKey, PrivateKeyWithHashAlg, PublicKeyOrCertificate};
use russh::{Channel, ChannelMsg, Sig};
use serde::Serialize;
use ts_rs::TS;

use crate::error::{Error, Result};
use crate::shell::RemoteCommand;

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
}

/// What the server presented during key exchange.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, TS)]
pub struct HostKeyOffer {
    /// e.g. `ssh-ed25519`
    pub key_type: String,
    /// `SHA256:...`
    pub fingerprint: String,
}

/// Accepts the server only if its key matches the pin; remembers what it saw either way.
struct PinnedHostKey {
    expected: Option<String>,
    seen: Arc<Mutex<Option<HostKeyOffer>>>,
}

impl client::Handler for PinnedHostKey {
    type Error = russh::Error;

    async fn check_server_key(
        &mut self,
        key: &PublicKeyOrCertificate,
    ) -> Result<bool, Self::Error> {
        let PublicKeyOrCertificate::PublicKey { key, .. } = key else {
            return Ok(false); // host certificates are not part of the trust model (yet)
        };
        let fingerprint = key.fingerprint(HashAlg::Sha256).to_string();
        let matches = self.expected.as_deref() == Some(fingerprint.as_str());
        *self.seen.lock().unwrap() = Some(HostKeyOffer {
            key_type: key.algorithm().to_string(),
            fingerprint,
        });
        Ok(matches)
    }
}

pub struct Connection {
    handle: Handle<PinnedHostKey>,
    host: String,
    host_key: String,
}

/// How long to wait for the TCP connection, key exchange and authentication together.
pub const CONNECT_TIMEOUT: Duration = Duration::from_secs(15);

impl Connection {
    /// Connects, verifies the host key against `pinned_fingerprint`, then authenticates
    /// with `key`. With no pin, fails with [`Error::HostKeyUnknown`] carrying what the
    /// host offered, so the operator can compare and pin it.
    pub async fn open(
        endpoint: &Endpoint,
        pinned_fingerprint: Option<&str>,
        key: &PrivateKey,
        timeout: Duration,
    ) -> Result<Connection> {
        let seconds = timeout.as_secs();
        tokio::time::timeout(timeout, Self::open_inner(endpoint, pinned_fingerprint, key))
            .await
            .map_err(|_| Error::Timeout {
                what: format!("Connecting to {}:{}", endpoint.host, endpoint.port),
                seconds,
            })?
    }

    async fn open_inner(
        endpoint: &Endpoint,
        pinned: Option<&str>,
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
            keepalive_interval: Some(Duration::from_secs(15)),
            keepalive_max: 3,
            inactivity_timeout: None,
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
            handle,
            host,
            host_key,
        })
    }

    /// Asks the server for its host key and hangs up during key exchange: nothing about
    /// us (user, key) is ever sent. Used to show an operator what to compare before trusting.
    pub async fn probe_host_key(host: &str, port: u16, timeout: Duration) -> Result<HostKeyOffer> {
        let endpoint = Endpoint {
            host: host.to_string(),
            port,
            user: String::new(),
        };
        let never_used = PrivateKey::random(&mut rand::rng(), russh::keys::Algorithm::Ed25519)
            .map_err(|e| Error::Protocol(e.to_string()))?;
        match Self::open(&endpoint, None, &never_used, timeout).await {
            Err(Error::HostKeyUnknown {
                key_type,
                fingerprint,
                ..
            }) => Ok(HostKeyOffer {
                key_type,
                fingerprint,
            }),
            Err(other) => Err(other),
            Ok(_) => unreachable!("an unpinned host is never accepted"),
        }
    }

    /// The fingerprint the server proved it holds.
    pub fn host_key(&self) -> &str {
        &self.host_key
    }

    pub fn is_closed(&self) -> bool {
        self.handle.is_closed()
    }

    /// Starts `command` on its own channel without waiting for output, so a failure to
    /// start (a lost connection, a refused channel) is known before anything streams.
    pub async fn start_streaming(&self, command: &RemoteCommand) -> Result<StreamingCommand> {
        let text = command.render();
        let started_at = humantime::format_rfc3339_millis(SystemTime::now()).to_string();
        let clock = Instant::now();
        let lost = |_| Error::ConnectionLost {
            host: self.host.clone(),
        };
        let channel = self.handle.channel_open_session().await.map_err(lost)?;
        channel.exec(true, text.as_bytes()).await.map_err(lost)?;
        Ok(StreamingCommand {
            channel,
            command: text,
            started_at,
            clock,
        })
    }

    /// Runs `command` on its own channel, handing each piece of output to `sink` as it
    /// arrives, until the command ends or `cancel` fires; see [`StreamingCommand::pump`].
    pub async fn exec_streaming(
        &self,
        command: &RemoteCommand,
        sink: impl FnMut(StreamChunk<'_>) + Send,
        cancel: &CancellationToken,
    ) -> Result<CommandOutputSummary> {
        Ok(self
            .start_streaming(command)
            .await?
            .pump(sink, cancel)
            .await)
    }

    /// Runs one command on its own channel and collects its output and exit status.
    pub async fn exec(&self, command: &RemoteCommand) -> Result<CommandOutput> {
        let text = command.render();
        let started_at = humantime::format_rfc3339_millis(SystemTime::now()).to_string();
        let clock = Instant::now();
        let lost = |_| Error::ConnectionLost {
            host: self.host.clone(),
        };
        let mut channel = self.handle.channel_open_session().await.map_err(lost)?;
        channel.exec(true, text.as_bytes()).await.map_err(lost)?;
        let (mut stdout, mut stderr, mut exit_code) = (Vec::new(), Vec::new(), None);
        while let Some(message) = channel.wait().await {
            match message {
                ChannelMsg::Data { data } => stdout.extend_from_slice(&data),
                ChannelMsg::ExtendedData { data, ext: 1 } => stderr.extend_from_slice(&data),
                ChannelMsg::ExitStatus { exit_status } => exit_code = Some(i64::from(exit_status)),
                _ => {}
            }
        }
        Ok(CommandOutput {
            command: text,
            stdout: String::from_utf8_lossy(&stdout).into_owned(),
            stderr: String::from_utf8_lossy(&stderr).into_owned(),
            exit_code,
            started_at,
            duration_ms: clock.elapsed().as_millis() as u64,
        })
    }

    pub async fn close(&self) {
        let _ = self
            .handle
            .disconnect(russh::Disconnect::ByApplication, "", "en")
            .await;
    }
}

/// One piece of a streamed command's output, exactly as it arrived: not split into
/// lines, and not necessarily whole UTF-8.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum StreamChunk<'a> {
    Stdout(&'a [u8]),
    Stderr(&'a [u8]),
}

/// How a streamed command ended. Its output went to the sink as it came, so only its
/// size is kept here.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct CommandOutputSummary {
    /// Exactly the text that was sent to the host.
    pub command: String,
    /// `None` when the command ended without an exit status: killed by a signal,
    /// cancelled before it reported one, or cut off with the connection.
    pub exit_code: Option<i64>,
    /// The caller cancelled it (rather than the command ending by itself).
    pub cancelled: bool,
    pub started_at: String,
    pub duration_ms: u64,
    pub stdout_bytes: u64,
    pub stderr_bytes: u64,
}

/// How long a cancelled command may take to wind down before we stop waiting for it.
pub const CANCEL_GRACE: Duration = Duration::from_secs(2);

/// A command running on its own channel whose output has not been read yet.
pub struct StreamingCommand {
    channel: Channel<Msg>,
    command: String,
    started_at: String,
    clock: Instant,
}

impl StreamingCommand {
    /// Exactly the text that was sent to the host.
    pub fn command(&self) -> &str {
        &self.command
    }

    /// Hands output to `sink` as it arrives until the command ends or `cancel` fires.
    /// On cancel the remote process gets SIGTERM (OpenSSH delivers it to the command,
    /// which the login shell has exec'd) and this returns when the host closes the
    /// channel after it exits; a host that has not within [`CANCEL_GRACE`] (no signal
    /// support, a command that ignores it) has the channel closed on it. Closing first
    /// would be quicker but loses the host's close, leaving the channel half-open in the
    /// session. Nothing reaches `sink` after the cancel.
    pub async fn pump(
        mut self,
        mut sink: impl FnMut(StreamChunk<'_>) + Send,
        cancel: &CancellationToken,
    ) -> CommandOutputSummary {
        let (mut stdout_bytes, mut stderr_bytes, mut exit_code) = (0u64, 0u64, None);
        // Set once cancelled: when to stop waiting for the host to confirm.
        let mut wind_down: Option<tokio::time::Instant> = None;
        loop {
            let message = tokio::select! {
                biased;
                () = cancel.cancelled(), if wind_down.is_none() => {
                    wind_down = Some(tokio::time::Instant::now() + CANCEL_GRACE);
                    // Best effort each: the channel may already be closing. The host
                    // closes the channel once the command has exited.
                    let _ = self.channel.signal(Sig::TERM).await;
                    let _ = self.channel.eof().await;
                    continue;
                }
                message = next_message(&mut self.channel, wind_down) => message,
            };
            let Some(message) = message else { break };
            match message {
                ChannelMsg::Data { data } if wind_down.is_none() => {
                    stdout_bytes += data.len() as u64;
                    sink(StreamChunk::Stdout(&data[..]));
                }
                ChannelMsg::ExtendedData { data, ext: 1 } if wind_down.is_none() => {
                    stderr_bytes += data.len() as u64;
                    sink(StreamChunk::Stderr(&data[..]));
                }
                ChannelMsg::ExitStatus { exit_status } => exit_code = Some(i64::from(exit_status)),
                _ => {}
            }
        }
        CommandOutputSummary {
            command: self.command,
            exit_code,
            cancelled: wind_down.is_some(),
            started_at: self.started_at,
            duration_ms: self.clock.elapsed().as_millis() as u64,
            stdout_bytes,
            stderr_bytes,
        }
    }
}

/// The channel's next message; `None` once it is closed. Past `deadline`, closes the
/// channel from our side and gives up on it.
async fn next_message(
    channel: &mut Channel<Msg>,
    deadline: Option<tokio::time::Instant>,
) -> Option<ChannelMsg> {
    let Some(deadline) = deadline else {
        return channel.wait().await;
    };
    match tokio::time::timeout_at(deadline, channel.wait()).await {
        Ok(message) => message,
        Err(_) => {
            let _ = channel.close().await;
            None
        }
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
