//! One variant per command the policy approves, each rendered exactly as the policy
//! writes it, so what the operator confirms is what the host runs.

use serde::{Deserialize, Serialize};
use ts_rs::TS;

use std::time::Duration;

use super::Compose;
use crate::policy::Policy;
use crate::shell::RemoteCommand;
use crate::ssh::Deadline;

/// The policy's `logs -n 200`.
pub const DEFAULT_LOG_LINES: u32 = 200;
/// How long the health probe waits for an answer (`curl -m 10`).
pub const HEALTH_TIMEOUT_SECONDS: u32 = 10;

/// Ends a migration script running in the container (`$1` its path): every process whose
/// command line runs it gets TERM, then KILL if it is still there 3 s later. `docker
/// compose exec` gives the script no way to learn that its client on the host is gone.
/// A process that has ended but is not yet reaped (state `Z`) counts as ended.
const STOP_MIGRATION_SCRIPT: &str = r#"running() { s=$(sed 's/.*) //' "/proc/$1/stat" 2>/dev/null | cut -d ' ' -f 1); [ -n "$s" ] && [ "$s" != Z ]; }
found=
for d in /proc/[0-9]*; do
  p=${d#/proc/}
  [ "$p" = "$$" ] && continue
  c=$(tr '\0' ' ' < "$d/cmdline" 2>/dev/null) || continue
  case "$c" in *"python $1 "*|*"python $1") kill -TERM "$p" 2>/dev/null && found="$found $p" ;; esac
done
[ -z "$found" ] && { echo "no $1 was running"; exit 0; }
i=0
while [ "$i" -lt 30 ]; do
  alive=; for p in $found; do running "$p" && alive=1; done
  [ -z "$alive" ] && break
  sleep 0.1; i=$((i + 1))
done
for p in $found; do running "$p" && kill -KILL "$p" 2>/dev/null; done
sleep 0.2
for p in $found; do if running "$p"; then echo "$1 still runs as $p" >&2; exit 1; fi; done
echo "stopped $1:$found""#;

/// The command that stops migration `script` in the policy's migration service, for the
/// Compose the host has.
pub fn stop_migration_command(
    policy: &Policy,
    project_dir: &str,
    compose: Compose,
    script: &str,
) -> RemoteCommand {
    compose.command(project_dir).args([
        "exec",
        "-T",
        &policy.migration_service,
        "sh",
        "-c",
        STOP_MIGRATION_SCRIPT,
        "shipshape-stop-migration",
        script,
    ])
}
/// curl prints the response, then a line with the HTTP status alone; see
/// [`super::parse_health`].
pub(crate) const HEALTH_WRITE_OUT: &str = "\\n%{http_code}\\n";
/// One commit per line, fields split by the ASCII unit separator, which no commit
/// field contains; see [`super::parse_incoming_commits`].
pub(crate) const INCOMING_FORMAT: &str = "--format=%H%x1f%an%x1f%aI%x1f%s";

#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize, TS)]
#[serde(tag = "op", rename_all = "snake_case")]
pub enum Operation {
    /// `ps`: every container of the project, stopped ones too.
    Ps,
    /// `logs -n LINES SERVICE`, optionally following, since a time, with timestamps.
    Logs {
        service: String,
        lines: u32,
        follow: bool,
        since: Option<String>,
        timestamps: bool,
    },
    /// `restart [SERVICE]`: one service, or all of them.
    Restart { service: Option<String> },
    /// `stop [SERVICE]`: one service, or all of them.
    Stop { service: Option<String> },
    /// `pull`: the latest images.
    Pull,
    /// `up -d --remove-orphans`: start or update every service.
    Up,
    /// `up -d SERVICE`: start one service.
    UpService { service: String },
    /// `down`: stop and remove every service.
    Down,
    /// `git fetch origin main`: learn what a pull would bring, changing nothing.
    GitFetch,
    /// The commits `git pull origin main` would bring (after [`Operation::GitFetch`]).
    GitIncoming,
    /// The files those commits change.
    GitIncomingFiles,
    /// `git rev-parse --short HEAD`: the commit the project is on, for the review.
    GitHead,
    /// `git pull origin main`.
    GitPull,
    /// The policy's health probe, `curl http://localhost:8002/api/health`, on the host.
    Health,
    /// `exec -T backend-aws python SCRIPT`: one migration script present on the host.
    Migrate { script: String },
    /// The files in the migration scripts' directory; the policy's glob picks among them.
    ListMigrations,
    /// `config --services`: the services the host's compose project really defines.
    ComposeServices,
}

