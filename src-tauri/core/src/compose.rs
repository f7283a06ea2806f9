//! Reading `docker compose ps --format json`. Compose v2 prints one JSON object per line
//! (2.21 and later) or one JSON array (earlier); both are accepted.

use serde::{Deserialize, Serialize};
use ts_rs::TS;

use crate::error::{Error, Result};

/// A service's container state, as Docker reports it, plus `missing` for a service the
/// policy expects but that has no container.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, TS)]
#[serde(rename_all = "snake_case")]
pub enum RunState {
    Running,
    Restarting,
    Paused,
    Created,
    Exited,
    Dead,
    Removing,
    Missing,
    Unknown,
}

impl RunState {
    fn parse(text: &str) -> RunState {
        match text {
            "running" => RunState::Running,
            "restarting" => RunState::Restarting,
            "paused" => RunState::Paused,
            "created" => RunState::Created,
            "exited" => RunState::Exited,
            "dead" => RunState::Dead,
            "removing" => RunState::Removing,
            _ => RunState::Unknown,
        }
    }
}

/// One service of the project, as the dashboard shows it.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, TS)]
pub struct ServiceState {
    pub service: String,
    pub container: Option<String>,
    pub state: RunState,
    /// `healthy`, `unhealthy`, `starting`, or `None` when the service has no health check.
    pub health: Option<String>,
    /// Docker's own summary, e.g. "Up 5 minutes (healthy)".
    pub status: String,
    pub image: Option<String>,
    pub exit_code: Option<i64>,
    /// Published ports, e.g. "127.0.0.1:8002->8002/tcp".
    pub ports: Vec<String>,
}

#[derive(Deserialize)]
#[serde(rename_all = "PascalCase")]
struct PsEntry {
    service: String,
    #[serde(default)]
    name: String,
    #[serde(default)]
    state: String,
    #[serde(default)]
    health: String,
    #[serde(default)]
    status: String,
    #[serde(default)]
    image: String,
    #[serde(default)]
    exit_code: Option<i64>,
    #[serde(default)]
    publishers: Option<Vec<Publisher>>,
}

#[derive(Deserialize)]
#[serde(rename_all = "PascalCase")]
struct Publisher {
    #[serde(rename = "URL", default)]
    url: String,
    target_port: u32,
    published_port: u32,
    #[serde(default)]
    protocol: String,
}

/// Parses `ps --format json` output into one row per service. `expected` services with
/// no container are listed as [`RunState::Missing`], in `expected` order, before others.
pub fn parse_ps(output: &str, expected: &[&str]) -> Result<Vec<ServiceState>> {
    let trimmed = output.trim();
    let entries: Vec<PsEntry> = if trimmed.is_empty() {
        Vec::new()
    } else if trimmed.starts_with('[') {
        serde_json::from_str(trimmed).map_err(unreadable)?
    } else {
        trimmed
            .lines()
            .filter(|line| !line.trim().is_empty())
            .map(|line| serde_json::from_str(line).map_err(unreadable))
            .collect::<Result<_>>()?
    };
    let mut rows: Vec<ServiceState> = entries.into_iter().map(ServiceState::from).collect();
    for name in expected {
        if !rows.iter().any(|row| row.service == *name) {
            rows.push(ServiceState::missing(name));
        }
    }
    let rank = |service: &str| {
        expected
            .iter()
            .position(|e| *e == service)
            .unwrap_or(expected.len())
    };
    rows.sort_by(|a, b| {
        rank(&a.service)
            .cmp(&rank(&b.service))
            .then(a.service.cmp(&b.service))
    });
    Ok(rows)
}

fn unreadable(error: serde_json::Error) -> Error {
    Error::RemoteFailed {
        what: "Reading the output of docker compose ps".into(),
        exit_code: 0,
        detail: format!("unexpected output: {error}"),
    }
}

impl ServiceState {
    fn missing(service: &str) -> Self {
        ServiceState {
            service: service.to_string(),
            container: None,
            state: RunState::Missing,
            health: None,
            status: "no container".into(),
            image: None,
            exit_code: None,
            ports: Vec::new(),
        }
    }
}

impl From<PsEntry> for ServiceState {
    fn from(entry: PsEntry) -> Self {
        let ports = entry
            .publishers
            .unwrap_or_default()
            .into_iter()
            .filter(|p| p.published_port != 0)
            .map(|p| {
                format!(
                    "{}:{}->{}/{}",
                    p.url, p.published_port, p.target_port, p.protocol
                )
            })
            .collect();
        ServiceState {
            service: entry.service,
            container: Some(entry.name).filter(|n| !n.is_empty()),
            state: RunState::parse(&entry.state),
            health: Some(entry.health).filter(|h| !h.is_empty()),
            status: entry.status,
            image: Some(entry.image).filter(|i| !i.is_empty()),
            exit_code: entry.exit_code,
            ports,
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    const LINES: &str = r#"{"Service":"backend-aws","Name":"atp-backend-aws-1","State":"running","Health":"healthy","Status":"Up 6 seconds (healthy)","Image":"127.0.0.1:5000/atp/backend:lab","ExitCode":0,"Publishers":[{"URL":"127.0.0.1","TargetPort":8002,"PublishedPort":8002,"Protocol":"tcp"}]}
{"Service":"db","Name":"atp-db-1","State":"exited","Health":"","Status":"Exited (137) 2 seconds ago","Image":"127.0.0.1:5000/atp/db:lab","ExitCode":137,"Publishers":null}
"#;

    #[test]
    fn json_lines_become_rows_in_policy_order_with_missing_services() {
        let rows = parse_ps(LINES, &["backend-aws", "frontend-aws", "db"]).unwrap();
        let names: Vec<_> = rows.iter().map(|r| (r.service.as_str(), r.state)).collect();
        assert_eq!(
            names,
            [
                ("backend-aws", RunState::Running),
                ("frontend-aws", RunState::Missing),
                ("db", RunState::Exited)
            ]
        );
        assert_eq!(rows[0].ports, ["127.0.0.1:8002->8002/tcp"]);
        assert_eq!(rows[0].health.as_deref(), Some("healthy"));
        assert_eq!(rows[2].exit_code, Some(137));
    }

    #[test]
    fn an_array_is_read_too() {
        let array = format!("[{}]", LINES.trim().replace('\n', ","));
        assert_eq!(parse_ps(&array, &[]).unwrap().len(), 2);
    }

    #[test]
    fn garbage_is_an_error_not_an_empty_list() {
        assert!(parse_ps("permission denied while trying to connect", &[]).is_err());
    }
}
