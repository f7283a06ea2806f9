//! The checklist's probes, run on the host over the one connection, and turned into
//! items with evidence. The engine's probes are asked of its socket, starting nothing on
//! the host ([`engine`]); the cheap commands share a batch ([`batch`]), so four commands
//! (two of Compose) run side by side on channels of the same connection, where a host
//! that forbids socket forwarding runs eight (sshd allows ten sessions per connection;
//! a live watch or a log follow may hold some). What they print
//! stays in memory until `.env.aws` has been read. Items are decided on what the host
//! said, and every output, note and header field is redacted before it is kept, shown
//! or handed on (deciding on redacted text misread the host wherever a common word was
//! also a value of `.env.aws`); each item is reported as soon as its probes (and
//! `.env.aws`) are in.

pub mod batch;
pub mod engine;
pub mod evaluate;
pub mod host_state;
pub mod probe;
pub mod redact;

use std::collections::BTreeMap;
use std::sync::Arc;

use tokio::task::JoinSet;

use crate::checklist::{CheckId, CheckItem, Evidence, ImageDigest};
use crate::error::{Error, Result};
use crate::policy::Policy;
use crate::ssh::{
    CancellationToken, Captured, CommandEnd, CommandOutput, Connection, Deadline, StreamChunk,
};
use evaluate::{Outputs, ProbeOutput};
use probe::Probe;
use redact::Redactor;

/// Evidence longer than this keeps its beginning and its end.
const MAX_EVIDENCE_BYTES: usize = 256 * 1024;

/// The probes `ids` need, each once.
pub fn probes_needed(ids: &[CheckId]) -> Vec<Probe> {
    let mut probes: Vec<Probe> = ids
        .iter()
        .flat_map(|id| evaluate::probes_for(*id).iter().copied())
        .collect();
    probes.sort();
    probes.dedup();
    probes
}

/// A command (or an engine read) that ended: the probes it answers and its output.
type Finished = (Vec<Probe>, CommandOutput);

/// A probe's part of a batch as it ran, before redaction.
#[derive(Clone)]
struct Ran {
    /// Which batch it ran in (its evidence).
    batch: usize,
    stdout: String,
    stderr: String,
    exit_code: Option<i64>,
}

async fn run_batch(
    connection: &Connection,
    probes: &[Probe],
    policy: &Policy,
    dir: &str,
    nonce: &str,
) -> Result<CommandOutput> {
    let command = batch::command(probes, policy, dir, nonce);
    let seconds = match probes {
        [Probe::Health] => policy.deadlines.health_seconds,
        _ => policy.deadlines.read_seconds,
    };
    let deadline = Deadline::Total(std::time::Duration::from_secs(seconds as u64));
    let (mut stdout, mut stderr) = (Captured::default(), Captured::default());
    let summary = connection
        .exec_streaming(
            &command,
            deadline,
            |chunk| match chunk {
                StreamChunk::Stdout(bytes) => stdout.push(bytes),
                StreamChunk::Stderr(bytes) => stderr.push(bytes),
            },
            &CancellationToken::new(),
        )
        .await?;
    let (stderr, exit_code) = match summary.end {
        CommandEnd::ConnectionLost => {
            return Err(Error::ConnectionLost {
                host: connection.host().to_string(),
            })
        }
        // A probe past its deadline decides its items (as a failure); it does not end
        // the verification, nor lose what the batch's other parts said before it (a
        // remote `git ls-remote` that hangs holds back none of its batch's evidence).
        CommandEnd::TimedOut => (format!("timed out after {seconds} s"), None),
        CommandEnd::Exited(_) | CommandEnd::Cancelled => (stderr.text(), summary.exit_code),
    };
    Ok(CommandOutput {
        command: summary.command,
        stdout: stdout.text(),
        stderr,
        exit_code,
        started_at: summary.started_at,
        duration_ms: summary.duration_ms,
    })
}

