//! Running the policy's operations on a target: refuse bad input against the policy
//! before connecting, check the operation against the host's facts where it names
//! something of the host's, run the exact command under its deadline, and record in
//! the history how it ended: exited, cancelled, timed out, or interrupted.

use std::sync::Arc;

use serde::Serialize;
use ts_rs::TS;

use super::logs::lines::Source;
use super::shown::{redacted, secrets_of, ShownLines};
use super::Console;
use crate::checks::redact::Redactor;
use crate::deploy::lock;
use crate::error::{Error, Result};
use crate::history::{new_record_id, HistoryRecord, RunOutcome};
use crate::journal::{Entry, RunStart};
use crate::operations::{stop_migration_command, validate_service, Compose, Operation};
use crate::policy::Policy;
use crate::shell::RemoteCommand;
use crate::ssh::{
    CancellationToken, Captured, CommandEnd, CommandOutput, Connection, Deadline, StreamChunk,
};
use crate::target::{Environment, Target};

/// What an operation will do, shown before it runs: the exact command and where.
#[derive(Debug, Clone, Serialize, TS)]
pub struct PlannedOperation {
    pub target: String,
    /// `user@host:port`
    pub address: String,
    pub title: String,
    /// Exactly the text that will be sent to the host.
    pub command: String,
    /// Stops, removes or changes something: the UI asks to confirm.
    pub destructive: bool,
    /// Changes the host (pulls, updates, stops...): a deploy holding the host's lock
    /// refuses it.
    pub changes_host: bool,
    /// The operator confirms by typing the target's name: `down` and stopping every
    /// service anywhere, and any change on a production target.
    pub confirm_by_name: bool,
    /// The target's environment, shown beside the command (production stands out).
    pub environment: Environment,
}

/// What an operation did, as the console and the CLI show it.
#[derive(Debug, Clone, Serialize, TS)]
pub struct OperationOutcome {
    pub title: String,
    /// Ran to its end (see the exit code) or was cancelled; timeouts and lost
    /// connections are errors, recorded in the history first.
    pub outcome: RunOutcome,
    pub output: CommandOutput,
    pub record_id: String,
}

impl OperationOutcome {
    pub fn succeeded(&self) -> bool {
        self.output.succeeded()
    }
}

/// An operation as it is shown (its output redacted), and what the host said, for the
/// console's own decisions only.
pub(super) struct Ran {
    pub shown: OperationOutcome,
    pub said: CommandOutput,
}

/// Checks what can be checked without the host: names must be the policy's.
fn precheck(operation: &Operation, policy: &Policy) -> Result<()> {
    let service = |name: &str| validate_service(name, policy, &policy.services);
    match operation {
        Operation::Logs { service: name, .. }
        | Operation::Restart {
            service: Some(name),
        }
        | Operation::Stop {
            service: Some(name),
        }
        | Operation::UpService { service: name } => service(name),
        Operation::Migrate { script }
            if !policy.matches_migration(&policy.migration_path(script)) =>
        {
            Err(Error::BadInput(format!(
                "\"{script}\" is not a migration script of the policy ({}).",
                policy.migration_glob
            )))
        }
        _ => Ok(()),
    }
}

/// An operation checked and rendered, ready to run.
struct Prepared {
    target: Target,
    policy: Policy,
    operation: Operation,
    command: RemoteCommand,
    compose: Compose,
}

/// A deploy's hold on its target: the connection that holds the host's lock, and the
/// target and policy as they were when the run began (its steps never read them anew,
/// so a target redefined meanwhile cannot send a step elsewhere).
pub(super) struct Held<'a> {
    pub connection: &'a Arc<Connection>,
    pub target: &'a Target,
    pub policy: &'a Policy,
}

impl Console {
    /// Checks `operation` against the policy (before anything connects) and, only if
    /// it names something of the host's (a service, a migration script), against the
    /// host's facts; then renders its exact command for the Compose the host has.
    async fn prepare(&self, target: &str, operation: &Operation) -> Result<Prepared> {
        let (target, policy) = self.target_and_policy(target)?;
        self.prepare_for(target, policy, None, operation).await
    }

