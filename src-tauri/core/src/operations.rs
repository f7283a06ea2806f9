//! The policy's approved operations as typed values. Each builds its exact command with
//! [`RemoteCommand`]; the profile is always the policy's.

use serde::Serialize;
use ts_rs::TS;

use crate::compose::{self, ServiceState};
use crate::error::{Error, Result};
use crate::policy;
use crate::shell::RemoteCommand;
use crate::ssh::Connection;
use crate::target::Target;

/// `docker compose --profile aws ...` in the target's project directory.
pub fn compose(target: &Target) -> RemoteCommand {
    RemoteCommand::new("docker")
        .args(["compose", "--profile", policy::PROFILE])
        .in_dir(&target.project_dir)
}

/// The policy's `docker compose --profile aws ps`, asking for every container (stopped
/// ones too) in JSON so each service's state can be shown.
pub fn ps_command(target: &Target) -> RemoteCommand {
    compose(target).args(["ps", "--all", "--format", "json"])
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

pub async fn service_status(connection: &Connection, target: &Target) -> Result<StatusReport> {
    let output = connection.exec(&ps_command(target)).await?;
    if !output.succeeded() {
        return Err(Error::RemoteFailed {
            what: "docker compose ps".into(),
            exit_code: output.exit_code.unwrap_or(-1),
            detail: output.stderr.trim().to_string(),
        });
    }
    Ok(StatusReport {
        target: target.name.clone(),
        address: target.address(),
        host_key: connection.host_key().to_string(),
        command: output.command,
        checked_at: output.started_at,
        services: compose::parse_ps(&output.stdout, &policy::SERVICES)?,
    })
}