/// The engine's probes asked of its socket ([`engine`]); if the host refuses socket
/// channels, their commands, each on its own channel, side by side.
async fn engine_or_commands(
    connection: &Connection,
    probes: &[Probe],
    policy: &Policy,
    dir: &str,
) -> Result<Vec<Finished>> {
    let seconds = policy.deadlines.read_seconds;
    let started_at = crate::history::now();
    let asked = engine::read(connection, probes, policy, dir);
    match tokio::time::timeout(std::time::Duration::from_secs(seconds as u64), asked).await {
        Ok(Ok(Some(outputs))) => {
            return Ok(outputs.into_iter().map(|(p, o)| (vec![p], o)).collect());
        }
        Ok(Ok(None)) => {}
        Ok(Err(error)) => return Err(error),
        Err(_) => {
            let outputs = engine::timed_out(probes, &started_at, seconds);
            return Ok(outputs.into_iter().map(|(p, o)| (vec![p], o)).collect());
        }
    }
    futures::future::try_join_all(probes.iter().map(|probe| async move {
        let output = run_batch(connection, &[*probe], policy, dir, "").await?;
        Ok((vec![*probe], output))
    }))
    .await
}

/// Each probe's part of a batch's output.
fn parts(index: usize, probes: &[Probe], output: &CommandOutput, nonce: &str) -> Vec<(Probe, Ran)> {
    if let [probe] = probes {
        let ran = Ran {
            batch: index,
            stdout: output.stdout.clone(),
            stderr: output.stderr.clone(),
            exit_code: output.exit_code,
        };
        return vec![(*probe, ran)];
    }
    let mut split = batch::split(&output.stdout, nonce);
    probes
        .iter()
        .map(|probe| {
            let part = split.remove(&batch::name(*probe));
            let ran = match part {
                Some(part) => Ran {
                    batch: index,
                    stdout: part.output,
                    // Begun and never ended: the batch says why (its deadline).
                    stderr: match part.exit_code {
                        Some(_) => String::new(),
                        None => output.stderr.trim().to_string(),
                    },
                    exit_code: part.exit_code,
                },
                None => Ran {
                    batch: index,
                    stdout: String::new(),
                    stderr: format!("not run ({})", output.stderr.trim()),
                    exit_code: None,
                },
            };
            (*probe, ran)
        })
        .collect()
}

/// What a verification saw deployed, for the report's header (redacted).
#[derive(Debug, Default)]
pub struct Deployed {
    pub git_commit: Option<String>,
    pub images: Vec<ImageDigest>,
}

