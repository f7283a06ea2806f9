//! The probes' output read into plain facts: the compose config's services, the
//! project's containers, who publishes and who listens on a port. Parsing only; what
//! the facts mean for an item is `evaluate`'s business.

use std::collections::BTreeMap;

use serde_json::Value;

/// A service as the rendered compose config (`--profile aws`) defines it.
#[derive(Debug, Clone, Default)]
pub struct ConfigService {
    pub name: String,
    pub profiles: Vec<String>,
    /// Entrypoint and command, joined by spaces.
    pub command: String,
    /// The environment's keys (values are redacted anyway).
    pub env_keys: Vec<String>,
}

/// The services of a `docker compose config --format json`; `None` if it is not that.
pub fn config_services(json: &str) -> Option<(String, Vec<ConfigService>)> {
    let value: Value = serde_json::from_str(json).ok()?;
    let name = value
        .get("name")
        .and_then(Value::as_str)
        .unwrap_or_default()
        .to_string();
    let services = value.get("services")?.as_object()?;
    let words = |v: Option<&Value>| -> Vec<String> {
        match v {
            Some(Value::Array(items)) => items
                .iter()
                .filter_map(|i| i.as_str().map(str::to_string))
                .collect(),
            Some(Value::String(s)) => vec![s.clone()],
            _ => Vec::new(),
        }
    };
    let found = services
        .iter()
        .map(|(name, service)| {
            let mut command = words(service.get("entrypoint"));
            command.extend(words(service.get("command")));
            let env_keys = match service.get("environment") {
                Some(Value::Object(map)) => map.keys().cloned().collect(),
                _ => Vec::new(),
            };
            ConfigService {
                name: name.clone(),
                profiles: words(service.get("profiles")),
                command: command.join(" "),
                env_keys,
            }
        })
        .collect();
    Some((name, found))
}

/// One container of the project, from `docker inspect`.
#[derive(Debug, Clone, Default)]
pub struct Container {
    pub id: String,
    pub name: String,
    pub project: String,
    pub service: String,
    pub one_off: bool,
    /// The image as the container names it (a tag) and the image it really runs (an id).
    pub image_tag: String,
    pub image_id: String,
    /// `running`, `exited`, `restarting`, ...
    pub state: String,
    pub exit_code: i64,
    /// `healthy`, `unhealthy`, `starting`, or empty without a healthcheck.
    pub health: String,
    pub restart_policy: String,
    /// The main process: path and arguments, joined by spaces.
    pub process: String,
}

pub fn containers(json: &str) -> Option<Vec<Container>> {
    let value: Value = serde_json::from_str(json).ok()?;
    let text = |v: &Value, path: &[&str]| -> String {
        let mut at = v;
        for key in path {
            match at.get(key) {
                Some(next) => at = next,
                None => return String::new(),
            }
        }
        match at {
            Value::String(s) => s.clone(),
            Value::Null => String::new(),
            other => other.to_string(),
        }
    };
    let found = value
        .as_array()?
        .iter()
        .map(|c| {
            let label = |name: &str| text(c, &["Config", "Labels", name]);
            let mut process = vec![text(c, &["Path"])];
            if let Some(Value::Array(args)) = c.get("Args") {
                process.extend(args.iter().filter_map(|a| a.as_str().map(str::to_string)));
            }
            Container {
                id: text(c, &["Id"]),
                name: text(c, &["Name"]).trim_start_matches('/').to_string(),
                project: label("com.docker.compose.project"),
                service: label("com.docker.compose.service"),
                one_off: label("com.docker.compose.oneoff").eq_ignore_ascii_case("true"),
                image_tag: text(c, &["Config", "Image"]),
                image_id: text(c, &["Image"]),
                state: text(c, &["State", "Status"]),
                exit_code: c
                    .pointer("/State/ExitCode")
                    .and_then(Value::as_i64)
                    .unwrap_or_default(),
                health: text(c, &["State", "Health", "Status"]),
                restart_policy: text(c, &["HostConfig", "RestartPolicy", "Name"]),
                process: process.join(" "),
            }
        })
        .collect();
    Some(found)
}

/// An image as the engine knows it now: its id, and the digests it was pulled by.
#[derive(Debug, Clone, Default)]
pub struct ImageNow {
    pub id: String,
    pub digests: Vec<String>,
}

