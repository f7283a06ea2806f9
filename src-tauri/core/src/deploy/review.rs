//! What a deploy will change, read before anything changes: the commits and files the
//! pull brings, the rendered compose config of the `aws` profile before → after (by
//! compose itself, with `--no-interpolate` so no value of the env file is ever put into
//! it), the env file's keys added, removed or changed since the last deploy's snapshot
//! (names only), and each image the `pull` would move (the digest running now → the
//! digest the registry serves for the tag now). A reviewer approves exactly this: the
//! approval is a signature over the review's digest, and a deploy that finds anything
//! different refuses the approval.

use std::collections::BTreeMap;

use schemars::JsonSchema;
use serde::{Deserialize, Serialize};
use serde_json::Value;
use ts_rs::TS;

use super::compose_diff::DiffRow;
use crate::checklist::{sha256_hex, Actor};
use crate::checks::probe::{engine_api, project_ids};
use crate::env_file::KeyChanges;
use crate::operations::{ChangedFile, IncomingCommit};
use crate::policy::{Policy, PROFILE};
use crate::shell::RemoteCommand;

/// The namespace of an approval's SSHSIG signature.
pub const APPROVAL_NAMESPACE: &str = "shipshape-approval";

/// Renders the compose file of revision `$1` (the first of compose's own names that
/// the revision has), the profile `$2`, with `config`'s options after them, from the
/// project dir so relative paths resolve as they will. The file's name comes first, on
/// stderr.
const COMPOSE_AT_SCRIPT: &str = r#"rev=$1 profile=$2; shift 2
for f in compose.yaml compose.yml docker-compose.yaml docker-compose.yml; do
  if git cat-file -e "$rev:$f" 2>/dev/null; then
    echo "compose file: $f" >&2
    git show "$rev:$f" | docker compose -f - --project-directory . --profile "$profile" config "$@"
    exit
  fi
done
echo "$rev has no compose file" >&2; exit 1"#;

/// The project's containers and the images they run (engine JSON, one a line), then what
/// the registry serves now for each reference given after the filter `$1`: asked side
/// by side, each within 8 s, so a registry that does not answer leaves the review a note
/// rather than stopping it.
const IMAGES_SCRIPT: &str = concat!(
    engine_api!(),
    project_ids!(),
    r#"shift
echo '== containers'
cs=
[ -n "$ids" ] && cs=$(api -w '\n' $(printf 'http://docker/containers/%s/json ' $ids)) && printf '%s\n' "$cs"
imgs=$(printf '%s' "$cs" | grep -o '"Image":"sha256:[0-9a-f]*"' | cut -d '"' -f 4 | sort -u)
echo '== images'
[ -n "$imgs" ] && api -w '\n' $(printf 'http://docker/images/%s/json ' $imgs)
t=$(mktemp -d) || exit
i=0
for ref in "$@"; do
  i=$((i + 1))
  { printf '== registry %s\n' "$ref"; api -f --max-time 8 "http://docker/distribution/$ref/json" 2>&1; echo; } > "$t/$(printf %04d "$i")" &
done
wait
cat "$t"/* 2>/dev/null
rm -rf "$t"
exit 0"#
);

/// The env file now, then its copy in the newest snapshot on the host; `$1` the file.
/// Read into memory to compare key by key; only names leave this comparison.
const ENV_SCRIPT: &str = r#"echo '== now'
cat -- "$1" 2>/dev/null
d=$(ls -1td "$HOME"/.shipshape/snapshots/*/ 2>/dev/null | head -n 1)
[ -n "$d" ] && [ -e "$d/env.aws" ] && printf '\n== snapshot %s\n' "$(basename "$d")" && cat -- "$d/env.aws"
exit 0"#;

/// The rendered config of the `aws` profile before (HEAD) and after (the branch a pull
/// merges).
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize, JsonSchema, TS)]
pub struct ComposeChange {
    /// The compose file read, e.g. `docker-compose.yml`.
    pub file: Option<String>,
    pub rows: Vec<DiffRow>,
    /// One sentence: what changed, or why it could not be shown.
    pub note: String,
}