impl Operation {
    /// The policy's `logs -n 200 SERVICE`.
    pub fn logs(service: &str) -> Self {
        Operation::Logs {
            service: service.to_string(),
            lines: DEFAULT_LOG_LINES,
            follow: false,
            since: None,
            timestamps: false,
        }
    }

    /// The exact command, run in `project_dir`. Validate the operation first
    /// ([`Operation::validate`]): this renders whatever it holds, quoted.
    pub fn command(&self, policy: &Policy, project_dir: &str, compose: Compose) -> RemoteCommand {
        let compose_cmd = || compose.command(project_dir);
        let git = || RemoteCommand::new("git").in_dir(project_dir);
        let upstream = format!("{}/{}", policy.remote, policy.branch);
        match self {
            Operation::Ps => match compose {
                Compose::V2 => compose_cmd().args(["ps", "--all", "--format", "json"]),
                // v1 has no JSON output.
                Compose::V1 => compose_cmd().args(["ps", "--all"]),
            },
            Operation::Logs {
                service,
                lines,
                follow,
                since,
                timestamps,
            } => {
                let mut command = compose_cmd().arg("logs");
                command = match compose {
                    Compose::V2 => command.args(["-n".to_string(), lines.to_string()]),
                    // v1 only knows the long form.
                    Compose::V1 => command.args(["--tail".to_string(), lines.to_string()]),
                };
                if let Some(since) = since {
                    command = command.args(["--since", since]);
                }
                if *timestamps {
                    command = command.arg("-t");
                }
                if *follow {
                    command = command.arg("-f");
                }
                command.arg(service)
            }
            Operation::Restart { service } => compose_cmd().arg("restart").args(service.clone()),
            Operation::Stop { service } => compose_cmd().arg("stop").args(service.clone()),
            Operation::Pull => compose_cmd().arg("pull"),
            Operation::Up => compose_cmd().args(["up", "-d", "--remove-orphans"]),
            Operation::UpService { service } => compose_cmd().args(["up", "-d", service]),
            Operation::Down => compose_cmd().arg("down"),
            Operation::GitFetch => git().args(["fetch", &policy.remote, &policy.branch]),
            Operation::GitIncoming => git().args([
                "log",
                "--no-color",
                INCOMING_FORMAT,
                &format!("HEAD..{upstream}"),
            ]),
            Operation::GitIncomingFiles => git().args([
                "diff",
                "--no-color",
                "--name-status",
                &format!("HEAD...{upstream}"),
            ]),
            Operation::GitHead => git().args(["rev-parse", "--short", "HEAD"]),
            Operation::GitPull => git().args(["pull", &policy.remote, &policy.branch]),
            // Never through a proxy the host's environment names (`http_proxy` with no
            // `no_proxy` for localhost): the URL is on the host itself.
            Operation::Health => RemoteCommand::new("curl")
                .args(["-fsS", "-m", &HEALTH_TIMEOUT_SECONDS.to_string()])
                .args(["--noproxy", "*"])
                .args(["-w", HEALTH_WRITE_OUT, &policy.health_url])
                .in_dir(project_dir),
            // Abandoned, it is stopped in the container too: ending `docker compose exec`
            // on the host does not end the script.
            Operation::Migrate { script } => compose_cmd()
                .args(["exec", "-T", &policy.migration_service, "python", script])
                .cleaned_up_by(&stop_migration_command(
                    policy,
                    project_dir,
                    compose,
                    script,
                )),
            Operation::ListMigrations => RemoteCommand::new("ls")
                .args(["-1A", policy.migration_dir()])
                .in_dir(project_dir),
            Operation::ComposeServices => compose_cmd().args(["config", "--services"]),
        }
    }