/// `ID ["TAG",...] ["DIGEST",...]` lines (the arrays as JSON), by tag.
pub fn images(text: &str) -> BTreeMap<String, ImageNow> {
    let mut found = BTreeMap::new();
    for line in text.lines() {
        let mut fields = line.splitn(3, ' ');
        let (Some(id), Some(tags)) = (fields.next(), fields.next()) else {
            continue;
        };
        let list = |json: Option<&str>| -> Vec<String> {
            json.and_then(|j| serde_json::from_str(j).ok())
                .unwrap_or_default()
        };
        let digests = list(fields.next());
        for tag in list(Some(tags)) {
            found.insert(
                tag,
                ImageNow {
                    id: id.to_string(),
                    digests: digests.clone(),
                },
            );
        }
    }
    found
}

/// A running container's published port, from `docker ps`.
#[derive(Debug, Clone)]
pub struct Publisher {
    pub container: String,
    pub name: String,
    pub host_ip: String,
    pub port: u16,
    pub working_dir: String,
    pub service: String,
}

/// The probe's `ID\tNAME\tPORTS\tWORKING_DIR\tSERVICE` lines.
pub fn publishers(text: &str) -> Vec<Publisher> {
    let mut found = Vec::new();
    for line in text.lines() {
        let fields: Vec<&str> = line.split('\t').collect();
        let [id, name, ports, working_dir, service] = fields[..] else {
            continue;
        };
        for mapping in ports.split(", ") {
            let Some((host, _)) = mapping.split_once("->") else {
                continue;
            };
            let Some((ip, ports)) = host.rsplit_once(':') else {
                continue;
            };
            let (first, last) = ports.split_once('-').unwrap_or((ports, ports));
            let (Ok(first), Ok(last)) = (first.parse::<u16>(), last.parse::<u16>()) else {
                continue;
            };
            for port in first..=last {
                found.push(Publisher {
                    container: id.to_string(),
                    name: name.to_string(),
                    host_ip: ip.trim_matches(['[', ']']).to_string(),
                    port,
                    working_dir: working_dir.to_string(),
                    service: service.to_string(),
                });
            }
        }
    }
    found
}

/// A listening socket from `ss -Hltn`: its address and port.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Listener {
    pub address: String,
    pub port: u16,
}

pub fn listeners(text: &str) -> Vec<Listener> {
    text.lines()
        .filter_map(|line| {
            let local = line.split_whitespace().nth(3)?;
            let (address, port) = local.rsplit_once(':')?;
            Some(Listener {
                address: address.trim_matches(['[', ']']).to_string(),
                port: port.parse().ok()?,
            })
        })
        .collect()
}

/// True if a publisher on `host_ip` covers a listener on `address`.
pub fn covers(host_ip: &str, address: &str) -> bool {
    let any = |a: &str| matches!(a, "0.0.0.0" | "::" | "*" | "");
    host_ip == address || any(host_ip) || (any(address) && any(host_ip))
}

/// `== name` sections of a script's output.
pub fn sections(text: &str) -> BTreeMap<String, Vec<String>> {
    let mut found: BTreeMap<String, Vec<String>> = BTreeMap::new();
    let mut current = None;
    for line in text.lines() {
        if let Some(name) = line.strip_prefix("== ") {
            current = Some(name.to_string());
            found.entry(name.to_string()).or_default();
        } else if let Some(name) = &current {
            found
                .entry(name.clone())
                .or_default()
                .push(line.to_string());
        }
    }
    found
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn ports_and_listeners_parse_in_both_address_families() {
        let text = "abc\tatp-frontend-aws-1\t0.0.0.0:3000->3000/tcp, :::3000->3000/tcp\t/srv\tfrontend-aws\n\
                    def\tstray\t127.0.0.1:8000-8001->80/tcp\t\t\n";
        let found = publishers(text);
        let ports: Vec<(String, u16)> = found.iter().map(|p| (p.host_ip.clone(), p.port)).collect();
        assert_eq!(
            ports,
            [
                ("0.0.0.0".into(), 3000),
                ("::".into(), 3000),
                ("127.0.0.1".into(), 8000),
                ("127.0.0.1".into(), 8001)
            ]
        );
        let listening =
            listeners("LISTEN 0 4096 127.0.0.1:8002 0.0.0.0:*\nLISTEN 0 4096 [::]:3000 [::]:*\n");
        assert_eq!(
            listening[1],
            Listener {
                address: "::".into(),
                port: 3000
            }
        );
        assert!(covers("0.0.0.0", "127.0.0.1") && !covers("127.0.0.1", "10.0.0.5"));
    }
}
