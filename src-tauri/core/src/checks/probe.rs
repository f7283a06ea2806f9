//! The probes: read-only commands whose output decides the checklist. Each is built
//! like every other remote command (typed words, one quoting path); where one needs a
//! shell (`$(...)`), the script is a constant and every value reaches it as a quoted
//! argument (`$1`, `$2`), never pasted in.
//!
//! Cost matters on a production host: only two probes start Compose, and they start
//! its plugin binary directly (`docker compose` would start the docker CLI, then the
//! plugin twice: once for its metadata, once to run; directly, half the host CPU for
//! the same program and the same answer). The engine's probes are asked of its socket
//! over the connection ([`super::engine`]); their commands here, `curl` on the host,
//! serve hosts whose sshd forbids that, still far cheaper than a `docker` client each.

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

/// The migration scripts' directory listed, or [`NO_MIGRATIONS_DIR`] if there is none.
const MIGRATIONS_SCRIPT: &str =
    r#"[ -d "$1" ] || { echo '== no directory'; exit 0; }; exec ls -1A -- "$1""#;
/// What [`MIGRATIONS_SCRIPT`] says when there is no directory.
pub const NO_MIGRATIONS_DIR: &str = "== no directory";

/// The env file's mode, owner, group and size; or [`NO_ENV_FILE`], said only where the
/// project directory was entered, the file's own directory (`config/` of
/// `config/.env.prod`) can be searched, and the file is not in it. A failure with no such
/// word (a directory out of the login's reach, where `-e` is false for a file that is
/// there) is never taken for a file that is not there: the redactor then withholds
/// every output.
const ENV_STAT_SCRIPT: &str = r#"case $1 in */*) [ -d "${1%/*}" ] && [ -x "${1%/*}" ] || exit 1 ;; esac; [ -e "$1" ] || [ -L "$1" ] || { echo '== no file'; exit 1; }; exec stat -c '%a %U %G %s' -- "$1""#;
/// What [`ENV_STAT_SCRIPT`] says when there is no env file.
pub const NO_ENV_FILE: &str = "== no file";

/// Whether the env file's probe, ended with `exit_code` and `stdout`, said there is no
/// such file: the one answer that counts as absent (redaction, the env item).
pub fn says_no_env_file(exit_code: Option<i64>, stdout: &str) -> bool {
    exit_code.is_some_and(|code| code != 0) && stdout.lines().any(|l| l == NO_ENV_FILE)
}

/// The label compose puts on every container it makes: the project directory.
pub const WORKING_DIR_LABEL: &str = "com.docker.compose.project.working_dir";
pub const LOG_LINES: u32 = 200;

/// The Docker engine's API over its local socket, by `curl`: the engine's own answer
/// (the JSON `docker inspect` prints), for a few milliseconds of host CPU where each
/// `docker` client costs fifteen or more. `DOCKER_HOST` is honoured when it names a
/// local socket; any other engine is not guessed at.
macro_rules! engine_api {
    () => {
        r#"sock=/var/run/docker.sock
case ${DOCKER_HOST:-} in unix://*) sock=${DOCKER_HOST#unix://} ;; ?*) echo "DOCKER_HOST=$DOCKER_HOST is not a local socket; only the local engine is read" >&2; exit 2 ;; esac
api() { curl -sS --unix-socket "$sock" "$@"; }
"#
    };
}

/// The project's containers as the engine lists them; `$1` is the label filter (JSON).
macro_rules! project_ids {
    () => {
        r#"list=$(api -G --data-urlencode all=1 --data-urlencode "filters=$1" http://docker/containers/json) || exit
ids=$(printf '%s' "$list" | grep -o '"Id":"[0-9a-f]*"' | cut -d '"' -f 4)
"#
    };
}

pub(crate) use {engine_api, project_ids};

/// `docker inspect` of every container of the project, one JSON object a line.
const CONTAINERS_SCRIPT: &str = concat!(
    engine_api!(),
    project_ids!(),
    r#"[ -z "$ids" ] && exit 0
api -w '\n' $(printf 'http://docker/containers/%s/json ' $ids)"#
);

