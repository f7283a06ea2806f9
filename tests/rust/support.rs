//! What the lab tests share: the lab's descriptor, the `shipshape` binary run with a
//! data dir of its own, and a lock so tests that read sshd's log or stop services never
//! overlap.

use std::path::{Path, PathBuf};
use std::process::{Command, Output};
use std::sync::{Mutex, MutexGuard};

use serde_json::Value;

pub mod app_processes;
pub mod host_cpu;
pub mod verification;

static LAB_LOCK: Mutex<()> = Mutex::new(());

/// Held while a test uses the lab's shared state (its sshd logs, its containers): the
/// mutex orders the tests of one binary, the file lock those of other processes (another
/// test binary, a benchmark, a developer's second run).
pub struct LabGuard {
    _in_process: MutexGuard<'static, ()>,
    _across_processes: Option<std::fs::File>,
}

/// Serializes tests that share the lab's state.
pub fn exclusive() -> LabGuard {
    let in_process = LAB_LOCK
        .lock()
        .unwrap_or_else(|poisoned| poisoned.into_inner());
    let lock_file = std::env::var_os("SHIPSHAPE_LAB")
        .map(PathBuf::from)
        .and_then(|descriptor| descriptor.parent().map(|dir| dir.join("tests.lock")))
        .and_then(|path| {
            std::fs::OpenOptions::new()
                .create(true)
                .truncate(false)
                .write(true)
                .open(path)
                .ok()
        });
    if let Some(file) = &lock_file {
        file.lock().expect("the lab's test lock can be taken");
    }
    LabGuard {
        _in_process: in_process,
        _across_processes: lock_file,
    }
}

/// The lab as `tests/lab/lab.sh up` described it in `lab.json`.
pub struct Lab {
    pub descriptor: PathBuf,
    pub json: Value,
}

impl Lab {
    pub fn from_env() -> Lab {
        let descriptor = std::env::var_os("SHIPSHAPE_LAB").map(PathBuf::from).expect(
            "SHIPSHAPE_LAB is not set: run these tests through tests/run-all.sh, which starts the lab",
        );
        let text = std::fs::read_to_string(&descriptor).expect("the lab descriptor is readable");
        Lab {
            descriptor,
            json: serde_json::from_str(&text).expect("the lab descriptor is JSON"),
        }
    }

    pub fn field(&self, name: &str) -> String {
        match &self.json[name] {
            Value::String(s) => s.clone(),
            other => other.to_string(),
        }
    }

    /// The project's checkout on the lab host.
    pub fn project_dir(&self) -> PathBuf {
        PathBuf::from(self.field("project_dir"))
    }

    /// The lab's state directory (host keys, logs, pid files).
    pub fn dir(&self) -> PathBuf {
        self.sshd_log().parent().unwrap().to_path_buf()
    }

    /// A known_hosts line for `[127.0.0.1]:port` with the lab host key in `ssh/FILE`.
    pub fn known_hosts_line(&self, port: &str, public_key_file: &str) -> String {
        let key = std::fs::read_to_string(self.dir().join("ssh").join(public_key_file)).unwrap();
        let fields: Vec<&str> = key.split_whitespace().take(2).collect();
        format!("[127.0.0.1]:{port} {}\n", fields.join(" "))
    }

    pub fn sshd_log(&self) -> PathBuf {
        PathBuf::from(self.field("sshd_log"))
    }

    /// The container of `service` in the lab project, as Docker names it.
    pub fn container(&self, service: &str) -> String {
        let project = Path::new(&self.field("project_dir"))
            .file_name()
            .unwrap()
            .to_string_lossy()
            .into_owned();
        format!("{project}-{service}-1")
    }
}

/// The `shipshape` CLI built beside this test binary (tests/run-all.sh builds it).
/// A key name of this run's own: the keyring outlives a run (a developer's does), and
/// `key generate` never replaces a key it holds, so a fixed name would be refused the
/// second time.
pub fn run_key(base: &str) -> String {
    format!("{base}-{}", std::process::id())
}

