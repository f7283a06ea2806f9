//! The policy's approved operations as typed values, and nothing else: the console and
//! the CLI can only ask for one of these, never send a command line. Each operation
//! builds its exact command with [`RemoteCommand`] (so every word is quoted), always
//! in the project directory and always with the policy's profile, and is validated
//! against the policy and the host before it runs.

mod operation;
mod output;
#[cfg(test)]
mod tests;
mod validate;

use serde::{Deserialize, Serialize};
use ts_rs::TS;

use crate::checks::engine;
use crate::checks::probe::Probe;
use crate::compose::{self, ServiceState};
use crate::error::{Error, Result};
use crate::policy::{self, Policy};
use crate::shell::RemoteCommand;
use crate::ssh::{CancellationToken, Connection, StreamChunk};
use crate::target::Target;

pub use operation::{stop_migration_command, Operation, DEFAULT_LOG_LINES, HEALTH_TIMEOUT_SECONDS};
pub use output::{
    parse_changed_files, parse_health, parse_incoming_commits, parse_migration_list,
    parse_service_list, parse_short_hash, ChangedFile, HealthResponse, IncomingCommit,
};
pub use validate::{
    is_script_path, validate_lines, validate_migration, validate_service, validate_since,
    HostFacts, MAX_LOG_LINES,
};

/// Which Compose the host has: the v2 plugin (`docker compose`, what the policy writes)
/// or the older standalone v1 (`docker-compose`). Both take `--profile aws`.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default, Serialize, Deserialize, TS)]
#[serde(rename_all = "lowercase")]
pub enum Compose {
    #[default]
    V2,
    V1,
}

impl Compose {
    /// The words that start every compose command.
    pub fn program_words(self) -> &'static [&'static str] {
        match self {
            Compose::V2 => &["docker", "compose"],
            Compose::V1 => &["docker-compose"],
        }
    }

    /// `docker compose --profile aws` in `project_dir`: the start of every compose
    /// operation. The profile is the policy's constant, never a field that could change.
    pub fn command(self, project_dir: &str) -> RemoteCommand {
        let (program, rest) = self
            .program_words()
            .split_first()
            .expect("a compose program has at least one word");
        RemoteCommand::new(program)
            .args(rest.iter().copied())
            .args(["--profile", policy::PROFILE])
            .in_dir(project_dir)
    }

    /// Asks the host whether this Compose is installed (`docker compose version --short`).
    pub fn version_command(self) -> RemoteCommand {
        let (program, rest) = self
            .program_words()
            .split_first()
            .expect("a compose program has at least one word");
        RemoteCommand::new(program)
            .args(rest.iter().copied())
            .args(["version", "--short"])
    }
}

/// The dashboard's view of a target: who answered, what ran, and each service's state.
#[derive(Debug, Clone, Serialize, TS)]
pub struct StatusReport {
    pub target: String,
    /// `user@host:port`
    pub address: String,
    /// The SHA256 fingerprint the host proved it holds.
    pub host_key: String,
    /// The exact command that produced `services`.
    pub command: String,
    pub checked_at: String,
    pub services: Vec<ServiceState>,
}

