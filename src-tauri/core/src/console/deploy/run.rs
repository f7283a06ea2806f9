//! A run's frame: begun (journalled, connected, the target and policy captured), held to
//! the place it began in, and ended (the lock freed, the record journalled). The steps
//! themselves are in `steps.rs`.

use super::steps::{Done, Run};
use super::{DeployEvent, DeployRun};
use crate::checklist::Actor;
use crate::console::operate::Held;
use crate::console::Console;
use crate::deploy::{DeployKind, DeployOutcome, DeployRecord, StepId};
use crate::error::{Error, Result};
use crate::history::{new_record_id, now, operator};
use crate::journal::{Entry, RunStart};
use crate::ssh::Deadline;
use crate::target::Target;

/// A target's address, project dir and policy file: what a run's commands depend on.
#[derive(PartialEq)]
struct Place {
    address: String,
    project_dir: String,
    policy_file: Option<String>,
}

impl Place {
    fn of(target: &Target) -> Place {
        Place {
            address: target.address(),
            project_dir: target.project_dir.clone(),
            policy_file: target.policy_file.clone(),
        }
    }
}

impl<F: FnMut(DeployEvent) + Send> Run<'_, F> {
    /// The run's connection, target and policy, for the operations it runs.
    pub(super) fn held(&self) -> Held<'_> {
        Held {
            connection: &self.connection,
            target: &self.defined,
            policy: &self.policy,
        }
    }

    /// Whether the target still names the place the run began in.
    pub(super) fn same_place(&self) -> Result<()> {
        let name = &self.record.target;
        let now = crate::target::find(self.console.settings.as_ref(), name).ok();
        let then = Place::of(&self.defined);
        if now.as_ref().map(Place::of).as_ref() == Some(&then) {
            return Ok(());
        }
        Err(Error::StepFailed {
            step: "Keeping to the target".into(),
            detail: format!(
                "{name} was changed (or removed) while this ran: it began on {} in {}, so nothing more is run. Check that host with a verification, then start again.",
                crate::input::shown(&then.address),
                crate::input::shown(&then.project_dir)
            ),
        })
    }
}

impl Console {
    /// Starts a run: journals its start, connects, and returns it to take its steps.
    pub(super) async fn begin_run<F>(
        &self,
        target: &str,
        kind: DeployKind,
        message: &str,
        resumes: Option<&str>,
        on_event: F,
    ) -> Result<Run<'_, F>> {
        let (defined, policy) = self.target_and_policy(target)?;
        let change_deadline = Deadline::total(policy.deadlines.change_seconds);
        let read_deadline =
            std::time::Duration::from_secs(u64::from(policy.deadlines.read_seconds));
        let what = match kind {
            DeployKind::Deploy => "Deploy",
            DeployKind::Rollback => "Roll back",
        };
        {
            let session = self.session(target);
            let mut deploy = session.deploy.lock().expect("deploy flag");
            if deploy.is_some() {
                return Err(Error::Busy {
                    target: target.to_string(),
                    running: "a deploy or rollback from this console".into(),
                });
            }
            *deploy = Some(false);
        }
        // From here until the run is handed back, a failure frees the flag: a journal
        // that could not be written must not leave the target busy until a restart.
        let free = || *self.session(target).deploy.lock().expect("deploy flag") = None;
        let started = self.journal().and_then(|journal| {
            let id = new_record_id(match kind {
                DeployKind::Deploy => "deploy",
                DeployKind::Rollback => "rollback",
            });
            let mut start = RunStart::now(
                target,
                &format!("{what} {target}: {message}"),
                "guided, step by step",
            );
            start.resumes = resumes.map(str::to_string);
            journal.append(&id, &Entry::DeployStarted(start))?;
            Ok((journal, id))
        });
        let (journal, id) = started.inspect_err(|_| free())?;
        let connection = match self.connect(target).await {
            Ok(connection) => connection,
            Err(error) => {
                free();
                return Err(journal.not_started(&id, error));
            }
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
            resumes: resumes.map(str::to_string),
            review: None,
            approval: None,
        };
        Ok(Run {
            console: self,
            connection,
            record,
            lock: None,
            holder: None,
            defined,
            policy,
            change_deadline,
            read_deadline,
            on_event,
        })
    }

    /// Ends a run: frees the lock if it is still held (a failed step too), journals it.
    pub(super) async fn end_run<F: FnMut(DeployEvent) + Send>(
        &self,
        mut run: Run<'_, F>,
        result: Result<()>,
    ) -> Result<DeployRun> {
        // The run is over: a stop asked now has nothing left to stop (the unlock below
        // must not be refused by it).
        *self
            .session(&run.record.target)
            .deploy
            .lock()
            .expect("deploy flag") = None;
        if let Some(lock) = run.lock.take() {
            let began = run.begin(StepId::Unlock, super::titles::UNLOCK);
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
            Err(Error::Stopped { .. }) => DeployOutcome::Stopped,
            // Lost before anything changed (the checks, the review, the lock), it failed;
            // lost once a change began, or a change ended by its deadline midway, what
            // the host is in is not known.
            Err(
                Error::Interrupted { .. }
                | Error::ConnectionLost { .. }
                | Error::CommandTimeout { .. },
            ) if run.record.steps.iter().any(|s| s.step.changes_host()) => {
                DeployOutcome::Interrupted
            }
            Err(_) => DeployOutcome::Failed,
        };
        self.journal()?.append(
            &run.record.id,
            &Entry::DeployEnded(Box::new(run.record.clone())),
        )?;
        Ok(DeployRun {
            record: run.record,
            error: result.err(),
        })
    }
}
