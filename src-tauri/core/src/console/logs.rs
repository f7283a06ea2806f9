//! Following a service's logs for the log viewer. `logs -f` never ends by itself, so
//! it runs on its own channel of the target's shared connection, reaches the adapter as
//! batches of whole lines ([`lines`]), and ends when the operator stops it — with the
//! remote process signalled, so nothing keeps running on the host.
//!
//! The command is the policy's own, word for word: no `--no-color` (the viewer renders
//! ANSI colours) and no `--no-log-prefix` (the `service-1  | ` prefix tells replicas
//! apart, and keeps the viewer identical to what `docker compose logs` shows in a
//! terminal).
//!
//! A service may print a secret (a connection string at start-up), and no secret may
//! reach the window: `.env.aws` is read first on the same connection, and every line is
//! redacted as verification evidence is before it leaves the core. A follow outlives
//! edits of the file, so it reads it again at once when this console writes it, and
//! every [`ENV_REREAD`] for edits made elsewhere, keeping the values it knew.

mod file;
pub mod lines;

use std::sync::{Arc, RwLock};
use std::time::Duration;

use serde::Serialize;
use tokio::sync::mpsc::unbounded_channel;
use tokio::sync::Semaphore;
use ts_rs::TS;

use super::{Console, TaskId};
use crate::checks::redact::Redactor;
use crate::error::{Error, ErrorReport, Result};
use crate::operations::{validate_lines, validate_service, Operation};
use crate::shell::RemoteCommand;
use crate::ssh::{
    CancellationToken, CommandEnd, Connection, Deadline, StreamChunk, StreamingCommand,
};
use crate::target::Target;

/// What the log viewer receives on its channel, in order: batches of lines, then
/// exactly one `ended`.
#[derive(Debug, Clone, Serialize, TS)]
#[serde(tag = "event", rename_all = "snake_case")]
pub enum LogEvent {
    /// Whole lines, oldest first, ANSI escapes kept as the host sent them, and how many
    /// lines before them were skipped because they came faster than the viewer took
    /// them (it acknowledges each batch: [`Console::ack_log_batch`]).
    Lines { lines: Vec<String>, skipped: u64 },
    /// The follow is over. `error` says why when it was not the operator's choice.
    Ended {
        cancelled: bool,
        exit_code: Option<i64>,
        error: Option<ErrorReport>,
    },
}

/// A follow that has started on the host: the id that stops it, and what runs where.
#[derive(Debug, Clone, Serialize, TS)]
pub struct LogFollowStarted {
    pub id: u32,
    pub target: String,
    pub service: String,
    /// `user@host:port`
    pub address: String,
    /// Exactly the text sent to the host.
    pub command: String,
}

/// How a follow ended on its own terms (errors are the `Err` side).
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct LogFollowEnd {
    pub service: String,
    pub exit_code: Option<i64>,
    /// The operator stopped it.
    pub cancelled: bool,
    /// Lines delivered.
    pub lines: u64,
    pub duration_ms: u64,
    /// The end of what compose wrote to stderr.
    pub stderr_tail: String,
}

impl LogEvent {
    /// The last event of a follow: a stop the operator asked for is not an error; a
    /// follow that ended by itself with a failure, or lost its connection, is.
    pub fn ended(outcome: &Result<LogFollowEnd>) -> LogEvent {
        match outcome {
            Ok(end) => LogEvent::Ended {
                cancelled: end.cancelled,
                exit_code: end.exit_code,
                error: (!end.cancelled && end.exit_code.is_some_and(|code| code != 0)).then(|| {
                    ErrorReport::from(Error::RemoteFailed {
                        what: format!("Following the logs of {}", end.service),
                        exit_code: end.exit_code.unwrap_or(-1),
                        detail: end.stderr_tail.clone(),
                    })
                }),
            },
            Err(error) => LogEvent::Ended {
                cancelled: false,
                exit_code: None,
                error: Some(ErrorReport::from(error)),
            },
        }
    }
}

/// How often a follow reads `.env.aws` again for values added by another process.
pub const ENV_REREAD: Duration = Duration::from_secs(10);

/// `logs -f` running on the host, its output not read yet.
pub struct LogFollow {
    /// Held so the connection outlives the follow even if the console lets it go.
    connection: Arc<Connection>,
    stream: StreamingCommand,
    /// `.env.aws`'s values, taken out of every line; read again while the follow runs.
    redactor: RwLock<Redactor>,
    /// How the env file is read, and when this console wrote it.
    read_env: RemoteCommand,
    read_deadline: Deadline,
    env_written: tokio::sync::watch::Receiver<u64>,
    target: String,
    service: String,
    address: String,
}

impl LogFollow {
    /// Exactly the text sent to the host.
    pub fn command(&self) -> &str {
        self.stream.command()
    }

