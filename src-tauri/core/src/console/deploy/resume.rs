//! Resuming a deploy cut short: which one can be (the newest snapshot's, not finished
//! by a resume since), and what a resume must not do: run again a migration its chain
//! of runs ran to its end, or put live code the host moved to that none of them checked
//! against a review.

use super::steps;
use super::{same_commit, titles};
use crate::console::Console;
use crate::deploy::{Snapshot, StepId, StepRecord, StepStatus};
use crate::error::{Error, Result};
use crate::history::{HistoryRecord, LastRun, ResumeAttempt};
use crate::policy::Policy;

impl Console {
    /// The runs that share `snapshot` (the deploy that took it, and the resumes of it
    /// since), in the journal's order, with the steps each journalled as it ended: all
    /// there is of one killed outright.
    fn runs_sharing_snapshot_of(
        &self,
        target: &str,
        snapshot: &Snapshot,
    ) -> Result<Vec<(String, Vec<StepRecord>)>> {
        let journal = self.journal()?;
        let mut runs: Vec<String> = Vec::new();
        for (id, kept) in self.recorded_snapshots(target)? {
            if kept.deploy == snapshot.deploy && !runs.contains(&id) {
                runs.push(id);
            }
        }
        runs.into_iter()
            .map(|id| Ok((id.clone(), journal.deploy_steps(&id)?)))
            .collect()
    }

    /// Refuses to run again a migration that a run sharing `snapshot` (the deploy that
    /// took it, or a resume of it) ran to its end.
    pub(super) fn refuse_migrations_run_by(
        &self,
        target: &str,
        snapshot: &Snapshot,
        policy: &Policy,
        migrations: &[String],
    ) -> Result<()> {
        let runs = self.runs_sharing_snapshot_of(target, snapshot)?;
        let ran: Vec<String> = runs
            .iter()
            .flat_map(|(_, steps)| steps)
            .filter(|s| s.step == StepId::Migrate && s.status == StepStatus::Done)
            .filter_map(|s| s.title.strip_prefix(titles::MIGRATION))
            .map(|script| policy.migration_path(script))
            .collect();
        let again: Vec<&str> = migrations
            .iter()
            .filter(|script| ran.contains(&policy.migration_path(script)))
            .map(String::as_str)
            .collect();
        match again.is_empty() {
            true => Ok(()),
            false => Err(Error::BadInput(format!(
                "{}, or a resume of it, ran {} to its end already: a resume must not run it again. Give only the migrations still to run (--migrate).",
                crate::input::shown(&snapshot.deploy),
                again.join(", ")
            ))),
        }
    }

    /// Refuses a resume when the host's code moved since `snapshot` (to `head`) and no run
    /// sharing it checked `head` against its review after pulling it, nor showed it as its
    /// review's tip (one cut short in its pull, say): the review made now starts from
    /// `head`, so what that pull brought (origin may have moved between its review and its
    /// pull) would go live unseen.
    pub(super) fn refuse_unchecked_code(
        &self,
        target: &str,
        snapshot: &Snapshot,
        head: &str,
    ) -> Result<()> {
        if same_commit(&snapshot.git_commit, head) {
            return Ok(());
        }
        let journal = self.journal()?;
        let runs = self.runs_sharing_snapshot_of(target, snapshot)?;
        // A commit one of them checked against its review after pulling it (`id`, or a
        // resume of it), or the tip the review of one cut short at its pull showed.
        let mut checked = false;
        for (id, steps) in &runs {
            checked |= steps
                .iter()
                .filter(|s| s.step == StepId::GitPull && s.status == StepStatus::Done)
                .filter_map(|s| steps::checked_commit(&s.note))
                .any(|commit| same_commit(commit, head));
            checked |= journal
                .deploy(id)?
                .and_then(|ended| ended.review)
                .is_some_and(|review| same_commit(review.tip(), head));
        }
        match checked {
            true => Ok(()),
            false => Err(Error::StepFailed {
                step: titles::REVIEW.into(),
                detail: format!(
                    "the host's code is on {head}, not on {}, where {} took its snapshot, and the last run of it was cut short before its pull was checked against its review: what the host would run was never shown. Nothing was changed; roll back to the snapshot, then deploy afresh.",
                    snapshot.short_commit(),
                    crate::input::shown(&snapshot.deploy)
                ),
            }),
        }
    }

