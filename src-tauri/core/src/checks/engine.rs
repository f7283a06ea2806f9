//! The engine's probes (the project's containers, their images, who publishes ports, the
//! services' last log lines) asked of the Docker engine's API socket itself, over the
//! SSH connection ([`Connection::ask_socket`]). The host starts no process for them:
//! the same reads by `curl` and `docker logs` cost the host 10-40 ms of CPU each, a
//! verification's largest share after Compose. A host whose sshd forbids socket
//! forwarding gets them by `curl` ([`super::probe`]) instead: the engine's answers are
//! the same JSON either way, and so is what the evidence keeps (one answer a line).
//!
//! The evidence of such a probe names every request, as sent, and the socket; its
//! "command" starts `GET /`, which readers show as a request, not a shell command
//! ([`crate::checklist::Evidence::is_request`]).

use futures::future::try_join_all;
use serde_json::Value;

use super::probe::{project_filter, Probe, LOG_LINES};
use crate::error::Result;
use crate::history::now;
use crate::policy::Policy;
use crate::ssh::{CommandOutput, Connection};

/// Where the engine listens on a Linux host.
pub const SOCKET: &str = "/var/run/docker.sock";
/// An answer is kept up to this size (logs of long lines, a host with many containers).
const ANSWER_LIMIT: usize = 32 << 20;

/// Whether `probe` is one the engine answers.
pub fn answers(probe: Probe) -> bool {
    matches!(
        probe,
        Probe::Containers | Probe::Images | Probe::Publishers | Probe::Logs
    )
}

/// One answer of the engine: its HTTP status and its body.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
struct Answer {
    status: u16,
    body: Vec<u8>,
    /// Why the answer is not whole, if it is not.
    problem: Option<String>,
}

impl Answer {
    fn text(&self) -> String {
        String::from_utf8_lossy(&self.body).trim_end().to_string()
    }

    fn json(&self) -> Option<Value> {
        serde_json::from_slice(&self.body).ok()
    }
}

/// The requests one probe made and what came back, turned into its evidence.
#[derive(Default)]
struct Transcript {
    requests: Vec<String>,
    stdout: String,
    stderr: String,
}

impl Transcript {
    fn add(&mut self, path: &str, answer: &Answer) {
        self.requests.push(format!("GET {path}"));
        if let Some(problem) = &answer.problem {
            self.stderr.push_str(&format!("GET {path}: {problem}\n"));
        }
    }

    /// A listing the rest depends on: an error answer fails the probe, quoted. (An
    /// answer about one container or image, a 404 for one gone, is what it says.)
    fn add_listing(&mut self, path: &str, answer: &Answer) {
        self.add(path, answer);
        if answer.problem.is_none() && !(200..300).contains(&answer.status) {
            self.stderr.push_str(&format!(
                "GET {path}: HTTP {} {}\n",
                answer.status,
                answer.text()
            ));
        }
    }

    /// A container's log, as `docker logs` prints it. One the engine does not give (the
    /// container's logging driver `none`, the container gone since it was listed) fails
    /// the probe, as a listing's would: a log not read is no log free of errors.
    fn add_log(&mut self, path: &str, answer: &Answer) {
        self.add_listing(path, answer);
        let text = match answer.status {
            200 => log_text(answer),
            _ => answer.body.clone(),
        };
        let text = String::from_utf8_lossy(&text);
        self.stdout.push_str(&text);
        if !text.is_empty() && !text.ends_with('\n') {
            self.stdout.push('\n');
        }
    }

    fn output(self, started_at: String, clock: std::time::Instant) -> CommandOutput {
        CommandOutput {
            command: format!(
                "{}\n(the Docker engine's API at {SOCKET} on the host, asked over the SSH connection: no process started)",
                self.requests.join("\n")
            ),
            exit_code: Some(if self.stderr.is_empty() { 0 } else { 1 }),
            stdout: self.stdout,
            stderr: self.stderr,
            started_at,
            duration_ms: clock.elapsed().as_millis() as u64,
        }
    }
}

