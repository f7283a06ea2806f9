//! The deployment policy (DEPLOYMENT_POLICY.md) as data. Its facts are one value rather
//! than constants spread through the code, so a team can adapt them in a policy file
//! (their services, their ports) while the rules the policy lists under "Never Do" stay
//! out of reach: the profile is always `aws` and `--reload` is always forbidden.

mod file;
pub(crate) mod rules;
#[cfg(test)]
mod tests;

use serde::Serialize;
use ts_rs::TS;

use crate::error::{Error, Result};

/// The only compose profile production may use.
pub const PROFILE: &str = "aws";
pub const DEFAULT_USER: &str = "ubuntu";
pub const PROJECT_DIR: &str = "/home/ubuntu/automated-trading-platform";
/// The services of the `aws` profile, in the policy's order.
pub const SERVICES: [&str; 4] = ["backend-aws", "frontend-aws", "db", "market-updater-aws"];
pub const HEALTH_URL: &str = "http://localhost:8002/api/health";
/// The services whose logs the policy's checklist reads ("Logs checked for errors").
pub const LOGGED_SERVICES: [&str; 2] = ["backend-aws", "frontend-aws"];

/// What the policy prescribes for one deployment. Only [`Policy::builtin`] and
/// [`Policy::from_toml`] make one, so every policy in use has passed validation.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, TS)]
pub struct Policy {
    /// Always [`PROFILE`]; commands use the constant, never this field.
    profile: String,
    /// Where the project is checked out on the host (a target may choose another).
    pub project_dir: String,
    /// The git remote and branch of `git pull origin main`.
    pub remote: String,
    pub branch: String,
    /// The compose services of the `aws` profile, in display order.
    pub services: Vec<String>,
    /// The services whose last lines `logs-clean` reads for errors, each one of
    /// `services`: a team that renames its services names these too. Left out of the
    /// digest while it is the built-in list, so policies from before it was a field
    /// keep the digest their verifications recorded.
    #[serde(skip_serializing_if = "is_builtin_logged")]
    pub logged_services: Vec<String>,
    /// The health probe, run on the host itself.
    pub health_url: String,
    /// The environment file the services read, relative to the project directory.
    pub env_file: String,
    /// Which files are migration scripts, relative to the project directory; one `*`.
    pub migration_glob: String,
    /// The service migrations run in (`exec -T SERVICE python SCRIPT`).
    pub migration_service: String,
    /// Ports that only compose containers may serve (backend 8002, frontend 3000).
    pub production_ports: Vec<u16>,
    /// Text that must never appear in the running services' commands.
    pub forbidden_patterns: Vec<String>,
    /// How long each kind of remote command may take.
    pub deadlines: Deadlines,
}

/// How long each kind of remote command may take, in seconds. A command past its
/// deadline is ended on the host and reported as a timeout, never left hanging.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, TS)]
pub struct Deadlines {
    /// Reading state: `ps`, `config`, `logs -n`, git's log and diff, listings.
    pub read_seconds: u32,
    /// The health probe (curl itself gives up after 10 s).
    pub health_seconds: u32,
    /// Changing what runs: restart, stop, up, down, git fetch and pull.
    pub change_seconds: u32,
    /// `pull` may run long on a slow registry, so it ends only after this long
    /// *without any progress*.
    pub pull_idle_seconds: u32,
    /// A migration script.
    pub migrate_seconds: u32,
}

impl Default for Deadlines {
    fn default() -> Self {
        Deadlines {
            read_seconds: 30,
            health_seconds: 20,
            change_seconds: 300,
            pull_idle_seconds: 120,
            migrate_seconds: 1800,
        }
    }
}

fn is_builtin_logged(logged: &[String]) -> bool {
    logged.iter().map(String::as_str).eq(LOGGED_SERVICES)
}

impl Default for Policy {
    fn default() -> Self {
        Policy::builtin()
    }
}

impl Policy {
    /// SHA-256 of the policy in effect, as JSON: what a report names it by.
    pub fn digest(&self) -> String {
        crate::checklist::sha256_hex(&serde_json::to_vec(self).expect("a policy serializes"))
    }