    pub fn started(&self, id: TaskId) -> LogFollowStarted {
        LogFollowStarted {
            id,
            target: self.target.clone(),
            service: self.service.clone(),
            address: self.address.clone(),
            command: self.stream.command().to_string(),
        }
    }

    /// Delivers the output to `on_lines` in batches until the command ends or `cancel`
    /// fires; see [`lines::deliver_in_batches`].
    pub async fn run(
        self,
        mut on_lines: impl FnMut(Vec<String>) + Send,
        cancel: &CancellationToken,
    ) -> Result<LogFollowEnd> {
        self.run_paced(None, move |lines, _| on_lines(lines), cancel)
            .await
    }

    /// [`LogFollow::run`] for a viewer that may fall behind: a batch goes out only for
    /// one of `credits`, each with the count of lines skipped before it.
    pub async fn run_paced(
        self,
        credits: Option<Arc<Semaphore>>,
        mut on_lines: impl FnMut(Vec<String>, u64) + Send,
        cancel: &CancellationToken,
    ) -> Result<LogFollowEnd> {
        let LogFollow {
            connection,
            stream,
            redactor,
            read_env,
            read_deadline,
            env_written,
            service,
            ..
        } = self;
        let shown = &redactor;
        let on_lines = move |lines: Vec<String>, skipped| {
            let redactor = shown.read().expect("redactor lock");
            on_lines(lines.iter().map(|l| redactor.redact(l)).collect(), skipped)
        };
        let (chunks, received) = unbounded_channel();
        let pump = stream.pump(
            move |chunk| {
                let _ = chunks.send(match chunk {
                    StreamChunk::Stdout(bytes) => (lines::Source::Stdout, bytes.to_vec()),
                    StreamChunk::Stderr(bytes) => (lines::Source::Stderr, bytes.to_vec()),
                });
            },
            cancel,
        );
        // The pump owns the sender: when it finishes, delivery drains and finishes too;
        // the env file is read again until then.
        // A line too long to keep whole is cut before a secret it ends with.
        let begun = |text: &[u8]| shown.read().expect("redactor lock").begun_at_end(text);
        let followed = async {
            tokio::join!(
                pump,
                lines::deliver_in_batches(received, credits, cancel.clone(), begun, on_lines)
            )
        };
        let reread = reread_env(
            &connection,
            &read_env,
            read_deadline,
            env_written,
            &redactor,
        );
        let (summary, delivered) = tokio::select! {
            ended = followed => ended,
            never = reread => match never {},
        };
        if summary.end == CommandEnd::ConnectionLost {
            return Err(Error::ConnectionLost {
                host: connection.host().to_string(),
            });
        }
        let stderr_tail = redactor
            .read()
            .expect("redactor lock")
            .redact(&delivered.stderr_tail);
        Ok(LogFollowEnd {
            service,
            exit_code: summary.exit_code,
            cancelled: summary.cancelled(),
            lines: delivered.lines,
            duration_ms: summary.duration_ms,
            stderr_tail,
        })
    }
}

/// Reads the env file again when this console wrote it, or every [`ENV_REREAD`], adding
/// what it holds now to what the follow takes out. Runs until dropped.
async fn reread_env(
    connection: &Connection,
    read_env: &RemoteCommand,
    deadline: Deadline,
    written: tokio::sync::watch::Receiver<u64>,
    redactor: &RwLock<Redactor>,
) -> std::convert::Infallible {
    let mut written = Some(written);
    loop {
        let open = {
            let changed = async {
                match written.as_mut() {
                    Some(written) => written.changed().await.is_ok(),
                    None => std::future::pending().await,
                }
            };
            tokio::select! {
                _ = tokio::time::sleep(ENV_REREAD) => true,
                open = changed => open,
            }
        };
        if !open {
            // The session is gone: only the timer is left.
            written = None;
        }
        if let Ok(now) = super::shown::secrets_of(connection, read_env, deadline).await {
            let mut redactor = redactor.write().expect("redactor lock");
            *redactor = redactor.merged(now);
        }
    }
}

impl Console {
    /// The exact `logs -f` command a follow of `service` would run on `target`, checked
    /// against the policy, without connecting: what the log viewer shows before it starts.
    pub fn log_follow_command(
        &self,
        target: &str,
        service: &str,
        lines: u32,
        timestamps: bool,
    ) -> Result<String> {
        Ok(self
            .log_follow(target, service, lines, timestamps)?
            .1
            .render())
    }