/// Asks the engine for `probes` (those it [`answers`]). `Ok(None)` if the host refuses
/// the socket channel, so the caller runs the probes' commands instead.
pub async fn read(
    connection: &Connection,
    probes: &[Probe],
    policy: &Policy,
    project_dir: &str,
) -> Result<Option<Vec<(Probe, CommandOutput)>>> {
    let started_at = now();
    let clock = std::time::Instant::now();
    let wants = |p: Probe| probes.contains(&p);
    let list_path = format!(
        "/containers/json?all=1&filters={}",
        percent_encode(&project_filter(project_dir))
    );
    let (list, running) = tokio::join!(get(connection, &list_path), async {
        match wants(Probe::Publishers) {
            true => get(connection, "/containers/json").await,
            false => Ok(Some(Answer::default())),
        }
    });
    let (Some(list), Some(running)) = (list?, running?) else {
        return Ok(None);
    };
    let listed = listed_containers(&list);
    // The logs need the listing only; the images, the containers' records first.
    let (logs, inspected) = tokio::join!(
        async {
            match wants(Probe::Logs) {
                true => logs(connection, &policy.logged_services, &list_path, &list)
                    .await
                    .map(Some),
                false => Ok(None),
            }
        },
        async {
            if !wants(Probe::Containers) && !wants(Probe::Images) {
                return Ok((Transcript::default(), None));
            }
            let paths: Vec<String> = listed
                .iter()
                .map(|(id, _)| format!("/containers/{id}/json"))
                .collect();
            let mut containers = Transcript::default();
            containers.add_listing(&list_path, &list);
            for (path, answer) in all(connection, &paths).await? {
                containers.add(&path, &answer);
                containers.stdout.push_str(&answer.text());
                containers.stdout.push('\n');
            }
            let images = match wants(Probe::Images) {
                true => Some(images(connection, &containers).await?),
                false => None,
            };
            Ok::<_, crate::error::Error>((containers, images))
        }
    );
    let (containers, images) = inspected?;
    let mut publishers = Transcript::default();
    publishers.add_listing("/containers/json", &running);
    publishers.stdout = running.text();
    let read = [
        (Probe::Publishers, Some(publishers)),
        (Probe::Containers, Some(containers)),
        (Probe::Images, images),
        (Probe::Logs, logs?),
    ];
    Ok(Some(
        read.into_iter()
            .filter(|(probe, _)| wants(*probe))
            .filter_map(|(probe, t)| Some((probe, t?.output(started_at.clone(), clock))))
            .collect(),
    ))
}

/// A read begun at `started_at` and past `seconds`: what each probe's evidence says
/// instead.
pub fn timed_out(probes: &[Probe], started_at: &str, seconds: u32) -> Vec<(Probe, CommandOutput)> {
    probes
        .iter()
        .map(|probe| {
            let transcript = Transcript {
                requests: vec!["GET (not all answered)".into()],
                stdout: String::new(),
                stderr: format!("timed out after {seconds} s"),
            };
            let mut output = transcript.output(started_at.to_string(), std::time::Instant::now());
            output.exit_code = None;
            output.duration_ms = u64::from(seconds) * 1000;
            (*probe, output)
        })
        .collect()
}

/// The images the inspected containers name (tags, not ids), as the engine knows them
/// now; the evidence starts with the requests that found them.
async fn images(connection: &Connection, containers: &Transcript) -> Result<Transcript> {
    let mut names: Vec<String> = containers
        .stdout
        .lines()
        .filter_map(|line| {
            let record: Value = serde_json::from_str(line).ok()?;
            Some(record.pointer("/Config/Image")?.as_str()?.to_string())
        })
        .filter(|n| !n.starts_with("sha256:") && plain_reference(n))
        .collect();
    names.sort();
    names.dedup();
    let mut transcript = Transcript {
        requests: containers.requests.clone(),
        stdout: String::new(),
        stderr: containers.stderr.clone(),
    };
    let paths: Vec<String> = names.iter().map(|n| format!("/images/{n}/json")).collect();
    for (path, answer) in all(connection, &paths).await? {
        transcript.add(&path, &answer);
        transcript.stdout.push_str(&answer.text());
        transcript.stdout.push('\n');
    }
    Ok(transcript)
}