    /// How long this operation may run on the host ([`Policy::deadlines`]).
    pub fn deadline(&self, policy: &Policy) -> Deadline {
        let limits = &policy.deadlines;
        let seconds = |s: u32| Duration::from_secs(u64::from(s));
        match self {
            Operation::Logs { follow: true, .. } => Deadline::Unbounded,
            Operation::Pull => Deadline::Idle(seconds(limits.pull_idle_seconds)),
            Operation::Migrate { .. } => Deadline::Total(seconds(limits.migrate_seconds)),
            Operation::Health => Deadline::Total(seconds(limits.health_seconds)),
            // Fetching changes only git's view of origin, but waits on the network.
            Operation::GitFetch => Deadline::Total(seconds(limits.change_seconds)),
            _ if self.changes_host() => Deadline::Total(seconds(limits.change_seconds)),
            _ => Deadline::Total(seconds(limits.read_seconds)),
        }
    }

    /// Whether its output may hold a value of the env file: what the services and their
    /// containers print (logs, a migration, the health answer, compose's messages).
    /// Git's and the listings' output comes from the repository, not from the services.
    pub fn may_print_env_values(&self) -> bool {
        !matches!(
            self,
            Operation::GitFetch
                | Operation::GitIncoming
                | Operation::GitIncomingFiles
                | Operation::GitHead
                | Operation::GitPull
                | Operation::ListMigrations
                | Operation::ComposeServices
        )
    }

    /// Whether running it changes anything on the host. Such an operation is never
    /// re-run behind the operator's back (a read is retried once on a new connection),
    /// and only one runs on a target at a time.
    pub fn changes_host(&self) -> bool {
        matches!(
            self,
            Operation::Restart { .. }
                | Operation::Stop { .. }
                | Operation::Pull
                | Operation::Up
                | Operation::UpService { .. }
                | Operation::Down
                | Operation::GitPull
                | Operation::Migrate { .. }
        )
    }

    /// Whether checking it needs the host's facts (its services, its migration
    /// scripts), beyond which Compose it has. Health and git need neither.
    pub fn needs_facts(&self) -> bool {
        matches!(
            self,
            Operation::Logs { .. }
                | Operation::Restart { service: Some(_) }
                | Operation::Stop { service: Some(_) }
                | Operation::UpService { .. }
                | Operation::Migrate { .. }
        )
    }

    /// Operations that stop, restart or change what runs, which the console asks the
    /// operator to confirm with the exact command in view.
    pub fn is_destructive(&self) -> bool {
        matches!(
            self,
            Operation::Down
                | Operation::Stop { .. }
                | Operation::Restart { .. }
                | Operation::Migrate { .. }
        )
    }

    /// What the operation does, in plain words for a button or a history line.
    pub fn title(&self) -> String {
        let all_or = |service: &Option<String>| {
            service
                .clone()
                .unwrap_or_else(|| "all services".to_string())
        };
        match self {
            Operation::Ps => "Show service status".into(),
            Operation::Logs {
                service, follow, ..
            } if *follow => format!("Follow the logs of {service}"),
            Operation::Logs { service, .. } => format!("Show the logs of {service}"),
            Operation::Restart { service } => format!("Restart {}", all_or(service)),
            Operation::Stop { service } => format!("Stop {}", all_or(service)),
            Operation::Pull => "Pull the latest images".into(),
            Operation::Up => "Start or update all services".into(),
            Operation::UpService { service } => format!("Start {service}"),
            Operation::Down => "Stop and remove all services".into(),
            Operation::GitFetch => "Fetch the latest code".into(),
            Operation::GitIncoming => "List the incoming commits".into(),
            Operation::GitIncomingFiles => "List the files the incoming commits change".into(),
            Operation::GitHead => "Show the current commit".into(),
            Operation::GitPull => "Pull the latest code".into(),
            Operation::Health => "Check the health endpoint".into(),
            Operation::Migrate { script } => format!("Run the migration {script}"),
            Operation::ListMigrations => "List the migration scripts".into(),
            Operation::ComposeServices => "List the services on the host".into(),
        }
    }
}
