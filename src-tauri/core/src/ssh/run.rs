//! Running one command on its own channel until it ends, and saying *how* it ended.
//!
//! An operator must never be told "the host failed" when it was the network, nor wait
//! forever on a host that stopped answering. So every command has a [`Deadline`], and
//! every end is typed ([`CommandEnd`]): it exited, was cancelled, ran past its deadline,
//! or lost its connection. Cancel and deadline end the remote process the same way: the
//! supervisor the command runs under ([`crate::shell::RemoteCommand::supervised`]) is
//! told by the end of its input, and takes the command's whole process group with it.

use std::sync::Arc;
use std::time::{Duration, Instant};

use russh::client::{Handle, Msg};
use russh::{Channel, ChannelMsg, Sig};
use tokio_util::sync::CancellationToken;

use super::PinnedHostKey;

/// How long a remote command may take.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Deadline {
    /// The whole command must end within this.
    Total(Duration),
    /// Output must keep coming: the command ends after this long without any (pulls).
    Idle(Duration),
    /// Runs until it ends or is cancelled (follows). A dead connection still ends it,
    /// through the connection's keepalive.
    Unbounded,
}

impl Deadline {
    /// The whole command within `seconds` (as the policy's deadlines are written).
    pub fn total(seconds: u32) -> Deadline {
        Deadline::Total(Duration::from_secs(u64::from(seconds)))
    }

    pub fn seconds(self) -> u64 {
        match self {
            Deadline::Total(d) | Deadline::Idle(d) => d.as_secs(),
            Deadline::Unbounded => 0,
        }
    }
}

/// What a command refused by the host says on its error output.
pub const REFUSED: &str = "The host refused to start the command (its SSH server answered the request with a failure: it may be out of processes or memory).\n";

/// How a remote command ended.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum CommandEnd {
    /// It ran to its end; `None` when the host gave no exit status (killed by a signal,
    /// or never started: [`REFUSED`]).
    Exited(Option<i64>),
    /// The caller cancelled it.
    Cancelled,
    /// It ran past its deadline and was ended.
    TimedOut,
    /// The connection broke (or stopped answering) while it ran: it may or may not have
    /// finished on the host.
    ConnectionLost,
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
    pub end: CommandEnd,
    /// The exit status, when the host reported one.
    pub exit_code: Option<i64>,
    pub started_at: String,
    pub duration_ms: u64,
    pub stdout_bytes: u64,
    pub stderr_bytes: u64,
}

impl CommandOutputSummary {
    pub fn cancelled(&self) -> bool {
        self.end == CommandEnd::Cancelled
    }
}

/// How long an ended command may take to wind down before we stop waiting for it.
const CANCEL_GRACE: Duration = Duration::from_secs(2);

/// A command's channel and its place among the connection's channels. Dropped before
/// the command ended (the caller's task aborted, a sibling probe failed), it ends the
/// command on the host as a stop does (SIGTERM, the end of its input, which the
/// supervisor watches) and closes the channel, keeping its place until the host has
/// closed it too: otherwise the command would run on until the connection closed, and
/// the connection's session count would say the place was free while sshd's was not.
pub(super) struct CommandChannel {
    channel: Option<Channel<Msg>>,
    permit: Option<tokio::sync::OwnedSemaphorePermit>,
    /// The channel is closed (or being closed): nothing to end when dropped.
    closed: bool,
}

impl CommandChannel {
    pub(super) fn new(channel: Channel<Msg>, permit: tokio::sync::OwnedSemaphorePermit) -> Self {
        CommandChannel {
            channel: Some(channel),
            permit: Some(permit),
            closed: false,
        }
    }

    pub(super) fn get(&self) -> &Channel<Msg> {
        self.channel.as_ref().expect("a channel until dropped")
    }

    fn get_mut(&mut self) -> &mut Channel<Msg> {
        self.channel.as_mut().expect("a channel until dropped")
    }
}

impl Drop for CommandChannel {
    fn drop(&mut self) {
        let (Some(mut channel), false) = (self.channel.take(), self.closed) else {
            return;
        };
        let permit = self.permit.take();
        let Ok(runtime) = tokio::runtime::Handle::try_current() else {
            tracing::debug!(
                "a command's channel dropped outside the runtime: left to the connection's end"
            );
            return;
        };
        // Bounded as a whole: the connection's queue may be full (several dropped at
        // once), and a place held for ever would be worse than one freed early.
        runtime.spawn(async move {
            let end = async {
                let _ = channel.signal(Sig::TERM).await;
                let _ = channel.eof().await;
                let _ = channel.close().await;
                while channel.wait().await.is_some() {}
            };
            let _ = tokio::time::timeout(CANCEL_GRACE, end).await;
            drop(permit);
        });
    }
}

