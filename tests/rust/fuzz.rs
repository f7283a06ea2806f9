//! Fuzzing every parser of host or user input, on stable Rust (cargo-fuzz needs nightly):
//! each target starts from real samples and feeds its parser mutated copies (bytes
//! flipped, inserted, deleted, repeated, spliced with another sample, sprinkled with the
//! characters parsers trip on: quotes, brackets, NUL, escapes, multi-byte characters,
//! long runs). A panic fails the run with the input that caused it; an input that takes
//! longer than `SHIPSHAPE_FUZZ_HANG_MS` (default 2000) fails it as a hang. Prints one
//! row per target of the proving ground's table: inputs, outcome, time, inputs per second.
//!
//! `SHIPSHAPE_FUZZ_INPUTS` inputs per target (default 1,000,000; the suite runs fewer),
//! `SHIPSHAPE_FUZZ_SEED` to replay a run, `SHIPSHAPE_FUZZ_ONLY` to pick one target.
//! Docker's event stream is not parsed (a line only triggers a re-read), so it has no target.

use std::collections::BTreeMap;
use std::io::Write;
use std::panic::{catch_unwind, AssertUnwindSafe};
use std::path::Path;
use std::sync::atomic::{AtomicU64, Ordering};
use std::sync::{Arc, Mutex};
use std::time::{Duration, Instant};

use shipshape_core::checks::{batch, engine, host_state, redact};
use shipshape_core::deploy::{lock, review};
use shipshape_core::operations as op_output;
use shipshape_core::policy::Policy;
use shipshape_core::settings::JsonFileSettings;
use shipshape_core::{compose, env_file, known_hosts_import, ssh_config, target, terminal};

/// One parser (or a family fed the same text) and the samples it starts from.
struct Target {
    name: &'static str,
    seeds: Vec<&'static str>,
    run: fn(&str, &Scratch),
}

/// A private directory for parsers that read files.
struct Scratch {
    dir: tempfile::TempDir,
}

impl Scratch {
    fn write(&self, name: &str, text: &str) -> std::path::PathBuf {
        let path = self.dir.path().join(name);
        std::fs::write(&path, text).unwrap();
        path
    }
}

const SERVICES: &[&str] = &["backend-aws", "frontend-aws", "db", "market-updater-aws"];

