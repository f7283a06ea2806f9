//! Checks every operator-supplied value before a command is built. A value passes only
//! when it is exactly something the policy names and the host has; anything else —
//! including every string that means something to a shell — is refused with a sentence
//! saying what was expected, so quoting is the second line of defence, not the only one.

use serde::{Deserialize, Serialize};
use ts_rs::TS;

use super::{Compose, Operation};
use crate::error::{Error, Result};
use crate::input::shown;
use crate::policy::rules::is_service_name;
use crate::policy::Policy;

/// The most log lines one request may ask for.
pub const MAX_LOG_LINES: u32 = 100_000;

/// What the host reported about itself, against which operations are checked.
#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize, Deserialize, TS)]
pub struct HostFacts {
    pub compose: Compose,
    /// From [`Operation::ComposeServices`].
    pub services: Vec<String>,
    /// From [`Operation::ListMigrations`], as [`super::parse_migration_list`] returns them.
    pub migrations: Vec<String>,
}

fn refuse<T>(message: String) -> Result<T> {
    Err(Error::BadInput(message))
}

/// `name` must be one of the policy's services and defined on the host.
pub fn validate_service(name: &str, policy: &Policy, host_services: &[String]) -> Result<()> {
    if !is_service_name(name) {
        return refuse(format!(
            "{} is not a service name. A service name starts with a letter or digit and has \
             only letters, digits, _ . and -.",
            shown(name)
        ));
    }
    if !policy.has_service(name) {
        return refuse(format!(
            "{name} is not one of the policy's services ({}).",
            policy.services.join(", ")
        ));
    }
    if !host_services.iter().any(|s| s == name) {
        let present = match host_services {
            [] => "it reported none".to_string(),
            some => format!("it has {}", some.join(", ")),
        };
        return refuse(format!(
            "{name} is a policy service but the host's compose project does not define it \
             ({present})."
        ));
    }
    Ok(())
}

/// A migration script path the policy's glob could name: relative, plain characters.
pub fn is_script_path(script: &str) -> bool {
    !script.is_empty()
        && script.len() <= 255
        && !script.starts_with(['-', '/'])
        && script
            .split('/')
            .all(|part| !part.is_empty() && part != "." && part != "..")
        && script
            .chars()
            .all(|c| c.is_ascii_alphanumeric() || "._/-".contains(c))
}

/// `script` must match the policy's migration glob and be one of the scripts `present`
/// on the host (as [`super::parse_migration_list`] lists them).
pub fn validate_migration(script: &str, policy: &Policy, present: &[String]) -> Result<()> {
    if !is_script_path(script) {
        return refuse(format!(
            "{} is not a migration script path. Use a path like {} with only letters, \
             digits, . _ / and -.",
            shown(script),
            policy.migration_glob
        ));
    }
    if !policy.matches_migration(script) {
        return refuse(format!(
            "{script} is not a migration script: the policy runs only {}.",
            policy.migration_glob
        ));
    }
    if !present.iter().any(|p| p == script) {
        let list = match present {
            [] => "none are present".to_string(),
            some => format!("present: {}", some.join(", ")),
        };
        return refuse(format!("{script} is not on the host ({list})."));
    }
    Ok(())
}

pub fn validate_lines(lines: u32) -> Result<()> {
    if (1..=MAX_LOG_LINES).contains(&lines) {
        Ok(())
    } else {
        refuse(format!(
            "{lines} log lines cannot be shown: ask for 1 to {MAX_LOG_LINES}."
        ))
    }
}

/// `since` must be what `docker compose logs --since` takes: a duration (`10m`,
/// `1h30m`, `2.5h`), a Unix time (`1700000000`), or a date and time (`2024-06-01`,
/// `2024-06-01T12:00:00Z`, `2024-06-01T12:00:00.5+02:00`).
pub fn validate_since(since: &str) -> Result<()> {
    if since.len() <= 40 && (is_duration(since) || is_unix_time(since) || is_timestamp(since)) {
        Ok(())
    } else {
        refuse(format!(
            "{} is not a time docker understands. Use a duration like 10m or 2h, or a date \
             and time like 2024-06-01T12:00:00Z.",
            shown(since)
        ))
    }
}

/// Splits off a leading run of ASCII digits.
fn digits(text: &str) -> (&str, &str) {
    text.split_at(
        text.find(|c: char| !c.is_ascii_digit())
            .unwrap_or(text.len()),
    )
}