/// The images the project's containers name, as the engine knows them now, one JSON
/// object a line (image references hold no quote, so `grep` finds them safely). A label
/// of the compose file's named `Image` is found too: only what reads as an image
/// reference is asked for (never `..`, never a query), as the engine path asks only for
/// plain references.
const IMAGES_SCRIPT: &str = concat!(
    engine_api!(),
    project_ids!(),
    r#"[ -z "$ids" ] && exit 0
names=$(api -w '\n' $(printf 'http://docker/containers/%s/json ' $ids) | grep -o '"Image":"[^"]*"' | cut -d '"' -f 4 | grep -v '^sha256:' | grep -E '^[A-Za-z0-9][A-Za-z0-9._/:@-]*$' | grep -v '[.][.]' | sort -u) || exit
[ -z "$names" ] && exit 0
api -w '\n' $(printf 'http://docker/images/%s/json ' $names)"#
);

/// Every running container on the host, with its published ports and labels (JSON).
const PUBLISHERS_SCRIPT: &str = concat!(engine_api!(), "api http://docker/containers/json");

/// The last lines of each named service's log; `$1` the label filter, `$2` the line
/// count, then the services. One listing of the project's containers serves them all;
/// `docker logs` reads each log (the engine's own stream would need unframing): every
/// replica's, never a one-off's (`compose run`). The engine writes a container's labels
/// in name order, so its one-off label comes before its service.
const LOGS_SCRIPT: &str = concat!(
    engine_api!(),
    project_ids!(),
    r#"lines=$2; shift 2; failed=0
for service in "$@"; do
  printf '== %s\n' "$service"
  ids=$(printf '%s' "$list" | grep -o '"Id":"[0-9a-f]*"\|"com.docker.compose.oneoff":"[^"]*"\|"com.docker.compose.service":"[^"]*"' | awk -F '"' -v s="$service" '$2 == "Id" { id = $4; once = "" } $2 == "com.docker.compose.oneoff" { once = $4 } $2 == "com.docker.compose.service" && $4 == s && once != "True" { print id }')
  if [ -n "$ids" ]; then for id in $ids; do docker logs --tail "$lines" "$id" 2>&1 || failed=1; done; else echo '(no container)'; fi
done
exit $failed"#
);

/// Compose, by its plugin binary where the docker CLI would find it (the CLI's own
/// search order), else `docker compose`; the arguments follow. Go's collector runs
/// less often (`GOGC=400`, unless the host sets its own): a read this short keeps a
/// few MB live, so its peak memory is the same (50 MB, the binary's pages), and the
/// host spends 13-15 ms less CPU on each of the two (58 -> 45 ms, measured on the lab).
const COMPOSE_SCRIPT: &str = r#"export GOGC="${GOGC:-400}"
for d in "${DOCKER_CONFIG:-$HOME/.docker}/cli-plugins" /usr/local/lib/docker/cli-plugins /usr/local/libexec/docker/cli-plugins /usr/lib/docker/cli-plugins /usr/libexec/docker/cli-plugins; do
  [ -x "$d/docker-compose" ] && exec "$d/docker-compose" "$@"
done
exec docker compose "$@""#;

/// The processes in containers, found by their cgroup (`/proc/PID/cgroup` names the
/// container's id, whatever the cgroup version, driver or parent), then their arguments
/// from `/proc/PID/cmdline`; `$1` is where proc is (`/proc`; a test's directory).
///
/// `grep -s` reads the files and `awk` only parses what it found. A process that ends
/// while its file is read fails that read ("No such process"): grep skips it, where
/// mawk's `getline` stopped the whole probe (exit 2): a false "Never Do" failure once
/// in 200 side-by-side verifications on the lab. That costs the host about 4 ms more
/// CPU per verification (7.1 against 3.2 ms); `ps` would read every process on the
/// host, even asked for a few: four times the CPU. An awk that cannot split on NUL
/// (busybox's) says so by its status, and `ps` reads the arguments instead. Any other
/// failure is the probe's, and so is a `grep` that found nothing for want of reading:
/// no cgroups read, or no arguments for processes that are in containers (whose main
/// processes do not all end at once); "0 processes" would be a pass unearned.
const PROCESSES_SCRIPT: &str = r#"root=$1
cgroups=$(grep -s -H -F docker "$root"/[0-9]*/cgroup)
status=$?
[ -z "$cgroups" ] && [ "$status" -gt 1 ] && exit "$status"
found=$(printf '%s\n' "$cgroups" | awk 'BEGIN {
  RS = "\0"; while ((getline word < "/proc/self/cmdline") > 0) n++; close("/proc/self/cmdline"); RS = "\n"
}
(at = index($0, "/cgroup:")) > 0 && match(line = substr($0, at + 8), /docker[-\/][0-9a-f]+/) && RLENGTH == 71 {
  pid = substr($0, 1, at - 1); sub(/.*\//, "", pid); owner[pid] = substr(line, RSTART + 7, 64)
}
END { print "== cgroups"; for (pid in owner) print pid, owner[pid]; exit (n < 2 ? 3 : 0) }')
status=$?
printf '%s\n' "$found"
case $status in 0|3) ;; *) exit "$status" ;; esac
echo '== processes'
pids= files=
while read -r pid id; do
  case $pid in ''|*[!0-9]*) continue ;; esac
  pids="$pids${pids:+,}$pid" files="$files $root/$pid/cmdline"
