//! The frame every deploy and rollback runs in: a run journalled when it starts and
//! ends, steps that say when they start and how they end (journalled, and audited on the
//! host while the lock is held), the host's lock held on a channel of its own
//! ([`super::held_lock`]), and the deploy's own commands (lock, snapshot, restore) run
//! under the change deadline.

use std::sync::Arc;

use super::held_lock::HeldLock;
use super::DeployEvent;
use crate::checks;
use crate::checks::host_state;
use crate::console::operate::Held;
use crate::console::Console;
use crate::deploy::lock::{self, LockHolder};
use crate::deploy::{review, snapshot};
use crate::deploy::{DeployRecord, DeployReview, Snapshot, StepId, StepRecord, StepStatus};
use crate::error::{Error, Result};
use crate::history::now;
use crate::journal::Entry;
use crate::operations::Operation;
use crate::policy::Policy;
use crate::shell::RemoteCommand;
use crate::ssh::{CancellationToken, Connection, Deadline};
use crate::target::Target;

/// What a step did: its value, whether it succeeded, and what shows for it.
pub(super) struct Done<T> {
    value: T,
    ok: bool,
    /// Nothing to do (no migration picked): shown as skipped, not done.
    skipped: bool,
    pub(super) commands: Vec<String>,
    pub(super) note: String,
    pub(super) record_ids: Vec<String>,
    pub(super) snapshot: Option<Snapshot>,
}

/// How a pull of the code that was checked against its review begins its note, the
/// commit after it: a resume reads it back ([`checked_commit`]).
pub(super) const CHECKED_ON: &str = "Done: the host is on ";

/// The commit a pull step's note says was checked against the review, if it says one.
pub(super) fn checked_commit(note: &str) -> Option<&str> {
    let rest = note.strip_prefix(CHECKED_ON)?;
    rest.split(',').next().filter(|c| !c.is_empty())
}

impl Done<()> {
    pub(super) fn skipped(note: impl Into<String>) -> Done<()> {
        Done {
            skipped: true,
            ..Done::new((), true, note)
        }
    }
}

impl<T> Done<T> {
    pub(super) fn new(value: T, ok: bool, note: impl Into<String>) -> Done<T> {
        Done {
            value,
            ok,
            skipped: false,
            commands: Vec::new(),
            note: note.into(),
            record_ids: Vec::new(),
            snapshot: None,
        }
    }
}

/// A step under way.
pub(super) struct Began {
    step: StepId,
    title: String,
    started_at: String,
    clock: std::time::Instant,
}

/// A run in progress: its record so far, the connection, and the lock once taken.
pub(super) struct Run<'a, F> {
    pub(super) console: &'a Console,
    pub(super) connection: Arc<Connection>,
    pub(super) record: DeployRecord,
    pub(super) lock: Option<HeldLock>,
    /// Who holds (or held) the lock: the audit lines name them.
    pub(super) holder: Option<LockHolder>,
    /// The target and its policy as they were when the run began: its operations run
    /// with them, and a target redefined meanwhile (by the CLI, another window) stops
    /// the run rather than send its rest elsewhere.
    pub(super) defined: Target,
    pub(super) policy: Policy,
    /// The policy's deadline for changes, for the deploy's own commands.
    pub(super) change_deadline: Deadline,
    /// The policy's deadline for reads: how long the host may take to say it took its
    /// lock (a home on a stuck disk would otherwise hang the deploy).
    pub(super) read_deadline: std::time::Duration,
    pub(super) on_event: F,
}

