//! The guided deploy: preflight (the Never Do checks), review, the host's lock, a
//! snapshot, the policy's `git pull` (held to the review), `pull`, `up -d
//! --remove-orphans` and chosen migrations, then the verification checklist, and the
//! lock freed. Each step is
//! journalled as it ends, so a deploy cut short shows the last step it completed; each
//! leaves an audit line on the host for the operators who come after. A rollback is the
//! same frame around the snapshot's restore.

mod held_lock;
mod host_lock;
mod plan;
mod resume;
mod review;
mod rollback;
mod run;
mod steps;

pub use plan::{PlannedStep, RunPlan};

use serde::{Deserialize, Serialize};
use ts_rs::TS;

use super::Console;
use crate::checklist::{CheckId, CheckStatus};
use crate::checks;
use crate::deploy::{DeployKind, DeployRecord, Snapshot, StepId, StepRecord};
use crate::error::{Error, ErrorReport, Result};
use crate::operations::Operation;
use steps::{Done, Run};

/// What the operator asks of a deploy.
#[derive(Debug, Clone, Default, Deserialize, TS)]
pub struct DeployRequest {
    pub message: String,
    /// Migration scripts to run after the pull, picked by the operator (never guessed).
    pub migrations: Vec<String>,
    /// A review a reviewer approved: the deploy goes ahead only if it finds the same.
    pub review: Option<String>,
    /// A deploy cut short or stopped, to go on from: its snapshot stays the one a
    /// rollback returns to (a new one would record the half-deployed host).
    pub resume: Option<String>,
    /// The commit the operator was shown this deploy would bring the host to (the newest
    /// incoming one, or the one it is on): if origin moved since, nothing is deployed.
    pub seen: Option<String>,
    /// The digest of the plan the operator confirmed ([`RunPlan::digest`]): if the
    /// target or its policy changed since, nothing runs.
    #[serde(default)]
    pub plan: Option<String>,
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

/// What a deploy that runs no migration says at that step.
const NO_MIGRATION: &str = "No migration was picked.";

/// The steps' titles, as the run records them and its plan shows them.
mod titles {
    pub const PREFLIGHT: &str = "Check the Never Do rules";
    pub const REVIEW: &str = "Review what the deploy changes";
    pub const LOCK_DEPLOY: &str = "Lock the host for this deploy";
    pub const LOCK_ROLLBACK: &str = "Lock the host for this rollback";
    pub const SNAPSHOT: &str = "Record a snapshot to roll back to";
    pub const KEEP_SNAPSHOT: &str = "Keep the snapshot of the deploy resumed";
    pub const GIT_PULL: &str = "Pull the latest code";
    pub const PULL: &str = "Pull the images";
    pub const UP: &str = "Update the services (up -d --remove-orphans)";
    pub const RESTORE: &str = "Restore the snapshot";
    /// The step of a deploy that runs none.
    pub const MIGRATIONS: &str = "Run migrations";
    /// A migration's step, before its script as the operator named it.
    pub const MIGRATION: &str = "Run the migration ";
    pub const VERIFY: &str = "Run the verification checklist";
    pub const UNLOCK: &str = "Free the host's deploy lock";
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
    /// The targets a deploy or rollback runs on in this console now, by name: what
    /// closing it would cut short on the host.
    pub fn running_deploys(&self) -> Vec<String> {
        let sessions = self.sessions.lock().expect("sessions");
        let mut running: Vec<String> = sessions
            .iter()
            .filter(|(_, session)| session.deploy.lock().expect("deploy flag").is_some())
            .map(|(name, _)| name.clone())
            .collect();
        running.sort();
        running
    }

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
            .begin_run(
                target,
                DeployKind::Deploy,
                &request.message,
                request.resume.as_deref(),
                on_event,
            )
            .await?;
        let result = self.deploy_steps(&mut run, request, resumed).await;
        self.end_run(run, result).await
    }

    /// Everything a deploy request can be refused for before anything runs or is
    /// recorded: the target, the message, the migrations' names, the review, the
    /// deploy to resume (whose snapshot it returns) and the plan the operator
    /// confirmed. The CLI asks this before it shows the review, so a typo costs nothing.
    pub fn check_deploy(&self, target: &str, request: &DeployRequest) -> Result<Option<Snapshot>> {
        let (defined, policy) = self.target_and_policy(target)?;
        if request.message.trim().is_empty() {
            return Err(Error::BadInput(
                "Say in a few words what this deploy is for (--message): the lock and the audit line show it to other operators.".into(),
            ));
        }
        crate::input::line("The deploy's message", &request.message)?;
        check_migrations(&policy, &request.migrations)?;
        if let Some(id) = &request.review {
            crate::history::check_record_id("review", id)?;
            if let (_, Some(approval)) = self.journal()?.review(id)? {
                review::unapproved_migrations(id, &approval, &request.migrations)?;
            }
        }
        let resumed = match &request.resume {
            Some(id) => {
                crate::history::check_record_id("deploy", id)?;
                let snapshot = self.resumable(target, id)?;
                self.refuse_migrations_run_by(target, &snapshot, &policy, &request.migrations)?;
                Some(snapshot)
            }
            None => None,
        };
        if let Some(shown) = &request.plan {
            self.deploy_plan(&defined, &policy, &request.migrations, resumed.is_some())?
                .check_shown(shown, target)?;
        }
        Ok(resumed)
    }

