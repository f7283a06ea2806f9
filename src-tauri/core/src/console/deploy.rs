//! The guided deploy: preflight (the Never Do checks), review, the host's lock, a
//! snapshot, the policy's `git pull`, `pull`, chosen migrations and `up -d
//! --remove-orphans`, then the verification checklist, and the lock freed. Each step is
//! journalled as it ends, so a deploy cut short shows the last step it completed; each
//! leaves an audit line on the host for the operators who come after. A rollback is the
//! same frame around the snapshot's restore.

use std::sync::Arc;

use serde::Serialize;
use tokio::sync::oneshot;
use ts_rs::TS;

use super::Console;
use crate::checklist::{Actor, CheckId, CheckStatus};
use crate::checks;
use crate::checks::host_state;
use crate::deploy::lock::{self, LockHolder, LockStatus};
use crate::deploy::snapshot;
use crate::deploy::{
    DeployKind, DeployOutcome, DeployRecord, Snapshot, StepId, StepRecord, StepStatus,
};
use crate::error::{Error, ErrorReport, Result};
use crate::history::{new_record_id, operator};
use crate::journal::{Entry, RunStart};
use crate::operations::Operation;
use crate::policy::Policy;
use crate::shell::RemoteCommand;
use crate::ssh::{CancellationToken, CommandOutput, Connection, Deadline, StreamChunk};

/// What the operator asks of a deploy.
#[derive(Debug, Clone, Default)]
pub struct DeployRequest {
    pub message: String,
    /// Migration scripts to run after the pull, picked by the operator (never guessed).
    pub migrations: Vec<String>,
}

/// What a deploy reports as it goes.
#[derive(Debug, Clone, Serialize, TS)]
#[serde(tag = "kind", rename_all = "snake_case")]
pub enum DeployEvent {
    StepStarted {
        step: StepId,
        title: String,
    },
    /// Output of the running step's command, as it comes.
    Output {
        text: String,
    },
    StepEnded {
        step: Box<StepRecord>,
    },
}

const GUARDRAILS: [CheckId; 4] = [
    CheckId::NoReload,
    CheckId::NoSystemdMix,
    CheckId::AwsProfileOnly,
    CheckId::ComposeOnly,
];

fn now() -> String {
    humantime::format_rfc3339_millis(std::time::SystemTime::now()).to_string()
}

/// `output` if its command succeeded; otherwise the failure, saying what it was for.
fn required(output: CommandOutput, what: &str) -> Result<CommandOutput> {
    match output.succeeded() {
        true => Ok(output),
        false => Err(Error::RemoteFailed {
            what: what.into(),
            exit_code: output.exit_code.unwrap_or(-1),
            detail: output.stderr,
        }),
    }
}

fn this_machine() -> String {
    std::fs::read_to_string("/proc/sys/kernel/hostname")
        .map(|h| h.trim().to_string())
        .unwrap_or_else(|_| "unknown".into())
}

/// The host's lock while held: its channel's task, ended to free it.
struct HeldLock {
    /// The command that holds it.
    command: String,
    cancel: CancellationToken,
    task: tokio::task::JoinHandle<()>,
}

impl HeldLock {
    async fn release(self) {
        self.cancel.cancel();
        let _ = self.task.await;
    }
}

/// What a step did: its value, whether it succeeded, and what shows for it.
struct Done<T> {
    value: T,
    ok: bool,
    commands: Vec<String>,
    note: String,
    record_ids: Vec<String>,
    snapshot: Option<Snapshot>,
}

impl<T> Done<T> {
    fn new(value: T, ok: bool, note: impl Into<String>) -> Done<T> {
        Done {
            value,
            ok,
            commands: Vec::new(),
            note: note.into(),
            record_ids: Vec::new(),
            snapshot: None,
        }
    }
}

/// A step under way.
struct Began {
    step: StepId,
    title: String,
    started_at: String,
    clock: std::time::Instant,
}

/// A deploy or rollback as it ended: its record, and the error that stopped it if one did.
pub struct DeployRun {
    pub record: DeployRecord,
    pub error: Option<Error>,
}

/// [`DeployRun`] as it crosses to the UI.
#[derive(Debug, Clone, Serialize, TS)]
pub struct DeployResult {
    pub record: DeployRecord,
    pub error: Option<ErrorReport>,
}

impl From<DeployRun> for DeployResult {
    fn from(run: DeployRun) -> DeployResult {
        DeployResult {
            error: run.error.as_ref().map(ErrorReport::from),
            record: run.record,
        }
    }
}

