//! The probes: read-only commands whose output decides the checklist. Each is built
//! like every other remote command (typed words, one quoting path); where one needs a
//! shell (`$(...)`), the script is a constant and every value reaches it as a quoted
//! argument (`$1`, `$2`), never pasted in.
//!
//! Cost matters on a production host: only two probes start a `docker compose` process
//! (~0.2 s of host CPU each); the rest ask the Docker engine directly, which is cheaper
//! and just as true.

use crate::policy::{Policy, PROFILE};
use crate::shell::RemoteCommand;

#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, PartialOrd, Ord)]
pub enum Probe {
    /// `git rev-parse HEAD`
    GitHead,
    /// `git ls-remote origin refs/heads/main`: the origin's main now, not a stale ref.
    GitRemoteHead,
    /// Tracked files changed on the host.
    GitStatus,
    /// The compose file as compose reads it for the `aws` profile, as JSON.
    ComposeConfig,
    /// What `up -d --remove-orphans` would do now, changing nothing.
    ComposeDryRun,
    /// `docker inspect` of every container of the project (any profile, any state).
    Containers,
    /// The images those containers were created from, as their tags name them now.
    Images,
    /// Every running container on the host with its published ports.
    Publishers,
    /// Listening TCP sockets.
    Listeners,
    /// The processes running in containers, with the container each belongs to.
    Processes,
    /// systemd's units that could run a service of the project.
    Systemd,
    /// `.env.aws`'s mode and owner.
    EnvStat,
    /// `.env.aws` itself: read for redaction, stored with every value redacted.
    EnvRead,
    /// `.env.aws.example`, the project's list of the keys it needs (if it has one).
    EnvTemplate,
    /// The policy's health probe.
    Health,
    /// The last 200 lines of the backend's and the frontend's logs.
    Logs,
    /// The migration scripts present.
    Migrations,
}

impl Probe {
    pub const ALL: [Probe; 17] = [
        Probe::GitHead,
        Probe::GitRemoteHead,
        Probe::GitStatus,
        Probe::ComposeConfig,
        Probe::ComposeDryRun,
        Probe::Containers,
        Probe::Images,
        Probe::Publishers,
        Probe::Listeners,
        Probe::Processes,
        Probe::Systemd,
        Probe::EnvStat,
        Probe::EnvRead,
        Probe::EnvTemplate,
        Probe::Health,
        Probe::Logs,
        Probe::Migrations,
    ];
}

/// The label compose puts on every container it makes: the project directory.
pub const WORKING_DIR_LABEL: &str = "com.docker.compose.project.working_dir";
/// The services whose logs are scanned.
pub const LOGGED_SERVICES: [&str; 2] = ["backend-aws", "frontend-aws"];
pub const LOG_LINES: u32 = 200;

/// `docker inspect` of the project's containers; `$1` is the project directory.
const CONTAINERS_SCRIPT: &str = r#"ids=$(docker ps -aq --filter "label=com.docker.compose.project.working_dir=$1") || exit
[ -z "$ids" ] && { echo '[]'; exit 0; }
docker inspect $ids"#;

/// The images the project's containers name, as the engine knows them now.
const IMAGES_SCRIPT: &str = r#"ids=$(docker ps -aq --filter "label=com.docker.compose.project.working_dir=$1") || exit
[ -z "$ids" ] && exit 0
docker image inspect --format '{{.Id}} {{json .RepoTags}} {{json .RepoDigests}}' $(docker inspect --format '{{.Config.Image}}' $ids | sort -u)"#;

/// The last lines of each named service's log; `$1` the directory, `$2` the line
/// count, then the services.
const LOGS_SCRIPT: &str = r#"dir=$1 lines=$2; shift 2
for service in "$@"; do
  printf '== %s\n' "$service"
  id=$(docker ps -aq --filter "label=com.docker.compose.project.working_dir=$dir" --filter "label=com.docker.compose.service=$service" | head -n 1)
  if [ -n "$id" ]; then docker logs --tail "$lines" "$id" 2>&1; else echo '(no container)'; fi
done"#;

/// The processes in containers, found by their cgroup (`/proc/PID/cgroup` names the
/// container's id), then their arguments: a handful of small programs, where asking
/// `docker top` container by container would start a Docker client for each.
const PROCESSES_SCRIPT: &str = r#"echo '== cgroups'
grep -s -o 'docker[-/][0-9a-f]\{64\}' /proc/[0-9]*/cgroup | sed 's#^/proc/\([0-9]*\)/cgroup:docker.#\1 #' | sort -u
pids=$(grep -s -l 'docker[-/][0-9a-f]\{64\}' /proc/[0-9]*/cgroup | cut -d/ -f3 | tr '\n' ',')
echo '== processes'
[ -n "$pids" ] && ps -ww -o pid=,args= -p "${pids%,}"
exit 0"#;