    /// [`Console::prepare`] for `target` and `policy` as given; with `on`, the host's facts
    /// are read on that connection (a deploy's, held to the target as its run began).
    async fn prepare_for(
        &self,
        target: Target,
        policy: Policy,
        on: Option<&Connection>,
        operation: &Operation,
    ) -> Result<Prepared> {
        precheck(operation, &policy)?;
        // `migrate NAME apply_migration_x.py` means the policy's scripts/apply_migration_x.py.
        let operation = match operation {
            Operation::Migrate { script } => Operation::Migrate {
                script: policy.migration_path(script),
            },
            other => other.clone(),
        };
        let compose = if operation.needs_facts() {
            let facts = match on {
                Some(connection) => self.facts_for(&target, connection, &policy).await?,
                None => self.host_facts(&target, &policy).await?,
            };
            operation.validate(&policy, &facts)?;
            facts.compose
        } else {
            self.compose_for(&target)
        };
        let command = operation.command(&policy, &target.project_dir, compose);
        // A change holds the host's lock shared while it runs, and refuses to begin under
        // a deploy's; a deploy's own steps run under the lock it holds.
        let command = match (operation.changes_host(), on) {
            (true, None) => command.as_change(),
            (true, Some(_)) => command.as_deploy_step(),
            (false, _) => command,
        };
        Ok(Prepared {
            target,
            policy,
            operation,
            command,
            compose,
        })
    }

    /// What `operation` would run on `target`, checked, without running it.
    pub async fn plan_operation(
        &self,
        target: &str,
        operation: &Operation,
    ) -> Result<PlannedOperation> {
        let prepared = self.prepare(target, operation).await?;
        let operation = &prepared.operation;
        let environment = prepared.target.environment;
        Ok(PlannedOperation {
            address: prepared.target.address(),
            target: prepared.target.name,
            title: operation.title(),
            command: prepared.command.render(),
            destructive: operation.is_destructive(),
            changes_host: operation.changes_host(),
            confirm_by_name: matches!(
                operation,
                Operation::Down | Operation::Stop { service: None }
            ) || (environment == Environment::Production
                && operation.is_destructive()),
            environment,
        })
    }

    /// The migration scripts present on the host, as the policy selects them.
    pub async fn migrations(&self, target: &str) -> Result<Vec<String>> {
        let (target, policy) = self.target_and_policy(target)?;
        Ok(self.host_facts(&target, &policy).await?.migrations)
    }

    /// Runs one of the policy's operations on `target`. A command that runs and fails is
    /// an outcome (with its output), not an error; bad input is refused before anything runs.
    pub async fn run_operation(
        &self,
        target: &str,
        operation: &Operation,
    ) -> Result<OperationOutcome> {
        self.run_operation_streaming(target, operation, |_, _| {}, &CancellationToken::new())
            .await
    }

    /// [`Console::run_operation`], handing its output to `on_output` as it arrives (pull
    /// progress, up's container lines) and stopping it if `cancel` fires. A cancelled
    /// operation is an outcome, recorded like any other. One past its deadline is ended
    /// on the host and is an error ([`Error::CommandTimeout`]); one whose connection
    /// broke is [`Error::Interrupted`] if it changes the host (never re-run: it may have
    /// happened), and is run once more on a new connection if it only reads. Either is
    /// recorded in the history as timed out or interrupted first.
    pub async fn run_operation_streaming(
        &self,
        target: &str,
        operation: &Operation,
        on_output: impl FnMut(Source, &str) + Send,
        cancel: &CancellationToken,
    ) -> Result<OperationOutcome> {
        let ran = self
            .run_operation_on(target, operation, None, on_output, cancel)
            .await?;
        Ok(ran.shown)
    }

