//! Reading `docker compose ps --format json`. Compose v2 prints one JSON object per line
//! (2.21 and later) or one JSON array (earlier); both are accepted. Hosts that only have
//! `docker-compose` v1 print a table instead, read by [`parse_ps_table`].

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
    /// The image the container runs, by content (`sha256:` + 12 hex), from `docker inspect`.
    pub image_id: Option<String>,
    /// How often Docker restarted the container on its own (restart policy).
    pub restarts: Option<u32>,
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

/// Parses the table `docker-compose ps --all` (v1) prints: `Name  Command  State  Ports`,
/// columns separated by runs of spaces. Each container is matched to one of
/// `host_services` by its name (`project-service-N`, or v1's `project_service_N`).
pub fn parse_ps_table(
    output: &str,
    expected: &[&str],
    host_services: &[String],
) -> Result<Vec<ServiceState>> {
    let mut lines = output
        .lines()
        .skip_while(|l| !l.trim_start().starts_with("Name"));
    let header = lines.next().ok_or_else(|| Error::RemoteFailed {
        what: "Reading the output of docker-compose ps".into(),
        exit_code: 0,
        detail: "no table header".into(),
    })?;
    if !header.contains("State") {
        return Err(Error::RemoteFailed {
            what: "Reading the output of docker-compose ps".into(),
            exit_code: 0,
            detail: format!("unexpected header: {header}"),
        });
    }
    let mut rows = Vec::new();
    for line in lines.filter(|l| !l.trim().is_empty() && !l.starts_with("---")) {
        let fields: Vec<&str> = line
            .split("  ")
            .map(str::trim)
            .filter(|f| !f.is_empty())
            .collect();
        if fields.len() < 3 {
            continue;
        }
        let (name, state) = (fields[0], fields[2]);
        let Some(service) = host_services.iter().find(|s| {
            [format!("-{s}-"), format!("_{s}_")].iter().any(|tag| {
                name.rfind(tag.as_str())
                    .is_some_and(|at| name[at + tag.len()..].chars().all(|c| c.is_ascii_digit()))
            })
        }) else {
            continue;
        };
        rows.push(table_row(
            service,
            name,
            state,
            fields.get(3).copied().unwrap_or(""),
        ));
    }
    let mut services: Vec<ServiceState> = rows;
    for name in expected {
        if !services.iter().any(|row| row.service == *name) {
            services.push(ServiceState::missing(name));
        }
    }
    let rank = |service: &str| {
        expected
            .iter()
            .position(|e| *e == service)
            .unwrap_or(expected.len())
    };
    services.sort_by(|a, b| {
        rank(&a.service)
            .cmp(&rank(&b.service))
            .then(a.service.cmp(&b.service))
    });
    Ok(services)
}

/// One row of v1's table: `Up (healthy)`, `Exit 137`, `Restarting`, `Paused`...
fn table_row(service: &str, container: &str, state: &str, ports: &str) -> ServiceState {
    let health = state
        .strip_prefix("Up (")
        .and_then(|rest| rest.strip_suffix(')'))
        .map(|h| h.trim_start_matches("health: ").to_string());
    let (run_state, exit_code) = if state.starts_with("Up") {
        (RunState::Running, None)
    } else if let Some(code) = state.strip_prefix("Exit ") {
        (RunState::Exited, code.trim().parse().ok())
    } else {
        (RunState::parse(&state.to_lowercase()), None)
    };
    ServiceState {
        service: service.to_string(),
        container: Some(container.to_string()),
        state: run_state,
        health,
        status: state.to_string(),
        image: None,
        exit_code,
        ports: ports
            .split(", ")
            .map(str::trim)
            .filter(|p| !p.is_empty())
            .map(str::to_string)
            .collect(),
        image_id: None,
        restarts: None,
    }
}

/// The output format asked of `docker inspect` for [`apply_inspect`]: name, restart
/// count and image ID, one container a line.
pub const INSPECT_FORMAT: &str = "{{.Name}} {{.RestartCount}} {{.Image}}";

/// A container name as compose makes them, safe to pass to `docker inspect`.
pub fn is_container_name(name: &str) -> bool {
    !name.is_empty()
        && !name.starts_with('-')
        && name
            .chars()
            .all(|c| c.is_ascii_alphanumeric() || "_.-".contains(c))
}

/// Fills each row's restart count and image ID from `docker inspect --format
/// INSPECT_FORMAT` output; rows it does not mention are left as they are.
pub fn apply_inspect(rows: &mut [ServiceState], output: &str) {
    for line in output.lines() {
        let mut fields = line.split_whitespace();
        let (Some(name), Some(restarts), Some(image)) =
            (fields.next(), fields.next(), fields.next())
        else {
            continue;
        };
        fill_details(rows, name, restarts.parse().ok(), image);
    }
}

/// The fields of the engine's record of a container (`GET /containers/ID/json`, what
/// `docker inspect` prints) that the status shows.
#[derive(Deserialize)]
#[serde(rename_all = "PascalCase")]
struct ContainerRecord {
    name: String,
    restart_count: u32,
    image: String,
}

