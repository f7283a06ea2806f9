//! The checklist's probes, run on the host over the one connection, and turned into
//! items with evidence. The probes run side by side on channels of the same connection
//! (eight at a time: sshd allows ten sessions per connection, and a live watch or a log
//! follow may hold some), the slowest (the two compose processes) first. What they print
//! stays in memory until `.env.aws` has been read, so every output is redacted before
//! it is kept, shown or handed on; each item is reported as soon as its probes (and
//! `.env.aws`) are in.

pub mod evaluate;
pub mod host_state;
pub mod probe;
pub mod redact;

use std::collections::BTreeMap;
use std::sync::Arc;

use tokio::task::JoinSet;

use crate::checklist::{CheckId, CheckItem, CheckStatus, Evidence, ImageDigest};
use crate::error::{Error, Result};
use crate::policy::Policy;
use crate::ssh::{CommandOutput, Connection, Deadline};
use evaluate::{Outputs, ProbeOutput};
use probe::Probe;
use redact::Redactor;

/// Probes running at once on the connection.
const PARALLEL_PROBES: usize = 8;
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

/// A probe as it ran, before redaction.
struct Ran {
    probe: Probe,
    output: CommandOutput,
}

async fn run_one(connection: &Connection, probe: Probe, policy: &Policy, dir: &str) -> Result<Ran> {
    let command = probe.command(policy, dir);
    let deadline = Deadline::Total(std::time::Duration::from_secs(match probe {
        Probe::Health => policy.deadlines.health_seconds,
        _ => policy.deadlines.read_seconds,
    } as u64));
    let output = match connection.exec(&command, deadline).await {
        Ok(output) => output,
        // A probe past its deadline decides its items (as a failure); it does not end
        // the verification.
        Err(Error::CommandTimeout { seconds, .. }) => CommandOutput {
            command: command.render(),
            stdout: String::new(),
            stderr: format!("timed out after {seconds} s"),
            exit_code: None,
            started_at: humantime::format_rfc3339_millis(std::time::SystemTime::now()).to_string(),
            duration_ms: seconds * 1000,
        },
        Err(other) => return Err(other),
    };
    Ok(Ran { probe, output })
}

/// Runs the checks `ids` on `connection` and returns their items, in `ids`' order,
/// handing each to `on_item` as soon as it is decided.
pub async fn run(
    connection: Arc<Connection>,
    ids: &[CheckId],
    policy: &Policy,
    project_dir: &str,
    mut on_item: impl FnMut(&CheckItem),
) -> Result<(Vec<CheckItem>, Outputs)> {
    let mut waiting: Vec<Probe> = probes_needed(ids);
    if !waiting.contains(&Probe::EnvRead) {
        waiting.push(Probe::EnvRead);
    }
    // Started in this order (popped from the end): compose first, then `.env.aws`.
    waiting.sort_by_key(|p| match p {
        Probe::ComposeConfig | Probe::ComposeDryRun => 0,
        Probe::EnvRead => 1,
        _ => 2,
    });
    waiting.reverse();
    let mut ran: BTreeMap<Probe, Ran> = BTreeMap::new();
    let mut redactor: Option<Redactor> = None;
    let mut running = JoinSet::new();
    let mut decided: Vec<CheckId> = Vec::new();
    loop {
        while running.len() < PARALLEL_PROBES {
            let Some(probe) = waiting.pop() else { break };
            let (connection, policy, dir) =
                (connection.clone(), policy.clone(), project_dir.to_string());
            running.spawn(async move { run_one(&connection, probe, &policy, &dir).await });
        }
        let Some(joined) = running.join_next().await else {
            break;
        };
        let done = joined.map_err(|e| Error::Protocol(format!("a probe task failed: {e}")))??;
        if done.probe == Probe::EnvRead {
            redactor = Some(match done.output.succeeded() {
                true => Redactor::from_env_file(&done.output.stdout),
                false => Redactor::default(),
            });
        }
        ran.insert(done.probe, done);
        let Some(redactor) = &redactor else { continue };
        let outputs = redacted_outputs(&ran, redactor);
        for id in ids {
            let ready = evaluate::probes_for(*id)
                .iter()
                .all(|p| ran.contains_key(p));
            if ready && !decided.contains(id) {
                decided.push(*id);
                on_item(&item(*id, &ran, &outputs, redactor, policy, project_dir));
            }
        }
    }
    let redactor = redactor.unwrap_or_default();
    let outputs = redacted_outputs(&ran, &redactor);
    let items = ids
        .iter()
        .map(|id| item(*id, &ran, &outputs, &redactor, policy, project_dir))
        .collect();
    Ok((items, outputs))
}

fn redacted_outputs(ran: &BTreeMap<Probe, Ran>, redactor: &Redactor) -> Outputs {
    Outputs::new(
        ran.iter()
            .map(|(probe, ran)| {
                let output = ProbeOutput {
                    stdout: redactor.redact(&ran.output.stdout),
                    stderr: redactor.redact(&ran.output.stderr),
                    exit_code: ran.output.exit_code,
                };
                (*probe, output)
            })
            .collect(),
    )
}

fn item(
    id: CheckId,
    ran: &BTreeMap<Probe, Ran>,
    outputs: &Outputs,
    redactor: &Redactor,
    policy: &Policy,
    project_dir: &str,
) -> CheckItem {
    let verdict = evaluate::evaluate(id, outputs, policy, project_dir);
    let evidence = evaluate::probes_for(id)
        .iter()
        .filter_map(|probe| ran.get(probe))
        .map(|ran| evidence(&ran.output, redactor))
        .collect();
    CheckItem::new(id, verdict.status, verdict.note, evidence)
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

/// The commit and images a verification saw, for the report's header.
pub fn deployed_state(outputs: &Outputs) -> (Option<String>, Vec<ImageDigest>) {
    let commit = outputs
        .probes
        .get(&Probe::GitHead)
        .filter(|o| o.ok())
        .map(|o| o.stdout.trim().to_string());
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
            digests: now
                .get(&c.image_tag)
                .map(|i| i.digests.clone())
                .unwrap_or_default(),
        })
        .collect();
    images.sort_by(|a, b| a.service.cmp(&b.service));
    (commit, images)
}

/// Whether an item's status counts against the exit code.
pub fn is_failure(status: CheckStatus) -> bool {
    status == CheckStatus::Fail
}