    /// `target`'s newest deploy or rollback that may have changed its host
    /// ([`crate::history::last_run`]), and the deploy a Resume would go on with, if one
    /// can; `None`: there is none.
    pub fn last_run(&self, target: &str) -> Result<Option<LastRun>> {
        crate::target::find(self.settings.as_ref(), target)?;
        let history = self.history()?;
        let Some(record) = crate::history::last_run(&history, target) else {
            return Ok(None);
        };
        let id = record.deploy_to_resume();
        // Asked only of a deploy ended short (it reads the journal again): a rollback is
        // never resumed.
        let resumable = record.ended_short()
            && crate::history::check_record_id("deploy", id).is_ok()
            && self.resumable(target, id).is_ok();
        let last_attempt = match resumable {
            true => self.last_resume_attempt(&history, target, record, id)?,
            false => None,
        };
        Ok(Some(LastRun {
            resumable: resumable.then(|| id.to_string()),
            record: record.clone(),
            last_attempt,
        }))
    }

    /// The newest resume of `id` since `record` that ended before its snapshot, with the
    /// step it ended in (one that never reached a step, refused before it connected,
    /// says nothing a step would).
    fn last_resume_attempt(
        &self,
        history: &[HistoryRecord],
        target: &str,
        record: &HistoryRecord,
        id: &str,
    ) -> Result<Option<ResumeAttempt>> {
        let Some(attempt) = crate::history::last_resume_attempt(history, target, record, id) else {
            return Ok(None);
        };
        let steps = self.journal()?.deploy_steps(&attempt.id)?;
        Ok(steps
            .into_iter()
            .rfind(|s| s.status == StepStatus::Failed)
            .map(|ended| {
                // A step's failure is noted as its error says it, which names the step.
                let named = format!("The step \"{}\" did not succeed: ", ended.title);
                let note = ended.note.strip_prefix(&named).unwrap_or(&ended.note);
                ResumeAttempt {
                    id: attempt.id.clone(),
                    started_at: attempt.started_at.clone(),
                    note: note.to_string(),
                    step: ended.title,
                }
            }))
    }

    /// Whether deploy `id` of `target` can be resumed: a deploy (a rollback never is)
    /// that did not finish, took its snapshot, and was not followed by another. A target
    /// that does not exist, or an id no deploy could have, is refused.
    pub fn can_resume(&self, target: &str, id: &str) -> Result<bool> {
        crate::target::find(self.settings.as_ref(), target)?;
        crate::history::check_record_id("deploy", id)?;
        Ok(self.resumable(target, id).is_ok())
    }

    /// The snapshot of deploy `id`, if it is a deploy of `target` that did not finish
    /// and took one.
    pub(super) fn resumable(&self, target: &str, id: &str) -> Result<Snapshot> {
        if let Some(ended) = self.journal()?.deploy(id)? {
            if ended.outcome == crate::deploy::DeployOutcome::Succeeded {
                return Err(Error::BadInput(format!(
                    "{} finished: there is nothing to resume. Deploy without --resume.",
                    crate::input::shown(id)
                )));
            }
        }
        let snapshot = self.snapshot_to_restore(target, Some(id)).map_err(|_| {
            Error::BadInput(format!(
                "{} is no deploy of {target} that took a snapshot before it ended: there is nothing to resume, deploy without --resume.",
                crate::input::shown(id)
            ))
        })?;
        // Only the newest: a later deploy's snapshot is what a rollback must return to,
        // and resuming an older one would record its stale snapshot as the newest.
        if let Some((later, newest)) = self.recorded_snapshots(target)?.pop() {
            if later != id && newest.deploy != snapshot.deploy {
                return Err(Error::BadInput(format!(
                    "{later} has deployed {target} since {}: there is nothing to resume, deploy without --resume.",
                    crate::input::shown(id)
                )));
            }
            // A resume of `id` that finished it: a deploy on top of that must take a
            // snapshot of its own.
            let finished = match later != id {
                true => self.journal()?.deploy(&later)?,
                false => None,
            };
            if finished.is_some_and(|d| d.outcome == crate::deploy::DeployOutcome::Succeeded) {
                return Err(Error::BadInput(format!(
                    "{later} resumed {} and finished: there is nothing to resume. Deploy without --resume.",
                    crate::input::shown(id)
                )));
            }
        }
        Ok(snapshot)
    }
}

#[cfg(test)]
mod tests {
    use super::steps::{checked_commit, CHECKED_ON};

    #[test]
    fn the_commit_a_checked_pull_names_is_read_back_from_its_note() {
        let note = format!("{CHECKED_ON}0123456789ab, the commit the review showed.");
        assert_eq!(checked_commit(&note), Some("0123456789ab"));
        // A pull that brought more than the review showed says so otherwise: no commit.
        assert_eq!(
            checked_commit("the pull brought the host to 0123456789ab, not to fedcba987654"),
            None
        );
    }
}
