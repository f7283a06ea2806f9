//! What a deploy or a rollback will run on the host, shown before the operator confirms
//! it: the console's rule is that a command is seen before it runs, and a deploy is the
//! largest change there is. The policy's operations and the restore are rendered by the
//! very functions their steps run them with, so the plan cannot drift from the run.
//! What only the run knows (its record id, the time, the lock holder's line) goes into
//! Shipshape's own lock, snapshot and audit commands: those steps are described, and
//! show their commands as they run.
//!
//! A plan carries a digest of all it was made from (the target's definition and its
//! policy, then the steps): a run handed the digest of the plan its operator confirmed
//! starts only if the plan would be the same now. Settings are shared by every window
//! and the CLI, so a target redefined between the dialog and the click (another host,
//! another policy file) would otherwise run where no one looked; and the steps can move
//! under a definition that stays (a deploy since took a newer snapshot for a rollback to
//! return to, the host turned out to run the other Compose). The two halves of the
//! digest let the refusal say which.

use serde::Serialize;
use ts_rs::TS;

use super::{titles, NO_MIGRATION};
use crate::console::Console;
use crate::deploy::snapshot;
use crate::error::{Error, PlanChange, Result};
use crate::operations::Operation;
use crate::policy::Policy;
use crate::target::Target;

/// A deploy's or rollback's steps before it runs.
#[derive(Debug, Clone, Serialize, TS)]
pub struct RunPlan {
    /// Where it runs: `user@host:port`.
    pub address: String,
    pub steps: Vec<PlannedStep>,
    /// SHA-256 (hex) of the target's definition and its policy, a `-`, then SHA-256 of
    /// the steps: handed back with the run, the run starts only if it is still the same.
    pub digest: String,
}

impl RunPlan {
    fn new(defined: &Target, policy: &Policy, steps: Vec<PlannedStep>) -> RunPlan {
        let hash = |made_from: Vec<u8>| crate::checklist::sha256_hex(&made_from);
        let definition = hash(serde_json::to_vec(&(defined, policy)).expect("plain data"));
        let commands = hash(serde_json::to_vec(&steps).expect("plain data"));
        RunPlan {
            address: defined.address(),
            steps,
            digest: format!("{definition}-{commands}"),
        }
    }

    /// Refuses a run whose operator confirmed another plan (`shown`, its digest) than
    /// the one it would run now. (A run handed no digest, a script's `--yes`, confirmed
    /// none and is not checked.)
    pub(super) fn check_shown(&self, shown: &str, target: &str) -> Result<()> {
        if shown == self.digest {
            return Ok(());
        }
        fn definition(digest: &str) -> Option<&str> {
            digest.split_once('-').map(|(half, _)| half)
        }
        let what = match definition(shown).is_some_and(|d| Some(d) == definition(&self.digest)) {
            true => PlanChange::Steps,
            false => PlanChange::Definition,
        };
        Err(Error::PlanChanged {
            target: target.to_string(),
            what,
        })
    }
}

/// A step of a run ahead of it: its commands as they will be sent, or what it does when
/// they are the run's own bookkeeping, known only once it starts.
#[derive(Debug, Clone, Serialize, TS)]
pub struct PlannedStep {
    pub title: String,
    /// Exactly the text each command sends to the host.
    pub commands: Vec<String>,
    /// What the step does, where its commands are not listed (they only read, or only
    /// the run can write them).
    pub note: Option<String>,
}

impl PlannedStep {
    fn described(title: &str, note: &str) -> PlannedStep {
        PlannedStep {
            title: title.to_string(),
            commands: Vec::new(),
            note: Some(note.to_string()),
        }
    }

    fn running(title: &str, commands: Vec<String>) -> PlannedStep {
        PlannedStep {
            title: title.to_string(),
            commands,
            note: None,
        }
    }
}

const READS_RULES: &str =
    "Reads only: the host's compose config, processes and units, held to the Never Do rules.";
