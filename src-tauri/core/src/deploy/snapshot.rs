//! What a deploy records before its first change, so a rollback can put the host back:
//! the git commit, the image each service's container runs (by id, which a tag cannot
//! move), and a copy of `.env.aws` kept on the host (mode 0600, under
//! `~/.shipshape/snapshots/`), never brought to the operator's machine. Rolling back is
//! the same three things in reverse, each an exact command of its own, then `up -d`.

use serde::{Deserialize, Serialize};
use ts_rs::TS;

use crate::checks::host_state::Container;
use crate::policy::Policy;
use crate::shell::RemoteCommand;

/// Backs up the env file into the deploy's snapshot dir and prints the commit; `$1` the
/// deploy id, `$2` the env file. `env saved` or `env absent` says which.
const SNAPSHOT_SCRIPT: &str = r#"d="$HOME/.shipshape/snapshots/$1"
umask 077
mkdir -p "$d" || exit 2
git rev-parse HEAD || exit
if [ -e "$2" ]; then cp -- "$2" "$d/env.aws" && chmod 600 "$d/env.aws" && echo 'env saved' || exit; else echo 'env absent'; fi"#;

/// Puts the saved env file back in one rename (a copy beside it first, so a cut
/// connection leaves the old file or the new one, never half of one), through a
/// symlink to the file it names and with the mode and owner of the file it replaces,
/// as the env editor writes it (0600 where there was none); the file it replaces is
/// kept in `~/.shipshape/env-backups/` first (a secret rotated since the deploy is not
/// lost); `$1` the deploy id, `$2` the env file.
const RESTORE_ENV_SCRIPT: &str = r#"saved="$HOME/.shipshape/snapshots/$1/env.aws"
[ -e "$saved" ] || { echo "no saved $2 in snapshot $1" >&2; exit 1; }
umask 077
f=$2; [ -L "$f" ] && { f=$(readlink -f -- "$f") || exit 1; }
cp -- "$saved" "$f.shipshape-restore" && chmod 600 "$f.shipshape-restore" || exit 1
if [ -e "$f" ]; then
  kept="$HOME/.shipshape/env-backups/$(date -u +%Y%m%dT%H%M%SZ).before-rollback.env.aws"
  mkdir -p "$HOME/.shipshape/env-backups" && cp -p -- "$f" "$kept" && chmod 600 "$kept" || { rm -f -- "$f.shipshape-restore"; exit 1; }
  chmod --reference="$f" "$f.shipshape-restore" && { chown --reference="$f" "$f.shipshape-restore" 2>/dev/null || true; }
fi
mv -f -- "$f.shipshape-restore" "$f""#;

/// Whether all a rollback puts back is still on the host, before anything changes:
/// `$1` the commit, `$2` the snapshot whose env copy is needed (empty: none), then the
/// image ids. Says what is missing and exits 1 if anything is (a pruned image cannot
/// be tagged back, and half a rollback is worse than none).
const ROLLBACK_CHECK_SCRIPT: &str = r#"missing=
git cat-file -e "$1^{commit}" 2>/dev/null || missing="$missing commit $1;"
if [ -n "$2" ] && [ ! -e "$HOME/.shipshape/snapshots/$2/env.aws" ]; then missing="$missing the saved env file;"; fi
shift 2
for id in "$@"; do docker image inspect "$id" >/dev/null 2>&1 || missing="$missing image $id;"; done
[ -z "$missing" ] || { echo "missing on the host:$missing" | sed 's/;$//' >&2; exit 1; }"#;

/// One service as it ran before the deploy.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize, schemars::JsonSchema, TS)]
pub struct ServiceImage {
    pub service: String,
    /// The tag the compose file names.
    pub tag: String,
    /// The image it really ran (`sha256:...`).
    pub image_id: String,
}

#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize, schemars::JsonSchema, TS)]
pub struct Snapshot {
    /// The deploy it was taken for.
    pub deploy: String,
    pub taken_at: String,
    pub git_commit: String,
    pub images: Vec<ServiceImage>,
    /// Where the copy of the env file is on the host (`None`: there was none).
    pub env_backup: Option<String>,
    /// Every service that had a container when it was taken: services sharing an image
    /// have one entry in `images`, by its tag. `None` in snapshots of earlier versions.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    #[ts(optional)]
    pub services: Option<Vec<String>>,
}

impl Snapshot {
    /// The commit as shown: its first 12 characters (a snapshot read back from the
    /// journal is not trusted to hold a whole one).
    pub fn short_commit(&self) -> &str {
        self.git_commit.get(..12).unwrap_or(&self.git_commit)
    }
}

