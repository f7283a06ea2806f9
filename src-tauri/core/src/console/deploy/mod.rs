//! The guided deploy: preflight (the Never Do checks), review, the host's lock, a
//! snapshot, the policy's `git pull`, `pull`, chosen migrations and `up -d
//! --remove-orphans`, then the verification checklist, and the lock freed. Each step is
//! journalled as it ends, so a deploy cut short shows the last step it completed; each
//! leaves an audit line on the host for the operators who come after. A rollback is the
//! same frame around the snapshot's restore.

mod held_lock;
mod host_lock;
mod review;
mod steps;

use serde::Serialize;
use ts_rs::TS;

use super::Console;
use crate::checklist::{CheckId, CheckStatus};
use crate::checks;
use crate::deploy::snapshot;
use crate::deploy::{DeployKind, DeployRecord, Snapshot, StepId, StepRecord};
use crate::error::{Error, ErrorReport, Result};
use crate::journal::Entry;
use crate::operations::Operation;
use steps::{Done, Run};

/// What the operator asks of a deploy.
#[derive(Debug, Clone, Default)]
pub struct DeployRequest {
    pub message: String,
    /// Migration scripts to run after the pull, picked by the operator (never guessed).
    pub migrations: Vec<String>,
    /// A review a reviewer approved: the deploy goes ahead only if it finds the same.
    pub review: Option<String>,
    /// A deploy cut short or stopped, to go on from: its snapshot stays the one a
    /// rollback returns to (a new one would record the half-deployed host).
    pub resume: Option<String>,
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

impl Console {
    /// Asks the deploy or rollback running on `target` to stop once its current step
    /// ends (the lock is then freed as after any stop).
    pub fn stop_deploy(&self, target: &str) -> Result<()> {
        let session = self.session(target);
        let mut deploy = session.deploy.lock().expect("deploy flag");
        match deploy.as_mut() {
            Some(stop) => {
                *stop = true;
                Ok(())
            }
            None => Err(Error::BadInput(format!(
                "No deploy or rollback of {target} is running in this console."
            ))),
        }
    }

    /// Whether the run on `target` was asked to stop.
    pub(super) fn stop_asked(&self, target: &str) -> bool {
        *self.session(target).deploy.lock().expect("deploy flag") == Some(true)
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
        let resumed = self.check_deploy(target, request)?;
        let mut run = self
            .begin_run(target, DeployKind::Deploy, &request.message, on_event)
            .await?;
        run.record.resumes = request.resume.clone();
        let result = self.deploy_steps(&mut run, request, resumed).await;
        self.end_run(run, result).await
    }

    /// Everything a deploy request can be refused for before anything runs or is
    /// recorded: the target, the message, the migrations' names, the review and the
    /// deploy to resume (whose snapshot it returns). The CLI asks this before it shows
    /// the review, so a typo costs nothing.
    pub fn check_deploy(&self, target: &str, request: &DeployRequest) -> Result<Option<Snapshot>> {
        let (_, policy) = self.target_and_policy(target)?;
        if request.message.trim().is_empty() {
            return Err(Error::BadInput(
                "Say in a few words what this deploy is for (--message): the lock and the audit line show it to other operators.".into(),
            ));
        }
        crate::input::line("The deploy's message", &request.message)?;
        for script in &request.migrations {
            if !crate::operations::is_script_path(script)
                || !policy.matches_migration(&policy.migration_path(script))
            {
                return Err(Error::BadInput(format!(
                    "{} is not a migration script of the policy ({}).",
                    crate::input::shown(script),
                    policy.migration_glob
                )));
            }
        }
        if let Some(id) = &request.review {
            crate::history::check_record_id("review", id)?;
            self.journal()?.review(id)?;
        }
        match &request.resume {
            Some(id) => {
                crate::history::check_record_id("deploy", id)?;
                Ok(Some(self.resumable(target, id)?))
            }
            None => Ok(None),
        }
    }

    /// The snapshot of deploy `id`, if it is a deploy of `target` that did not finish
    /// and took one.
    fn resumable(&self, target: &str, id: &str) -> Result<Snapshot> {
        if let Some(ended) = self.journal()?.deploy(id)? {
            if ended.outcome == crate::deploy::DeployOutcome::Succeeded {
                return Err(Error::BadInput(format!(
                    "{} finished: there is nothing to resume. Deploy without --resume.",
                    crate::input::shown(id)
                )));
            }
        }
        self.snapshot_to_restore(target, Some(id)).map_err(|_| {
            Error::BadInput(format!(
                "{} is no deploy of {target} that took a snapshot before it ended: there is nothing to resume, deploy without --resume.",
                crate::input::shown(id)
            ))
        })
    }