/// The policy's `docker compose --profile aws ps` (stopped containers too, as JSON; v1's
/// table on a `docker-compose` v1 host, whose `v1_services` name the rows), one row per
/// service of the policy and any others the host runs; `with_details` adds restart
/// counts and image IDs.
pub async fn service_status(
    connection: &Connection,
    target: &Target,
    policy: &Policy,
    compose: Compose,
    v1_services: &[String],
    with_details: bool,
) -> Result<StatusReport> {
    let command = Operation::Ps.command(policy, &target.project_dir, compose);
    let deadline = Operation::Ps.deadline(policy);
    let expected: Vec<&str> = policy.services.iter().map(String::as_str).collect();
    // Restart counts and image IDs are not in `ps`. The engine's record of the project's
    // containers, asked of its socket over the connection while `ps` runs (by `curl` on
    // a host that forbids that), adds them without adding to the wait; what it leaves
    // out (no curl on the host, a remote DOCKER_HOST, a v1 project without compose's
    // labels) one `docker inspect` after `ps` fills. Best effort: the status stands
    // without them. A failed `ps`, or records past any real project's size, end the read.
    let done_with_records = CancellationToken::new();
    let records = async {
        let mut records = Vec::new();
        let asked = async {
            match with_details {
                true => {
                    engine::read(
                        connection,
                        &[Probe::Containers],
                        policy,
                        &target.project_dir,
                    )
                    .await
                }
                false => Ok(Some(Vec::new())),
            }
        };
        let asked = tokio::select! {
            asked = asked => asked,
            () = done_with_records.cancelled() => Ok(Some(Vec::new())),
        };
        match asked {
            Ok(Some(outputs)) => {
                let text = outputs.into_iter().next().map(|(_, o)| o.stdout);
                records = text.unwrap_or_default().into_bytes();
                if records.len() > RECORDS_LIMIT {
                    records.clear();
                }
            }
            Ok(None) => {
                let read = Probe::Containers.command(policy, &target.project_dir);
                let keep = |chunk: StreamChunk<'_>| match chunk {
                    StreamChunk::Stdout(bytes) if records.len() + bytes.len() <= RECORDS_LIMIT => {
                        records.extend_from_slice(bytes)
                    }
                    StreamChunk::Stdout(_) => done_with_records.cancel(),
                    StreamChunk::Stderr(_) => {}
                };
                let _ = connection
                    .exec_streaming(&read, deadline, keep, &done_with_records)
                    .await;
            }
            Err(_) => {}
        }
        done_with_records.cancel(); // read: `ps` need not wait for it any more
        String::from_utf8_lossy(&records).into_owned()
    };
    let ps = async {
        let output = connection.exec(&command, deadline).await;
        match &output {
            // The records are a detail: they hold the status up for a moment at most.
            Ok(o) if o.succeeded() => tokio::select! {
                () = done_with_records.cancelled() => {}
                () = tokio::time::sleep(RECORDS_GRACE) => done_with_records.cancel(),
            },
            _ => done_with_records.cancel(),
        }
        output
    };
    let (output, records) = tokio::join!(ps, records);
    let output = output?;
    if !output.succeeded() {
        return Err(Error::RemoteFailed {
            what: "docker compose ps".into(),
            exit_code: output.exit_code.unwrap_or(-1),
            detail: output.stderr.trim().to_string(),
        });
    }
    let mut services = match compose {
        Compose::V2 => compose::parse_ps(&output.stdout, &expected)?,
        Compose::V1 => compose::parse_ps_table(&output.stdout, &expected, v1_services)?,
    };
    compose::apply_container_records(&mut services, &records);
    let names: Vec<String> = services
        .iter()
        .filter(|s| s.restarts.is_none())
        .filter_map(|s| s.container.clone())
        .filter(|n| compose::is_container_name(n))
        .collect();
    if with_details && !names.is_empty() {
        let inspect = RemoteCommand::new("docker")
            .args(["inspect", "--format", compose::INSPECT_FORMAT])
            .args(names);
        match connection.exec(&inspect, deadline).await {
            Ok(details) => compose::apply_inspect(&mut services, &details.stdout),
            Err(error @ (Error::ConnectionLost { .. } | Error::CommandTimeout { .. })) => {
                return Err(error)
            }
            Err(_) => {}
        }
    }
    Ok(StatusReport {
        target: target.name.clone(),
        address: target.address(),
        host_key: connection.host_key().to_string(),
        command: output.command,
        checked_at: output.started_at,
        services,
    })
}

/// More engine records than any real project's (a few KiB a container): past this the
/// read is ended and `docker inspect` fills the details.
const RECORDS_LIMIT: usize = 4 << 20;
/// How long a status that `ps` has given waits for the engine's records.
const RECORDS_GRACE: std::time::Duration = std::time::Duration::from_secs(2);

/// Whether a failed `ps` says the host has no such Compose (v2's plugin missing, or
/// no `docker-compose`), rather than that the project is broken.
/// A missing compose *file* ("no configuration file provided: not found") is the
/// project's problem, not this, so only the shell's and docker's own words count.
pub fn compose_missing(stderr: &str, exit_code: i64) -> bool {
    exit_code == 127
        || stderr.contains("is not a docker command")
        || stderr.contains("unknown command \"compose\"")
        || stderr.contains("docker-compose: not found")
        || stderr.contains("docker-compose: command not found")
}
