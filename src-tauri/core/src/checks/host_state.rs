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
    /// The settings servers read from the environment that can turn reloading on
    /// (`GUNICORN_CMD_ARGS`, `UVICORN_RELOAD`), as `KEY=value`.
    pub server_settings: Vec<String>,
}

/// Environment variables that set a Python server's options, `--reload` among them.
pub const SERVER_SETTINGS: [&str; 2] = ["GUNICORN_CMD_ARGS", "UVICORN_RELOAD"];

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
            let environment = service.get("environment").and_then(Value::as_object);
            let env_keys = environment.map(|map| map.keys().cloned().collect());
            let server_settings = SERVER_SETTINGS
                .iter()
                .filter_map(|key| {
                    let value = environment?.get(*key)?.as_str()?;
                    Some(format!("{key}={value}"))
                })
                .collect();
            ConfigService {
                name: name.clone(),
                profiles: words(service.get("profiles")),
                command: command.join(" "),
                env_keys: env_keys.unwrap_or_default(),
                server_settings,
            }
        })
        .collect();
    Some((name, found))
}

/// One container of the project, as the engine inspects it.
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
    /// Its environment's server settings (`KEY=value`, [`SERVER_SETTINGS`] only: the
    /// rest of it holds the env file's values), the image's `ENV` included.
    pub server_settings: Vec<String>,
}

/// JSON values: an array's items (as `docker inspect` prints them) or one a line (as the
/// engine's API answers them, one request after another); `None` if it is neither.
fn json_objects(text: &str) -> Option<Vec<Value>> {
    if let Ok(Value::Array(items)) = serde_json::from_str(text) {
        return Some(items);
    }
    text.lines()
        .filter(|line| !line.trim().is_empty())
        .map(|line| serde_json::from_str(line).ok())
        .collect()
}

/// The engine's answer for a name it does not have is `{"message": ...}`.
fn engine_errors(values: &[Value]) -> Option<String> {
    values
        .iter()
        .find_map(|v| v.get("message").and_then(Value::as_str).map(str::to_string))
}