    async fn deploy_steps<F: FnMut(DeployEvent) + Send>(
        &self,
        run: &mut Run<'_, F>,
        request: &DeployRequest,
        resumed: Option<Snapshot>,
    ) -> Result<()> {
        let target = run.record.target.clone();
        // The target and policy as the run began: every step holds to them.
        let (target_config, policy) = (run.defined.clone(), run.policy.clone());
        let connection = run.connection.clone();
        run.step(StepId::Preflight, titles::PREFLIGHT, async {
            let (items, _) = checks::run(
                connection.clone(),
                &GUARDRAILS,
                false,
                &policy,
                &target_config.project_dir,
                |_| {},
            )
            .await?;
            let noted = |status: CheckStatus| -> Vec<String> {
                items
                    .iter()
                    .filter(|i| i.status == status)
                    .map(|i| format!("{}: {}", i.id.as_str(), i.note))
                    .collect()
            };
            let (broken, unsure) = (noted(CheckStatus::Fail), noted(CheckStatus::Warn));
            let mut done = match (broken.is_empty(), unsure.is_empty()) {
                (true, true) => Done::new((), true, "The host keeps the Never Do rules."),
                // A rule that could not be checked is said, not passed over as kept.
                (true, false) => Done::new(
                    (),
                    true,
                    format!(
                        "The host breaks no Never Do rule seen; not confirmed: {}",
                        unsure.join(" ")
                    ),
                ),
                (false, _) => Done::new(
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
            .step(StepId::Review, titles::REVIEW, async {
                let (review, redactor) = self.find_review(&target).await?;
                let (checked, unchecked) = self
                    .check_incoming_config(
                        &connection,
                        &review,
                        &redactor,
                        &target_config.project_dir,
                        &policy,
                    )
                    .await?;
                drop(redactor);
                if let Some(snapshot) = &resumed {
                    self.refuse_unchecked_code(&target, snapshot, &review.head)?;
                }
                if let Some(seen) = &request.seen {
                    let now = review.tip();
                    if !same_commit(seen, now) {
                        return Err(Error::StepFailed {
                            step: titles::REVIEW.into(),
                            detail: format!(
                                "origin moved since the deploy was shown: it was to bring the host to {}, it would now bring it to {}. Nothing was changed; look at the review again, then deploy.",
                                crate::input::shown(seen),
                                now
                            ),
                        });
                    }
                }
                let approval = match &request.review {
                    Some(id) => Some(self.approval_for(id, &review, &request.migrations)?),
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
                if let Some(unchecked) = unchecked {
                    note.push(' ');
                    note.push_str(&unchecked);
                }
                let mut done = Done::new((review.clone(), approval), true, note);
                done.commands = review.commands.clone();
                done.commands.extend(checked);
                Ok(done)
            })
            .await?;
        run.record.commits = review.commits.clone();
        // What the pull must bring: the newest commit the review showed, or none.
        let reviewed = review.tip().to_string();
        let undo_pull = crate::shell::RemoteCommand::new("git")
            .args(["checkout", "-q", "-B", &policy.branch, &review.head])
            .in_dir(&target_config.project_dir);
        run.record.review = Some(review.clone());
        run.record.approval = approval;
        run.lock_step(StepId::Lock, titles::LOCK_DEPLOY, &request.message)
            .await?;
        match resumed {
            Some(snapshot) => {
                run.step(StepId::Snapshot, titles::KEEP_SNAPSHOT, async {
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
                let began = run.begin(StepId::Snapshot, titles::SNAPSHOT);
                let taken = run.take_snapshot(&policy, &target_config.project_dir).await;
                run.end(began, taken).await?;
            }
        }
        run.pull_reviewed_code(&reviewed, &undo_pull).await?;
        run.pull_reviewed_images(&review).await?;
        run.operation_step(StepId::Up, titles::UP, Operation::Up)
            .await?;
        // After `up`, as the policy's checklist orders them: a migration runs in the new
        // release's container, where the scripts it brought are.
        if request.migrations.is_empty() {
            run.step(StepId::Migrate, titles::MIGRATIONS, async {
                Ok(Done::skipped(NO_MIGRATION))
            })
            .await?;
        }
        for script in &request.migrations {
            let migrate = Operation::Migrate {
                script: script.clone(),
            };
            run.operation_step(
                StepId::Migrate,
                &format!("{}{script}", titles::MIGRATION),
                migrate,
            )
            .await?;
        }
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
        let began = run.begin(StepId::Verify, titles::VERIFY);
        let verified = match run.same_place() {
            Ok(()) => self.verify(&target, |_| {}).await,
            Err(moved) => Err(moved),
        };
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
}

/// Refuses a migration that is not a script of the policy's.
pub(super) fn check_migrations(
    policy: &crate::policy::Policy,
    migrations: &[String],
) -> Result<()> {
    for script in migrations {
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
    Ok(())
}

/// Whether two names of a commit (a full hash, or one `git rev-parse --short` gave) name
/// the same one.
pub(super) fn same_commit(a: &str, b: &str) -> bool {
    let (a, b) = (a.trim(), b.trim());
    !a.is_empty() && !b.is_empty() && (a.starts_with(b) || b.starts_with(a))
}