    /// [`Console::run_operation_streaming`] on `held`'s connection, when given, and on no other
    /// connection: a deploy's operations run on the connection that holds the host's
    /// lock, so a lost connection stops the deploy instead of going on unlocked over a
    /// new one. `on_output` gets whole lines, redacted ([`super::shown`]).
    pub(super) async fn run_operation_on(
        &self,
        target: &str,
        operation: &Operation,
        held: Option<Held<'_>>,
        mut on_output: impl FnMut(Source, &str) + Send,
        cancel: &CancellationToken,
    ) -> Result<Ran> {
        let pinned = held.as_ref().map(|held| held.connection);
        if matches!(operation, Operation::Logs { follow: true, .. }) {
            return Err(Error::BadInput(
                "Following logs never ends: use the log viewer (follow_logs) for that.".into(),
            ));
        }
        let prepared = match &held {
            Some(held) => {
                let (target, policy) = (held.target.clone(), held.policy.clone());
                self.prepare_for(target, policy, Some(held.connection.as_ref()), operation)
                    .await?
            }
            None => self.prepare(target, operation).await?,
        };
        let Prepared {
            target,
            policy,
            operation,
            command,
            compose,
        } = &prepared;
        let _change = match operation.changes_host() {
            true => Some(self.session(&target.name).begin_change(
                &target.name,
                &operation.title(),
                pinned.is_some(),
            )?),
            false => None,
        };
        // A deploy's connection already gone: nothing ran, so nothing is recorded.
        if pinned.is_some_and(|pinned| pinned.is_closed()) {
            return Err(Error::ConnectionLost {
                host: target.host.clone(),
            });
        }
        let deadline = operation.deadline(policy);
        // Written before anything runs: a Shipshape killed midway leaves this start,
        // which the history shows as interrupted.
        let journal = self.journal()?;
        let record_id = new_record_id("op");
        journal.append(
            &record_id,
            &Entry::OperationStarted(RunStart::now(
                &target.name,
                &operation.title(),
                &command.render(),
            )),
        )?;
        let read_env = crate::env_file::read_command(&policy.env_file, &target.project_dir);
        let mut attempts = 0;
        let (connection, end, stdout, stderr, redactor) = loop {
            attempts += 1;
            let connection = match pinned {
                Some(pinned) if pinned.is_closed() => {
                    let lost = Error::ConnectionLost {
                        host: target.host.clone(),
                    };
                    return Err(journal.not_started(&record_id, lost));
                }
                Some(pinned) => pinned.clone(),
                None => match self.connect(&target.name).await {
                    Ok(connection) => connection,
                    Err(error) => return Err(journal.not_started(&record_id, error)),
                },
            };
            // Asked side by side on the connection, before the command: whether another
            // deploy holds the host (another operator's, or this operator's CLI beside the
            // window), which a change waits for and never runs alongside; and the env
            // file's values, to take out of what the command prints.
            let read_seconds = policy.deadlines.read_seconds;
            let deploying = async {
                match operation.changes_host() && pinned.is_none() {
                    true => Self::refuse_if_deploying(&connection, read_seconds).await,
                    false => Ok(()),
                }
            };
            let secrets = async {
                match operation.may_print_env_values() {
                    // A connection lost here is found lost by the command too, just below.
                    true => secrets_of(&connection, &read_env, Deadline::total(read_seconds))
                        .await
                        .unwrap_or_else(|_| Redactor::withholding()),
                    false => Redactor::default(),
                }
            };
            let (deploying, redactor) = tokio::join!(deploying, secrets);
            if let Err(error) = deploying {
                return Err(journal.not_started(&record_id, error));
            }
            // Stopped while it connected or read the lock: nothing is sent.
            if cancel.is_cancelled() {
                let stopped = Error::Cancelled {
                    what: operation.title(),
                };
                return Err(journal.cancelled(&record_id, stopped));
            }
            let (mut stdout, mut stderr) = (Captured::default(), Captured::default());
            let mut shown = ShownLines::new(&redactor, &mut on_output);
            let started = connection
                .exec_streaming(
                    command,
                    deadline,
                    |chunk| {
                        match &chunk {
                            StreamChunk::Stdout(bytes) => stdout.push(bytes),
                            StreamChunk::Stderr(bytes) => stderr.push(bytes),
                        }
                        shown.push(&chunk);
                    },
                    cancel,
                )
                .await;
            shown.finish();
            // A read that lost its connection before saying anything is asked again, once.
            let retry = !operation.changes_host()
                && pinned.is_none()
                && attempts == 1
                && match &started {
                    Err(Error::ConnectionLost { .. }) => true,
                    Ok(end) => end.end == CommandEnd::ConnectionLost && end.stdout_bytes == 0,
                    Err(_) => false,
                };
            if retry {
                tracing::info!(target = %target.name, "connection lost during a read; retrying once");
                self.drop_connection(&target.name, &connection).await;
                continue;
            }
            match started {
                // A deploy took the host's lock after it was read above: nothing ran.
                Ok(end) if lock::refused_by_gate(end.exit_code, &stderr.text()) => {
                    let locked = Self::locked_after_reading(&connection, read_seconds).await;
                    return Err(journal.not_started(&record_id, locked));
                }
                Ok(end) => break (connection, end, stdout, stderr, redactor),
                Err(error) => return Err(journal.aborted(&record_id, error)),
            }
        };
        if matches!(
            operation,
            Operation::GitPull | Operation::Pull | Operation::Up | Operation::Down
        ) {
            // The project's services or scripts may have changed: learn them again.
            self.forget_facts(&target.name);
        }
        let said = CommandOutput {
            command: end.command.clone(),
            stdout: stdout.text(),
            stderr: stderr.text(),
            exit_code: end.exit_code,
            started_at: end.started_at.clone(),
            duration_ms: end.duration_ms,
        };
        let output = redacted(&said, &redactor);
        let outcome = RunOutcome::from(end.end);
        // Ending `docker compose exec` on the host leaves the script running in the
        // container: a migration stopped here is stopped there too, and said so.
        let in_container = match (operation, outcome) {
            (Operation::Migrate { script }, RunOutcome::Cancelled | RunOutcome::TimedOut) => {
                let stop = stop_migration_command(policy, &target.project_dir, *compose, script);
                match connection
                    .exec(&stop, Deadline::total(policy.deadlines.change_seconds))
                    .await
                {
                    Ok(out) if out.succeeded() => "; stopped in the container".to_string(),
                    Ok(out) => format!(
                        "; it may still run in the container ({})",
                        redactor.redact(
                            out.stderr
                                .trim()
                                .lines()
                                .last()
                                .unwrap_or("the stop failed")
                        )
                    ),
                    Err(error) => format!("; it may still run in the container ({error})"),
                }
            }
            _ => String::new(),
        };
        let title = match outcome {
            RunOutcome::Exited => operation.title(),
            RunOutcome::Cancelled => format!("{} (cancelled{in_container})", operation.title()),
            RunOutcome::TimedOut => format!("{} (timed out{in_container})", operation.title()),
            RunOutcome::Interrupted | RunOutcome::Running | RunOutcome::NotStarted => {
                format!("{} (interrupted)", operation.title())
            }
        };
        let record = HistoryRecord::of(&record_id, &target.name, &title, &output, outcome);
        journal.append(&record_id, &Entry::OperationEnded(record.clone()))?;
        tracing::info!(
            target = %target.name,
            command = %output.command,
            exit_code = ?output.exit_code,
            outcome = ?outcome,
            duration_ms = output.duration_ms,
            "operation ended"
        );
        match end.end {
            CommandEnd::ConnectionLost => {
                self.drop_connection(&target.name, &connection).await;
                Err(match operation.changes_host() {
                    true => Error::Interrupted {
                        host: target.host.clone(),
                        command: output.command,
                    },
                    false => Error::ConnectionLost {
                        host: target.host.clone(),
                    },
                })
            }
            _ => {
                connection.ended_as_error(&end, deadline)?;
                let shown = OperationOutcome {
                    title,
                    outcome,
                    output,
                    record_id: record.id,
                };
                Ok(Ran { shown, said })
            }
        }
    }

    /// [`Console::run_operation_streaming`] for a request the adapter named: run once
    /// however often the request arrives, and stoppable with
    /// [`super::Tasks::cancel_request`] under that name.
    pub async fn run_requested_operation(
        &self,
        request: &str,
        target: &str,
        address: &str,
        operation: &Operation,
        on_output: impl FnMut(Source, &str) + Send,
    ) -> Result<OperationOutcome> {
        // The host the operator confirmed: a target redefined since (the CLI, another
        // window) runs nothing until they have seen where it points now.
        let now = crate::target::find(self.settings.as_ref(), target)?.address();
        if now != address {
            return Err(Error::BadInput(format!(
                "{target} now points at {now}, not {} as shown when you confirmed: nothing was run. Open the operation again to see where it runs.",
                crate::input::shown(address)
            )));
        }
        let task = self
            .tasks
            .start_once(request, format!("{} on {target}", operation.title()))?;
        self.run_operation_streaming(target, operation, on_output, &task.cancel)
            .await
    }

    /// Every run, in the order they started: operations and verifications.
    pub fn history(&self) -> Result<Vec<HistoryRecord>> {
        self.journal()?.history()
    }
}