fn targets() -> Vec<Target> {
    vec![
        Target {
            name: "compose ps (JSON)",
            seeds: vec![
                r#"{"Name":"atp-backend-aws-1","Service":"backend-aws","State":"running","Health":"healthy","Image":"127.0.0.1:5000/backend:lab","Status":"Up 2 minutes","Publishers":[{"URL":"127.0.0.1","TargetPort":8002,"PublishedPort":8002,"Protocol":"tcp"}]}
{"Name":"atp-db-1","Service":"db","State":"exited","ExitCode":1,"Image":"imagé:é","Status":"Exited (1)"}"#,
                r#"[{"Name":"a","Service":"frontend-aws","State":"running","Health":""}]"#,
            ],
            run: |text, _| {
                let _ = compose::parse_ps(text, SERVICES);
            },
        },
        Target {
            name: "compose ps (v1 table)",
            seeds: vec![
                "           Name                         Command               State           Ports\n-------------------------------------------------------------------------------------\natp_backend-aws_1   gunicorn --workers 2           Up      127.0.0.1:8002->8002/tcp\natp_db_1            postgres                       Exit 1\n",
            ],
            run: |text, _| {
                let host: Vec<String> = SERVICES.iter().map(|s| s.to_string()).collect();
                let _ = compose::parse_ps_table(text, SERVICES, &host);
            },
        },
        Target {
            name: "ssh_config",
            seeds: vec![
                "Host web prod-*\n  HostName %h.example.com\n  User deploy\n  Port 2222\n  IdentityFile ~/.ssh/id_%r\nMatch host *.example.com user deploy\n  ProxyJump bastion:22\nMatch final\n  Port 22\nHost *\n  IgnoreUnknown UseKeychain\n  Ciphers +aes128-cbc\n",
                "Host=\"web\" 'x y'\nInclude conf.d/*\nHostName \"a\\\" b\"\n",
            ],
            run: |text, scratch| {
                let config = scratch.write("config", text);
                let _ = ssh_config::resolve(&config, "web", scratch.dir.path(), "me");
                let _ = ssh_config::list_aliases_with_home(&config, scratch.dir.path());
            },
        },
        Target {
            name: "known_hosts",
            seeds: vec![
                "[127.0.0.1]:2222 ssh-ed25519 AAAAC3NzaC1lZDI1NTE5AAAAIFakeFakeFakeFakeFakeFakeFakeFakeFakeFake\n|1|F1E1KeoE/eEWhi10WpGv4OdiO6Y=|3988QV0VE8wmZL7suNrYQLITLCg= ssh-rsa AAAAB3Nza\n@revoked * ssh-ed25519 AAAA\n",
            ],
            run: |text, scratch| {
                let file = scratch.write("known_hosts", text);
                let _ = known_hosts_import::keys_for(&file, "127.0.0.1", 2222);
                let _ = known_hosts_import::keys_for(&file, "web.example.com", 22);
            },
        },
        Target {
            name: "policy TOML",
            seeds: vec![
                "services = [\"backend-aws\", \"db\"]\nlogged_services = [\"backend-aws\"]\nproject_dir = \"/srv/app\"\nbranch = \"main\"\nhealth_url = \"http://127.0.0.1:8002/api/health\"\nmigration_glob = \"*.py\"\nproduction_ports = [8002, 3000]\nforbidden_patterns = [\"--reload\"]\ndeadline_read_seconds = 30\n",
            ],
            run: |text, _| {
                let _ = Policy::from_toml(text, "fuzz.toml");
            },
        },
        Target {
            name: "settings",
            seeds: vec![
                r#"{"targets":[{"name":"Local lab","host":"127.0.0.1","port":2222,"user":"ubuntu","project_dir":"/home/ubuntu/app","key":"local-lab","policy_file":null}],"keys":[{"name":"local-lab","public_key":"ssh-ed25519 AAAA","fingerprint":"SHA256:x"}]}"#,
            ],
            run: |text, scratch| {
                let path = scratch.write("settings.json", text);
                if let Ok(settings) = JsonFileSettings::open(&path) {
                    let _ = target::list(&settings);
                    let _ = shipshape_core::keys::list(&settings);
                }
            },
        },
        Target {
            name: ".env.aws",
            seeds: vec![
                "# fake values\nDATABASE_URL=postgres://u:fake@db/x\nexport API_TOKEN='not-a-token'\nEMPTY=\nQUOTED=\"a b # c\"\n  SPACED = v \nBROKEN\n",
                "A: 1 # c\nFAKE_PEM=\"-----BEGIN-----\nZmFrZQ==\n-----END-----\"\nESC=\"x\\\"y\\n${A}\"\nB-C.D='multi\nline'\n",
            ],
            run: |text, _| {
                let _ = env_file::keys(text);
                let _ = env_file::KeyChanges::between(text, "A=1\nB=2\n");
                let redactor = redact::Redactor::from_env_file(text);
                let _ = redactor.redact(text);
                let _ = shipshape_core::dotenv::parse(text);
                let _ = env_file::set(text, "FUZZ_KEY", "fake value");
                let _ = env_file::unset(text, "A");
            },
        },
        Target {
            name: "git output",
            seeds: vec![
                "a1b2c3d4e5f6a7b8c9d0a1b2c3d4e5f6a7b8c9d0\x1fRita\x1f2026-11-26T10:00:00+00:00\x1fFix the health check\n",
                "M\tbackend/app.py\nA\tnew file.txt\nR100\told\tnew\n",
                "a1b2c3d\n",
            ],
            run: |text, _| {
                let _ = op_output::parse_incoming_commits(text);
                let _ = op_output::parse_changed_files(text);
                let _ = op_output::parse_short_hash(text);
            },
        },
        Target {
            name: "host probes",
            seeds: vec![
                "{\"name\":\"atp\",\"services\":{\"backend-aws\":{\"image\":\"r/b:lab\",\"profiles\":[\"aws\"],\"command\":[\"gunicorn\"]}}}",
                "[{\"Id\":\"abc\",\"Name\":\"/atp-db-1\",\"State\":{\"Status\":\"running\",\"StartedAt\":\"2026-11-26T10:00:00Z\"},\"Config\":{\"Labels\":{\"com.docker.compose.service\":\"db\"}},\"HostConfig\":{\"PortBindings\":{\"8002/tcp\":[{\"HostIp\":\"\",\"HostPort\":\"8002\"}]}}}]",
                "LISTEN 0 4096 127.0.0.1:8002 0.0.0.0:*\n==> x <==\nline\n",
                "body\n200\n",
                "HTTP/1.1 200 OK\r\nContent-Type: application/vnd.docker.multiplexed-stream\r\nTransfer-Encoding: chunked\r\n\r\nd\r\n\u{1}\0\0\0\0\0\0\u{5}line\n\r\n0\r\n\r\n",
            ],
            run: |text, _| {
                let _ = host_state::config_services(text);
                let _ = host_state::containers(text);
                let _ = host_state::images(text);
                let _ = host_state::publishers(text);
                let _ = host_state::listeners(text);
                let _ = host_state::sections(text);
                let _ = batch::split(text, "n0nce");
                let _ = engine::decode(text.as_bytes());
                let _ = op_output::parse_health(text);
                let _ = op_output::parse_service_list(text);
                let _ = op_output::parse_migration_list(text, &Policy::builtin());
                let _ = lock::parse_status(text);
                let _ = lock::parse_holder(text);
            },
        },
        Target {
            name: "deploy review",
            seeds: vec![
                "services:\n  backend-aws:\n    image: 127.0.0.1:5000/backend:lab\n    command:\n      - \"2\"\n",
                "market-updater-aws sha256:aaaa sha256:bbbb\nbackend-aws sha256:cccc -\n",
            ],
            run: |text, _| {
                let _ = review::service_images(text);
                let _ = review::compose_file(text);
                let _ = review::env_key_changes(text, ".env.aws");
                let mut refs = BTreeMap::new();
                refs.insert("backend-aws".to_string(), "r/b:lab".to_string());
                let _ = review::image_changes(text, &refs);
                let rows = shipshape_core::deploy::compose_diff::side_by_side(text, "services: {}\n");
                let _ = shipshape_core::deploy::compose_diff::unified(&rows);
            },
        },
        Target {
            name: "terminal text",
            seeds: vec!["\x1b]0;title\x07\x1b[2J\x1b[31mred\x1b[0m\r\nok é 😀\u{202e}\x00\u{9b}"],
            run: |text, _| {
                let _ = terminal::printable(text);
            },
        },
    ]
}