/// Whether systemd runs here, then the unit files that name a service or the project.
/// `$1` is the project directory, then the service names.
const SYSTEMD_SCRIPT: &str = r#"dir=$1; shift
if [ -d /run/systemd/system ]; then echo '== systemd running'; else echo '== systemd not running'; fi
echo '== unit files'
for d in /etc/systemd/system /run/systemd/system /lib/systemd/system /usr/lib/systemd/system; do
  [ -d "$d" ] || continue
  for service in "$@"; do
    for f in "$d/$service.service" "$d/${service%-aws}.service"; do [ -e "$f" ] && echo "$f"; done
  done
  grep -l -s -F -e "$dir" "$d"/*.service 2>/dev/null
done | sort -u
if [ -d /run/systemd/system ]; then echo '== active units'; systemctl list-units --type=service --state=active --no-legend --plain --no-pager 2>&1 | awk '{print $1}'; fi
exit 0"#;

fn script(name: &str, text: &str, dir: &str) -> RemoteCommand {
    RemoteCommand::new("sh").args(["-c", text, name, dir])
}

impl Probe {
    /// The exact command, with everything it needs from the policy.
    pub fn command(self, policy: &Policy, project_dir: &str) -> RemoteCommand {
        let compose = || {
            RemoteCommand::new("docker")
                .args(["compose", "--profile", PROFILE])
                .in_dir(project_dir)
        };
        let git = || RemoteCommand::new("git").in_dir(project_dir);
        match self {
            Probe::GitHead => git().args(["rev-parse", "HEAD"]),
            Probe::GitRemoteHead => git().args([
                "ls-remote".to_string(),
                policy.remote.clone(),
                format!("refs/heads/{}", policy.branch),
            ]),
            Probe::GitStatus => git().args(["status", "--porcelain=v1", "--untracked-files=no"]),
            Probe::ComposeConfig => compose().args(["config", "--format", "json"]),
            Probe::ComposeDryRun => compose().args([
                "--dry-run",
                "up",
                "-d",
                "--remove-orphans",
                "--no-build",
                "--pull",
                "never",
            ]),
            Probe::Containers => script("shipshape-containers", CONTAINERS_SCRIPT, project_dir),
            Probe::Images => script("shipshape-images", IMAGES_SCRIPT, project_dir),
            Probe::Publishers => RemoteCommand::new("docker").args([
                "ps",
                "--no-trunc",
                "--format",
                "{{.ID}}\t{{.Names}}\t{{.Ports}}\t{{.Label \"com.docker.compose.project.working_dir\"}}\t{{.Label \"com.docker.compose.service\"}}",
            ]),
            Probe::Listeners => RemoteCommand::new("ss").args(["-H", "-l", "-t", "-n"]),
            Probe::Processes => RemoteCommand::new("sh").args(["-c", PROCESSES_SCRIPT]),
            Probe::Systemd => script("shipshape-systemd", SYSTEMD_SCRIPT, project_dir)
                .args(policy.services.iter().cloned()),
            Probe::EnvStat => RemoteCommand::new("stat")
                .args(["-c", "%a %U %G %s", "--", &policy.env_file])
                .in_dir(project_dir),
            Probe::EnvRead => RemoteCommand::new("cat")
                .args(["--", &policy.env_file])
                .in_dir(project_dir),
            Probe::EnvTemplate => RemoteCommand::new("cat")
                .args(["--".to_string(), format!("{}.example", policy.env_file)])
                .in_dir(project_dir),
            Probe::Health => crate::operations::Operation::Health.command(
                policy,
                project_dir,
                crate::operations::Compose::V2,
            ),
            Probe::Logs => script("shipshape-logs", LOGS_SCRIPT, project_dir)
                .arg(LOG_LINES.to_string())
                .args(LOGGED_SERVICES),
            Probe::Migrations => RemoteCommand::new("ls")
                .args(["-1A", "--", policy.migration_dir()])
                .in_dir(project_dir),
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn probes_quote_the_project_dir_and_run_compose_only_twice() {
        let policy = Policy::builtin();
        let dir = "/srv/a b;rm -rf ~";
        let rendered: Vec<String> = Probe::ALL
            .iter()
            .map(|p| p.command(&policy, dir).render())
            .collect();
        let quoted = crate::shell::quote(dir);
        for text in &rendered {
            let outside_quotes = text.replace(&quoted, "");
            assert!(!outside_quotes.contains("a b;rm"), "unquoted dir in {text}");
        }
        let compose = rendered
            .iter()
            .filter(|t| t.contains("docker compose"))
            .count();
        assert_eq!(compose, 2, "{rendered:#?}");
        assert!(rendered
            .iter()
            .all(|t| !t.contains(" -f ") && !t.contains("restart")));
    }
}
