//! Running the policy's operations on a target: refuse bad input against the policy
//! before connecting, learn the host's facts (compose v2 or v1, its services, the
//! migration scripts present), check the operation against them, run the exact command,
//! and record it in the history.

use serde::Serialize;
use ts_rs::TS;

use super::Console;
use crate::error::{Error, Result};
use crate::history::{History, HistoryRecord};
use crate::operations::{
    parse_migration_list, parse_service_list, validate_service, Compose, HostFacts, Operation,
};
use crate::policy::Policy;
use crate::ssh::{CancellationToken, CommandOutput, Connection, StreamChunk};
use crate::target::Target;

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
    /// So disruptive that the operator confirms by typing the target's name (`down`).
    pub confirm_by_name: bool,
}

/// What an operation did, as the console and the CLI show it.
#[derive(Debug, Clone, Serialize, TS)]
pub struct OperationOutcome {
    pub title: String,
    pub output: CommandOutput,
    pub record_id: String,
}

impl OperationOutcome {
    pub fn succeeded(&self) -> bool {
        self.output.succeeded()
    }
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

async fn run_checked(
    connection: &Connection,
    operation: &Operation,
    policy: &Policy,
    target: &Target,
    compose: Compose,
) -> Result<CommandOutput> {
    let output = connection
        .exec(&operation.command(policy, &target.project_dir, compose))
        .await?;
    if output.succeeded() {
        Ok(output)
    } else {
        Err(Error::RemoteFailed {
            what: operation.title(),
            exit_code: output.exit_code.unwrap_or(-1),
            detail: output.stderr.trim().to_string(),
        })
    }
}

/// Asks the host which compose it has, which services its project defines and which
/// migration scripts exist. Read-only commands.
pub async fn host_facts(
    connection: &Connection,
    policy: &Policy,
    target: &Target,
) -> Result<HostFacts> {
    let compose = if connection
        .exec(&Compose::V2.version_command())
        .await?
        .succeeded()
    {
        Compose::V2
    } else if connection
        .exec(&Compose::V1.version_command())
        .await?
        .succeeded()
    {
        Compose::V1
    } else {
        return Err(Error::RemoteFailed {
            what: "Finding Docker Compose on the host".into(),
            exit_code: 127,
            detail: "neither `docker compose` (v2) nor `docker-compose` (v1) runs there".into(),
        });
    };
    let services = run_checked(
        connection,
        &Operation::ComposeServices,
        policy,
        target,
        compose,
    )
    .await?;
    // A project without a scripts directory simply has no migrations.
    let migrations = connection
        .exec(&Operation::ListMigrations.command(policy, &target.project_dir, compose))
        .await?;
    Ok(HostFacts {
        compose,
        services: parse_service_list(&services.stdout),
        migrations: if migrations.succeeded() {
            parse_migration_list(&migrations.stdout, policy)
        } else {
            Vec::new()
        },
    })
}

impl Console {
    /// Checks `operation` against the policy and the host, and returns the connection,
    /// the operation as it will run, and its exact command.
    async fn prepare(
        &self,
        target: &str,
        operation: &Operation,
    ) -> Result<(
        Target,
        std::sync::Arc<Connection>,
        Operation,
        crate::shell::RemoteCommand,
    )> {
        let (target, policy) = self.target_and_policy(target)?;
        precheck(operation, &policy)?;
        // `migrate NAME apply_migration_x.py` means the policy's scripts/apply_migration_x.py.
        let operation = match operation {
            Operation::Migrate { script } => Operation::Migrate {
                script: policy.migration_path(script),
            },
            other => other.clone(),
        };
        let connection = self.connect(&target.name).await?;
        let facts = self.facts_for(&target, &connection, &policy).await?;
        operation.validate(&policy, &facts)?;
        let command = operation.command(&policy, &target.project_dir, facts.compose);
        Ok((target, connection, operation, command))
    }