/// xorshift64*: small, fast and replayable from its seed.
struct Rng(u64);

impl Rng {
    fn next(&mut self) -> u64 {
        self.0 ^= self.0 >> 12;
        self.0 ^= self.0 << 25;
        self.0 ^= self.0 >> 27;
        self.0.wrapping_mul(0x2545_f491_4f6c_dd1d)
    }
    fn below(&mut self, n: usize) -> usize {
        (self.next() % n.max(1) as u64) as usize
    }
}

const TOKENS: &[&[u8]] = &[
    b"\"",
    b"'",
    b"\\",
    b"{",
    b"}",
    b"[",
    b"]",
    b":",
    b",",
    b"=",
    b"\n",
    b"\r\n",
    b"\t",
    b" ",
    b"\0",
    b"#",
    b"%",
    b"*",
    b"!",
    b"\x1b[",
    b"\x1b]",
    b"\x7f",
    b"\xc3\xa9",
    b"\xf0\x9f\x98\x80",
    b"\xff",
    b"\xe2\x80\xae",
    b"null",
    b"true",
    b"-1",
    b"99999999999999999999",
    b"1e999",
    b"Host ",
    b"Match ",
    b"Include ",
    b"[[",
    b"]]",
    b"==>",
    b"<==",
];

fn mutate(rng: &mut Rng, seeds: &[&str], out: &mut Vec<u8>) {
    out.clear();
    out.extend_from_slice(seeds[rng.below(seeds.len())].as_bytes());
    for _ in 0..1 + rng.below(8) {
        let at = rng.below(out.len() + 1);
        match rng.below(8) {
            0 if !out.is_empty() => {
                let i = rng.below(out.len());
                out[i] ^= 1 << rng.below(8);
            }
            1 if !out.is_empty() => {
                let end = (at + 1 + rng.below(16)).min(out.len());
                out.drain(at.min(end)..end);
            }
            2 => {
                let token = TOKENS[rng.below(TOKENS.len())];
                out.splice(at..at, token.iter().copied());
            }
            3 if !out.is_empty() => {
                // Repeat a slice: long lines, deep nesting.
                let start = rng.below(out.len());
                let end = (start + 1 + rng.below(32)).min(out.len());
                let chunk = out[start..end].repeat(1 + rng.below(64));
                out.splice(at..at, chunk);
            }
            4 => {
                let other = seeds[rng.below(seeds.len())].as_bytes();
                let from = rng.below(other.len() + 1);
                out.truncate(at);
                out.extend_from_slice(&other[from..]);
            }
            5 => out.truncate(at),
            6 => {
                let byte = rng.next() as u8;
                out.insert(at, byte);
            }
            _ => {
                let token = TOKENS[rng.below(TOKENS.len())];
                out.splice(at..at, token.repeat(1 + rng.below(200)));
            }
        }
    }
}