    /// The policy exactly as DEPLOYMENT_POLICY.md writes it.
    pub fn builtin() -> Self {
        Policy {
            profile: PROFILE.to_string(),
            project_dir: PROJECT_DIR.to_string(),
            remote: "origin".into(),
            branch: "main".into(),
            services: SERVICES.iter().map(|s| s.to_string()).collect(),
            logged_services: LOGGED_SERVICES.iter().map(|s| s.to_string()).collect(),
            health_url: HEALTH_URL.into(),
            env_file: ".env.aws".into(),
            migration_glob: "scripts/apply_migration_*.py".into(),
            migration_service: "backend-aws".into(),
            production_ports: vec![8002, 3000],
            forbidden_patterns: vec!["uvicorn --reload".into(), rules::ALWAYS_FORBIDDEN.into()],
            deadlines: Deadlines::default(),
        }
    }

    /// Always `aws`.
    pub fn profile(&self) -> &str {
        &self.profile
    }

    pub fn has_service(&self, name: &str) -> bool {
        self.services.iter().any(|s| s == name)
    }

    /// Checks every field, for a policy whose public fields were changed in code.
    pub fn validate(&self) -> Result<()> {
        let problem = |field: &str, reason: String| {
            Error::BadInput(format!("The policy's field `{field}`: {reason}"))
        };
        let each = |field: &str, items: &[String], rule: fn(&str) -> Result<(), String>| {
            items
                .iter()
                .try_for_each(|item| rule(item))
                .map_err(|reason| problem(field, reason))
        };
        rules::profile(&self.profile).map_err(|r| problem("profile", r))?;
        rules::project_dir(&self.project_dir).map_err(|r| problem("project_dir", r))?;
        rules::git_name(&self.remote).map_err(|r| problem("remote", r))?;
        rules::git_name(&self.branch).map_err(|r| problem("branch", r))?;
        each("services", &self.services, rules::service_name)?;
        rules::services(&self.services).map_err(|r| problem("services", r))?;
        rules::health_url(&self.health_url).map_err(|r| problem("health_url", r))?;
        rules::env_file(&self.env_file).map_err(|r| problem("env_file", r))?;
        rules::migration_glob(&self.migration_glob).map_err(|r| problem("migration_glob", r))?;
        rules::service_name(&self.migration_service)
            .and_then(|()| rules::migration_service_listed(&self.migration_service, &self.services))
            .map_err(|r| problem("migration_service", r))?;
        each(
            "logged_services",
            &self.logged_services,
            rules::service_name,
        )?;
        rules::logged_services(&self.logged_services, &self.services)
            .map_err(|r| problem("logged_services", r))?;
        rules::ports(&self.production_ports).map_err(|r| problem("production_ports", r))?;
        each(
            "forbidden_patterns",
            &self.forbidden_patterns,
            rules::forbidden_pattern,
        )?;
        rules::forbidden_patterns(&self.forbidden_patterns)
            .map_err(|r| problem("forbidden_patterns", r))
    }

    /// The directory that holds the migration scripts (`scripts`), or `.`.
    pub fn migration_dir(&self) -> &str {
        match self.migration_glob.rsplit_once('/') {
            Some((dir, _)) => dir,
            None => ".",
        }
    }

    /// A script as the host's commands name it: a bare file name is taken to be in
    /// [`Policy::migration_dir`]; a path is kept as written.
    pub fn migration_path(&self, script: &str) -> String {
        match self.migration_dir() {
            _ if script.contains('/') => script.to_string(),
            "." => script.to_string(),
            dir => format!("{dir}/{script}"),
        }
    }

    /// Whether `path` (relative to the project directory) is named by the migration
    /// glob. `*` matches any run of characters except `/`, as in `sh`.
    pub fn matches_migration(&self, path: &str) -> bool {
        wildcard_match(&self.migration_glob, path)
    }
}

/// Matches `text` against `pattern`, where `*` stands for any run of characters but `/`
/// and every other character stands for itself.
fn wildcard_match(pattern: &str, text: &str) -> bool {
    let mut parts = pattern.split('*');
    let first = parts.next().unwrap_or_default();
    let Some(mut rest) = text.strip_prefix(first) else {
        return false;
    };
    let pieces: Vec<&str> = parts.collect();
    let Some((last, middle)) = pieces.split_last() else {
        return rest.is_empty();
    };
    for piece in middle {
        // The earliest match leaves the most room for what follows.
        match rest.find(piece) {
            Some(at) if !rest[..at].contains('/') => rest = &rest[at + piece.len()..],
            _ => return false,
        }
    }
    rest.len() >= last.len()
        && rest.ends_with(last)
        && !rest[..rest.len() - last.len()].contains('/')
}