/// The env file's keys against its copy in the last deploy's snapshot. Names only.
#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize, Deserialize, JsonSchema, TS)]
pub struct EnvKeyChanges {
    /// The deploy whose snapshot it was compared with; `None`: no snapshot yet.
    pub compared_with: Option<String>,
    pub added: Vec<String>,
    pub removed: Vec<String>,
    pub changed: Vec<String>,
    pub note: String,
}

/// One service's image: what runs now, and what the tag names at the registry now.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize, JsonSchema, TS)]
pub struct ImageChange {
    pub service: String,
    /// The reference the incoming compose config names.
    pub reference: String,
    /// `repo@sha256:...` of the image the service's container runs, if known.
    pub running: Option<String>,
    /// `repo@sha256:...` the registry serves for the reference now, if it said.
    pub registry: Option<String>,
    /// True when a pull would move the service to another image.
    pub changes: bool,
    pub note: String,
}

/// Everything a reviewer approves, with the commands that found it out.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize, JsonSchema, TS)]
pub struct DeployReview {
    /// Its journal record.
    pub id: String,
    pub target: String,
    pub made_at: String,
    pub made_by: Actor,
    /// The commit the project is on, and the branch a pull merges.
    pub head: String,
    pub upstream: String,
    pub commits: Vec<IncomingCommit>,
    pub files: Vec<ChangedFile>,
    pub compose: ComposeChange,
    pub env_keys: EnvKeyChanges,
    pub images: Vec<ImageChange>,
    pub commands: Vec<String>,
    /// SHA-256 over what the review found (not who made it, or when): what an approval
    /// signs, and what a deploy compares.
    pub digest: String,
}

impl DeployReview {
    pub fn is_up_to_date(&self) -> bool {
        self.commits.is_empty()
    }

    /// The commit a pull would bring the host to: the newest incoming one, or the one
    /// it is on.
    pub fn tip(&self) -> &str {
        self.commits.first().map_or(&self.head, |c| &c.hash)
    }

    /// The digest of what was found: the same host state gives the same digest.
    pub fn content_digest(&self) -> String {
        let content = serde_json::json!({
            "target": self.target, "head": self.head, "upstream": self.upstream,
            "commits": self.commits, "files": self.files, "compose": self.compose,
            "env_keys": self.env_keys, "images": self.images,
        });
        sha256_hex(content.to_string().as_bytes())
    }

    /// What differs from `other`, in words, for a deploy that finds its approval stale.
    pub fn differences(&self, other: &DeployReview) -> Vec<&'static str> {
        let mut found = Vec::new();
        if (&self.head, &self.upstream, &self.commits, &self.files)
            != (&other.head, &other.upstream, &other.commits, &other.files)
        {
            found.push("the commits");
        }
        if self.compose != other.compose {
            found.push("the compose config");
        }
        if self.env_keys != other.env_keys {
            found.push("the env file's keys");
        }
        if self.images != other.images {
            found.push("the images");
        }
        found
    }
}

/// A reviewer's approval of a review: their name as they gave it, the local account,
/// the key that signed, the migrations the deploy may run, and the signature over the
/// review's digest and those migrations ([`Approval::signed_text`]).
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize, JsonSchema, TS)]
pub struct Approval {
    pub review: String,
    pub digest: String,
    pub reviewer: String,
    pub user: String,
    pub key_name: String,
    pub key_fingerprint: String,
    pub approved_at: String,
    /// The migration scripts a deploy under it runs, in order (none: it runs none;
    /// absent then, as in approvals and reports of earlier versions).
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub migrations: Vec<String>,
    /// Armored SSHSIG over [`Approval::signed_text`], namespace [`APPROVAL_NAMESPACE`].
    pub signature: String,
}

impl Approval {
    /// What the signature covers: the digest, then the migrations if there are any (an
    /// approval without any signs the digest alone, as those of earlier versions did).
    pub fn signed_text(digest: &str, migrations: &[String]) -> String {
        match migrations.is_empty() {
            true => digest.to_string(),
            false => format!("{digest}\nmigrations {}", migrations.join(" ")),
        }
    }
}

