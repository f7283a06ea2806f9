//! The first look at a newly trusted host, before the console offers any change to it:
//! which Compose it has, whether the policy's project is where the target says, which of
//! the policy's `aws` services it defines, and the guardrails that will hold there. It is
//! the facts' one round trip (one compose process); the guardrails themselves are the
//! checklist's Never Do items, which the window runs next and shows beside these.

use serde::Serialize;
use ts_rs::TS;

use super::Console;
use crate::error::Result;
use crate::operations::Compose;
use crate::policy::PROFILE;

/// What the host check found.
#[derive(Debug, Clone, Serialize, TS)]
pub struct HostCheck {
    pub target: String,
    /// `user@host:port`, with the jump hosts.
    pub address: String,
    pub project_dir: String,
    /// v2's plugin, or v1's `docker-compose` where v2 is missing.
    pub compose: Compose,
    /// Always `aws`: the only profile the policy lets Shipshape use.
    pub profile: String,
    /// The services the project defines under the profile.
    pub services: Vec<String>,
    /// The policy's services the project does not define (a wrong directory or branch).
    pub missing: Vec<String>,
    /// Migration scripts present, as the policy selects them.
    #[ts(type = "number")]
    pub migrations: usize,
    /// The ports only the project's `aws` containers may serve.
    pub production_ports: Vec<u16>,
    /// What must never appear in a service's command (`--reload`, ...).
    pub forbidden_patterns: Vec<String>,
}

impl Console {
    /// Reads what the host has (a project dir that is not there fails here, saying so).
    pub async fn host_check(&self, name: &str) -> Result<HostCheck> {
        let (target, policy) = self.target_and_policy(name)?;
        let facts = self.host_facts(&target, &policy).await?;
        let missing = policy
            .services
            .iter()
            .filter(|s| !facts.services.contains(s))
            .cloned()
            .collect();
        Ok(HostCheck {
            address: target.address(),
            target: target.name,
            project_dir: target.project_dir,
            compose: facts.compose,
            profile: PROFILE.to_string(),
            services: facts.services,
            missing,
            migrations: facts.migrations.len(),
            production_ports: policy.production_ports,
            forbidden_patterns: policy.forbidden_patterns,
        })
    }
}