pub fn snapshot_command(deploy: &str, policy: &Policy, project_dir: &str) -> RemoteCommand {
    RemoteCommand::new("sh")
        .args([
            "-c",
            SNAPSHOT_SCRIPT,
            "shipshape-snapshot",
            deploy,
            &policy.env_file,
        ])
        .in_dir(project_dir)
}

/// The snapshot from the script's output and the project's running containers.
pub fn read_snapshot(
    deploy: &str,
    output: &str,
    containers: &[Container],
    taken_at: String,
) -> Option<Snapshot> {
    let git_commit = output
        .lines()
        .map(str::trim)
        .find(|l| l.len() == 40 && l.chars().all(|c| c.is_ascii_hexdigit()))?
        .to_string();
    let env_backup = output
        .lines()
        .any(|l| l.trim() == "env saved")
        .then(|| format!("~/.shipshape/snapshots/{deploy}/env.aws"));
    // Stopped services too: their tag moves with the pull as well. Running containers
    // speak first, for their service and for their tag: a stopped one (an old replica,
    // another profile's service on the same tag) never puts its older image back on a
    // tag a running one names.
    let mut found: Vec<&Container> = containers
        .iter()
        .filter(|c| !c.one_off && !c.service.is_empty() && !c.image_id.is_empty())
        .collect();
    found.sort_by_key(|c| (c.state != "running", c.service.as_str()));
    let mut services: Vec<String> = found.iter().map(|c| c.service.clone()).collect();
    services.sort();
    services.dedup();
    let mut images: Vec<ServiceImage> = Vec::new();
    for c in found {
        if images
            .iter()
            .any(|i| i.service == c.service || i.tag == c.image_tag)
        {
            continue;
        }
        images.push(ServiceImage {
            service: c.service.clone(),
            tag: c.image_tag.clone(),
            image_id: c.image_id.clone(),
        });
    }
    images.sort_by(|a, b| a.service.cmp(&b.service));
    Some(Snapshot {
        deploy: deploy.to_string(),
        taken_at,
        git_commit,
        images,
        env_backup,
        services: Some(services),
    })
}

/// What a rollback to `snapshot` cannot put back, in words, if anything: the policy's
/// services that had no container when it was taken (stopped and removed, never
/// started), so it holds no image of theirs; `up` then starts them on whatever their
/// tags name by then, the deploy's images, and the operator confirming must know. (A
/// snapshot of an earlier version did not list its services: nothing is said.)
pub fn images_not_kept(snapshot: &Snapshot, policy: &Policy) -> Option<String> {
    let seen = snapshot.services.as_ref()?;
    let missing: Vec<&str> = policy
        .services
        .iter()
        .filter(|s| !seen.contains(s))
        .map(String::as_str)
        .collect();
    (!missing.is_empty()).then(|| {
        format!(
            "Not in the snapshot: {} (no container when {} took it). No image of theirs is put back: up starts them on what their tags name then.",
            missing.join(", "),
            crate::input::shown(&snapshot.deploy)
        )
    })
}

/// The check that everything `snapshot` needs is still on the host, run before any of
/// [`rollback_commands`].
pub fn rollback_check_command(snapshot: &Snapshot, project_dir: &str) -> RemoteCommand {
    let env_of = match snapshot.env_backup {
        Some(_) => snapshot.deploy.as_str(),
        None => "",
    };
    RemoteCommand::new("sh")
        .args(["-c", ROLLBACK_CHECK_SCRIPT, "shipshape-rollback-check"])
        .args([snapshot.git_commit.as_str(), env_of])
        .args(snapshot.images.iter().map(|i| i.image_id.as_str()))
        .in_dir(project_dir)
}