/// The last lines of each logged service's container, under `== SERVICE` lines.
async fn logs(
    connection: &Connection,
    logged: &[String],
    list_path: &str,
    list: &Answer,
) -> Result<Transcript> {
    let mut transcript = Transcript::default();
    transcript.add_listing(list_path, list);
    let ids: Vec<Vec<String>> = logged
        .iter()
        .map(|service| service_containers(list, service))
        .collect();
    let paths: Vec<String> = ids
        .iter()
        .flatten()
        .map(|id| format!("/containers/{id}/logs?stdout=1&stderr=1&tail={LOG_LINES}"))
        .collect();
    let mut answers = all(connection, &paths).await?.into_iter();
    for (service, ids) in logged.iter().zip(ids) {
        transcript.stdout.push_str(&format!("== {service}\n"));
        if ids.is_empty() {
            transcript.stdout.push_str("(no container)\n");
            continue;
        }
        for _ in ids {
            let Some((path, answer)) = answers.next() else {
                continue;
            };
            transcript.add_log(&path, &answer);
        }
    }
    Ok(transcript)
}

/// The containers whose logs are `service`'s, as `compose logs SERVICE` reads them:
/// every replica, never a one-off (`compose run`); the running ones if any run.
fn service_containers(list: &Answer, service: &str) -> Vec<String> {
    let Some(Value::Array(items)) = list.json() else {
        return Vec::new();
    };
    let label = |c: &Value, name: &str| {
        c.get("Labels")
            .and_then(|l| l.get(name))
            .and_then(Value::as_str)
            .map(str::to_string)
    };
    let mine: Vec<(String, bool)> = items
        .iter()
        .filter(|c| label(c, "com.docker.compose.service").as_deref() == Some(service))
        .filter(|c| label(c, "com.docker.compose.oneoff").as_deref() != Some("True"))
        .filter_map(|c| {
            let id = c.get("Id")?.as_str()?;
            let running = c.get("State").and_then(Value::as_str) == Some("running");
            id.bytes()
                .all(|b| b.is_ascii_hexdigit())
                .then(|| (id.to_string(), running))
        })
        .collect();
    let any_running = mine.iter().any(|(_, running)| *running);
    mine.into_iter()
        .filter(|(_, running)| *running || !any_running)
        .map(|(id, _)| id)
        .collect()
}

/// The project's containers in the engine's listing: id and compose service, in order.
fn listed_containers(list: &Answer) -> Vec<(String, String)> {
    let Some(Value::Array(items)) = list.json() else {
        return Vec::new();
    };
    items
        .iter()
        .filter_map(|c| {
            let id = c.get("Id")?.as_str()?;
            let service = c
                .pointer("/Labels/com.docker.compose.service")
                .and_then(Value::as_str)
                .unwrap_or_default();
            id.bytes()
                .all(|b| b.is_ascii_hexdigit())
                .then(|| (id.to_string(), service.to_string()))
        })
        .collect()
}

/// An image reference safe to put in a path of the engine's API as it is (what `docker`
/// accepts as a name): never `..`, a query or a fragment that would ask for another path.
pub(crate) fn plain_reference(name: &str) -> bool {
    !name.is_empty()
        && !name.contains("..")
        && name
            .bytes()
            .all(|b| b.is_ascii_alphanumeric() || b"._-:/@".contains(&b))
}

/// Asks for each path side by side; the answers come back in the paths' order.
async fn all(connection: &Connection, paths: &[String]) -> Result<Vec<(String, Answer)>> {
    try_join_all(paths.iter().map(|path| async move {
        let answer = get(connection, path).await?.unwrap_or_else(|| Answer {
            problem: Some("the host refused the socket channel".into()),
            ..Answer::default()
        });
        Ok((path.clone(), answer))
    }))
    .await
}

/// One `GET` to the engine; `Ok(None)` if the host refused the socket channel.
async fn get(connection: &Connection, path: &str) -> Result<Option<Answer>> {
    let request = format!("GET {path} HTTP/1.1\r\nHost: docker\r\nConnection: close\r\n\r\n");
    let Some(raw) = connection
        .ask_socket(SOCKET, request.as_bytes(), ANSWER_LIMIT)
        .await?
    else {
        return Ok(None);
    };
    let mut answer = parse_answer(&raw.bytes);
    if raw.cut && answer.problem.is_none() {
        answer.problem = Some(format!("answer cut at {} MB", ANSWER_LIMIT >> 20));
    }
    Ok(Some(answer))
}