    /// The host's facts, learned once per connection.
    pub(super) async fn facts_for(
        &self,
        target: &Target,
        connection: &Connection,
        policy: &Policy,
    ) -> Result<HostFacts> {
        if let Some(facts) = self.facts.lock().await.get(&target.name) {
            return Ok(facts.clone());
        }
        let facts = host_facts(connection, policy, target).await?;
        self.facts
            .lock()
            .await
            .insert(target.name.clone(), facts.clone());
        Ok(facts)
    }

    /// What `operation` would run on `target`, checked, without running it.
    pub async fn plan_operation(
        &self,
        target: &str,
        operation: &Operation,
    ) -> Result<PlannedOperation> {
        let (target, _, operation, command) = self.prepare(target, operation).await?;
        Ok(PlannedOperation {
            address: target.address(),
            target: target.name,
            title: operation.title(),
            command: command.render(),
            destructive: operation.is_destructive(),
            confirm_by_name: matches!(
                operation,
                Operation::Down | Operation::Stop { service: None }
            ),
        })
    }

    /// The migration scripts present on the host, as the policy selects them.
    pub async fn migrations(&self, target: &str) -> Result<Vec<String>> {
        let (target, policy) = self.target_and_policy(target)?;
        let connection = self.connect(&target.name).await?;
        Ok(self
            .facts_for(&target, &connection, &policy)
            .await?
            .migrations)
    }

    /// Runs one of the policy's operations on `target`. A command that runs and fails is
    /// an outcome (with its output), not an error; bad input is refused before anything runs.
    pub async fn run_operation(
        &self,
        target: &str,
        operation: &Operation,
    ) -> Result<OperationOutcome> {
        self.run_operation_streaming(target, operation, |_| {}, &CancellationToken::new())
            .await
    }

    /// [`Console::run_operation`], handing its output to `on_output` as it arrives (pull
    /// progress, up's container lines) and stopping it if `cancel` fires. A cancelled
    /// operation is an outcome without an exit code, and is recorded like any other.
    pub async fn run_operation_streaming(
        &self,
        target: &str,
        operation: &Operation,
        mut on_output: impl FnMut(&str) + Send,
        cancel: &CancellationToken,
    ) -> Result<OperationOutcome> {
        if matches!(operation, Operation::Logs { follow: true, .. }) {
            return Err(Error::BadInput(
                "Following logs never ends: use the log viewer (follow_logs) for that.".into(),
            ));
        }
        let (target, connection, operation, command) = self.prepare(target, operation).await?;
        let (mut stdout, mut stderr) = (Vec::new(), Vec::new());
        let end = connection
            .exec_streaming(
                &command,
                |chunk| {
                    let bytes = match chunk {
                        StreamChunk::Stdout(bytes) => {
                            stdout.extend_from_slice(bytes);
                            bytes
                        }
                        StreamChunk::Stderr(bytes) => {
                            stderr.extend_from_slice(bytes);
                            bytes
                        }
                    };
                    on_output(&String::from_utf8_lossy(bytes));
                },
                cancel,
            )
            .await?;
        if matches!(
            operation,
            Operation::GitPull | Operation::Pull | Operation::Up | Operation::Down
        ) {
            // The project's services or scripts may have changed: learn them again.
            self.facts.lock().await.remove(&target.name);
        }
        let output = CommandOutput {
            command: end.command,
            stdout: String::from_utf8_lossy(&stdout).into_owned(),
            stderr: String::from_utf8_lossy(&stderr).into_owned(),
            exit_code: end.exit_code,
            started_at: end.started_at,
            duration_ms: end.duration_ms,
        };
        let title = if end.cancelled {
            format!("{} (cancelled)", operation.title())
        } else {
            operation.title()
        };
        let record = HistoryRecord::of(&target.name, &title, &output);
        History::at(self.history_path.clone()).append(&record)?;
        Ok(OperationOutcome {
            title,
            output,
            record_id: record.id,
        })
    }

    pub fn history(&self) -> Result<Vec<HistoryRecord>> {
        History::at(self.history_path.clone()).records()
    }
}
