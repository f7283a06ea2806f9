//! Rollback: a deploy's snapshot found in the journal and put back, under the host's
//! lock, as an emergency change with its reason, then verified. Everything it needs is
//! checked on the host before anything changes, since half a rollback (old code beside
//! new images) is worse than none.

use super::steps::Done;
use super::{titles, DeployEvent, DeployRun};
use crate::checklist::CheckId;
use crate::console::Console;
use crate::deploy::snapshot;
use crate::deploy::{DeployKind, Snapshot, StepId};
use crate::error::{Error, Result};
use crate::journal::{Entry, Lineages};
use crate::operations::Operation;

impl Console {
    /// Every snapshot taken for `target`, oldest first, under whichever name it had, with
    /// the deploy whose step recorded it (a resumed deploy records the snapshot it kept,
    /// under its own id).
    pub(super) fn recorded_snapshots(&self, target: &str) -> Result<Vec<(String, Snapshot)>> {
        let mut lineages = Lineages::default();
        let mut deploys = std::collections::HashMap::new();
        let mut found = Vec::new();
        for (id, entry) in self.journal()?.entries()? {
            match entry {
                Entry::TargetRenamed { from, to, .. } => lineages.renamed(&from, &to),
                Entry::TargetRemoved { name, .. } => lineages.removed(&name),
                Entry::DeployStarted(start) => {
                    deploys.insert(id, lineages.of(&start.target));
                }
                Entry::DeployStep(step) => {
                    if let (Some(&lineage), Some(snapshot)) = (deploys.get(&id), step.snapshot) {
                        found.push((lineage, id, snapshot));
                    }
                }
                _ => {}
            }
        }
        let ours = lineages.of(target);
        Ok(found
            .into_iter()
            .filter(|(lineage, ..)| *lineage == ours)
            .map(|(_, id, snapshot)| (id, snapshot))
            .collect())
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
    pub(super) fn snapshot_to_restore(&self, target: &str, to: Option<&str>) -> Result<Snapshot> {
        // Refused before the journal is opened (a first open creates it).
        if let Some(to) = to {
            crate::history::check_record_id("deploy", to)?;
        }
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
    /// change, under the lock, recorded with its reason, then verified. `plan`: the
    /// digest of the plan the operator confirmed; if it would differ now, nothing runs.
    pub async fn rollback(
        &self,
        target: &str,
        to: Option<&str>,
        reason: &str,
        plan: Option<&str>,
        on_event: impl FnMut(DeployEvent) + Send,
    ) -> Result<DeployRun> {
        let snapshot = self.check_rollback(target, to, reason)?;
        if let Some(shown) = plan {
            self.plan_rollback(target, Some(&snapshot.deploy))?
                .check_shown(shown, target)?;
        }
        let mut run = self
            .begin_run(target, DeployKind::Rollback, reason, None, on_event)
            .await?;
        // The target and policy as the run began: the restore and the `up` hold to them.
        let (target_config, policy) = (run.defined.clone(), run.policy.clone());
        run.record.rolled_back_to = Some(snapshot.deploy.clone());
        let result: Result<()> = async {
            run.lock_step(StepId::Lock, titles::LOCK_ROLLBACK, reason)
                .await?;
            let began = run.begin(StepId::Restore, titles::RESTORE);
            let dir = &target_config.project_dir;
            // Everything it needs is checked first: a rollback that stopped halfway
            // would leave old code beside new images.
            let all = std::iter::once(snapshot::rollback_check_command(&snapshot, dir))
                .chain(snapshot::rollback_commands(&snapshot, &policy, dir));
            let mut commands = Vec::new();
            let mut failed = None;
            for (i, command) in all.enumerate() {
                if let Err(error) = run.exec(&command, &mut commands).await {
                    failed = Some((i, error));
                    break;
                }
            }
            let done = match failed {
                // Cut off: what ran is not known for sure.
                Some((_, lost)) if lost.code().exit_code() == 3 => Err(lost),
                // Stopped before the check or git's checkout ran (the lock was lost, the
                // target changed): the snapshot and git are not to blame, so say why.
                Some((i, stopped)) if i < 2 && !matches!(stopped, Error::RemoteFailed { .. }) => {
                    Err(stopped)
                }
                // Refused: the commands that ran are kept with the failure.
                Some((i, refused)) => {
                    let said = refused.detail().unwrap_or_else(|| refused.to_string());
                    // 0 is the check; 1, git's checkout, changes nothing when refused.
                    let note = match i {
                        0 => format!(
                            "The snapshot cannot be put back, so nothing was changed ({said})."
                        ),
                        1 => format!("git refused to check out the snapshot's commit, so nothing was changed ({said})."),
                        _ => format!(
                            "A command of the restore failed ({said}); the ones before it ran, so the host is partly restored: check it with a verification, or roll back again."
                        ),
                    };
                    let mut done = Done::new((), false, note);
                    done.commands = commands;
                    Ok(done)
                }
                None => {
                    let mut note = format!(
                        "Back to commit {}, {} image(s){}.",
                        snapshot.short_commit(),
                        snapshot.images.len(),
                        if snapshot.env_backup.is_some() {
                            " and the env file of that time"
                        } else {
                            ""
                        }
                    );
                    if let Some(not_kept) = snapshot::images_not_kept(&snapshot, &policy) {
                        note = format!("{note} {not_kept}");
                    }
                    let mut done = Done::new((), true, note);
                    done.commands = commands;
                    Ok(done)
                }
            };
            // The env file may be the snapshot's now: a follow reads it before `up`.
            self.session(target).env_written.send_modify(|n| *n += 1);
            run.end(began, done).await?;
            self.forget_facts(target);
            run.operation_step(
                StepId::Up,
                titles::UP,
                Operation::Up,
            )
            .await?;
            self.verify_step(&mut run, &[CheckId::CodeDeployed]).await
        }
        .await;
        self.end_run(run, result).await
    }
}