/// The `aws` config at `revision` as the review shows it: YAML, its variables as written.
pub fn compose_at_command(revision: &str, project_dir: &str) -> RemoteCommand {
    compose_at(revision, project_dir, &["--no-interpolate"])
}

/// The `aws` config at `revision` as compose will run it (interpolated), in the JSON
/// the checks read: what a deploy holds to the Never Do rules before it pulls.
pub fn compose_json_at_command(revision: &str, project_dir: &str) -> RemoteCommand {
    compose_at(revision, project_dir, &["--format", "json"])
}

fn compose_at(revision: &str, project_dir: &str, options: &[&str]) -> RemoteCommand {
    RemoteCommand::new("sh")
        .args([
            "-c",
            COMPOSE_AT_SCRIPT,
            "shipshape-compose-at",
            revision,
            PROFILE,
        ])
        .args(options.iter().copied())
        .in_dir(project_dir)
}

/// Only what reads as an image reference is asked of the engine, whose API path it
/// becomes: the incoming commit, not yet reviewed, must not choose the request
/// (`image: "../containers/…/archive?path=…"`) whose answer the review records.
pub fn images_command(project_dir: &str, references: &[String]) -> RemoteCommand {
    let filter = serde_json::json!({
        "label": [format!("{}={project_dir}", crate::checks::probe::WORKING_DIR_LABEL)]
    })
    .to_string();
    RemoteCommand::new("sh")
        .args(["-c", IMAGES_SCRIPT, "shipshape-review-images", &filter])
        .args(
            references
                .iter()
                .filter(|r| crate::checks::engine::plain_reference(r))
                .cloned(),
        )
}

pub fn env_command(policy: &Policy, project_dir: &str) -> RemoteCommand {
    RemoteCommand::new("sh")
        .args(["-c", ENV_SCRIPT, "shipshape-review-env", &policy.env_file])
        .in_dir(project_dir)
}

/// The compose file named on the script's stderr.
pub fn compose_file(stderr: &str) -> Option<String> {
    stderr
        .lines()
        .find_map(|l| l.strip_prefix("compose file: "))
        .map(str::to_string)
}

/// Each service's `image:` in a rendered compose config (YAML, as `config` prints it).
pub fn service_images(rendered: &str) -> BTreeMap<String, String> {
    let mut found = BTreeMap::new();
    let mut in_services = false;
    let mut service = None;
    for line in rendered.lines() {
        let indent = line.len() - line.trim_start().len();
        let text = line.trim();
        if indent == 0 && !text.is_empty() {
            in_services = text == "services:";
            service = None;
        } else if in_services && indent == 2 && text.ends_with(':') {
            service = Some(text.trim_end_matches(':').trim_matches('"').to_string());
        } else if let (true, 4, Some(name)) = (in_services, indent, &service) {
            if let Some(image) = text.strip_prefix("image: ") {
                found.insert(name.clone(), image.trim_matches('"').to_string());
            }
        }
    }
    found
}

/// The env file's key changes from [`env_command`]'s output. The values are compared
/// here and dropped: only names come out.
pub fn env_key_changes(output: &str, env_file: &str) -> EnvKeyChanges {
    let (mut now, mut snapshot, mut compared_with) = (String::new(), String::new(), None);
    let mut into = &mut now;
    for line in output.split_inclusive('\n') {
        if line.trim_end() == "== now" {
            into = &mut now;
        } else if let Some(id) = line.trim_end().strip_prefix("== snapshot ") {
            compared_with = Some(id.to_string());
            into = &mut snapshot;
        } else {
            into.push_str(line);
        }
    }
    let Some(deploy) = compared_with else {
        return EnvKeyChanges {
            note: format!("No deploy has kept a copy of {env_file} on the host yet, so there is nothing to compare with."),
            ..Default::default()
        };
    };
    let changes = KeyChanges::between(&snapshot, &now);
    let note = match changes.is_empty() {
        true => format!("{env_file} has the same keys and values as at deploy {deploy}."),
        false => format!(
            "Since deploy {deploy}: {} key(s) added, {} removed, {} changed (values are never shown).",
            changes.added.len(),
            changes.removed.len(),
            changes.changed.len()
        ),
    };
    EnvKeyChanges {
        compared_with: Some(deploy),
        added: changes.added,
        removed: changes.removed,
        changed: changes.changed,
        note,
    }
}

