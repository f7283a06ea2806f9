//! Verdicts: from the probes' (redacted) output and the policy to each item's status
//! and one sentence saying why. Pure, so every rule is tested without a host; the
//! sentences quote what decided them, because an auditor reads them without the host.

mod guardrails;
mod services;

pub use guardrails::config_breaks;

use std::collections::BTreeMap;

use super::host_state::{self, ConfigService, Container};
use super::probe::{Probe, LOG_LINES, NO_MIGRATIONS_DIR};
use crate::checklist::{CheckId, CheckStatus};
use crate::policy::Policy;

/// One probe's result, redacted.
#[derive(Debug, Clone, Default)]
pub struct ProbeOutput {
    pub stdout: String,
    pub stderr: String,
    /// `None` if it did not end by itself (timed out).
    pub exit_code: Option<i64>,
}

impl ProbeOutput {
    pub fn ok(&self) -> bool {
        self.exit_code == Some(0)
    }

    /// The first line of what went wrong, for a verdict.
    pub fn problem(&self) -> String {
        let text = if self.stderr.trim().is_empty() {
            &self.stdout
        } else {
            &self.stderr
        };
        let line = text
            .lines()
            .find(|l| !l.trim().is_empty())
            .unwrap_or("no output");
        match self.exit_code {
            Some(code) => format!("exit {code}: {}", clip(line.trim(), 160)),
            None => format!("it did not finish ({})", clip(line.trim(), 160)),
        }
    }
}

/// Every probe's result, and the facts read from them once.
pub struct Outputs {
    pub probes: BTreeMap<Probe, ProbeOutput>,
    pub config: Option<(String, Vec<ConfigService>)>,
    pub containers: Option<Vec<Container>>,
}

impl Outputs {
    pub fn new(probes: BTreeMap<Probe, ProbeOutput>) -> Outputs {
        let config = probes
            .get(&Probe::ComposeConfig)
            .filter(|o| o.ok())
            .and_then(|o| host_state::config_services(&o.stdout));
        let containers = probes
            .get(&Probe::Containers)
            .filter(|o| o.ok())
            .and_then(|o| host_state::containers(&o.stdout));
        Outputs {
            probes,
            config,
            containers,
        }
    }

    fn get(&self, probe: Probe) -> ProbeOutput {
        self.probes.get(&probe).cloned().unwrap_or(ProbeOutput {
            exit_code: None,
            stderr: "not run".into(),
            ..Default::default()
        })
    }

    /// The rendered config's project name and services, or the verdict that says why
    /// there are none to judge.
    fn read_config(&self) -> Result<(&str, &[ConfigService]), Verdict> {
        match &self.config {
            Some((project, services)) => Ok((project, services)),
            None => Err(fail(format!(
                "The compose config could not be read ({}).",
                self.get(Probe::ComposeConfig).problem()
            ))),
        }
    }

    /// Every container of the project, or the verdict that says why they are unknown.
    fn listed_containers(&self) -> Result<&[Container], Verdict> {
        match &self.containers {
            Some(containers) => Ok(containers),
            None => Err(fail(format!(
                "The project's containers could not be listed ({}).",
                self.get(Probe::Containers).problem()
            ))),
        }
    }

    /// The project's containers of services (one-off `run` containers aside).
    fn service_containers(&self) -> Vec<&Container> {
        self.containers
            .iter()
            .flatten()
            .filter(|c| !c.one_off && !c.service.is_empty())
            .collect()
    }
}

#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Verdict {
    pub status: CheckStatus,
    pub note: String,
}

fn verdict(status: CheckStatus, note: impl Into<String>) -> Verdict {
    Verdict {
        status,
        note: note.into(),
    }
}

fn pass(note: impl Into<String>) -> Verdict {
    verdict(CheckStatus::Pass, note)
}

fn fail(note: impl Into<String>) -> Verdict {
    verdict(CheckStatus::Fail, note)
}

/// The probes whose output is an item's evidence, in the order shown.
pub fn probes_for(id: CheckId) -> &'static [Probe] {
    match id {
        CheckId::CodeDeployed => &[Probe::GitHead, Probe::GitRemoteHead, Probe::GitStatus],
        CheckId::ImagesPulled => &[Probe::Containers, Probe::Images],
        CheckId::ServicesUpdated => &[Probe::ComposeDryRun],
        CheckId::ServicesRunning => &[Probe::ComposeConfig, Probe::Containers],
        CheckId::EnvConfigured => &[
            Probe::EnvStat,
            Probe::EnvRead,
            Probe::EnvTemplate,
            Probe::ComposeConfig,
        ],
        CheckId::Migrations => &[Probe::Migrations],
        CheckId::Health => &[Probe::Health],
        CheckId::LogsClean => &[Probe::Logs],
        CheckId::NoReload => &[Probe::ComposeConfig, Probe::Containers, Probe::Processes],
        CheckId::NoSystemdMix => &[Probe::Systemd],
        CheckId::AwsProfileOnly => &[Probe::ComposeConfig, Probe::Containers],
        CheckId::ComposeOnly => &[Probe::Listeners, Probe::Publishers, Probe::ComposeConfig],
    }
}

