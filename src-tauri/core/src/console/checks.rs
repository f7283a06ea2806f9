//! The checklist's front door: run a verification on a target (written to the journal
//! when it starts and when it ends), re-run one item, tick, untick and waive, each
//! recorded with who did it (the local account and the key the session authenticated
//! with) and when.

use super::Console;
use crate::checklist::{
    Actor, CheckId, CheckItem, Checklist, ChecklistChange, ItemChange, PolicyUsed, ReportTarget,
};
use crate::checks;
use crate::error::{Error, Result};
use crate::history::{new_record_id, now, operator};
use crate::journal::{ChainReport, Entry, RunStart};
use crate::ssh::CancellationToken;

impl Console {
    /// Runs every check on `target`, handing each item to `on_item` once decided.
    pub async fn verify(
        &self,
        target: &str,
        on_item: impl FnMut(&CheckItem) + Send,
    ) -> Result<Checklist> {
        self.verify_until(target, on_item, &CancellationToken::new())
            .await
    }

    /// [`Console::verify`] for a request the adapter named: run once however often the
    /// request arrives, and stoppable with [`super::Tasks::cancel_request`] under that
    /// name.
    pub async fn run_requested_verification(
        &self,
        request: &str,
        target: &str,
        on_item: impl FnMut(&CheckItem) + Send,
    ) -> Result<Checklist> {
        let task = self.tasks.start_once(request, format!("Verify {target}"))?;
        self.verify_until(target, on_item, &task.cancel).await
    }

    /// [`Console::verify`] until `cancel` fires: then its probes end on the host (their
    /// channels close) and the journal records it as cancelled, with no checklist.
    pub async fn verify_until(
        &self,
        target: &str,
        on_item: impl FnMut(&CheckItem) + Send,
        cancel: &CancellationToken,
    ) -> Result<Checklist> {
        let (target, policy) = self.target_and_policy(target)?;
        let journal = self.journal()?;
        let id = new_record_id("verify");
        let title = format!("Verify {}", target.name);
        let summary = format!("{} checks", CheckId::ALL.len());
        journal.append(
            &id,
            &Entry::VerificationStarted(RunStart::now(&target.name, &title, &summary)),
        )?;
        let started_at = now();
        let stopped = || Error::Cancelled {
            what: title.clone(),
        };
        // Never reached the host: nothing of it ran there.
        let connection = tokio::select! {
            connected = self.connect(&target.name) => match connected {
                Ok(connection) => connection,
                Err(error) => return Err(journal.not_started(&id, error)),
            },
            _ = cancel.cancelled() => return Err(journal.cancelled(&id, stopped())),
        };
        let run = async {
            let (items, deployed) = checks::run(
                connection.clone(),
                &CheckId::ALL,
                true,
                &policy,
                &target.project_dir,
                on_item,
            )
            .await?;
            let checks::Deployed { git_commit, images } = deployed;
            Ok(Checklist {
                id: id.clone(),
                target: ReportTarget {
                    name: target.name.clone(),
                    host: target.host.clone(),
                    port: target.port,
                    user: target.user.clone(),
                    project_dir: target.project_dir.clone(),
                    host_key: connection.host_key().to_string(),
                },
                operator: Actor {
                    user: operator(),
                    key_fingerprint: Some(connection.client_key().to_string()),
                },
                started_at,
                finished_at: now(),
                git_commit,
                images,
                items,
                policy: Some(PolicyUsed {
                    source: target
                        .policy_file
                        .clone()
                        .unwrap_or_else(|| "builtin".into()),
                    sha256: policy.digest(),
                }),
            })
        };
        let result: Result<Checklist> = tokio::select! {
            result = run => result,
            _ = cancel.cancelled() => return Err(journal.cancelled(&id, stopped())),
        };
        match result {
            Ok(checklist) => {
                journal.append(&id, &Entry::VerificationEnded(checklist.clone()))?;
                Ok(checklist)
            }
            Err(error) => Err(journal.aborted(&id, error)),
        }
    }