/// The repository digests of each local image `references` name, after a pull: one
/// line each, the reference then its digests (none if there is no such image).
pub fn pulled_digests_command(references: &[&str]) -> RemoteCommand {
    let script = r#"for ref in "$@"; do printf '%s ' "$ref"; docker image inspect --format '{{join .RepoDigests " "}}' -- "$ref" 2>/dev/null || echo; done"#;
    RemoteCommand::new("sh")
        .args(["-c", script, "shipshape-pulled-digests"])
        .args(references.iter().copied())
}

/// [`pulled_digests_command`]'s output by reference.
pub fn pulled_digests(output: &str) -> BTreeMap<String, Vec<String>> {
    output
        .lines()
        .filter_map(|line| {
            let mut words = line.split_whitespace();
            let reference = words.next()?.to_string();
            Some((reference, words.map(str::to_string).collect()))
        })
        .collect()
}

/// Each service's image change from [`images_command`]'s output and the services'
/// references in the incoming config.
pub fn image_changes(output: &str, references: &BTreeMap<String, String>) -> Vec<ImageChange> {
    let sections = crate::checks::host_state::sections(output);
    let lines = |name: &str| sections.get(name).map(|l| l.join("\n")).unwrap_or_default();
    let containers =
        crate::checks::host_state::containers(&lines("containers")).unwrap_or_default();
    let mut digests: BTreeMap<String, Vec<String>> = BTreeMap::new();
    for line in lines("images").lines() {
        let Ok(image) = serde_json::from_str::<Value>(line) else {
            continue;
        };
        let id = image.get("Id").and_then(Value::as_str).unwrap_or_default();
        let repo_digests = image
            .get("RepoDigests")
            .and_then(Value::as_array)
            .map(|a| {
                a.iter()
                    .filter_map(|d| d.as_str().map(str::to_string))
                    .collect()
            })
            .unwrap_or_default();
        digests.insert(id.to_string(), repo_digests);
    }
    references
        .iter()
        .map(|(service, reference)| {
            let repo = repository(reference);
            let running = containers
                .iter()
                .find(|c| &c.service == service && !c.one_off && c.state == "running")
                .and_then(|c| digests.get(&c.image_id))
                .and_then(|ds| ds.iter().find(|d| d.split('@').next() == Some(repo)).cloned());
            let answer = sections
                .get(&format!("registry {reference}"))
                .map(|l| l.join("\n"))
                .unwrap_or_default();
            let registry = serde_json::from_str::<Value>(answer.trim())
                .ok()
                .and_then(|v| v.pointer("/Descriptor/digest")?.as_str().map(str::to_string))
                .map(|digest| format!("{repo}@{digest}"));
            let changes = running.is_some() && registry.is_some() && running != registry;
            let note = match (&running, &registry) {
                _ if !crate::checks::engine::plain_reference(reference) => format!(
                    "{reference} is not an image reference, so the engine was not asked about it: compose will refuse it."
                ),
                (_, None) => format!(
                    "The registry did not say what {reference} names now: {}",
                    answer.trim().lines().next().unwrap_or("no answer")
                ),
                (None, Some(_)) => "No running container of this service has an image pulled from the registry: up will start it on the registry's image.".into(),
                (Some(_), Some(_)) if changes => "The registry serves another image for this tag: pull will move the service to it.".into(),
                _ => "The service already runs the image the registry serves.".into(),
            };
            ImageChange {
                service: service.clone(),
                reference: reference.clone(),
                running,
                registry,
                changes,
                note,
            }
        })
        .collect()
}