    async fn deploy_steps<F: FnMut(DeployEvent) + Send>(
        &self,
        run: &mut Run<'_, F>,
        request: &DeployRequest,
        resumed: Option<Snapshot>,
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
        let (review, approval) = run
            .step(StepId::Review, "Review what the deploy changes", async {
                let review = self.find_review(&target).await?;
                let approval = match &request.review {
                    Some(id) => Some(self.approval_for(id, &review)?),
                    None => None,
                };
                let moved = review.images.iter().filter(|i| i.changes).count();
                let mut note = match review.is_up_to_date() {
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
                note.push_str(&format!(
                    " {} {moved} image(s) move. {}",
                    review.compose.note, review.env_keys.note
                ));
                if let Some(approval) = &approval {
                    note.push_str(&format!(
                        " Approved by {} ({}) at {}.",
                        approval.reviewer, approval.key_fingerprint, approval.approved_at
                    ));
                }
                let mut done = Done::new((review.clone(), approval), true, note);
                done.commands = review.commands.clone();
                Ok(done)
            })
            .await?;
        run.record.commits = review.commits.clone();
        run.record.review = Some(review);
        run.record.approval = approval;
        run.lock_step(
            StepId::Lock,
            "Lock the host for this deploy",
            &request.message,
        )
        .await?;
        match resumed {
            Some(snapshot) => {
                run.step(StepId::Snapshot, "Keep the snapshot of the deploy resumed", async {
                    let note = format!(
                        "Kept the snapshot {} took before it changed anything (commit {}): a rollback returns there.",
                        snapshot.deploy,
                        snapshot.short_commit()
                    );
                    let mut done = Done::new((), true, note);
                    done.snapshot = Some(snapshot);
                    Ok(done)
                })
                .await?
            }
            None => {
                let began = run.begin(StepId::Snapshot, "Record a snapshot to roll back to");
                let taken = run.take_snapshot(&policy, &target_config.project_dir).await;
                run.end(began, taken).await?;
            }
        }
        run.operation_step(StepId::GitPull, "Pull the latest code", Operation::GitPull)
            .await?;
        run.operation_step(StepId::Pull, "Pull the images", Operation::Pull)
            .await?;
        if request.migrations.is_empty() {
            run.step(StepId::Migrate, "Run migrations", async {
                Ok(Done::skipped("No migration was picked."))
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

    /// Every snapshot taken for `target`, oldest first, with the deploy whose step
    /// recorded it (a resumed deploy records the snapshot it kept, under its own id).
    fn recorded_snapshots(&self, target: &str) -> Result<Vec<(String, Snapshot)>> {
        let mut of_target = std::collections::HashSet::new();
        let mut found = Vec::new();
        for (id, entry) in self.journal()?.entries()? {
            match entry {
                Entry::DeployStarted(start) if start.target == target => {
                    of_target.insert(id);
                }
                Entry::DeployStep(step) if of_target.contains(&id) => {
                    if let Some(snapshot) = step.snapshot {
                        found.push((id, snapshot));
                    }
                }
                _ => {}
            }
        }
        Ok(found)
    }

    /// Every snapshot a rollback of `target` can return to, newest first.
    pub fn deploy_snapshots(&self, target: &str) -> Result<Vec<Snapshot>> {
        crate::target::find(self.settings.as_ref(), target)?;
        let mut found: Vec<Snapshot> = Vec::new();
        for (_, snapshot) in self.recorded_snapshots(target)?.into_iter().rev() {
            if !found.iter().any(|s| s.deploy == snapshot.deploy) {
                found.push(snapshot);
            }
        }
        Ok(found)
    }

    /// The snapshot to return `target` to: that of deploy `to` (the deploy that took it,
    /// or one that resumed it), or the newest one.
    fn snapshot_to_restore(&self, target: &str, to: Option<&str>) -> Result<Snapshot> {
        let found = self
            .recorded_snapshots(target)?
            .into_iter()
            .rev()
            .find(|(id, snapshot)| to.is_none_or(|to| to == id || to == snapshot.deploy))
            .map(|(_, snapshot)| snapshot);
        found.ok_or_else(|| {
            Error::BadInput(match to {
                Some(to) => format!("No snapshot of {target} was taken by {to}: `shipshape history` lists the deploys."),
                None => format!("No deploy of {target} has taken a snapshot yet, so there is nothing to roll back to."),
            })
        })
    }

    /// Everything a rollback can be refused for before anything runs (the reason, the
    /// snapshot to return to): the snapshot it would restore. The CLI asks this before
    /// it asks the operator.
    pub fn check_rollback(&self, target: &str, to: Option<&str>, reason: &str) -> Result<Snapshot> {
        self.target_and_policy(target)?;
        if reason.trim().chars().count() < 10 {
            return Err(Error::BadInput(
                "Say why you roll back, in at least 10 characters (--reason): a rollback is recorded as an emergency change.".into(),
            ));
        }
        crate::input::line("The rollback's reason", reason)?;
        self.snapshot_to_restore(target, to)
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
        let snapshot = self.check_rollback(target, to, reason)?;
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
                snapshot.short_commit(),
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