done <<EOF
$found
EOF
[ -z "$pids" ] && exit 0
if [ "$status" = 3 ]; then ps -ww -o pid=,args= -p "$pids"; exit 0; fi
grep -s -H -a -z '' $files | awk 'BEGIN { RS = "\0" }
(at = index($0, "/cmdline:")) > 0 {
  pid = substr($0, 1, at - 1); sub(/.*\//, "", pid); word = substr($0, at + 9)
  if (pid in args) args[pid] = args[pid] " " word; else { order[++count] = pid; args[pid] = word }
}
END { for (i = 1; i <= count; i++) if (args[order[i]] != "") { print order[i], args[order[i]]; shown++ }; exit !shown }' ||
  { echo "no arguments could be read for processes $pids" >&2; exit 1; }"#;

/// Whether systemd runs here, then the unit files that name a service or the project
/// (system and user units, local ones, drop-ins, transient ones too: `systemd-run`
/// leaves no file elsewhere; a masked unit, linked to `/dev/null`, can never run and is
/// left out), then the service units running now, the system's and the users', by their
/// cgroups. `$1` is the project directory, then the service names. A merged `/usr` is
/// read once; no `systemctl`: the files say it all, cheaper.
const SYSTEMD_SCRIPT: &str = r#"dir=$1; shift
if [ -d /run/systemd/system ]; then echo '== systemd running'; else echo '== systemd not running'; fi
echo '== unit files'
units=
for d in /etc/systemd/system /run/systemd/system /run/systemd/transient /usr/local/lib/systemd/system /lib/systemd/system /usr/lib/systemd/system \
         /etc/systemd/user /usr/lib/systemd/user "$HOME/.config/systemd/user"; do
  [ -d "$d" ] || continue
  [ "$d" = /usr/lib/systemd/system ] && [ /lib/systemd/system -ef "$d" ] && continue
  units="$units $d/*.service $d/*.service.d/*.conf"
  for service in "$@"; do
    for f in "$d/$service.service" "$d/${service%-aws}.service"; do [ -e "$f" ] && ! [ "$f" -ef /dev/null ] && echo "$f"; done
  done
done
grep -l -s -F -e "$dir" $units /dev/null
if [ -d /run/systemd/system ]; then
  echo '== running units'
  for u in /sys/fs/cgroup/system.slice/*.service /sys/fs/cgroup/systemd/system.slice/*.service \
           /sys/fs/cgroup/user.slice/user-*.slice/user@*.service/app.slice/*.service; do [ -d "$u" ] && echo "${u##*/}"; done
fi
exit 0"#;

fn script(name: &str, text: &str, first: &str) -> RemoteCommand {
    RemoteCommand::new("sh").args(["-c", text, name, first])
}

/// The engine's filter for the project's containers (any profile, any state), as JSON.
pub(crate) fn project_filter(project_dir: &str) -> String {
    serde_json::json!({ "label": [format!("{WORKING_DIR_LABEL}={project_dir}")] }).to_string()
}