/// `registry/name` of `registry/name:tag` (a port's colon is not a tag's).
fn repository(reference: &str) -> &str {
    let reference = reference.split('@').next().unwrap_or(reference);
    match reference.rfind(':') {
        Some(i) if !reference[i..].contains('/') => &reference[..i],
        _ => reference,
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn images_env_keys_and_services_read_from_host_output() {
        let rendered = "name: atp\nservices:\n  backend-aws:\n    command:\n      - gunicorn\n    image: 127.0.0.1:5000/atp/backend:lab\n  db:\n    image: \"db:1\"\nnetworks:\n  default:\n    image: not-a-service\n";
        let images = service_images(rendered);
        assert_eq!(images.len(), 2);
        assert_eq!(images["backend-aws"], "127.0.0.1:5000/atp/backend:lab");
        assert_eq!(images["db"], "db:1");
        assert_eq!(
            repository("127.0.0.1:5000/atp/backend:lab"),
            "127.0.0.1:5000/atp/backend"
        );
        assert_eq!(
            repository("127.0.0.1:5000/atp/backend"),
            "127.0.0.1:5000/atp/backend"
        );

        let env = "== now\nA=1\nB=two\nD=4\n\n== snapshot 20261126-1\nA=1\nB=2\nC=3\n";
        let keys = env_key_changes(env, ".env.aws");
        assert_eq!(keys.compared_with.as_deref(), Some("20261126-1"));
        assert_eq!(
            (keys.added, keys.removed, keys.changed),
            (
                vec!["D".to_string()],
                vec!["C".to_string()],
                vec!["B".to_string()]
            )
        );
        assert!(!keys.note.contains("two"));
        assert_eq!(
            env_key_changes("== now\nA=1\n", ".env.aws").compared_with,
            None
        );

        let container = serde_json::json!({"Id": "c1", "Name": "/atp-backend-aws-1", "Image": "sha256:old",
            "Config": {"Image": "127.0.0.1:5000/atp/backend:lab", "Labels": {"com.docker.compose.service": "backend-aws", "com.docker.compose.project": "atp"}},
            "State": {"Status": "running", "ExitCode": 0}, "HostConfig": {"RestartPolicy": {"Name": "no"}}, "Path": "gunicorn", "Args": []});
        let image = serde_json::json!({"Id": "sha256:old", "RepoDigests": ["127.0.0.1:5000/atp/backend@sha256:aaa"]});
        let output = format!(
            "== containers\n{container}\n== images\n{image}\n== registry 127.0.0.1:5000/atp/backend:lab\n{}\n\n== registry db:1\ncurl: (22) The requested URL returned error: 404\n",
            serde_json::json!({"Descriptor": {"digest": "sha256:bbb"}})
        );
        let mut references = BTreeMap::new();
        references.insert(
            "backend-aws".to_string(),
            "127.0.0.1:5000/atp/backend:lab".to_string(),
        );
        references.insert("db".to_string(), "db:1".to_string());
        let changes = image_changes(&output, &references);
        let backend = &changes[0];
        assert_eq!(
            backend.running.as_deref(),
            Some("127.0.0.1:5000/atp/backend@sha256:aaa")
        );
        assert_eq!(
            backend.registry.as_deref(),
            Some("127.0.0.1:5000/atp/backend@sha256:bbb")
        );
        assert!(backend.changes);
        assert!(!changes[1].changes && changes[1].registry.is_none());
        assert!(changes[1].note.contains("404"), "{}", changes[1].note);
    }

    #[test]
    fn an_incoming_image_that_is_no_reference_never_becomes_an_engine_request() {
        let bad = "../containers/atp-db-1/archive?path=/etc/passwd&x=".to_string();
        let good = "127.0.0.1:5000/atp/backend:lab".to_string();
        let command = images_command("/p", &[bad.clone(), good.clone()]).render();
        assert!(!command.contains("archive"), "{command}");
        assert!(command.contains(&good), "{command}");
        // Said as such in the review, whatever the output holds under its name.
        let output = format!("== containers\n== images\n== registry {bad}\nroot:x:0:0\n");
        let references = BTreeMap::from([("db".to_string(), bad)]);
        let note = &image_changes(&output, &references)[0].note;
        assert!(
            note.contains("not an image reference") && !note.contains("root:x"),
            "{note}"
        );
    }
}
