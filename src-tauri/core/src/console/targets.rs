//! Targets as the console lists and edits them.

use serde::Serialize;
use ts_rs::TS;

use super::Console;
use crate::error::{Error, Result};
use crate::journal::Entry;
use crate::keys;
use crate::operations::Operation;
use crate::policy::Policy;
use crate::target::{self, Target};

/// A target as the console lists it.
#[derive(Debug, Clone, Serialize, TS)]
pub struct TargetSummary {
    pub target: Target,
    pub address: String,
    /// The pinned host key fingerprint, if the host is trusted.
    pub host_key: Option<String>,
    /// The services its policy governs, in the policy's order (what the UI offers).
    pub services: Vec<String>,
    /// Exactly what checking its services runs (`docker-compose` on a v1 host), shown
    /// before the first check.
    pub status_command: String,
}

impl Console {
    pub fn targets(&self) -> Result<Vec<TargetSummary>> {
        let known_hosts = self.known_hosts()?;
        Ok(target::list(self.settings.as_ref())?
            .into_iter()
            .map(|target| {
                // An unreadable policy file is reported when the target is used; the
                // list still shows the target, with the builtin policy.
                let policy = self
                    .policy_for(&target)
                    .unwrap_or_else(|_| Policy::builtin());
                TargetSummary {
                    address: target.address(),
                    host_key: known_hosts
                        .pinned(&target.host, target.port)
                        .map(str::to_string),
                    status_command: Operation::Ps
                        .command(&policy, &target.project_dir, self.compose_for(&target))
                        .render(),
                    services: policy.services,
                    target,
                }
            })
            .collect())
    }

    /// A new target as the policy would have it: its user, port and project directory,
    /// the directory from `policy_file` when one is given (as `target add` without
    /// `--dir` takes it), so the form shows what the target will be; the operator fills
    /// in the name, host and key. A policy file that does not read is refused here,
    /// with its line and field, before anything is typed after it.
    pub fn target_draft(&self, policy_file: Option<&str>) -> Result<Target> {
        if policy_file.is_some_and(|p| p.trim().is_empty()) {
            return Err(Error::BadInput(
                "The policy file's path is empty: leave it out for the built-in policy.".into(),
            ));
        }
        let mut draft = Target::new("", "", None);
        draft.policy_file = policy_file.map(str::to_string);
        draft.project_dir = self.policy_for(&draft)?.project_dir;
        Ok(draft)
    }

    /// Adds a target, or updates the one named `previous_name` (which may rename it).
    pub async fn save_target(
        &self,
        target: Target,
        previous_name: Option<&str>,
    ) -> Result<TargetSummary> {
        // Saving closes the connection it names: never under a change running on it.
        if let Some(old) = previous_name {
            self.idle(old)?;
        }
        target.validate()?;
        // A policy file that does not read is refused now, with its line and field,
        // rather than at the first operation.
        self.policy_for(&target)?;
        if let Some(key) = &target.key {
            keys::find(self.settings.as_ref(), key)?;
        }
        let existing = target::list(self.settings.as_ref())?;
        let renamed_from = previous_name.filter(|p| *p != target.name);
        if previous_name.is_none() && existing.iter().any(|t| t.name == target.name) {
            return Err(Error::BadInput(format!(
                "A target named {} already exists.",
                target.name
            )));
        }
        if renamed_from.is_some() && existing.iter().any(|t| t.name == target.name) {
            return Err(Error::BadInput(format!(
                "A target named {} already exists.",
                target.name
            )));
        }
        // Its connection goes with its old definition; saved as it was (the form saved
        // unchanged), the live view and a log follow on it go on.
        if let Some(old) = previous_name {
            if !existing.iter().any(|t| t.name == old && *t == target) {
                self.disconnect(old).await;
            }
        }
        let name = target.name.clone();
        match renamed_from {
            Some(old) => {
                // Its snapshots and verifications are found under the new name by this,
                // so it is journalled first: a journal that cannot be written leaves the
                // target as it was, not renamed with its past left behind.
                let journal = self.journal()?;
                let renamed = |from: &str, to: &str| Entry::TargetRenamed {
                    from: from.to_string(),
                    to: to.to_string(),
                    operator: crate::history::operator(),
                    at: crate::history::now(),
                };
                let id = crate::history::new_record_id("rename");
                journal.append(&id, &renamed(old, &name))?;
                if let Err(error) = target::rename(self.settings.as_ref(), old, target) {
                    let back = crate::history::new_record_id("rename");
                    journal.append(&back, &renamed(&name, old))?;
                    return Err(error);
                }
            }
            // Asked again under the settings' lock: another process may have added or
            // removed the name since the checks above.
            None if previous_name.is_none() => target::add(self.settings.as_ref(), target)?,
            None => target::update(self.settings.as_ref(), target)?,
        }
        self.targets()?
            .into_iter()
            .find(|t| t.target.name == name)
            .ok_or(Error::TargetNotFound(name))
    }

    pub async fn remove_target(&self, name: &str) -> Result<()> {
        self.idle(name)?;
        self.disconnect(name).await;
        target::remove(self.settings.as_ref(), name)?;
        // A target added under this name later starts with none of this one's past. A
        // journal that cannot take it does not undo the removal the operator asked for.
        let removed = Entry::TargetRemoved {
            name: name.to_string(),
            operator: crate::history::operator(),
            at: crate::history::now(),
        };
        let id = crate::history::new_record_id("remove");
        if let Err(error) = self.journal().and_then(|j| j.append(&id, &removed)) {
            tracing::warn!(
                target = name,
                "the removal could not be journalled: {error}"
            );
        }
        Ok(())
    }
}
