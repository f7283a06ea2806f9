//! The host's deploy lock as a run holds it: taken on a channel of its own (its process
//! on the host holds the flock until the channel ends), checked before each change the
//! run makes (a lock lost midway means another deploy could have started), and freed
//! with its channel.

use tokio::sync::oneshot;

use super::steps::{Done, Run};
use super::DeployEvent;
use crate::deploy::lock::{self, LockHolder, LockStatus};
use crate::deploy::StepId;
use crate::error::{Error, Result};
use crate::ssh::{CancellationToken, Deadline, StreamChunk};

/// The host's lock while held: its channel's task, ended to free it.
pub(super) struct HeldLock {
    /// The command that holds it.
    pub(super) command: String,
    cancel: CancellationToken,
    pub(super) task: tokio::task::JoinHandle<()>,
}

impl HeldLock {
    pub(super) async fn release(self) {
        self.cancel.cancel();
        let _ = self.task.await;
    }
}

impl<F: FnMut(DeployEvent) + Send> Run<'_, F> {
    /// Whether the host's lock, once taken, is still this run's: its process on the host
    /// ends when its channel does (a lost connection, a host that killed it), and from
    /// then on another deploy could start, so this one must not change the host any more.
    /// The host is asked too: its channel's end reaches this side a moment later, and a
    /// lock broken there just now must stop the very next change.
    pub(super) async fn still_locked(&self) -> Result<()> {
        let Some(lock) = &self.lock else {
            return Ok(());
        };
        let lost = Error::StepFailed {
            step: "Holding the host's deploy lock".into(),
            detail: "the lock was lost (its connection or its process on the host ended), so nothing more is run: another deploy could have started. Check the host with a verification, then deploy again.".into(),
        };
        // A lost connection is said as one (exit 3), as anywhere else.
        if self.connection.is_closed() {
            return Err(Error::ConnectionLost {
                host: self.connection.host().to_string(),
            });
        }
        if lock.task.is_finished() {
            return Err(lost);
        }
        let status = self
            .connection
            .exec(&lock::status_command(), Deadline::Total(self.read_deadline))
            .await?
            .required("Checking the host's deploy lock")?;
        match lock::parse_status(&status.stdout) {
            LockStatus {
                held: true,
                holder: Some(holder),
                ..
            } if holder.deploy == self.record.id => Ok(()),
            _ => Err(lost),
        }
    }

    pub(super) async fn lock_step(
        &mut self,
        step: StepId,
        title: &str,
        message: &str,
    ) -> Result<()> {
        let began = self.begin(step, title);
        let done = self.take_lock(message).await;
        self.end(began, done).await
    }

    async fn take_lock(&mut self, message: &str) -> Result<Done<()>> {
        let holder = LockHolder::new(
            self.record.operator.user.clone(),
            self.connection.client_key(),
            message,
            &self.record.id,
        );
        let command = lock::acquire_command(&holder);
        let streaming = self
            .connection
            .start_streaming(&command, Deadline::Unbounded)
            .await?;
        let cancel = CancellationToken::new();
        let (answer, answered) = oneshot::channel::<std::result::Result<(), String>>();
        let task = tokio::spawn({
            let cancel = cancel.clone();
            async move {
                let mut answer = Some(answer);
                let mut said = String::new();
                streaming
                    .pump(
                        |chunk| {
                            // Only its first line matters; a host that goes on printing
                            // is not kept.
                            if let (StreamChunk::Stdout(bytes), true) = (chunk, said.len() < 4096) {
                                said.push_str(&String::from_utf8_lossy(bytes));
                                if said.lines().next() == Some("acquired") && said.contains('\n') {
                                    if let Some(answer) = answer.take() {
                                        let _ = answer.send(Ok(()));
                                    }
                                }
                            }
                        },
                        &cancel,
                    )
                    .await;
                if let Some(answer) = answer.take() {
                    let _ = answer.send(Err(said));
                }
            }
        });
        let answered = match tokio::time::timeout(self.read_deadline, answered).await {
            Ok(answered) => answered,
            Err(_) => {
                // Its process on the host is ended with its channel: no lock is left.
                cancel.cancel();
                let _ = task.await;
                return Err(Error::CommandTimeout {
                    host: self.connection.host().to_string(),
                    command: "flock ~/.shipshape/deploy.lock".into(),
                    seconds: self.read_deadline.as_secs(),
                });
            }
        };
        let said = match answered {
            Ok(Ok(())) => {
                let mut done = Done::new((), true, format!("Locked by {}.", holder.describe()));
                done.commands.push(command.render());
                self.holder = Some(holder);
                self.lock = Some(HeldLock {
                    command: command.render(),
                    cancel,
                    task,
                });
                return Ok(done);
            }
            Ok(Err(said)) => said,
            Err(_) => String::new(),
        };
        if let Some(running) = said.strip_prefix("busy\n") {
            return Err(Error::Busy {
                target: self.record.target.clone(),
                // The host's words, whole (its end names the script or service), quoted
                // with any control character written out.
                running: format!(
                    "a change started by another console or CLI before this deploy, {:?},",
                    running.trim().chars().take(300).collect::<String>()
                ),
            });
        }
        let status = lock::parse_status(&said);
        Err(match (status.held, status.holder) {
            (true, holder) => Error::HostLocked {
                host: self.connection.host().to_string(),
                holder: holder.map_or("someone (its holder file cannot be read)".into(), |h| {
                    h.describe()
                }),
            },
            _ => Error::StepFailed {
                step: "Taking the host's deploy lock".into(),
                detail: format!("the host answered: {}", said.trim()),
            },
        })
    }
}