fn main() {
    let per_target: u64 = env_number("SHIPSHAPE_FUZZ_INPUTS", 1_000_000);
    let clock = std::time::SystemTime::now().duration_since(std::time::UNIX_EPOCH);
    let seed: u64 = env_number(
        "SHIPSHAPE_FUZZ_SEED",
        clock.map_or(7, |d| d.as_nanos() as u64),
    );
    let hang = Duration::from_millis(env_number("SHIPSHAPE_FUZZ_HANG_MS", 2000));
    let only = std::env::var("SHIPSHAPE_FUZZ_ONLY").ok();
    std::panic::set_hook(Box::new(|_| {})); // panics are reported below, with their input
    println!("fuzz: {per_target} inputs per target, seed {seed} (SHIPSHAPE_FUZZ_SEED replays it)");
    println!("| fault | inputs tried | outcome | data lost |");
    println!("| --- | --- | --- | --- |");

    // The input in progress and when it started, for the watchdog.
    let current: Arc<Mutex<(Vec<u8>, &'static str)>> = Arc::new(Mutex::new((Vec::new(), "")));
    let started = Arc::new(AtomicU64::new(0));
    let epoch = Instant::now();
    {
        let (current, started) = (current.clone(), started.clone());
        std::thread::spawn(move || loop {
            std::thread::sleep(Duration::from_millis(100));
            let since = started.load(Ordering::SeqCst);
            if since == 0 {
                continue;
            }
            // `since` may be a millisecond ahead of this clock read: a plain subtraction
            // panicked here once, silently (the panic hook is quiet), and the watchdog was
            // gone when an input then hung.
            let elapsed = (epoch.elapsed().as_millis() as u64).saturating_sub(since);
            if elapsed > hang.as_millis() as u64 {
                let (input, name) = current.lock().unwrap().clone();
                println!("| fuzzed input: {name} | | HANG ({elapsed} ms on one input) | 0 |");
                report_input("hang", name, &input);
                std::process::exit(1);
            }
        });
    }

    let scratch = Scratch {
        dir: tempfile::tempdir_in(fast_dir()).unwrap(),
    };
    let mut rng = Rng(seed | 1);
    let mut failed = false;
    let mut input = Vec::new();
    for target in targets() {
        if only.as_deref().is_some_and(|o| !target.name.contains(o)) {
            continue;
        }
        let t0 = Instant::now();
        let mut panics = 0;
        for n in 0..per_target {
            match n < target.seeds.len() as u64 {
                true => {
                    input.clear();
                    input.extend_from_slice(target.seeds[n as usize].as_bytes());
                }
                false => mutate(&mut rng, &target.seeds, &mut input),
            }
            let text = String::from_utf8_lossy(&input);
            {
                let mut now = current.lock().unwrap();
                now.0.clone_from(&input);
                now.1 = target.name;
            }
            started.store(epoch.elapsed().as_millis() as u64 + 1, Ordering::SeqCst);
            let outcome = catch_unwind(AssertUnwindSafe(|| (target.run)(&text, &scratch)));
            started.store(0, Ordering::SeqCst);
            if outcome.is_err() {
                panics += 1;
                if panics == 1 {
                    report_input("panic", target.name, &input);
                }
            }
        }
        let seconds = t0.elapsed().as_secs_f64();
        println!(
            "| fuzzed input: {} | {per_target} | {panics} panics, 0 hangs, in {seconds:.1} s ({:.0} inputs/s) | 0 |",
            target.name,
            per_target as f64 / seconds.max(1e-9)
        );
        failed |= panics > 0;
    }
    std::io::stdout().flush().ok();
    if failed {
        std::process::exit(1);
    }
}

/// Prints an input that broke a parser, escaped, so it can become a unit test.
fn report_input(what: &str, name: &str, input: &[u8]) {
    eprintln!(
        "fuzz: {what} in {name} on this input ({} bytes):",
        input.len()
    );
    eprintln!(
        "{}",
        input
            .escape_ascii()
            .to_string()
            .chars()
            .take(4000)
            .collect::<String>()
    );
}

fn env_number(name: &str, default: u64) -> u64 {
    std::env::var(name)
        .ok()
        .and_then(|v| v.replace(['_', ','], "").parse().ok())
        .unwrap_or(default)
}

/// /dev/shm when there is one: file-reading parsers are fed a million files.
fn fast_dir() -> &'static Path {
    let shm = Path::new("/dev/shm");
    match shm.is_dir() {
        true => shm,
        false => Path::new("/tmp"),
    }
}