/// The commands that put the host back to `snapshot`, before `up -d`: the branch back
/// on the commit (refused by git if it would overwrite local changes), each tag back on
/// the image its service ran, the env file back.
pub fn rollback_commands(
    snapshot: &Snapshot,
    policy: &Policy,
    project_dir: &str,
) -> Vec<RemoteCommand> {
    let mut commands = vec![RemoteCommand::new("git")
        .args(["checkout", "-q", "-B", &policy.branch, &snapshot.git_commit])
        .in_dir(project_dir)];
    // An image named by digest (`repo@sha256:…`) cannot be tagged, and needs no tag:
    // the snapshot's compose file names that very image.
    for image in snapshot.images.iter().filter(|i| !i.tag.contains('@')) {
        commands.push(RemoteCommand::new("docker").args(["tag", &image.image_id, &image.tag]));
    }
    if snapshot.env_backup.is_some() {
        commands.push(
            RemoteCommand::new("sh")
                .args([
                    "-c",
                    RESTORE_ENV_SCRIPT,
                    "shipshape-restore-env",
                    &snapshot.deploy,
                    &policy.env_file,
                ])
                .in_dir(project_dir),
        );
    }
    commands
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_snapshot_reads_back_and_rolls_back_in_quoted_commands() {
        let container = |service: &str, state: &str| Container {
            service: service.into(),
            state: state.into(),
            image_tag: format!("reg/{service}:lab"),
            image_id: format!("sha256:{service}"),
            ..Default::default()
        };
        let mut stale_db = container("db", "exited");
        stale_db.image_id = "sha256:old-db".into();
        let mut pinned = container("market-updater-aws", "running");
        pinned.image_tag = "reg/market@sha256:0123".into();
        // Another profile's service on backend-aws's tag, stopped on an older image.
        let mut local_backend = container("backend", "exited");
        local_backend.image_tag = "reg/backend-aws:lab".into();
        let containers = [
            stale_db,
            container("db", "running"),
            local_backend,
            container("backend-aws", "running"),
            // Stopped, yet the pull moves its tag too: its image is kept.
            container("frontend-aws", "exited"),
            pinned,
        ];
        let head = "0123456789abcdef0123456789abcdef01234567";
        let snapshot = read_snapshot(
            "deploy-1",
            &format!("{head}\nenv saved\n"),
            &containers,
            "t".into(),
        )
        .unwrap();
        assert_eq!(snapshot.git_commit, head);
        let kept: Vec<(&str, &str)> = snapshot
            .images
            .iter()
            .map(|i| (i.service.as_str(), i.image_id.as_str()))
            .collect();
        assert_eq!(
            kept,
            [
                ("backend-aws", "sha256:backend-aws"),
                ("db", "sha256:db"),
                ("frontend-aws", "sha256:frontend-aws"),
                ("market-updater-aws", "sha256:market-updater-aws"),
            ]
        );
        assert!(snapshot.env_backup.is_some());
        assert!(read_snapshot(
            "deploy-1",
            "fatal: not a git repository\n",
            &containers,
            "t".into()
        )
        .is_none());

        let commands: Vec<String> = rollback_commands(&snapshot, &Policy::builtin(), "/srv/a b")
            .iter()
            .map(RemoteCommand::render)
            .collect();
        assert_eq!(
            commands[0],
            format!("cd '/srv/a b' && git checkout -q -B main {head}")
        );
        assert_eq!(
            commands[1],
            "docker tag sha256:backend-aws reg/backend-aws:lab"
        );
        // Three tags put back; the image pinned by digest needs none.
        assert_eq!(commands.len(), 5, "{commands:?}");
        assert!(commands.iter().all(|c| !c.contains("market@sha256")));
        assert!(
            commands[4].contains("shipshape-restore-env deploy-1 .env.aws"),
            "{}",
            commands[4]
        );
        assert_eq!(images_not_kept(&snapshot, &Policy::builtin()), None);
        // One from before snapshots listed their services says nothing.
        let earlier = Snapshot {
            services: None,
            images: Vec::new(),
            ..snapshot
        };
        assert_eq!(images_not_kept(&earlier, &Policy::builtin()), None);
    }

    #[test]
    fn a_service_with_no_container_at_the_snapshot_is_named_as_not_put_back() {
        let running = |service: &str, tag: &str| Container {
            service: service.into(),
            state: "running".into(),
            image_tag: tag.into(),
            image_id: "sha256:b".into(),
            ..Default::default()
        };
        // Two services on one image: one entry by its tag, both services seen.
        let snapshot = read_snapshot(
            "deploy-1",
            "0123456789abcdef0123456789abcdef01234567\n",
            &[
                running("backend-aws", "reg/backend:lab"),
                running("market-updater-aws", "reg/backend:lab"),
            ],
            "t".into(),
        )
        .unwrap();
        assert_eq!(snapshot.images.len(), 1);
        let policy = Policy::builtin();
        let said = images_not_kept(&snapshot, &policy).unwrap();
        let seen = ["backend-aws", "market-updater-aws"];
        let others: Vec<&String> = policy
            .services
            .iter()
            .filter(|s| !seen.contains(&s.as_str()))
            .collect();
        assert!(!others.is_empty());
        for service in others {
            assert!(said.contains(service.as_str()), "{said}");
        }
        for service in seen {
            assert!(!said.contains(service), "{said}");
        }
        assert!(said.contains("deploy-1"), "{said}");
    }
}