/// Exactly `count` digits, as a number no larger than `max`.
fn field(text: &str, count: usize, max: u32) -> Option<(u32, &str)> {
    let (number, rest) = digits(text);
    if number.len() != count {
        return None;
    }
    let value: u32 = number.parse().ok()?;
    (value <= max).then_some((value, rest))
}

/// Go's duration syntax, positive only: `1h30m`, `2.5h`, `90s`, `500ms`.
fn is_duration(text: &str) -> bool {
    let mut rest = text;
    while !rest.is_empty() {
        let (whole, after) = digits(rest);
        if whole.is_empty() {
            return false;
        }
        rest = after;
        if let Some(after_dot) = rest.strip_prefix('.') {
            let (fraction, after) = digits(after_dot);
            if fraction.is_empty() {
                return false;
            }
            rest = after;
        }
        let Some(unit) = ["ns", "us", "ms", "h", "m", "s"]
            .into_iter()
            .find(|unit| rest.starts_with(unit))
        else {
            return false;
        };
        rest = &rest[unit.len()..];
    }
    !text.is_empty()
}

fn is_unix_time(text: &str) -> bool {
    let (seconds, rest) = digits(text);
    let fraction_ok = match rest.strip_prefix('.') {
        Some(fraction) => (1..=9).contains(&fraction.len()) && digits(fraction).1.is_empty(),
        None => rest.is_empty(),
    };
    (1..=10).contains(&seconds.len()) && fraction_ok
}

/// `YYYY-MM-DD[THH:MM[:SS[.frac]]][Z|±HH:MM]`, the RFC 3339 forms docker accepts.
fn is_timestamp(text: &str) -> bool {
    let date = || -> Option<&str> {
        let (_, rest) = field(text, 4, 9999)?;
        let (month, rest) = field(rest.strip_prefix('-')?, 2, 12)?;
        let (day, rest) = field(rest.strip_prefix('-')?, 2, 31)?;
        (month >= 1 && day >= 1).then_some(rest)
    };
    let Some(rest) = date() else {
        return false;
    };
    let Some(time) = rest.strip_prefix('T') else {
        return rest.is_empty();
    };
    let clock = || -> Option<&str> {
        let (_, rest) = field(time, 2, 23)?;
        let (_, mut rest) = field(rest.strip_prefix(':')?, 2, 59)?;
        if let Some(after) = rest.strip_prefix(':') {
            rest = field(after, 2, 60)?.1;
            if let Some(after) = rest.strip_prefix('.') {
                let (fraction, after) = digits(after);
                if !(1..=9).contains(&fraction.len()) {
                    return None;
                }
                rest = after;
            }
        }
        Some(rest)
    };
    let Some(zone) = clock() else {
        return false;
    };
    match zone.strip_prefix(['+', '-']) {
        Some(offset) => field(offset, 2, 23)
            .and_then(|(_, rest)| field(rest.strip_prefix(':')?, 2, 59))
            .is_some_and(|(_, rest)| rest.is_empty()),
        None => zone.is_empty() || zone == "Z",
    }
}

impl Operation {
    /// Refuses an operation the policy does not allow on this host, before anything runs.
    pub fn validate(&self, policy: &Policy, host: &HostFacts) -> Result<()> {
        let service = |name: &str| validate_service(name, policy, &host.services);
        match self {
            Operation::Logs {
                service: name,
                lines,
                since,
                ..
            } => {
                service(name)?;
                validate_lines(*lines)?;
                if let Some(since) = since {
                    validate_since(since)?;
                    if host.compose == Compose::V1 {
                        return refuse(
                            "docker-compose v1 cannot show logs since a time. Leave the time \
                             empty, or install the compose v2 plugin on the host."
                                .into(),
                        );
                    }
                }
                Ok(())
            }
            Operation::Restart {
                service: Some(name),
            }
            | Operation::Stop {
                service: Some(name),
            }
            | Operation::UpService { service: name } => service(name),
            Operation::Migrate { script } => {
                validate_migration(script, policy, &host.migrations)?;
                service(&policy.migration_service)
            }
            Operation::Ps
            | Operation::Restart { service: None }
            | Operation::Stop { service: None }
            | Operation::Pull
            | Operation::Up
            | Operation::Down
            | Operation::GitFetch
            | Operation::GitIncoming
            | Operation::GitIncomingFiles
            | Operation::GitHead
            | Operation::GitPull
            | Operation::Health
            | Operation::ListMigrations
            | Operation::ComposeServices => Ok(()),
        }
    }
}