pub fn shipshape_binary() -> PathBuf {
    let exe = std::env::current_exe().unwrap();
    let dir = exe.parent().and_then(Path::parent).unwrap();
    let binary = dir.join("shipshape");
    assert!(
        binary.exists(),
        "{} is missing: run `cargo build -p shipshape-cli` first",
        binary.display()
    );
    binary
}

/// The release `shipshape` beside the debug one (`target/release/`), which benchmarks
/// measure; `SHIPSHAPE_BENCH_CLI` names another.
pub fn release_cli() -> PathBuf {
    if let Some(path) = std::env::var_os("SHIPSHAPE_BENCH_CLI") {
        return PathBuf::from(path);
    }
    let exe = std::env::current_exe().unwrap();
    let target_dir = exe.parent().and_then(Path::parent).unwrap();
    target_dir.join("release").join("shipshape")
}

/// The deploy record a `shipshape deploy` that finished names on stderr
/// ("NAME: done (record ID).").
pub fn finished_deploy_id(said: &str) -> String {
    said.split("done (record ")
        .nth(1)
        .and_then(|rest| rest.split(')').next())
        .unwrap_or_else(|| panic!("no finished deploy's record in {said}"))
        .to_string()
}

/// The commands a `--dry-run` or a run printed, by their first lines (`$ ...`).
pub fn printed_commands(said: &str) -> Vec<String> {
    said.lines()
        .filter_map(|l| l.trim_start().strip_prefix("$ "))
        .map(str::to_string)
        .collect()
}

/// Every command a dry run showed was run, in that order, as the run printed them.
pub fn assert_ran_as_planned(planned: &[String], said: &str) {
    assert!(!planned.is_empty(), "the dry run showed no command");
    let ran = printed_commands(said);
    let mut next = 0;
    for command in planned {
        match ran[next..].iter().position(|r| r == command) {
            Some(i) => next += i + 1,
            None => {
                panic!("shown by the dry run, not run (in that order): {command}\nran:\n{said}")
            }
        }
    }
}

/// The id of the image `reference` names on this machine's engine.
pub fn image_id(reference: &str) -> String {
    run("docker", &["image", "inspect", "-f", "{{.Id}}", reference])
        .trim()
        .to_string()
}

/// The id of the image the lab's `service` container runs.
pub fn running_image(lab: &Lab, service: &str) -> String {
    let container = lab.container(service);
    run("docker", &["inspect", "-f", "{{.Image}}", &container])
        .trim()
        .to_string()
}

/// The SHA-256 of a file on this machine, as `sha256sum` prints it.
pub fn sha256_of(path: &Path) -> String {
    run("sha256sum", &[path.to_str().unwrap()])
        .split_whitespace()
        .next()
        .unwrap()
        .to_string()
}

/// Runs `shipshape ARGS` with its own data dir `home`.
pub fn shipshape(lab: &Lab, home: &Path, args: &[&str]) -> Output {
    shipshape_with(lab, home, args, |_| {})
}

pub fn shipshape_with(
    lab: &Lab,
    home: &Path,
    args: &[&str],
    adjust: impl FnOnce(&mut Command),
) -> Output {
    let mut command = cli_command(&shipshape_binary(), lab, home, args);
    adjust(&mut command);
    command.output().expect("shipshape runs")
}

/// `cli ARGS` (a debug or release `shipshape`) with its own data dir `home`, pointed at
/// the lab, reading nothing from the terminal.
pub fn cli_command(cli: &Path, lab: &Lab, home: &Path, args: &[&str]) -> Command {
    let mut command = Command::new(cli);
    command
        .args(args)
        .env("SHIPSHAPE_HOME", home)
        .env("SHIPSHAPE_LAB", &lab.descriptor)
        .stdin(std::process::Stdio::null());
    command
}