    /// Runs one item's probes again and records the new result in the checklist.
    pub async fn rerun_check(&self, checklist: &str, item: CheckId) -> Result<Checklist> {
        let journal = self.journal()?;
        let mut recorded = journal.checklist(checklist)?;
        let Some(name) = journal.target_now(checklist, &recorded.target.name)? else {
            return Err(Error::BadInput(format!(
                "The target this verification checked ({}) was removed since: run a verification of a target as it is now.",
                recorded.target.name
            )));
        };
        let (target, policy) = self.target_and_policy(&name)?;
        // One checklist is judged by one policy: the header names it, and a verdict
        // reached by other rules (a port, a health URL changed since) must not sit under it.
        if let Some(used) = &recorded.policy {
            if used.sha256 != policy.digest() {
                return Err(Error::BadInput(format!(
                    "{name}'s policy changed since this verification (its rules are not the ones it recorded), so a new result would not belong under its header: run the whole verification again (Run all again)."
                )));
            }
        }
        let then = &recorded.target;
        let points_at = (&target.host, target.port, &target.user, &target.project_dir);
        if points_at != (&then.host, then.port, &then.user, &then.project_dir) {
            return Err(Error::BadInput(format!(
                "This verification checked {}@{}:{} in {}, and {name} now points elsewhere: one checklist never mixes two places. Run the whole verification again.",
                then.user, then.host, then.port, then.project_dir
            )));
        }
        let connection = self.connect(&target.name).await?;
        if connection.host_key() != then.host_key {
            return Err(Error::BadInput(format!(
                "The host answered with key {}, not {} that this verification checked: one checklist never mixes two hosts. Run the whole verification again.",
                connection.host_key(),
                then.host_key
            )));
        }
        let (items, deployed) = checks::run(
            connection.clone(),
            &[item],
            true,
            &policy,
            &target.project_dir,
            |_| {},
        )
        .await?;
        // A service started or stopped since is what a re-run is for; one running
        // another image, or another commit, is another deploy.
        let moved = deployed.images.iter().any(|now| {
            recorded
                .images
                .iter()
                .any(|then| then.service == now.service && then.id != now.id)
        });
        if deployed.git_commit.as_deref() == Some(crate::checks::redact::WITHHELD) {
            return Err(Error::BadInput(format!(
                "{} could not be read on the host just now, so this re-run's output would be withheld: try again in a moment.",
                policy.env_file
            )));
        }
        if deployed.git_commit != recorded.git_commit || moved {
            return Err(Error::BadInput(format!(
                "{name} changed since this verification (its commit or its services' images are not the ones it recorded, as after a pull or an up), so a new result would not belong under its header: run the whole verification again (Run all again)."
            )));
        }
        let new = items
            .into_iter()
            .next()
            .expect("one item asked, one returned");
        let change = ChecklistChange {
            checklist: checklist.to_string(),
            item,
            by: self.actor(&target.name),
            at: now(),
            change: ItemChange::Rerun {
                item: Box::new(new),
            },
        };
        journal.change_checklist(&mut recorded, change)?;
        Ok(recorded)
    }

    /// Ticks, unticks or waives an item of a recorded checklist.
    pub fn change_check(
        &self,
        checklist: &str,
        item: CheckId,
        change: ItemChange,
    ) -> Result<Checklist> {
        if matches!(change, ItemChange::Rerun { .. }) {
            return Err(Error::BadInput(
                "New results come only from running the item's probes (rerun_check).".into(),
            ));
        }
        let journal = self.journal()?;
        let mut recorded = journal.checklist(checklist)?;
        // Its target removed since, no key of a target speaks for the change (another
        // target may have its name now): the operator alone is recorded.
        let by = match journal.target_now(checklist, &recorded.target.name)? {
            Some(name) => self.actor(&name),
            None => Actor {
                user: operator(),
                key_fingerprint: None,
            },
        };
        let change = ChecklistChange {
            checklist: checklist.to_string(),
            item,
            by,
            at: now(),
            change,
        };
        journal.change_checklist(&mut recorded, change)?;
        Ok(recorded)
    }

    pub fn checklist(&self, id: &str) -> Result<Checklist> {
        self.journal()?.checklist(id)
    }

    pub fn latest_checklist(&self, target: &str) -> Result<Option<Checklist>> {
        crate::target::find(self.settings.as_ref(), target)?;
        self.journal()?.latest_checklist(target)
    }

    /// Walks the journal's hash chain.
    pub fn verify_journal(&self) -> Result<ChainReport> {
        self.journal()?.verify()
    }

    /// [`Console::verify_journal`], and where in the chain `head` (a report's journal
    /// head) is: a journal cut short before it, or its chain rebuilt, does not hold it,
    /// which the chain alone cannot show (its last entries gone, it still holds).
    pub fn verify_journal_reaches(&self, head: &str) -> Result<(ChainReport, Option<i64>)> {
        // As the journal writes hashes: lower-case hex, 64 digits. Checked before the
        // journal is opened, so a bad one changes nothing.
        let head = head.trim().to_ascii_lowercase();
        if head.len() != 64 || !head.bytes().all(|b| b.is_ascii_hexdigit()) {
            return Err(Error::BadInput(format!(
                "{} is not a journal head: a report's journal_head is 64 hexadecimal digits.",
                crate::input::shown(&head)
            )));
        }
        let journal = self.journal()?;
        let report = journal.verify()?;
        let at = match head == crate::journal::chain::GENESIS {
            true => Some(0), // before the first entry: nothing to miss
            false => journal.seq_of_hash(&head)?,
        };
        Ok((report, at))
    }

    /// Who acts now: this account, and the key of the live connection to `target` (or
    /// the key the target is set to use, when there is no connection).
    fn actor(&self, target: &str) -> Actor {
        let live = self
            .existing_session(target)
            .and_then(|s| s.live_client_key());
        let configured = || {
            let target = crate::target::find(self.settings.as_ref(), target).ok()?;
            crate::keys::find(self.settings.as_ref(), target.key.as_deref()?)
                .ok()
                .map(|k| k.fingerprint)
        };
        Actor {
            user: operator(),
            key_fingerprint: live.or_else(configured),
        }
    }
}