/// Runs the checks `ids` on `connection` and returns their items, in `ids`' order,
/// handing each to `on_item` as soon as it is decided; with `header`, also what is
/// deployed (a whole verification reads it anyway).
pub async fn run(
    connection: Arc<Connection>,
    ids: &[CheckId],
    header: bool,
    policy: &Policy,
    project_dir: &str,
    mut on_item: impl FnMut(&CheckItem),
) -> Result<(Vec<CheckItem>, Deployed)> {
    let mut needed: Vec<Probe> = probes_needed(ids);
    // The env file redacts every output. With `header`, what is deployed is read too, so a
    // re-run of one item can tell the host changed since the checklist's header was.
    let header_probes = [Probe::GitHead, Probe::Containers, Probe::Images];
    let extra = header_probes.iter().filter(|_| header);
    for always in [Probe::EnvStat, Probe::EnvRead].iter().chain(extra) {
        if !needed.contains(always) {
            needed.push(*always);
        }
    }
    let (engine_probes, commands): (Vec<Probe>, Vec<Probe>) =
        needed.iter().partition(|p| engine::answers(**p));
    let nonce = format!("shipshape-{:016x}", rand::random::<u64>());
    let mut running: JoinSet<Result<Vec<Finished>>> = JoinSet::new();
    for probes in batch::group(&commands) {
        let (connection, policy, dir, nonce) = (
            connection.clone(),
            policy.clone(),
            project_dir.to_string(),
            nonce.clone(),
        );
        running.spawn(async move {
            let output = run_batch(&connection, &probes, &policy, &dir, &nonce).await?;
            Ok(vec![(probes, output)])
        });
    }
    if !engine_probes.is_empty() {
        let (connection, policy, dir) =
            (connection.clone(), policy.clone(), project_dir.to_string());
        running.spawn(async move {
            engine_or_commands(&connection, &engine_probes, &policy, &dir).await
        });
    }
    let mut ran: BTreeMap<Probe, Ran> = BTreeMap::new();
    let mut outputs_of: BTreeMap<usize, CommandOutput> = BTreeMap::new();
    let mut redactor: Option<Redactor> = None;
    let mut decided: Vec<CheckId> = Vec::new();
    while let Some(joined) = running.join_next().await {
        let finished =
            joined.map_err(|e| Error::Protocol(format!("a probe task failed: {e}")))??;
        for (probes, mut output) in finished {
            let index = outputs_of.len();
            for (probe, part) in parts(index, &probes, &output, &nonce) {
                ran.insert(probe, part);
            }
            // Decided on what the host said; kept as evidence without the file's lines.
            if probes.contains(&Probe::EnvRead) {
                let name = batch::name(Probe::EnvRead);
                let (begin, end) = (
                    format!("{nonce} begin {name}"),
                    format!("{nonce} end {name} "),
                );
                let frame = (probes.len() > 1).then_some((begin.as_str(), end.as_str()));
                output.stdout = redact::env_text_withheld(&output.stdout, frame);
            }
            outputs_of.insert(index, output);
        }
        if redactor.is_none() {
            redactor = ran
                .get(&Probe::EnvRead)
                .map(|read| env_redactor(read, ran.get(&Probe::EnvStat)));
        }
        let Some(redactor) = &redactor else { continue };
        let outputs = outputs_as_said(&ran);
        for id in ids {
            let ready = evaluate::probes_for(*id)
                .iter()
                .all(|p| ran.contains_key(p));
            if ready && !decided.contains(id) {
                decided.push(*id);
                on_item(&item(
                    *id,
                    &ran,
                    &outputs_of,
                    &outputs,
                    redactor,
                    policy,
                    project_dir,
                ));
            }
        }
    }
    let redactor = redactor.unwrap_or_default();
    let outputs = outputs_as_said(&ran);
    let items = ids
        .iter()
        .map(|id| {
            item(
                *id,
                &ran,
                &outputs_of,
                &outputs,
                &redactor,
                policy,
                project_dir,
            )
        })
        .collect();
    Ok((items, deployed_state(&outputs, &redactor)))
}

/// What takes the env file's values out of every output: those it holds; none if the
/// host said there is no such file ([`probe::NO_ENV_FILE`]); and otherwise (a timeout,
/// the project directory or the file out of the login's reach) a redactor that
/// withholds every output whole.
fn env_redactor(read: &Ran, stat: Option<&Ran>) -> Redactor {
    let absent = stat.is_some_and(|s| probe::says_no_env_file(s.exit_code, &s.stdout));
    match (read.exit_code, absent) {
        (Some(0), _) => Redactor::from_env_file(&read.stdout),
        (_, true) => Redactor::default(),
        _ => Redactor::withholding(),
    }
}

/// Each probe's output as the host printed it: what the items are decided on, never
/// kept or shown.
fn outputs_as_said(ran: &BTreeMap<Probe, Ran>) -> Outputs {
    Outputs::new(
        ran.iter()
            .map(|(probe, ran)| {
                let output = ProbeOutput {
                    stdout: ran.stdout.clone(),
                    stderr: ran.stderr.clone(),
                    exit_code: ran.exit_code,
                };
                (*probe, output)
            })
            .collect(),
    )
}

