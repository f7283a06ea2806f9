//! Batches: cheap probes that run together in one command, one channel, one supervisor,
//! so a verification starts a handful of remote shells instead of one per probe. Each
//! part's output is framed by marker lines that carry a nonce chosen for this run, so
//! nothing a part prints (a log line, say) can pass for a frame. The evidence of a
//! batch is the batch: its exact command and its whole output.

use std::collections::BTreeMap;

use super::probe::Probe;
use crate::policy::Policy;
use crate::shell::RemoteCommand;

/// Runs each part (`NAME COMMAND` pairs after the nonce) in a subshell, its error output
/// with its output, between `NONCE begin NAME` and `NONCE end NAME STATUS` lines.
const BATCH_SCRIPT: &str = r#"nonce=$1; shift
while [ $# -ge 2 ]; do
  printf '%s begin %s\n' "$nonce" "$1"
  ( eval "$2" ) 2>&1 </dev/null
  printf '\n%s end %s %d\n' "$nonce" "$1" "$?"
  shift 2
done"#;

/// The probes grouped into batches, the slowest first. Compose, the logs and each engine
/// query (when the engine is read by commands, [`super::engine`]) run alone, side by
/// side (on two cores the slowest chain sets the wall time);
/// the health probe alone too, under its own deadline; the env file's reads together;
/// the cheap rest share one batch.
/// Eight commands at most: sshd allows ten sessions per connection, and a live watch
/// and a log follow may hold two.
pub fn group(probes: &[Probe]) -> Vec<Vec<Probe>> {
    let family = |p: &Probe| match p {
        Probe::ComposeConfig => 0,
        Probe::ComposeDryRun => 1,
        Probe::Logs => 2,
        Probe::Images => 3,
        Probe::Containers => 4,
        // The env file alone, with nothing that could make it wait (a remote `git`): its
        // values redact every other output, which is withheld until it is read.
        Probe::EnvStat | Probe::EnvRead | Probe::EnvTemplate => 7,
        Probe::Migrations
        | Probe::GitHead
        | Probe::GitRemoteHead
        | Probe::GitStatus
        | Probe::Listeners
        | Probe::Processes
        | Probe::Systemd
        | Probe::Publishers => 5,
        Probe::Health => 6,
    };
    let mut groups: BTreeMap<u8, Vec<Probe>> = BTreeMap::new();
    for probe in probes {
        groups.entry(family(probe)).or_default().push(*probe);
    }
    // Asking origin (`git ls-remote`) waits on the network, with no deadline of its own:
    // last in its batch, an origin out of reach costs its own part, not the Never Do
    // rules' probes after it.
    for group in groups.values_mut() {
        group.sort_by_key(|p| *p == Probe::GitRemoteHead);
    }
    groups.into_values().collect()
}

/// A part's name in the frames.
pub fn name(probe: Probe) -> String {
    format!("{probe:?}")
}

/// The command for a batch: a lone probe runs as itself.
pub fn command(probes: &[Probe], policy: &Policy, dir: &str, nonce: &str) -> RemoteCommand {
    if let [probe] = probes {
        return probe.command(policy, dir);
    }
    let mut command = RemoteCommand::new("sh").args(["-c", BATCH_SCRIPT, "shipshape-batch", nonce]);
    for probe in probes {
        command = command
            .arg(name(*probe))
            .arg(probe.command(policy, dir).render());
    }
    command
}

/// One part's output and exit status, read back from the frames.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Part {
    pub output: String,
    pub exit_code: Option<i64>,
}

/// Splits a batch's output into its parts. A part whose end never came (the batch was
/// cut short) has what it printed and no exit status.
pub fn split(stdout: &str, nonce: &str) -> BTreeMap<String, Part> {
    let begin = format!("{nonce} begin ");
    let end = format!("{nonce} end ");
    let mut parts = BTreeMap::new();
    let mut current: Option<(String, String)> = None;
    for line in stdout.split_inclusive('\n') {
        let bare = line.trim_end_matches('\n');
        if let Some(name) = bare.strip_prefix(&begin) {
            current = Some((name.to_string(), String::new()));
        } else if let Some(rest) = bare.strip_prefix(&end) {
            let (name, status) = rest.rsplit_once(' ').unwrap_or((rest, ""));
            if let Some((_, mut output)) = current.take() {
                // The frame adds one line break before the end marker.
                if output.ends_with('\n') {
                    output.pop();
                }
                parts.insert(
                    name.to_string(),
                    Part {
                        output,
                        exit_code: status.parse().ok(),
                    },
                );
            }
        } else if let Some((_, output)) = current.as_mut() {
            output.push_str(line);
        }
    }
    if let Some((name, output)) = current {
        parts.insert(
            name,
            Part {
                output,
                exit_code: None,
            },
        );
    }
    parts
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn asking_origin_comes_last_in_its_batch() {
        let groups = group(&[
            Probe::GitRemoteHead,
            Probe::GitHead,
            Probe::Processes,
            Probe::Health,
        ]);
        assert_eq!(
            groups,
            [
                vec![Probe::GitHead, Probe::Processes, Probe::GitRemoteHead],
                vec![Probe::Health]
            ]
        );
    }

    #[test]
    fn parts_come_back_with_their_status_and_forged_frames_do_not_count() {
        let nonce = "n0nce";
        let text = "n0nce begin GitHead\nabc\n\nn0nce end GitHead 0\nn0nce begin Logs\nx begin y\nfake end Logs 0\nno newline\nn0nce end Logs 3\nn0nce begin Health\npartial";
        let parts = split(text, nonce);
        assert_eq!(
            parts["GitHead"],
            Part {
                output: "abc\n".into(),
                exit_code: Some(0)
            }
        );
        assert_eq!(
            parts["Logs"],
            Part {
                output: "x begin y\nfake end Logs 0\nno newline".into(),
                exit_code: Some(3)
            }
        );
        assert_eq!(
            parts["Health"],
            Part {
                output: "partial".into(),
                exit_code: None
            }
        );
    }

    #[test]
    fn cheap_probes_share_a_few_batches_and_compose_runs_alone() {
        let groups = group(&Probe::ALL);
        assert_eq!(groups.len(), 8);
        // The env file's reads wait on nothing remote: they redact every other output.
        assert_eq!(
            groups[7],
            [Probe::EnvStat, Probe::EnvRead, Probe::EnvTemplate]
        );
        assert_eq!(groups[0], [Probe::ComposeConfig]);
        assert_eq!(groups[1], [Probe::ComposeDryRun]);
        assert!(
            groups.len() <= 8,
            "more commands than sshd's sessions allow"
        );
        let policy = Policy::builtin();
        let git = command(&groups[5], &policy, "/srv/a b", "n0nce").render();
        assert!(
            git.contains("shipshape-batch n0nce GitHead") && git.contains("GitStatus"),
            "{git}"
        );
    }
}