const READS_REVIEW: &str = "Reads only: the commits, files, config, env keys and images the pull brings, and the incoming config held to the Never Do rules.";
const LOCKS: &str = "Takes the host's deploy lock (~/.shipshape/deploy.lock, held until the run ends), naming you, your key and this run in ~/.shipshape/deploy.holder; each step leaves a line in ~/.shipshape/audit.log.";
const SNAPSHOTS: &str = "Records the commit and each service's image in this console's history, and keeps a copy of the env file (0600) on the host, in ~/.shipshape/snapshots/<this deploy>/.";
const KEEPS: &str = "Keeps the snapshot the deploy it resumes took: a rollback returns to the host as it was before it.";
const PULL_HELD: &str = "If it brings another commit than the review showed (origin moved), the branch is put back on the commit it was on, with git checkout, and the deploy stops.";
const MIGRATES: &str = "Checked on the host after the pull, which may bring the script.";
const VERIFIES: &str = "Reads only: the verification checklist, recorded with its evidence.";
const UNLOCKS: &str = "Frees the lock: its process on the host ends with its channel.";

impl Console {
    /// The steps a deploy of `target` running `migrations` will take (`resuming`: a
    /// deploy whose snapshot it keeps), with the exact commands of those that change the
    /// host. Nothing runs.
    pub fn plan_deploy(
        &self,
        target: &str,
        migrations: &[String],
        resuming: bool,
    ) -> Result<RunPlan> {
        let (defined, policy) = self.target_and_policy(target)?;
        self.deploy_plan(&defined, &policy, migrations, resuming)
    }

    /// [`Console::plan_deploy`] from a definition and policy already read (a deploy's
    /// checks hold the request to the plan made from the pair they checked).
    pub(super) fn deploy_plan(
        &self,
        defined: &Target,
        policy: &Policy,
        migrations: &[String],
        resuming: bool,
    ) -> Result<RunPlan> {
        super::check_migrations(policy, migrations)?;
        // As the steps render them: no host facts are read for these (a migration's
        // script is checked on the host by its step, after the pull that may bring it).
        let compose = self.compose_for(defined);
        let command = |operation: Operation| {
            vec![operation
                .command(policy, &defined.project_dir, compose)
                .render()]
        };
        let mut steps = vec![
            PlannedStep::described(titles::PREFLIGHT, READS_RULES),
            PlannedStep::described(titles::REVIEW, READS_REVIEW),
            PlannedStep::described(titles::LOCK_DEPLOY, LOCKS),
            match resuming {
                true => PlannedStep::described(titles::KEEP_SNAPSHOT, KEEPS),
                false => PlannedStep::described(titles::SNAPSHOT, SNAPSHOTS),
            },
            PlannedStep {
                note: Some(PULL_HELD.into()),
                ..PlannedStep::running(titles::GIT_PULL, command(Operation::GitPull))
            },
            PlannedStep::running(titles::PULL, command(Operation::Pull)),
            PlannedStep::running(titles::UP, command(Operation::Up)),
        ];
        if migrations.is_empty() {
            steps.push(PlannedStep::described(titles::MIGRATIONS, NO_MIGRATION));
        }
        for script in migrations {
            let migrate = Operation::Migrate {
                script: policy.migration_path(script),
            };
            steps.push(PlannedStep {
                note: Some(MIGRATES.into()),
                ..PlannedStep::running(&format!("{}{script}", titles::MIGRATION), command(migrate))
            });
        }
        steps.push(PlannedStep::described(titles::VERIFY, VERIFIES));
        steps.push(PlannedStep::described(titles::UNLOCK, UNLOCKS));
        Ok(RunPlan::new(defined, policy, steps))
    }

    /// The steps a rollback of `target` to deploy `to`'s snapshot (the newest if none)
    /// will take, the restore's commands exactly as it sends them. Nothing runs.
    pub fn plan_rollback(&self, target: &str, to: Option<&str>) -> Result<RunPlan> {
        let (defined, policy) = self.target_and_policy(target)?;
        let snapshot = self.snapshot_to_restore(target, to)?;
        let dir = &defined.project_dir;
        let restore = std::iter::once(snapshot::rollback_check_command(&snapshot, dir))
            .chain(snapshot::rollback_commands(&snapshot, &policy, dir))
            .map(|c| c.render())
            .collect();
        let compose = self.compose_for(&defined);
        let up = Operation::Up.command(&policy, dir, compose).render();
        let steps = vec![
            PlannedStep::described(titles::LOCK_ROLLBACK, LOCKS),
            PlannedStep {
                note: snapshot::images_not_kept(&snapshot, &policy),
                ..PlannedStep::running(titles::RESTORE, restore)
            },
            PlannedStep::running(titles::UP, vec![up]),
            PlannedStep::described(titles::VERIFY, VERIFIES),
            PlannedStep::described(titles::UNLOCK, UNLOCKS),
        ];
        Ok(RunPlan::new(&defined, &policy, steps))
    }
}