    fn log_follow(
        &self,
        target: &str,
        service: &str,
        lines: u32,
        timestamps: bool,
    ) -> Result<(Target, RemoteCommand)> {
        let (target, policy) = self.target_and_policy(target)?;
        validate_service(service, &policy, &policy.services)?;
        validate_lines(lines)?;
        // v2's `docker compose` or v1's `docker-compose`, whichever the host answers to.
        let command = Operation::Logs {
            service: service.to_string(),
            lines,
            follow: true,
            since: None,
            timestamps,
        }
        .command(&policy, &target.project_dir, self.compose_for(&target));
        Ok((target, command))
    }

    /// Checks the request against the policy (before anything connects), then starts
    /// `docker compose --profile aws logs -n LINES [-t] -f SERVICE` on `target`. A
    /// connection that turns out to be dead is reopened once.
    pub async fn start_logs(
        &self,
        target: &str,
        service: &str,
        lines: u32,
        timestamps: bool,
    ) -> Result<LogFollow> {
        let (target, command) = self.log_follow(target, service, lines, timestamps)?;
        let (_, policy) = self.target_and_policy(&target.name)?;
        let read_env = crate::env_file::read_command(&policy.env_file, &target.project_dir);
        let deadline = Deadline::total(policy.deadlines.read_seconds);
        let env_written = self.session(&target.name).env_written.subscribe();
        let (command, read_env_ref) = (&command, &read_env);
        let (connection, stream, redactor) = self
            .read_with_retry(&target.name, |connection| async move {
                let redactor =
                    super::shown::secrets_of(&connection, read_env_ref, deadline).await?;
                let stream = connection
                    .start_streaming(command, Deadline::Unbounded)
                    .await?;
                Ok((connection, stream, redactor))
            })
            .await?;
        Ok(LogFollow {
            connection,
            stream,
            redactor: RwLock::new(redactor),
            read_env,
            read_deadline: deadline,
            env_written,
            address: target.address(),
            target: target.name,
            service: service.to_string(),
        })
    }

    /// Follows `service`'s logs on `target` until they end or `cancel` fires, handing
    /// `on_lines` batches of whole lines. Starting and running in one call, for adapters
    /// that need no id in between.
    pub async fn follow_logs(
        &self,
        target: &str,
        service: &str,
        lines: u32,
        timestamps: bool,
        on_lines: impl FnMut(Vec<String>) + Send,
        cancel: &CancellationToken,
    ) -> Result<LogFollowEnd> {
        self.start_logs(target, service, lines, timestamps)
            .await?
            .run(on_lines, cancel)
            .await
    }
}

impl Console {
    /// Starts following as a task the console owns: returns once the command runs on
    /// the host (so a refused service or an untrusted host is this call's error), then
    /// hands `on_event` batches of lines and one `Ended`. `on_event` returns false when
    /// nobody listens any more (the viewer was closed), which stops the follow.
    pub async fn start_log_follow(
        self: &Arc<Self>,
        target: &str,
        service: &str,
        lines: u32,
        timestamps: bool,
        on_event: impl Fn(LogEvent) -> bool + Send + Sync + 'static,
    ) -> Result<LogFollowStarted> {
        // A task from the start: a window reloaded while this one connects stops it too
        // ([`super::tasks::Tasks::cancel_streams`]), before or after its command starts.
        let handle = self.tasks.start(format!("logs of {service} on {target}"));
        let follow = tokio::select! {
            follow = self.start_logs(target, service, lines, timestamps) => follow?,
            () = handle.cancel.cancelled() => {
                return Err(Error::Cancelled {
                    what: format!("Following the logs of {service}"),
                })
            }
        };
        tracing::info!(target, service, "log follow started");
        let started = follow.started(handle.id);
        let credits = Arc::new(Semaphore::new(lines::BATCHES_IN_FLIGHT));
        self.log_credits
            .lock()
            .unwrap()
            .insert(handle.id, credits.clone());
        let console = self.clone();
        tokio::spawn(async move {
            let cancel = handle.cancel.clone();
            let on_event = Arc::new(on_event);
            let (sent, gone) = (on_event.clone(), cancel.clone());
            let outcome = follow
                .run_paced(
                    Some(credits),
                    move |lines, skipped| {
                        if !sent(LogEvent::Lines { lines, skipped }) {
                            gone.cancel();
                        }
                    },
                    &cancel,
                )
                .await;
            console.log_credits.lock().unwrap().remove(&handle.id);
            on_event(LogEvent::ended(&outcome));
            drop(handle);
        });
        Ok(started)
    }

    /// The viewer took a batch of follow `id`: it may have one more. A follow that has
    /// ended is no error (its last batches may still be on their way).
    pub fn ack_log_batch(&self, id: TaskId) {
        if let Some(credits) = self.log_credits.lock().unwrap().get(&id) {
            if credits.available_permits() < lines::BATCHES_IN_FLIGHT {
                credits.add_permits(1);
            }
        }
    }
}

#[cfg(test)]
mod tests;