/// A run in progress: its record so far, the connection, and the lock once taken.
struct Run<'a, F> {
    console: &'a Console,
    connection: Arc<Connection>,
    record: DeployRecord,
    lock: Option<HeldLock>,
    /// Who holds (or held) the lock: the audit lines name them.
    holder: Option<LockHolder>,
    on_event: F,
}

impl<F: FnMut(DeployEvent) + Send> Run<'_, F> {
    /// Starts a step: says so, and returns its clock for [`Run::end`].
    fn begin(&mut self, step: StepId, title: &str) -> Began {
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
    async fn end<T>(&mut self, began: Began, done: Result<Done<T>>) -> Result<T> {
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
        result
    }

    /// A step whose work does not need the run itself: begun, awaited, ended.
    async fn step<T>(
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

    /// An operation of the policy's, through the one path every operation takes.
    async fn operation(&mut self, operation: Operation) -> Result<Done<()>> {
        let target = self.record.target.clone();
        let on_event = &mut self.on_event;
        let outcome = self
            .console
            .run_operation_streaming(
                &target,
                &operation,
                |text| {
                    on_event(DeployEvent::Output {
                        text: text.to_string(),
                    })
                },
                &CancellationToken::new(),
            )
            .await?;
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

    async fn operation_step(
        &mut self,
        step: StepId,
        title: &str,
        operation: Operation,
    ) -> Result<()> {
        let began = self.begin(step, title);
        let done = self.operation(operation).await;
        self.end(began, done).await
    }

    async fn lock_step(&mut self, step: StepId, title: &str, message: &str) -> Result<()> {
        let began = self.begin(step, title);
        let done = self.take_lock(message).await;
        self.end(began, done).await
    }

    /// The commit, the images the services run and a copy of the env file on the host.
    async fn take_snapshot(&self, policy: &Policy, project_dir: &str) -> Result<Done<()>> {
        let deploy_id = &self.record.id;
        let mut commands = Vec::new();
        let command = snapshot::snapshot_command(deploy_id, policy, project_dir);
        let out = self.exec(&command, &mut commands).await?;
        let probe = checks::probe::Probe::Containers.command(policy, project_dir);
        let listed = self.exec(&probe, &mut commands).await?;
        let containers = host_state::containers(&listed).unwrap_or_default();
        let snapshot =
            snapshot::read_snapshot(deploy_id, &out, &containers, now()).ok_or_else(|| {
                Error::StepFailed {
                    step: "Recording the snapshot".into(),
                    detail: format!("its output was not a commit: {}", out.trim()),
                }
            })?;
        let note = format!(
            "Commit {}, {} service image(s){}.",
            &snapshot.git_commit[..12],
            snapshot.images.len(),
            match snapshot.env_backup {
                Some(_) => ", and a copy of the env file kept on the host (0600)",
                None => "; there is no env file to keep",
            }
        );
        let mut done = Done::new((), true, note);
        done.commands = commands;
        done.snapshot = Some(snapshot);
        Ok(done)
    }

    /// A command of the deploy's own (lock, snapshot, restore), run with the change
    /// deadline; a non-zero exit fails it.
    async fn exec(&self, command: &RemoteCommand, commands: &mut Vec<String>) -> Result<String> {
        let (_, policy) = self.console.target_and_policy(&self.record.target)?;
        let seconds = policy.deadlines.change_seconds as u64;
        let output = self
            .connection
            .exec(
                command,
                Deadline::Total(std::time::Duration::from_secs(seconds)),
            )
            .await?;
        commands.push(output.command.clone());
        if !output.succeeded() {
            return Err(Error::RemoteFailed {
                what: command.render(),
                exit_code: output.exit_code.unwrap_or(-1),
                detail: output.stderr,
            });
        }
        Ok(output.stdout)
    }

    async fn take_lock(&mut self, message: &str) -> Result<Done<()>> {
        let holder = LockHolder {
            operator: self.record.operator.user.clone(),
            key_fingerprint: self.connection.client_key().to_string(),
            machine: this_machine(),
            since: now(),
            message: message.to_string(),
            deploy: self.record.id.clone(),
        };
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
                            if let StreamChunk::Stdout(bytes) = chunk {
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
        let said = match answered.await {
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

impl Console {
    /// Starts a run: journals its start, connects, and returns it to take its steps.
    async fn begin_run<F>(
        &self,
        target: &str,
        kind: DeployKind,
        message: &str,
        on_event: F,
    ) -> Result<Run<'_, F>> {
        let what = match kind {
            DeployKind::Deploy => "Deploy",
            DeployKind::Rollback => "Roll back",
        };
        let journal = self.journal()?;
        let id = new_record_id(match kind {
            DeployKind::Deploy => "deploy",
            DeployKind::Rollback => "rollback",
        });
        journal.append(
            &id,
            &Entry::DeployStarted(RunStart::now(
                target,
                &format!("{what} {target}: {message}"),
                "guided, step by step",
            )),
        )?;
        let connection = match self.connect(target).await {
            Ok(connection) => connection,
            Err(error) => return Err(journal.aborted(&id, error)),
        };
        let record = DeployRecord {
            id,
            kind,
            target: target.to_string(),
            operator: Actor {
                user: operator(),
                key_fingerprint: Some(connection.client_key().to_string()),
            },
            message: message.to_string(),
            started_at: now(),
            finished_at: String::new(),
            outcome: DeployOutcome::Failed,
            commits: Vec::new(),
            steps: Vec::new(),
            checklist: None,
            rolled_back_to: None,
        };
        Ok(Run {
            console: self,
            connection,
            record,
            lock: None,
            holder: None,
            on_event,
        })
    }

    /// Ends a run: frees the lock if it is still held (a failed step too), journals it.
    async fn end_run<F: FnMut(DeployEvent) + Send>(
        &self,
        mut run: Run<'_, F>,
        result: Result<()>,
    ) -> Result<DeployRun> {
        if let Some(lock) = run.lock.take() {
            let began = run.begin(StepId::Unlock, "Free the host's deploy lock");
            let command = lock.command.clone();
            lock.release().await;
            let mut done = Done::new(
                (),
                true,
                "The lock is free: its process on the host ended with its channel.",
            );
            done.commands.push(command);
            run.end(began, Ok(done)).await?;
        }
        run.record.finished_at = now();
        run.record.outcome = match result {
            Ok(()) => DeployOutcome::Succeeded,
            Err(_) => DeployOutcome::Failed,
        };
        self.journal()?
            .append(&run.record.id, &Entry::DeployEnded(run.record.clone()))?;
        Ok(DeployRun {
            record: run.record,
            error: result.err(),
        })
    }

    /// The guided deploy of `target`. Refused before anything runs if the request is not
    /// valid; otherwise every step is journalled, and the run comes back with the error
    /// that stopped it, if one did.
    pub async fn deploy(
        &self,
        target: &str,
        request: &DeployRequest,
        on_event: impl FnMut(DeployEvent) + Send,
    ) -> Result<DeployRun> {
        let (_, policy) = self.target_and_policy(target)?;
        if request.message.trim().is_empty() {
            return Err(Error::BadInput(
                "Say in a few words what this deploy is for (--message): the lock and the audit line show it to other operators.".into(),
            ));
        }
        for script in &request.migrations {
            if !policy.matches_migration(&policy.migration_path(script)) {
                return Err(Error::BadInput(format!(
                    "\"{script}\" is not a migration script of the policy ({}).",
                    policy.migration_glob
                )));
            }
        }
        let mut run = self
            .begin_run(target, DeployKind::Deploy, &request.message, on_event)
            .await?;
        let result = self.deploy_steps(&mut run, request).await;
        self.end_run(run, result).await
    }

    async fn deploy_steps<F: FnMut(DeployEvent) + Send>(
        &self,
        run: &mut Run<'_, F>,
        request: &DeployRequest,
    ) -> Result<()> {
        let target = run.record.target.clone();
        let (target_config, policy) = self.target_and_policy(&target)?;
        let connection = run.connection.clone();
        run.step(StepId::Preflight, "Check the Never Do rules", async {
            let (items, _) = checks::run(
                connection.clone(),
                &GUARDRAILS,
                &policy,
                &target_config.project_dir,
                |_| {},
            )
            .await?;
            let broken: Vec<String> = items
                .iter()
                .filter(|i| i.status == CheckStatus::Fail)
                .map(|i| format!("{}: {}", i.id.as_str(), i.note))
                .collect();
            let mut done = match broken.is_empty() {
                true => Done::new((), true, "The host keeps the Never Do rules."),
                false => Done::new(
                    (),
                    false,
                    format!(
                        "The host already breaks the policy, so nothing was deployed into it. {}",
                        broken.join(" ")
                    ),
                ),
            };
            for item in &items {
                for evidence in &item.evidence {
                    if !done.commands.contains(&evidence.command) {
                        done.commands.push(evidence.command.clone());
                    }
                }
            }
            Ok(done)
        })
        .await?;
        let review = run
            .step(StepId::Review, "Review what the pull brings", async {
                let review = self.review_incoming(&target).await?;
                let note = match review.is_up_to_date() {
                    true => format!(
                        "{} is already at {}: no new commit.",
                        review.head, review.upstream
                    ),
                    false => format!(
                        "{} commit(s) and {} file(s) come from {}.",
                        review.commits.len(),
                        review.files.len(),
                        review.upstream
                    ),
                };
                let mut done = Done::new(review.commits.clone(), true, note);
                done.commands = review.commands.clone();
                Ok(done)
            })
            .await?;
        run.record.commits = review;
        run.lock_step(
            StepId::Lock,
            "Lock the host for this deploy",
            &request.message,
        )
        .await?;
        let began = run.begin(StepId::Snapshot, "Record a snapshot to roll back to");
        let taken = run.take_snapshot(&policy, &target_config.project_dir).await;
        run.end(began, taken).await?;
        run.operation_step(StepId::GitPull, "Pull the latest code", Operation::GitPull)
            .await?;
        run.operation_step(StepId::Pull, "Pull the images", Operation::Pull)
            .await?;
        if request.migrations.is_empty() {
            run.step(StepId::Migrate, "Run migrations", async {
                Ok(Done::new((), true, "No migration was picked."))
            })
            .await?;
        }
        for script in &request.migrations {
            let migrate = Operation::Migrate {
                script: script.clone(),
            };
            run.operation_step(
                StepId::Migrate,
                &format!("Run the migration {script}"),
                migrate,
            )
            .await?;
        }
        run.operation_step(
            StepId::Up,
            "Update the services (up -d --remove-orphans)",
            Operation::Up,
        )
        .await?;
        self.verify_step(run, &[]).await
    }

    /// The checklist, as the last step of a deploy or rollback; `expected` are items
    /// whose failure is the point (a rollback leaves the host behind origin's main).
    async fn verify_step<F: FnMut(DeployEvent) + Send>(
        &self,
        run: &mut Run<'_, F>,
        expected: &[CheckId],
    ) -> Result<()> {
        let target = run.record.target.clone();
        let began = run.begin(StepId::Verify, "Run the verification checklist");
        let verified = self.verify(&target, |_| {}).await;
        run.record.checklist = verified.as_ref().ok().map(|c| c.id.clone());
        let done = verified.map(|checklist| {
            let (expected, failed): (Vec<_>, Vec<_>) = checklist
                .items
                .iter()
                .filter(|i| i.status == CheckStatus::Fail)
                .map(|i| i.id)
                .partition(|id| expected.contains(id));
            let names = |ids: &[CheckId]| ids.iter().map(|i| i.as_str()).collect::<Vec<_>>().join(", ");
            let mut note = match failed.is_empty() {
                true => "No check failed.".to_string(),
                false => format!("Failed: {}.", names(&failed)),
            };
            if !expected.is_empty() {
                note.push_str(&format!(
                    " As expected after a rollback: {} (the host is on the snapshot's commit, behind origin).",
                    names(&expected)
                ));
            }
            let mut done = Done::new((), failed.is_empty(), note);
            done.record_ids.push(checklist.id.clone());
            done
        });
        run.end(began, done).await
    }

    /// The deploy lock on `target`'s host: held or free, and by whom.
    pub async fn lock_status(&self, target: &str) -> Result<LockStatus> {
        let (_, policy) = self.target_and_policy(target)?;
        let connection = self.connect(target).await?;
        let seconds = policy.deadlines.read_seconds as u64;
        let output = connection
            .exec(
                &lock::status_command(),
                Deadline::Total(std::time::Duration::from_secs(seconds)),
            )
            .await?;
        let output = required(output, "Reading the host's deploy lock")?;
        Ok(lock::parse_status(&output.stdout))
    }

    /// Breaks the deploy lock on `target`'s host deliberately (its holder's process is
    /// ended), recording why in the journal and on the host.
    pub async fn break_lock(&self, target: &str, reason: &str) -> Result<LockStatus> {
        let (_, policy) = self.target_and_policy(target)?;
        if reason.trim().chars().count() < 10 {
            return Err(Error::BadInput(
                "Say why the lock is broken, in at least 10 characters (--reason): it is recorded here and on the host.".into(),
            ));
        }
        let before = self.lock_status(target).await?;
        let connection = self.connect(target).await?;
        let seconds = policy.deadlines.change_seconds as u64;
        let output = connection
            .exec(
                &lock::break_command(),
                Deadline::Total(std::time::Duration::from_secs(seconds)),
            )
            .await?;
        required(output, "Breaking the host's deploy lock")?;
        let journal = self.journal()?;
        journal.append(
            &new_record_id("lock"),
            &Entry::LockBroken {
                target: target.to_string(),
                operator: operator(),
                reason: reason.to_string(),
                holder: before.holder.clone(),
            },
        )?;
        let breaker = LockHolder {
            operator: operator(),
            key_fingerprint: connection.client_key().to_string(),
            machine: this_machine(),
            since: now(),
            message: reason.to_string(),
            deploy: "-".into(),
        };
        let held_by = before
            .holder
            .map(|h| h.describe())
            .unwrap_or_else(|| "nobody known".into());
        let line = lock::audit_command(
            &breaker,
            "lock broken",
            &format!("held by {held_by}; reason: {reason}"),
        );
        connection
            .exec(
                &line,
                Deadline::Total(std::time::Duration::from_secs(seconds)),
            )
            .await?;
        self.lock_status(target).await
    }

    /// The snapshot to return `target` to: that of deploy `to`, or the newest one.
    fn snapshot_to_restore(&self, target: &str, to: Option<&str>) -> Result<Snapshot> {
        let mut of_target = std::collections::HashSet::new();
        let mut found = None;
        for (id, entry) in self.journal()?.entries()? {
            match entry {
                Entry::DeployStarted(start) if start.target == target => {
                    of_target.insert(id);
                }
                Entry::DeployStep(step) if of_target.contains(&id) => {
                    if let Some(snapshot) = step.snapshot {
                        if to.is_none_or(|to| to == id) {
                            found = Some(snapshot);
                        }
                    }
                }
                _ => {}
            }
        }
        found.ok_or_else(|| {
            Error::BadInput(match to {
                Some(to) => format!("No snapshot of {target} was taken by {to}: `shipshape history` lists the deploys."),
                None => format!("No deploy of {target} has taken a snapshot yet, so there is nothing to roll back to."),
            })
        })
    }

    /// Returns `target` to a deploy's snapshot (the newest, or `to`'s): an emergency
    /// change, under the lock, recorded with its reason, then verified.
    pub async fn rollback(
        &self,
        target: &str,
        to: Option<&str>,
        reason: &str,
        on_event: impl FnMut(DeployEvent) + Send,
    ) -> Result<DeployRun> {
        let (target_config, policy) = self.target_and_policy(target)?;
        if reason.trim().chars().count() < 10 {
            return Err(Error::BadInput(
                "Say why you roll back, in at least 10 characters (--reason): a rollback is recorded as an emergency change.".into(),
            ));
        }
        let snapshot = self.snapshot_to_restore(target, to)?;
        let mut run = self
            .begin_run(target, DeployKind::Rollback, reason, on_event)
            .await?;
        run.record.rolled_back_to = Some(snapshot.deploy.clone());
        let result: Result<()> = async {
            run.lock_step(StepId::Lock, "Lock the host for this rollback", reason)
                .await?;
            let began = run.begin(StepId::Restore, "Restore the snapshot");
            let mut commands = Vec::new();
            let mut restored = Ok(());
            for command in
                snapshot::rollback_commands(&snapshot, &policy, &target_config.project_dir)
            {
                if let Err(error) = run.exec(&command, &mut commands).await {
                    restored = Err(error);
                    break;
                }
            }
            let note = format!(
                "Back to commit {}, {} image(s){}.",
                &snapshot.git_commit[..12],
                snapshot.images.len(),
                if snapshot.env_backup.is_some() {
                    " and the env file of that time"
                } else {
                    ""
                }
            );
            let done = restored.map(|()| {
                let mut done = Done::new((), true, note);
                done.commands = commands;
                done
            });
            run.end(began, done).await?;
            self.forget_facts(target);
            run.operation_step(
                StepId::Up,
                "Update the services (up -d --remove-orphans)",
                Operation::Up,
            )
            .await?;
            self.verify_step(&mut run, &[CheckId::CodeDeployed]).await
        }
        .await;
        self.end_run(run, result).await
    }
}