pub fn evaluate(id: CheckId, out: &Outputs, policy: &Policy, project_dir: &str) -> Verdict {
    match id {
        CheckId::CodeDeployed => code_deployed(out, policy),
        CheckId::ImagesPulled => services::images_pulled(out),
        CheckId::ServicesUpdated => services::services_updated(out),
        CheckId::ServicesRunning => services::services_running(out, policy),
        CheckId::EnvConfigured => services::env_configured(out, policy),
        CheckId::Migrations => migrations(out, policy),
        CheckId::Health => health(out, policy),
        CheckId::LogsClean => logs_clean(out, policy),
        CheckId::NoReload => guardrails::no_reload(out, policy),
        CheckId::NoSystemdMix => guardrails::no_systemd_mix(out, policy),
        CheckId::AwsProfileOnly => guardrails::aws_profile_only(out),
        CheckId::ComposeOnly => guardrails::compose_only(out, policy, project_dir),
    }
}

pub(crate) fn clip(text: &str, max: usize) -> String {
    match text.char_indices().nth(max) {
        Some((at, _)) => format!("{}…", &text[..at]),
        None => text.to_string(),
    }
}

/// A commit as notes name it: its first 12 characters.
pub(crate) fn short(hash: &str) -> &str {
    prefix(hash, 12)
}

/// The first `chars` characters of `text`: host output may hold any character, and a
/// byte count could cut one in two.
pub fn prefix(text: &str, chars: usize) -> &str {
    match text.char_indices().nth(chars) {
        Some((at, _)) => &text[..at],
        None => text,
    }
}

/// The files compose merges over the project's compose file with no `-f` asked.
const COMPOSE_OVERRIDES: [&str; 4] = [
    "compose.override.yaml",
    "compose.override.yml",
    "docker-compose.override.yaml",
    "docker-compose.override.yml",
];

fn code_deployed(out: &Outputs, policy: &Policy) -> Verdict {
    let (head, remote, status) = (
        out.get(Probe::GitHead),
        out.get(Probe::GitRemoteHead),
        out.get(Probe::GitStatus),
    );
    let upstream = format!("{}/{}", policy.remote, policy.branch);
    if !head.ok() {
        return fail(format!(
            "The project is not a git checkout Shipshape can read ({}).",
            head.problem()
        ));
    }
    // The hash alone on its line (a batch gives a part's warnings with its output).
    let is_hash = |w: &str| w.len() >= 40 && w.chars().all(|c| c.is_ascii_hexdigit());
    let Some(head) = head
        .stdout
        .lines()
        .map(str::trim)
        .find(|l| is_hash(l))
        .map(str::to_string)
    else {
        return fail(format!(
            "git rev-parse HEAD printed no commit: {}",
            clip(head.stdout.trim(), 120)
        ));
    };
    if !remote.ok() {
        return verdict(
            CheckStatus::Warn,
            format!(
                "HEAD is {}, but {upstream} could not be asked ({}).",
                short(&head),
                remote.problem()
            ),
        );
    }
    let wanted = format!("refs/heads/{}", policy.branch);
    let remote_head = remote
        .stdout
        .lines()
        .filter(|l| l.trim_end().ends_with(&wanted))
        .find_map(|l| l.split_whitespace().next().filter(|w| is_hash(w)))
        .map(str::to_string);
    let Some(remote_head) = remote_head else {
        return fail(format!("{upstream} has no branch {}.", policy.branch));
    };
    if head != remote_head {
        return fail(format!(
            "HEAD is {} but {upstream} is {}: the host runs code that is not {upstream} (a local commit, or a pull not made).",
            short(&head),
            short(&remote_head)
        ));
    }
    if !status.ok() {
        return fail(format!("git status failed ({}).", status.problem()));
    }
    // Untracked or ignored files matter only where compose reads them unasked; what is
    // not a status line (git's warning about a directory it may not read) is no change.
    let is_status = |l: &&str| {
        let b = l.as_bytes();
        b.len() > 3 && b[2] == b' ' && b[..2].iter().all(|c| b" MTADRCU?!".contains(c))
    };
    let changed: Vec<&str> = status
        .stdout
        .lines()
        .filter(is_status)
        .filter(|l| match l.get(..3) {
            Some("?? " | "!! ") => COMPOSE_OVERRIDES.contains(&l[3..].trim()),
            _ => true,
        })
        .collect();
    if let Some(line) = changed
        .iter()
        .find(|l| l.starts_with("?? ") || l.starts_with("!! "))
    {
        return fail(format!(
            "{} is not in git, yet compose merges it into every command: what runs is not {upstream}.",
            line[3..].trim()
        ));
    }
    if !changed.is_empty() {
        return fail(format!(
            "{} tracked file(s) changed on the host: {}.",
            changed.len(),
            clip(
                &changed
                    .iter()
                    .map(|l| l.trim())
                    .collect::<Vec<_>>()
                    .join(", "),
                200
            )
        ));
    }
    pass(format!(
        "HEAD {} is {upstream}, no tracked file is changed, and no compose override is outside git.",
        short(&head)
    ))
}