/// `shipshape ARGS` started with its own data dir `home`, its output piped, for a test
/// that acts on it while it runs (kills it, freezes its host, cuts its packets).
pub fn spawn_cli(lab: &Lab, home: &Path, args: &[&str]) -> std::process::Child {
    cli_command(&shipshape_binary(), lab, home, args)
        .stdout(std::process::Stdio::piped())
        .stderr(std::process::Stdio::piped())
        .spawn()
        .expect("shipshape starts")
}

/// Adds target `name` on this machine's `port` (the lab's sshd, or its rebuilt or
/// hostile twin) with the lab's key and `extra` arguments (`--dir`, `--policy`), with
/// `cli` (the debug build, or the release one a benchmark measures).
pub fn add_lab_target(cli: &Path, lab: &Lab, home: &Path, name: &str, port: &str, extra: &[&str]) {
    let mut args = vec!["target", "add", name, "--host", "127.0.0.1", "--port", port];
    args.extend(["--key", "local-lab"]);
    args.extend_from_slice(extra);
    let out = cli_command(cli, lab, home, &args)
        .output()
        .expect("shipshape runs");
    assert!(out.status.success(), "{args:?}: {}", text(&out.stderr));
}

/// [`add_lab_target`], then its host key pinned: the lab's ed25519 key, which every
/// lab sshd holds.
pub fn add_trusted_lab_target(
    cli: &Path,
    lab: &Lab,
    home: &Path,
    name: &str,
    port: &str,
    extra: &[&str],
) {
    add_lab_target(cli, lab, home, name, port, extra);
    let fingerprint = lab.field("host_key_fingerprint");
    let args = ["target", "trust", name, "--fingerprint", &fingerprint];
    let out = cli_command(cli, lab, home, &args)
        .output()
        .expect("shipshape runs");
    assert!(out.status.success(), "{args:?}: {}", text(&out.stderr));
}

/// The lab user's processes on the host whose command line matches `pattern` (pgrep's
/// extended regex), one `pid command` line each: what Shipshape left running there.
pub fn host_processes(lab: &Lab, pattern: &str) -> Vec<String> {
    let out = Command::new("pgrep")
        .args(["-u", &lab.field("user"), "-af", pattern])
        .output()
        .expect("pgrep runs");
    text(&out.stdout)
        .lines()
        .filter(|l| !l.is_empty())
        .map(str::to_string)
        .collect()
}

/// Polls `done` every 100 ms for up to `limit`; whether it came true.
pub fn wait_until(limit: std::time::Duration, mut done: impl FnMut() -> bool) -> bool {
    let start = std::time::Instant::now();
    while start.elapsed() < limit {
        if done() {
            return true;
        }
        std::thread::sleep(std::time::Duration::from_millis(100));
    }
    done()
}

/// The newest deploy or rollback record of `shipshape history --json`.
pub fn newest_deploy_record(lab: &Lab, home: &Path) -> Value {
    let history: Value =
        serde_json::from_str(&ok(&shipshape(lab, home, &["history", "--json"]))).unwrap();
    history
        .as_array()
        .unwrap()
        .iter()
        .rfind(|r| r["kind"] == "deploy")
        .cloned()
        .expect("a deploy record")
}

/// Asserts that `shipshape` succeeded and returns its standard output.
pub fn ok(output: &Output) -> String {
    assert!(
        output.status.success(),
        "exit {:?}\nstdout: {}\nstderr: {}",
        output.status.code(),
        text(&output.stdout),
        text(&output.stderr)
    );
    text(&output.stdout)
}

pub fn text(bytes: &[u8]) -> String {
    String::from_utf8_lossy(bytes).into_owned()
}

/// Runs a command on this machine (docker, as the lab's operator would) and returns stdout.
pub fn run(program: &str, args: &[&str]) -> String {
    let output = Command::new(program)
        .args(args)
        .output()
        .expect("command runs");
    assert!(
        output.status.success(),
        "{program} {args:?} failed: {}",
        text(&output.stderr)
    );
    text(&output.stdout)
}