impl Probe {
    /// The exact command, with everything it needs from the policy.
    pub fn command(self, policy: &Policy, project_dir: &str) -> RemoteCommand {
        let compose = || {
            RemoteCommand::new("sh")
                .args([
                    "-c",
                    COMPOSE_SCRIPT,
                    "shipshape-compose",
                    "--profile",
                    PROFILE,
                ])
                .in_dir(project_dir)
        };
        let git = || RemoteCommand::new("git").in_dir(project_dir);
        let filter = project_filter(project_dir);
        match self {
            Probe::GitHead => git().args(["rev-parse", "HEAD"]),
            Probe::GitRemoteHead => git().args([
                "ls-remote".to_string(),
                policy.remote.clone(),
                format!("refs/heads/{}", policy.branch),
            ]),
            // Untracked and ignored files too, collapsed by directory: an override file
            // compose merges by itself is one of them.
            Probe::GitStatus => git().args([
                "status",
                "--porcelain=v1",
                "--untracked-files=normal",
                "--ignored=matching",
            ]),
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
            Probe::Containers => script("shipshape-containers", CONTAINERS_SCRIPT, &filter),
            Probe::Images => script("shipshape-images", IMAGES_SCRIPT, &filter),
            Probe::Publishers => RemoteCommand::new("sh").args(["-c", PUBLISHERS_SCRIPT]),
            Probe::Listeners => RemoteCommand::new("ss").args(["-H", "-l", "-t", "-n"]),
            Probe::Processes => script("shipshape-processes", PROCESSES_SCRIPT, "/proc"),
            Probe::Systemd => script("shipshape-systemd", SYSTEMD_SCRIPT, project_dir)
                .args(policy.services.iter().cloned()),
            Probe::EnvStat => {
                script("shipshape-env-stat", ENV_STAT_SCRIPT, &policy.env_file).in_dir(project_dir)
            }
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
            Probe::Logs => script("shipshape-logs", LOGS_SCRIPT, &filter)
                .arg(LOG_LINES.to_string())
                .args(policy.logged_services.iter().cloned()),
            // A missing directory is said as such, in no language of the host's.
            Probe::Migrations => RemoteCommand::new("sh")
                .args([
                    "-c",
                    MIGRATIONS_SCRIPT,
                    "shipshape-migrations",
                    policy.migration_dir(),
                ])
                .in_dir(project_dir),
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn systemd_units_of_a_user_or_a_drop_in_are_found_and_a_masked_one_is_not() {
        let home = tempfile::tempdir().unwrap();
        let user_units = home.path().join(".config/systemd/user");
        std::fs::create_dir_all(user_units.join("trader.service.d")).unwrap();
        std::fs::write(user_units.join("market-updater.service"), "[Service]\n").unwrap();
        std::os::unix::fs::symlink("/dev/null", user_units.join("backend.service")).unwrap();
        let dir = "/srv/atp-under-test";
        std::fs::write(
            user_units.join("trader.service.d/run.conf"),
            format!("[Service]\nWorkingDirectory={dir}\n"),
        )
        .unwrap();
        let out = std::process::Command::new("sh")
            .args(["-c", SYSTEMD_SCRIPT, "shipshape-systemd", dir])
            .args(["backend-aws", "market-updater-aws"])
            .env("HOME", home.path())
            .output()
            .unwrap();
        let said = String::from_utf8_lossy(&out.stdout);
        assert!(said.contains("user/market-updater.service\n"), "{said}");
        assert!(said.contains("trader.service.d/run.conf\n"), "{said}");
        assert!(!said.contains("backend.service"), "{said}");
    }

    #[test]
    fn probes_quote_the_project_dir_and_run_compose_only_twice() {
        let policy = Policy::builtin();
        let dir = "/srv/a b;rm -rf ~";
        let rendered: Vec<String> = Probe::ALL
            .iter()
            .map(|p| p.command(&policy, dir).render())
            .collect();
        let quoted = crate::shell::quote(dir);
        let filter = crate::shell::quote(&project_filter(dir));
        assert!(
            filter.contains("working_dir=/srv/a b;rm -rf ~\""),
            "{filter}"
        );
        for text in &rendered {
            let outside_quotes = text.replace(&quoted, "").replace(&filter, "");
            assert!(!outside_quotes.contains("a b;rm"), "unquoted dir in {text}");
        }
        let compose: Vec<&String> = rendered
            .iter()
            .filter(|t| t.contains("shipshape-compose --profile aws"))
            .collect();
        assert_eq!(compose.len(), 2, "{rendered:#?}");
        assert!(compose
            .iter()
            .all(|t| !t.contains(" -f ") && !t.contains("--file")));
        assert!(rendered.iter().all(|t| !t.contains("restart")));
    }

    /// `PROCESSES_SCRIPT` run over the proc directory `root`.
    fn processes_probe(root: &std::path::Path) -> std::process::Output {
        std::process::Command::new("sh")
            .args(["-c", PROCESSES_SCRIPT, "shipshape-processes"])
            .arg(root)
            .output()
            .unwrap()
    }

    /// Writes `text` at `path` under `root`.
    fn file(root: &std::path::Path, path: &str, text: &str) {
        let path = root.join(path);
        std::fs::create_dir_all(path.parent().unwrap()).unwrap();
        std::fs::write(path, text).unwrap();
    }

    /// Makes `path` under `root` a directory: reading it fails, as reading the file of a
    /// process that ended mid-read does.
    fn unreadable(root: &std::path::Path, path: &str) {
        std::fs::create_dir_all(root.join(path)).unwrap();
    }

    #[test]
    fn the_processes_probe_skips_files_that_fail_to_read() {
        let proc = tempfile::tempdir().unwrap();
        let root = proc.path();
        let (a, b) = ("a".repeat(64), "b".repeat(64));
        file(
            root,
            "100/cgroup",
            &format!("0::/system.slice/docker-{a}.scope\n"),
        );
        file(root, "100/cmdline", "gunicorn\0--workers\x002\0");
        unreadable(root, "200/cgroup");
        file(root, "300/cgroup", &format!("4:memory:/docker/{b}\n"));
        unreadable(root, "300/cmdline");
        file(root, "400/cgroup", "0::/user.slice/session-1.scope\n");
        let out = processes_probe(root);
        let text = String::from_utf8_lossy(&out.stdout);
        assert!(out.status.success(), "{out:?}");
        let sections = super::super::host_state::sections(&text);
        let mut cgroups = sections["cgroups"].clone();
        cgroups.sort();
        assert_eq!(cgroups, [format!("100 {a}"), format!("300 {b}")], "{text}");
        assert_eq!(
            sections["processes"],
            ["100 gunicorn --workers 2"],
            "{text}"
        );
    }

    /// Containers found but not one of their processes' arguments read: the probe fails
    /// rather than report "0 processes", which would pass the check unearned.
    #[test]
    fn the_processes_probe_fails_when_it_reads_no_arguments() {
        let proc = tempfile::tempdir().unwrap();
        let root = proc.path();
        let a = "a".repeat(64);
        file(
            root,
            "100/cgroup",
            &format!("0::/system.slice/docker-{a}.scope\n"),
        );
        unreadable(root, "100/cmdline");
        let out = processes_probe(root);
        assert!(!out.status.success(), "{out:?}");
        let said = String::from_utf8_lossy(&out.stderr);
        assert!(
            said.contains("no arguments could be read for processes 100"),
            "{said}"
        );
    }

    #[test]
    fn the_env_file_is_said_to_be_missing_only_where_it_is_not_there() {
        let dir = tempfile::tempdir().unwrap();
        let stat = |file: &str| {
            let out = std::process::Command::new("sh")
                .args(["-c", ENV_STAT_SCRIPT, "shipshape-env-stat", file])
                .current_dir(dir.path())
                .output()
                .unwrap();
            (
                out.status.code(),
                String::from_utf8_lossy(&out.stdout).into_owned(),
            )
        };
        assert_eq!(stat(".env.aws"), (Some(1), format!("{NO_ENV_FILE}\n")));
        std::fs::write(dir.path().join(".env.aws"), "A=1\n").unwrap();
        let (code, said) = stat(".env.aws");
        assert_eq!(code, Some(0), "{said}");
        assert!(
            said.ends_with(" 4\n") && !said.contains(NO_ENV_FILE),
            "{said}"
        );
        // A link to nowhere is there (compose would fail on it): never "no file".
        std::os::unix::fs::symlink("nowhere", dir.path().join("linked")).unwrap();
        assert!(!stat("linked").1.contains(NO_ENV_FILE));
        // In a directory that cannot be looked into (here: not there), not "no file".
        assert_eq!(stat("config/.env.prod"), (Some(1), String::new()));
        std::fs::create_dir(dir.path().join("config")).unwrap();
        assert_eq!(
            stat("config/.env.prod"),
            (Some(1), format!("{NO_ENV_FILE}\n"))
        );
    }
}