fn migrations(out: &Outputs, policy: &Policy) -> Verdict {
    let listing = out.get(Probe::Migrations);
    let scripts: Vec<String> = listing
        .stdout
        .lines()
        .map(|name| policy.migration_path(name.trim()))
        .filter(|path| policy.matches_migration(path))
        .collect();
    // No scripts directory: no migrations, as an empty one. Anything that kept the
    // listing from answering (the project directory gone, a timeout) is not "nothing to
    // apply".
    if !listing.ok() {
        return fail(format!(
            "The migration scripts could not be listed ({}): whether any is due is unknown.",
            listing.problem()
        ));
    }
    // No directory where the policy looks is not "nothing to apply": the project may keep
    // its scripts elsewhere (beside the backend's code, say) than the policy says. A
    // person who knows ticks it.
    if listing.stdout.starts_with(NO_MIGRATIONS_DIR) {
        return verdict(
            CheckStatus::Manual,
            format!(
                "No {} directory in the project on the host, where the policy looks for migration scripts ({}): if the project keeps them elsewhere, set migration_glob in its policy file; tick once you know none is due.",
                policy.migration_dir(),
                policy.migration_glob
            ),
        );
    }
    if scripts.is_empty() {
        return verdict(
            CheckStatus::Na,
            format!(
                "No migration script ({}) on the host: nothing to apply.",
                policy.migration_glob
            ),
        );
    }
    verdict(
        CheckStatus::Manual,
        format!(
            "{} migration script(s) on the host ({}): run them, or tick once they are applied or not needed.",
            scripts.len(),
            scripts.join(", ")
        ),
    )
}

fn health(out: &Outputs, policy: &Policy) -> Verdict {
    let probe = out.get(Probe::Health);
    let response = crate::operations::parse_health(&probe.stdout);
    let body = clip(response.body.trim(), 120);
    match response.status {
        Some(status) if (200..300).contains(&status) && probe.ok() => pass(format!(
            "{} answered HTTP {status}: {body}",
            policy.health_url
        )),
        Some(status) => fail(format!(
            "{} answered HTTP {status}: {body}",
            policy.health_url
        )),
        None => fail(format!(
            "{} did not answer ({}).",
            policy.health_url,
            probe.problem()
        )),
    }
}

/// What marks a log line as an error.
const ERROR_MARKS: [&str; 9] = [
    "ERROR",
    "CRITICAL",
    "FATAL",
    "Traceback",
    "Exception",
    "panic:",
    "level=error",
    "[error]",
    "Error:",
];

/// Each logged service's lines. Its heading comes in `logged`'s order, so a log line
/// that starts with `== ` (a banner) stays a line of its service's log.
fn logged_sections<'a>(
    text: &str,
    logged: &'a [String],
) -> std::collections::BTreeMap<&'a str, Vec<String>> {
    let mut found = std::collections::BTreeMap::new();
    let mut expected = logged.iter().map(String::as_str).peekable();
    let mut current: Option<&'a str> = None;
    for line in text.lines() {
        if let Some(next) = expected.peek().copied() {
            if line.strip_prefix("== ") == Some(next) {
                current = Some(next);
                found.insert(next, Vec::new());
                expected.next();
                continue;
            }
        }
        if let Some(service) = current {
            found
                .get_mut(service)
                .expect("a section begun")
                .push(line.to_string());
        }
    }
    found
}

fn logs_clean(out: &Outputs, policy: &Policy) -> Verdict {
    let probe = out.get(Probe::Logs);
    if !probe.ok() {
        return fail(format!("The logs could not be read ({}).", probe.problem()));
    }
    let logged = &policy.logged_services;
    let sections = logged_sections(&probe.stdout, logged);
    let mut found = Vec::new();
    let mut missing = Vec::new();
    for service in logged {
        let Some(lines) = sections.get(service.as_str()) else {
            missing.push(format!("{service} (its logs were not read)"));
            continue;
        };
        if lines.first().map(String::as_str) == Some("(no container)") {
            missing.push(service.to_string());
        }
        for line in lines
            .iter()
            .filter(|l| ERROR_MARKS.iter().any(|m| l.contains(m)))
        {
            found.push(format!("{service}: \"{}\"", clip(line.trim(), 160)));
        }
    }
    if !found.is_empty() {
        let more = match found.len() > 3 {
            true => format!(" (and {} more)", found.len() - 3),
            false => String::new(),
        };
        return fail(format!(
            "{} error line(s) in the last {LOG_LINES} lines: {}{more}.",
            found.len(),
            found[..found.len().min(3)].join("; ")
        ));
    }
    if !missing.is_empty() {
        return verdict(
            CheckStatus::Warn,
            format!("No container to read logs from: {}.", missing.join(", ")),
        );
    }
    pass(format!(
        "No error line in the last {LOG_LINES} lines of {}.",
        logged.join(" and ")
    ))
}

#[cfg(test)]
mod tests;