/// Fills each row's restart count and image ID from the engine's container records,
/// one JSON object a line; a line that is no such record is skipped.
pub fn apply_container_records(rows: &mut [ServiceState], output: &str) {
    for line in output.lines() {
        if let Ok(record) = serde_json::from_str::<ContainerRecord>(line) {
            fill_details(
                rows,
                &record.name,
                Some(record.restart_count),
                &record.image,
            );
        }
    }
}

fn fill_details(rows: &mut [ServiceState], name: &str, restarts: Option<u32>, image: &str) {
    let name = name.trim_start_matches('/');
    if let Some(row) = rows
        .iter_mut()
        .find(|r| r.container.as_deref() == Some(name))
    {
        row.restarts = restarts;
        row.image_id = image
            .strip_prefix("sha256:")
            .map(|hex| format!("sha256:{}", crate::checks::evaluate::prefix(hex, 12)));
    }
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
            image_id: None,
            restarts: None,
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
            image_id: None,
            restarts: None,
        }
    }
}

#[cfg(test)]
mod tests {
    #[test]
    fn host_text_that_is_not_ascii_is_cut_at_a_character_never_inside_one() {
        let mut rows = parse_ps(
            r#"{"Name":"atp-db-1","Service":"db","State":"running","Status":"Up","Image":"régistry/ïmage:ünïcode"}"#,
            &["db"],
        )
        .unwrap();
        apply_inspect(
            &mut rows,
            &format!("/atp-db-1 0 sha256:a{}", "é".repeat(13)),
        );
        assert_eq!(
            rows[0].image_id,
            Some(format!("sha256:a{}", "é".repeat(11)))
        );
    }

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

    /// Captured from docker-compose 1.29.2 against the lab (v2-named containers), plus a
    /// v1-named stopped one.
    const TABLE: &str = "                     Name                                    Command                  State                Ports          
--------------------------------------------------------------------------------------------------------------------------
automated-trading-platform-backend-aws-1          /usr/local/bin/gunicorn ap ...   Up (healthy)   127.0.0.1:8002->8002/tcp
automated-trading-platform_db_1                   /usr/local/bin/postgres          Exit 137                               
automated-trading-platform-market-updater-aws-1   /usr/local/bin/market-updater    Up                                     
";

    #[test]
    fn the_v1_table_becomes_the_same_rows() {
        let host: Vec<String> = ["db", "backend-aws", "frontend-aws", "market-updater-aws"]
            .map(String::from)
            .to_vec();
        let rows = parse_ps_table(
            TABLE,
            &["backend-aws", "frontend-aws", "db", "market-updater-aws"],
            &host,
        )
        .unwrap();
        let summary: Vec<_> = rows
            .iter()
            .map(|r| (r.service.as_str(), r.state, r.exit_code))
            .collect();
        assert_eq!(
            summary,
            [
                ("backend-aws", RunState::Running, None),
                ("frontend-aws", RunState::Missing, None),
                ("db", RunState::Exited, Some(137)),
                ("market-updater-aws", RunState::Running, None)
            ]
        );
        assert_eq!(rows[0].health.as_deref(), Some("healthy"));
        assert_eq!(rows[0].ports, ["127.0.0.1:8002->8002/tcp"]);
        assert!(parse_ps_table("permission denied", &[], &host).is_err());
    }

    #[test]
    fn inspect_output_adds_restarts_and_image_ids() {
        let mut rows = parse_ps(LINES, &[]).unwrap();
        apply_inspect(
            &mut rows,
            "/atp-backend-aws-1 3 sha256:e6df23a972f917bacc78fa409fb2231e9ce01fc8ba91901fa562b072d7bd0eff\nnoise\n",
        );
        assert_eq!(rows[0].restarts, Some(3));
        assert_eq!(rows[0].image_id.as_deref(), Some("sha256:e6df23a972f9"));
        assert_eq!(rows[1].restarts, None);
        assert!(
            is_container_name("atp-db-1") && !is_container_name("-f") && !is_container_name("a;b")
        );
    }

    #[test]
    fn engine_records_add_restarts_and_image_ids_and_noise_is_skipped() {
        let mut rows = parse_ps(LINES, &[]).unwrap();
        apply_container_records(
            &mut rows,
            "{\"Id\":\"ab\",\"Name\":\"/atp-backend-aws-1\",\"RestartCount\":2,\"Image\":\"sha256:e6df23a972f917bacc78fa409fb2231e9ce01fc8ba91901fa562b072d7bd0eff\",\"State\":{}}\n{\"Name\":\"/atp-db-1\"}\nnot json\n",
        );
        assert_eq!(rows[0].restarts, Some(2));
        assert_eq!(rows[0].image_id.as_deref(), Some("sha256:e6df23a972f9"));
        assert_eq!(rows[1].restarts, None);
    }

    #[test]
    fn garbage_is_an_error_not_an_empty_list() {
        assert!(parse_ps("permission denied while trying to connect", &[]).is_err());
    }
}