/// Every file below `dir`, recursively.
pub fn files_below(dir: &Path) -> Vec<PathBuf> {
    let mut files = Vec::new();
    let mut pending = vec![dir.to_path_buf()];
    while let Some(dir) = pending.pop() {
        for entry in std::fs::read_dir(&dir).into_iter().flatten().flatten() {
            let path = entry.path();
            if path.is_dir() {
                pending.push(path);
            } else {
                files.push(path);
            }
        }
    }
    files
}

/// Adds a row to the proving ground's table (`tests/run-all.sh` names the file in
/// `SHIPSHAPE_PROVING_GROUND`; outside it, the row is only printed).
pub fn proving_ground_row(row: &str) {
    println!("{row}");
    if let Some(path) = std::env::var_os("SHIPSHAPE_PROVING_GROUND") {
        use std::io::Write;
        let mut file = std::fs::OpenOptions::new()
            .create(true)
            .append(true)
            .open(path)
            .expect("the proving ground's table can be written");
        writeln!(file, "{row}").expect("the proving ground's table can be written");
    }
}

/// Public keys appended to the lab user's authorized_keys for one test, removed on drop.
pub struct AuthorizedKeys {
    path: PathBuf,
    lines: Vec<String>,
}

impl AuthorizedKeys {
    pub fn install(lab: &Lab, public_key_files: &[&Path]) -> AuthorizedKeys {
        let path = PathBuf::from(lab.field("authorized_keys"));
        let lines: Vec<String> = public_key_files
            .iter()
            .map(|f| std::fs::read_to_string(f).unwrap().trim().to_string())
            .collect();
        let mut content = std::fs::read_to_string(&path).unwrap();
        for line in &lines {
            content.push_str(line);
            content.push('\n');
        }
        std::fs::write(&path, content).unwrap(); // rewriting in place keeps owner and mode
        AuthorizedKeys { path, lines }
    }
}

impl Drop for AuthorizedKeys {
    fn drop(&mut self) {
        if let Ok(content) = std::fs::read_to_string(&self.path) {
            let kept: String = content
                .lines()
                .filter(|l| !self.lines.iter().any(|added| added == l.trim()))
                .map(|l| format!("{l}\n"))
                .collect();
            let _ = std::fs::write(&self.path, kept);
        }
    }
}

/// A console on a scratch data dir with the lab's target set up (its key in the keyring,
/// its host key pinned) and connected, for the benchmarks.
pub struct LabConsole {
    pub runtime: tokio::runtime::Runtime,
    pub console: shipshape_core::Console,
    /// The lab target's name.
    pub target: String,
    /// The scratch data dir: bind it (`data: _data`) so it outlives the console.
    pub data: tempfile::TempDir,
}

pub fn lab_console() -> LabConsole {
    let data = tempfile::tempdir().unwrap();
    std::env::set_var("SHIPSHAPE_HOME", data.path());
    let runtime = tokio::runtime::Runtime::new().unwrap();
    let settings =
        shipshape_core::settings::JsonFileSettings::open(data.path().join("settings.json"))
            .unwrap();
    let console = shipshape_core::Console::new(std::sync::Arc::new(settings));
    let target = runtime
        .block_on(console.ensure_lab_from_env())
        .unwrap()
        .expect("SHIPSHAPE_LAB names the lab")
        .name;
    runtime.block_on(console.connect(&target)).unwrap();
    LabConsole {
        runtime,
        console,
        target,
        data,
    }
}

/// `shipshape deploy` of the lab target in the background, with `extra` arguments, its
/// output piped.
pub fn spawn_deploy(lab: &Lab, home: &Path, message: &str, extra: &[&str]) -> std::process::Child {
    Command::new(shipshape_binary())
        .args([
            "deploy",
            verification::TARGET,
            "--yes",
            "--message",
            message,
        ])
        .args(extra)
        .env("SHIPSHAPE_HOME", home)
        .env("SHIPSHAPE_LAB", &lab.descriptor)
        .stdout(std::process::Stdio::piped())
        .stderr(std::process::Stdio::piped())
        .spawn()
        .unwrap()
}