/// A command running on its own channel whose output has not been read yet.
pub struct StreamingCommand {
    pub(super) channel: CommandChannel,
    pub(super) handle: Arc<Handle<PinnedHostKey>>,
    pub(super) command: String,
    pub(super) started_at: String,
    pub(super) clock: Instant,
    pub(super) deadline: Deadline,
}

impl StreamingCommand {
    /// Exactly the text that was sent to the host.
    pub fn command(&self) -> &str {
        &self.command
    }

    /// Hands output to `sink` as it arrives until the command ends, `cancel` fires or
    /// the deadline passes. To end it, the remote command gets SIGTERM and the end of
    /// its input (either makes its supervisor end the whole process group); this waits
    /// up to [`CANCEL_GRACE`] for the host to close the channel, then closes it. Nothing
    /// reaches `sink` after that.
    pub async fn pump(
        mut self,
        mut sink: impl FnMut(StreamChunk<'_>) + Send,
        cancel: &CancellationToken,
    ) -> CommandOutputSummary {
        let (mut stdout_bytes, mut stderr_bytes, mut exit_code) = (0u64, 0u64, None);
        let mut refused = false;
        let start = tokio::time::Instant::now();
        let mut last_output = start;
        let mut ending: Option<(CommandEnd, tokio::time::Instant)> = None;
        loop {
            let expiry = match (ending, self.deadline) {
                (Some((_, wind_down)), _) => Some(wind_down),
                (None, Deadline::Total(limit)) => Some(start + limit),
                (None, Deadline::Idle(limit)) => Some(last_output + limit),
                (None, Deadline::Unbounded) => None,
            };
            let message = tokio::select! {
                biased;
                () = cancel.cancelled(), if ending.is_none() => {
                    ending = Some((CommandEnd::Cancelled, tokio::time::Instant::now() + CANCEL_GRACE));
                    self.stop().await;
                    continue;
                }
                () = sleep_until(expiry) => {
                    if ending.is_some() {
                        let _ = self.channel.get().close().await;
                        break;
                    }
                    ending = Some((CommandEnd::TimedOut, tokio::time::Instant::now() + CANCEL_GRACE));
                    self.stop().await;
                    continue;
                }
                message = self.channel.get_mut().wait() => message,
            };
            let Some(message) = message else { break };
            match message {
                ChannelMsg::Data { data } if ending.is_none() => {
                    last_output = tokio::time::Instant::now();
                    stdout_bytes += data.len() as u64;
                    sink(StreamChunk::Stdout(&data[..]));
                }
                ChannelMsg::ExtendedData { data, ext: 1 } if ending.is_none() => {
                    last_output = tokio::time::Instant::now();
                    stderr_bytes += data.len() as u64;
                    sink(StreamChunk::Stderr(&data[..]));
                }
                ChannelMsg::ExitStatus { exit_status } => exit_code = Some(i64::from(exit_status)),
                // The exec request is the only one sent wanting a reply: a failure is the
                // host refusing to start the command (OpenSSH, when it cannot fork).
                // Nothing more will come, yet the channel stays open: without this a
                // bounded command would end as a false timeout, an unbounded one never.
                ChannelMsg::Failure if ending.is_none() => {
                    let said = REFUSED.as_bytes();
                    stderr_bytes += said.len() as u64;
                    sink(StreamChunk::Stderr(said));
                    refused = true;
                    let _ = self.channel.get().close().await;
                    break;
                }
                _ => {}
            }
        }
        // The channel is closed, by the host or by the close above.
        self.channel.closed = true;
        let end = match ending {
            Some((end, _)) => end,
            None if refused => CommandEnd::Exited(None),
            None if exit_code.is_none() && self.connection_gone().await => {
                CommandEnd::ConnectionLost
            }
            None => CommandEnd::Exited(exit_code),
        };
        CommandOutputSummary {
            command: self.command,
            end,
            exit_code,
            started_at: self.started_at,
            duration_ms: self.clock.elapsed().as_millis() as u64,
            stdout_bytes,
            stderr_bytes,
        }
    }

    /// Asks the host to end the command: SIGTERM (OpenSSH passes it to the supervisor)
    /// and the end of its input (which the supervisor watches). Best effort each: the
    /// channel may already be closing.
    async fn stop(&self) {
        let _ = self.channel.get().signal(Sig::TERM).await;
        let _ = self.channel.get().eof().await;
    }

    /// Whether the channel closed because the whole connection did. The session task
    /// may mark itself closed a moment after it drops the channel, so look briefly.
    async fn connection_gone(&self) -> bool {
        for _ in 0..20 {
            if self.handle.is_closed() {
                return true;
            }
            tokio::time::sleep(Duration::from_millis(25)).await;
        }
        false
    }
}

async fn sleep_until(at: Option<tokio::time::Instant>) {
    match at {
        Some(at) => tokio::time::sleep_until(at).await,
        None => std::future::pending().await,
    }
}