pub fn containers(json: &str) -> Option<Vec<Container>> {
    let values = json_objects(json)?;
    if engine_errors(&values).is_some() {
        return None;
    }
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
    let found = values
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
                server_settings: match c.pointer("/Config/Env") {
                    Some(Value::Array(env)) => env
                        .iter()
                        .filter_map(Value::as_str)
                        .filter(|e| {
                            SERVER_SETTINGS
                                .iter()
                                .any(|k| e.split_once('=').is_some_and(|(key, _)| key == *k))
                        })
                        .map(str::to_string)
                        .collect(),
                    _ => Vec::new(),
                },
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

/// The engine's image objects (one a line), by tag; an image it does not have is left
/// out, so its tag reads as gone.
pub fn images(text: &str) -> BTreeMap<String, ImageNow> {
    let strings = |v: Option<&Value>| -> Vec<String> {
        v.and_then(Value::as_array)
            .map(|items| {
                items
                    .iter()
                    .filter_map(|i| i.as_str().map(str::to_string))
                    .collect()
            })
            .unwrap_or_default()
    };
    let mut found = BTreeMap::new();
    for image in json_objects(text).unwrap_or_default() {
        let Some(id) = image.get("Id").and_then(Value::as_str) else {
            continue;
        };
        let digests = strings(image.get("RepoDigests"));
        // A container may name its image by digest (`repo@sha256:…`): pinned, it is
        // found by that.
        for tag in strings(image.get("RepoTags"))
            .into_iter()
            .chain(digests.clone())
        {
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

/// The image `name` (as a container or compose writes it) names among `images`: as
/// written, or as the engine lists it (Docker Hub's `docker.io/library/` dropped, and
/// `:latest` where no tag or digest is given).
pub fn image_named<'a>(images: &'a BTreeMap<String, ImageNow>, name: &str) -> Option<&'a ImageNow> {
    if let Some(found) = images.get(name) {
        return Some(found);
    }
    let short = name
        .strip_prefix("docker.io/library/")
        .or_else(|| name.strip_prefix("docker.io/"))
        .unwrap_or(name);
    let last = short.rsplit('/').next().unwrap_or(short);
    let tagged = match last.contains(':') || last.contains('@') {
        true => short.to_string(),
        false => format!("{short}:latest"),
    };
    images.get(&tagged)
}

/// A running container's published port, from the engine's list.
#[derive(Debug, Clone)]
pub struct Publisher {
    pub container: String,
    pub name: String,
    pub host_ip: String,
    pub port: u16,
    pub working_dir: String,
    pub service: String,
}

/// The engine's list of running containers: each published host port (a range is
/// listed port by port in the engine's answer).
pub fn publishers(json: &str) -> Vec<Publisher> {
    let mut found = Vec::new();
    for c in json_objects(json).unwrap_or_default() {
        let text = |v: Option<&Value>| v.and_then(Value::as_str).unwrap_or_default().to_string();
        let labels = c.get("Labels");
        let label = |name: &str| text(labels.and_then(|l| l.get(name)));
        let name = c
            .get("Names")
            .and_then(Value::as_array)
            .and_then(|names| names.first())
            .and_then(Value::as_str)
            .unwrap_or_default()
            .trim_start_matches('/')
            .to_string();
        let ports = c.get("Ports").and_then(Value::as_array);
        for port in ports.into_iter().flatten() {
            let Some(public) = port.get("PublicPort").and_then(Value::as_u64) else {
                continue;
            };
            let Ok(public) = u16::try_from(public) else {
                continue;
            };
            found.push(Publisher {
                container: text(c.get("Id")),
                name: name.clone(),
                host_ip: text(port.get("IP")),
                port: public,
                working_dir: label(super::probe::WORKING_DIR_LABEL),
                service: label("com.docker.compose.service"),
            });
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
        let text = serde_json::json!([
            {"Id": "abc", "Names": ["/atp-frontend-aws-1"], "Labels": {
                "com.docker.compose.project.working_dir": "/srv", "com.docker.compose.service": "frontend-aws"},
             "Ports": [{"IP": "0.0.0.0", "PrivatePort": 3000, "PublicPort": 3000, "Type": "tcp"},
                       {"IP": "::", "PrivatePort": 3000, "PublicPort": 3000, "Type": "tcp"},
                       {"PrivatePort": 5432, "Type": "tcp"}]},
            {"Id": "def", "Names": ["/stray"], "Labels": {},
             "Ports": [{"IP": "127.0.0.1", "PrivatePort": 80, "PublicPort": 8000, "Type": "tcp"},
                       {"IP": "127.0.0.1", "PrivatePort": 81, "PublicPort": 8001, "Type": "tcp"}]}
        ])
        .to_string();
        let found = publishers(&text);
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
        assert_eq!(found[0].service, "frontend-aws");
        assert_eq!(found[0].working_dir, "/srv");
    }

    #[test]
    fn the_engines_answers_read_one_a_line_and_a_missing_image_reads_as_gone() {
        let lines = concat!(
            r#"{"Id":"c1","Name":"/atp-db-1","Image":"sha256:1","Config":{"Image":"reg/db:lab"},"State":{"Status":"running"}}"#,
            "\n\n",
            r#"{"Id":"c2","Name":"/atp-backend-aws-1","Image":"sha256:2","Config":{"Image":"reg/backend:lab"},"State":{"Status":"exited","ExitCode":3}}"#,
            "\n"
        );
        let found = containers(lines).unwrap();
        assert_eq!(found[1].exit_code, 3);
        assert_eq!(found[0].image_tag, "reg/db:lab");
        assert!(containers("{\"message\":\"No such container: c3\"}\n").is_none());
        assert!(containers("not json").is_none());
        let images = images(concat!(
            r#"{"Id":"sha256:1","RepoTags":["reg/db:lab","reg/db:1"],"RepoDigests":["reg/db@sha256:d1"]}"#,
            "\n",
            r#"{"message":"No such image: reg/backend:lab"}"#,
            "\n"
        ));
        assert_eq!(images["reg/db:1"].digests, ["reg/db@sha256:d1"]);
        assert!(!images.contains_key("reg/backend:lab"));
    }
}