/// What raw bytes from the engine read as: the status, and the body as a log's text
/// (unframed if framed). For the fuzz harness, which feeds it mangled answers.
pub fn decode(raw: &[u8]) -> (u16, String) {
    let answer = parse_answer(raw);
    let text = String::from_utf8_lossy(&log_text(&answer)).into_owned();
    (answer.status, text)
}

/// An HTTP/1.1 answer: status line, headers, then the body (chunked or not).
fn parse_answer(raw: &[u8]) -> Answer {
    let Some(head_end) = find(raw, b"\r\n\r\n") else {
        return Answer {
            problem: Some("the engine's answer has no HTTP head".into()),
            body: raw.to_vec(),
            ..Answer::default()
        };
    };
    let head = String::from_utf8_lossy(&raw[..head_end]);
    let mut lines = head.split("\r\n");
    let status = lines
        .next()
        .and_then(|line| line.split(' ').nth(1))
        .and_then(|code| code.parse().ok())
        .unwrap_or(0);
    let chunked = lines.any(|line| {
        line.split_once(':').is_some_and(|(name, value)| {
            name.trim().eq_ignore_ascii_case("transfer-encoding")
                && value.to_ascii_lowercase().contains("chunked")
        })
    });
    let rest = &raw[head_end + 4..];
    let (body, whole) = match chunked {
        true => dechunk(rest),
        false => (rest.to_vec(), true),
    };
    let problem = match (status, whole) {
        (0, _) => Some("the engine's answer has no status".to_string()),
        (_, false) => Some("the engine's answer ended early".to_string()),
        _ => None,
    };
    Answer {
        status,
        body,
        problem,
    }
}

/// A chunked body's bytes, and whether its last chunk came.
fn dechunk(mut rest: &[u8]) -> (Vec<u8>, bool) {
    let mut body = Vec::new();
    loop {
        let Some(line_end) = find(rest, b"\r\n") else {
            return (body, false);
        };
        let size = std::str::from_utf8(&rest[..line_end])
            .ok()
            .and_then(|line| usize::from_str_radix(line.split(';').next()?.trim(), 16).ok());
        let Some(size) = size else {
            return (body, false);
        };
        rest = &rest[line_end + 2..];
        if size == 0 {
            return (body, true);
        }
        let take = size.min(rest.len());
        body.extend_from_slice(&rest[..take]);
        if take < size {
            return (body, false);
        }
        rest = rest.get(size + 2..).unwrap_or_default();
    }
}

/// A log answer's text: the engine frames a container's output (one stream per frame,
/// an 8-byte header each) unless the container has a terminal; the frames' payloads in
/// order are what `docker logs 2>&1` prints.
/// Engines before API 1.42 call both kinds a raw stream, so the frames are looked for.
fn log_text(answer: &Answer) -> Vec<u8> {
    unframe(&answer.body).unwrap_or_else(|| answer.body.clone())
}

/// The payloads of a framed stream (a last frame cut short gives what came of it);
/// `None` if the bytes do not start as one.
fn unframe(mut bytes: &[u8]) -> Option<Vec<u8>> {
    let is_header = |h: &[u8]| h.len() >= 8 && h[0] <= 2 && h[1..4] == [0, 0, 0];
    if !is_header(bytes) {
        return None;
    }
    let mut text = Vec::new();
    while is_header(bytes) {
        let size = u32::from_be_bytes([bytes[4], bytes[5], bytes[6], bytes[7]]) as usize;
        let payload = &bytes[8..];
        text.extend_from_slice(&payload[..size.min(payload.len())]);
        bytes = payload.get(size..).unwrap_or_default();
    }
    Some(text)
}

fn find(haystack: &[u8], needle: &[u8]) -> Option<usize> {
    haystack.windows(needle.len()).position(|w| w == needle)
}

/// Percent-encodes a query value (everything but RFC 3986's unreserved characters).
fn percent_encode(value: &str) -> String {
    value
        .bytes()
        .map(|b| match b {
            b'A'..=b'Z' | b'a'..=b'z' | b'0'..=b'9' | b'-' | b'.' | b'_' | b'~' => {
                (b as char).to_string()
            }
            _ => format!("%{b:02X}"),
        })
        .collect()
}

#[cfg(test)]
mod tests;