fn item(
    id: CheckId,
    ran: &BTreeMap<Probe, Ran>,
    batches: &BTreeMap<usize, CommandOutput>,
    outputs: &Outputs,
    redactor: &Redactor,
    policy: &Policy,
    project_dir: &str,
) -> CheckItem {
    let verdict = evaluate::evaluate(id, outputs, policy, project_dir);
    let mut used: Vec<usize> = Vec::new();
    for probe in evaluate::probes_for(id) {
        if let Some(ran) = ran.get(probe) {
            if !used.contains(&ran.batch) {
                used.push(ran.batch);
            }
        }
    }
    let evidence = used
        .iter()
        .filter_map(|index| batches.get(index))
        .map(|output| evidence(output, redactor))
        .collect();
    CheckItem::new(id, verdict.status, note(&verdict.note, redactor), evidence)
}

/// A verdict's note as kept: redacted, since it may quote the host, and one line, so
/// nothing the host said can pass for another row wherever it is printed.
fn note(said: &str, redactor: &Redactor) -> String {
    redactor
        .redact_clipped(said)
        .split(['\n', '\r'])
        .map(str::trim)
        .filter(|part| !part.is_empty())
        .collect::<Vec<_>>()
        .join(" ")
}

fn evidence(output: &CommandOutput, redactor: &Redactor) -> Evidence {
    let mut text = redactor.redact(&output.stdout);
    let stderr = redactor.redact(&output.stderr);
    if !stderr.is_empty() {
        if !text.is_empty() && !text.ends_with('\n') {
            text.push('\n');
        }
        text.push_str(&stderr);
    }
    Evidence::new(
        output.command.clone(),
        output.exit_code,
        output.started_at.clone(),
        output.duration_ms,
        bounded(text),
    )
}

/// Keeps the first and last parts of an output too long to store whole.
fn bounded(text: String) -> String {
    if text.len() <= MAX_EVIDENCE_BYTES {
        return text;
    }
    let half = MAX_EVIDENCE_BYTES / 2;
    let head_end = (0..=half)
        .rev()
        .find(|i| text.is_char_boundary(*i))
        .unwrap_or(0);
    let tail_start = (text.len() - half..text.len())
        .find(|i| text.is_char_boundary(*i))
        .unwrap_or(text.len());
    format!(
        "{}\n[… {} bytes not kept …]\n{}",
        &text[..head_end],
        tail_start - head_end,
        &text[tail_start..]
    )
}

/// The commit and images a verification saw, for the report's header, redacted.
fn deployed_state(outputs: &Outputs, redactor: &Redactor) -> Deployed {
    let commit = outputs
        .probes
        .get(&Probe::GitHead)
        .filter(|o| o.ok())
        .and_then(|o| {
            o.stdout
                .lines()
                .map(str::trim)
                .find(|l| l.len() >= 40)
                .map(str::to_string)
        });
    let now = outputs
        .probes
        .get(&Probe::Images)
        .map(|o| host_state::images(&o.stdout))
        .unwrap_or_default();
    let mut images: Vec<ImageDigest> = outputs
        .containers
        .iter()
        .flatten()
        .filter(|c| c.state == "running" && !c.one_off)
        .map(|c| ImageDigest {
            service: c.service.clone(),
            image: c.image_tag.clone(),
            id: c.image_id.clone(),
            digests: host_state::image_named(&now, &c.image_tag)
                .map(|i| i.digests.clone())
                .unwrap_or_default(),
        })
        .collect();
    images.sort_by(|a, b| a.service.cmp(&b.service));
    let redact = |text: &String| redactor.redact(text);
    Deployed {
        git_commit: commit.as_ref().map(redact),
        images: images
            .into_iter()
            .map(|image| ImageDigest {
                service: redact(&image.service),
                image: redact(&image.image),
                id: redact(&image.id),
                digests: image.digests.iter().map(redact).collect(),
            })
            .collect(),
    }
}

#[cfg(test)]
mod tests;