impl<F: FnMut(DeployEvent) + Send> Run<'_, F> {
    /// Starts a step: says so, and returns its clock for [`Run::end`].
    pub(super) fn begin(&mut self, step: StepId, title: &str) -> Began {
        (self.on_event)(DeployEvent::StepStarted {
            step,
            title: title.into(),
        });
        Began {
            step,
            title: title.into(),
            started_at: now(),
            clock: std::time::Instant::now(),
        }
    }

    /// Ends a step: journals how it ended and leaves an audit line on the host while the
    /// lock is held. A step that did not succeed stops the run (its error comes back).
    pub(super) async fn end<T>(&mut self, began: Began, done: Result<Done<T>>) -> Result<T> {
        let mut record = StepRecord {
            step: began.step,
            title: began.title.clone(),
            status: StepStatus::Done,
            commands: Vec::new(),
            started_at: began.started_at,
            duration_ms: began.clock.elapsed().as_millis() as u64,
            note: String::new(),
            record_ids: Vec::new(),
            snapshot: None,
        };
        let result = match done {
            Ok(done) => {
                record.commands = done.commands;
                record.note = done.note;
                record.record_ids = done.record_ids;
                record.snapshot = done.snapshot;
                if done.skipped {
                    record.status = StepStatus::Skipped;
                }
                match done.ok {
                    true => Ok(done.value),
                    false => {
                        record.status = StepStatus::Failed;
                        Err(Error::StepFailed {
                            step: began.title.clone(),
                            detail: record.note.clone(),
                        })
                    }
                }
            }
            Err(error) => {
                record.status = StepStatus::Failed;
                record.note = error.to_string();
                Err(error)
            }
        };
        self.console
            .journal()?
            .append(&self.record.id, &Entry::DeployStep(record.clone()))?;
        self.audit(&began.title, &record).await;
        self.record.steps.push(record.clone());
        (self.on_event)(DeployEvent::StepEnded {
            step: Box::new(record),
        });
        let value = result?;
        // After the verification, the last step, nothing is left to stop: the run is
        // finished, and a stop asked meanwhile changes nothing. A rollback's restore and
        // its `up` are one change: stopped between them, the services would run the
        // deployed images over the snapshot's code and env file.
        let finished = matches!(began.step, StepId::Verify | StepId::Unlock);
        let halfway = began.step == StepId::Restore;
        match !finished && !halfway && self.console.stop_asked(&self.record.target) {
            true => Err(Error::Stopped { after: began.title }),
            false => Ok(value),
        }
    }

    /// A step whose work does not need the run itself: begun, awaited, ended.
    pub(super) async fn step<T>(
        &mut self,
        step: StepId,
        title: &str,
        work: impl std::future::Future<Output = Result<Done<T>>>,
    ) -> Result<T> {
        let began = self.begin(step, title);
        let done = work.await;
        self.end(began, done).await
    }

    async fn audit(&self, title: &str, record: &StepRecord) {
        let Some(holder) = &self.holder else { return };
        let status = match record.status {
            StepStatus::Done => "done",
            StepStatus::Failed => "FAILED",
            StepStatus::Skipped => "skipped",
        };
        let line = lock::audit_command(holder, title, &format!("{status}; {}", record.note));
        if let Err(error) = self
            .connection
            .exec(&line, Deadline::Total(std::time::Duration::from_secs(30)))
            .await
        {
            tracing::warn!("the audit line could not be written on the host: {error}");
        }
    }

    /// An operation of the policy's, through the one path every operation takes, on the
    /// connection that holds the lock.
    async fn operation(&mut self, operation: Operation) -> Result<Done<()>> {
        self.same_place()?;
        self.still_locked().await?;
        let target = self.record.target.clone();
        let held = Held {
            connection: &self.connection,
            target: &self.defined,
            policy: &self.policy,
        };
        let on_event = &mut self.on_event;
        let outcome = self
            .console
            .run_operation_on(
                &target,
                &operation,
                Some(held),
                |_, text| {
                    on_event(DeployEvent::Output {
                        text: text.to_string(),
                    })
                },
                &CancellationToken::new(),
            )
            .await?
            .shown;
        let ok = outcome.succeeded();
        let note = match (ok, outcome.output.exit_code) {
            (true, _) => "Done.".to_string(),
            (false, code) => format!(
                "It ended with exit code {}: {}",
                code.map_or("none".into(), |c| c.to_string()),
                outcome
                    .output
                    .stderr
                    .trim()
                    .lines()
                    .last()
                    .unwrap_or_default()
            ),
        };
        let mut done = Done::new((), ok, note);
        done.commands.push(outcome.output.command);
        done.record_ids.push(outcome.record_id);
        Ok(done)
    }

    pub(super) async fn operation_step(
        &mut self,
        step: StepId,
        title: &str,
        operation: Operation,
    ) -> Result<()> {
        let began = self.begin(step, title);
        let done = self.operation(operation).await;
        self.end(began, done).await
    }

    /// `pull`, then each image it brought checked against the digest the review showed
    /// the registry serving (and a reviewer approved): a tag pushed again since would
    /// otherwise go live unreviewed. A mismatch stops the deploy before `up`, with the
    /// services still on their old images.
    pub(super) async fn pull_reviewed_images(&mut self, review: &DeployReview) -> Result<()> {
        let began = self.begin(StepId::Pull, super::titles::PULL);
        let done = match self.operation(Operation::Pull).await {
            Ok(pulled) if pulled.ok => self.check_pulled(pulled, review).await,
            other => other,
        };
        self.end(began, done).await
    }

    async fn check_pulled(
        &mut self,
        mut pulled: Done<()>,
        review: &DeployReview,
    ) -> Result<Done<()>> {
        let expected: Vec<(&str, &str)> = review
            .images
            .iter()
            .filter_map(|i| Some((i.reference.as_str(), i.registry.as_deref()?)))
            .collect();
        if expected.is_empty() {
            return Ok(pulled);
        }
        let references: Vec<&str> = expected.iter().map(|(r, _)| *r).collect();
        let command = review::pulled_digests_command(&references);
        let said = self.exec(&command, &mut pulled.commands).await?;
        let found = review::pulled_digests(&said);
        let moved: Vec<String> = expected
            .iter()
            .filter(|(reference, digest)| {
                // By content alone: Docker writes a repository its own short way
                // (`postgres@…` for `docker.io/library/postgres`).
                let content = |d: &str| d.rsplit('@').next().unwrap_or_default().to_string();
                !found
                    .get(*reference)
                    .is_some_and(|digests| digests.iter().any(|d| content(d) == content(digest)))
            })
            .map(|(reference, digest)| format!("{reference} is not {digest}"))
            .collect();
        if moved.is_empty() {
            pulled.note = "Done: each image is the one the review showed.".into();
            return Ok(pulled);
        }
        pulled.ok = false;
        pulled.note = format!(
            "The registry served other images than the review showed ({}), so no service was started on them; the code is on the reviewed commit. Review again, or roll back to return the code to the snapshot.",
            moved.join("; ")
        );
        Ok(pulled)
    }

    /// `git pull origin main`, then the commit it brought checked against `reviewed`,
    /// the one the review showed: origin may have moved since, and a deploy goes ahead
    /// only on what was reviewed (and approved). A pull that brought more is undone
    /// (`undo` puts the branch back where it was), so the next review shows what it
    /// brought, and the deploy stops before the images and the services change.
    pub(super) async fn pull_reviewed_code(
        &mut self,
        reviewed: &str,
        undo: &RemoteCommand,
    ) -> Result<()> {
        let began = self.begin(StepId::GitPull, super::titles::GIT_PULL);
        let done = match self.operation(Operation::GitPull).await {
            Ok(pulled) if pulled.ok => self.check_head(pulled, reviewed, undo).await,
            other => other,
        };
        self.end(began, done).await
    }

    async fn check_head(
        &mut self,
        mut done: Done<()>,
        reviewed: &str,
        undo: &RemoteCommand,
    ) -> Result<Done<()>> {
        let target = self.record.target.clone();
        let head = self
            .console
            .run_operation_on(
                &target,
                &Operation::GitHead,
                Some(self.held()),
                |_, _| {},
                &CancellationToken::new(),
            )
            .await?;
        done.commands.push(head.shown.output.command.clone());
        done.record_ids.push(head.shown.record_id.clone());
        let now = head.said.stdout.trim().to_string();
        if super::same_commit(reviewed, &now) {
            done.note = format!("{CHECKED_ON}{now}, the commit the review showed.");
            return Ok(done);
        }
        let undone = self.exec(undo, &mut done.commands).await;
        done.ok = false;
        done.note = format!(
            "the pull brought the host to {}, not to {}, the commit the review showed (origin moved since, or the host has commits of its own). {} The images and the services were not changed; review again, then deploy.",
            if now.is_empty() { "an unknown commit" } else { &now },
            reviewed.get(..12).unwrap_or(reviewed),
            match undone {
                Ok(_) => "The pull was undone: the code is back where it was.".to_string(),
                Err(error) => format!("The pull could not be undone ({error}): the code is on what it brought, and a rollback returns it to the snapshot."),
            }
        );
        Ok(done)
    }

    /// The commit, the images the services run and a copy of the env file on the host.
    pub(super) async fn take_snapshot(
        &self,
        policy: &Policy,
        project_dir: &str,
    ) -> Result<Done<()>> {
        let deploy_id = &self.record.id;
        let mut commands = Vec::new();
        let command = snapshot::snapshot_command(deploy_id, policy, project_dir);
        let out = self.exec(&command, &mut commands).await?;
        // Every service's image, or no snapshot: one left out would keep the new image
        // through a rollback. A container gone between listing and reading it (a
        // one-off ending) spoils one listing; a second is asked for.
        let probe = checks::probe::Probe::Containers.command(policy, project_dir);
        let mut containers = None;
        for _ in 0..2 {
            let listed = self.exec(&probe, &mut commands).await?;
            containers = host_state::containers(&listed);
            if containers.is_some() {
                break;
            }
        }
        let containers = containers.ok_or_else(|| Error::StepFailed {
            step: "Recording the snapshot".into(),
            detail: "the services' containers could not be read twice, so their images are not known and nothing was changed: deploy again in a moment".into(),
        })?;
        let snapshot =
            snapshot::read_snapshot(deploy_id, &out, &containers, now()).ok_or_else(|| {
                Error::StepFailed {
                    step: "Recording the snapshot".into(),
                    detail: format!("its output was not a commit: {}", out.trim()),
                }
            })?;
        // A policy service with no container now has no image to put back: said, so the
        // operator knows before the deploy goes on what a rollback cannot restore.
        let missing: Vec<&str> = policy
            .services
            .iter()
            .filter(|s| !snapshot.images.iter().any(|i| &i.service == *s))
            .map(String::as_str)
            .collect();
        let note = format!(
            "Commit {}, {} service image(s){}.{}",
            snapshot.short_commit(),
            snapshot.images.len(),
            match snapshot.env_backup {
                Some(_) => ", and a copy of the env file kept on the host (0600)",
                None => "; there is no env file to keep",
            },
            match missing.is_empty() {
                true => String::new(),
                false => format!(
                    " No image of {}: none of its containers is on the host, so a rollback to this snapshot cannot put one back.",
                    missing.join(", ")
                ),
            }
        );
        let mut done = Done::new((), true, note);
        done.commands = commands;
        done.snapshot = Some(snapshot);
        Ok(done)
    }

    /// A command of the deploy's own (lock, snapshot, restore), run with the change
    /// deadline; a non-zero exit fails it.
    pub(super) async fn exec(
        &self,
        command: &RemoteCommand,
        commands: &mut Vec<String>,
    ) -> Result<String> {
        self.same_place()?;
        self.still_locked().await?;
        let output = self.connection.exec(command, self.change_deadline).await?;
        commands.push(output.command.clone());
        Ok(output.required(&command.render())?.stdout)
    }
}
