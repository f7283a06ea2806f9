//! A desktop app as the operating system sees it: all its processes (a Tauri window is a
//! main process and WebKit's web and network processes, children of it) and the memory
//! they hold together, and an X display of a test's own to show it on. The start-up
//! benchmark measures the console and a blank window this way.

use std::path::{Path, PathBuf};
use std::process::{Child, Command, Stdio};
use std::time::Duration;

/// The proportional memory of a process and all its descendants, by process.
#[derive(Clone)]
pub struct Memory(Vec<(String, f64)>);

impl Memory {
    pub fn of_tree(root: u32) -> Memory {
        let mut each = vec![(command_name(root), pss_mb(root))];
        for (pid, name) in descendants(root) {
            each.push((name, pss_mb(pid)));
        }
        Memory(each)
    }

    pub fn total_mb(&self) -> f64 {
        self.0.iter().map(|(_, mb)| mb).sum()
    }

    pub fn describe(&self) -> String {
        let parts: Vec<String> = self
            .0
            .iter()
            .map(|(name, mb)| format!("{name} {mb:.0} MB"))
            .collect();
        parts.join(", ")
    }
}

/// Where the PSS of `root` and its descendants goes, by what the memory is: the part
/// the console makes (its binary, the heap and anonymous memory of its processes: the
/// page, its scripts' data, buffers) and the libraries WebKitGTK brings with it, which
/// any Tauri window on this system pays too. One line, largest first.
pub fn pss_by_kind(root: u32) -> String {
    let kind = |mapping: &str| -> &'static str {
        let file = mapping.rsplit('/').next().unwrap_or(mapping);
        match file {
            "" | "[heap]" | "[stack]" => "heap and anonymous memory (pages, scripts, buffers)",
            f if f.starts_with("[anon") || f.starts_with("memfd:") => {
                "heap and anonymous memory (pages, scripts, buffers)"
            }
            f if f.starts_with("libwebkit2gtk") || f.starts_with("libjavascriptcoregtk") => {
                "WebKitGTK and JavaScriptCore"
            }
            f if f.starts_with("libLLVM") || f.contains("_dri.so") || f.contains("mesa") => {
                "Mesa and LLVM (GL drawn by the CPU: no GPU here)"
            }
            f if f.starts_with("libflite") => "flite's voices (linked by WebKitGTK)",
            f if f.starts_with("SYSV") => "shared with the X server (window pixels)",
            f if f.starts_with("shipshape-console") => "the console's own binary",
            f if f.contains(".so") => "other system libraries (GTK, ICU, GLib...)",
            _ => "other mappings",
        }
    };
    let mut kb: Vec<(&'static str, u64)> = Vec::new();
    let pids = std::iter::once(root).chain(descendants(root).into_iter().map(|(pid, _)| pid));
    for pid in pids {
        let smaps = std::fs::read_to_string(format!("/proc/{pid}/smaps")).unwrap_or_default();
        let mut current = "other mappings";
        for line in smaps.lines() {
            let mut words = line.split_whitespace();
            let first = words.next().unwrap_or_default();
            if first.contains('-') && first.chars().all(|c| c.is_ascii_hexdigit() || c == '-') {
                current = kind(words.nth(4).unwrap_or_default());
            } else if let Some(value) = line.strip_prefix("Pss:") {
                let value: u64 = value
                    .trim()
                    .trim_end_matches("kB")
                    .trim()
                    .parse()
                    .unwrap_or(0);
                match kb.iter_mut().find(|(k, _)| *k == current) {
                    Some((_, sum)) => *sum += value,
                    None => kb.push((current, value)),
                }
            }
        }
    }
    kb.sort_by_key(|(_, value)| std::cmp::Reverse(*value));
    let parts: Vec<String> = kb
        .iter()
        .map(|(k, v)| format!("{k} {:.0} MB", *v as f64 / 1024.0))
        .collect();
    parts.join(", ")
}

/// Every process below `root` (WebKit's web and network processes, and theirs).
pub fn descendants(root: u32) -> Vec<(u32, String)> {
    let mut parents = Vec::new();
    for entry in std::fs::read_dir("/proc").unwrap().flatten() {
        let Ok(pid) = entry.file_name().to_string_lossy().parse::<u32>() else {
            continue;
        };
        let Ok(stat) = std::fs::read_to_string(format!("/proc/{pid}/stat")) else {
            continue;
        };
        // "pid (comm) state ppid ...": the command name may hold spaces and parentheses.
        let Some(after) = stat.rfind(')').map(|at| &stat[at + 2..]) else {
            continue;
        };
        if let Some(ppid) = after.split(' ').nth(1).and_then(|p| p.parse::<u32>().ok()) {
            parents.push((pid, ppid));
        }
    }
    let mut found = Vec::new();
    let mut frontier = vec![root];
    while let Some(parent) = frontier.pop() {
        for &(pid, ppid) in &parents {
            if ppid == parent {
                found.push((pid, command_name(pid)));
                frontier.push(pid);
            }
        }
    }
    found
}

/// CPU time (user + system) used so far by a process and all its descendants.
pub fn cpu_of_tree(root: u32) -> Duration {
    std::iter::once(root)
        .chain(descendants(root).into_iter().map(|(pid, _)| pid))
        .filter_map(cpu_used)
        .sum()
}

/// CPU time (user + system) a running process has used so far.
pub fn cpu_used(pid: u32) -> Option<Duration> {
    const TICKS_PER_SECOND: u64 = 100; // USER_HZ on Linux
    let stat = std::fs::read_to_string(format!("/proc/{pid}/stat")).ok()?;
    // After "pid (comm) ": state is field 0, utime 11, stime 12.
    let fields: Vec<&str> = stat.rsplit(')').next()?.split_whitespace().collect();
    let ticks = fields.get(11)?.parse::<u64>().ok()? + fields.get(12)?.parse::<u64>().ok()?;
    Some(Duration::from_millis(ticks * 1000 / TICKS_PER_SECOND))
}

fn command_name(pid: u32) -> String {
    std::fs::read_to_string(format!("/proc/{pid}/comm"))
        .map(|c| c.trim().to_string())
        .unwrap_or_default()
}

fn pss_mb(pid: u32) -> f64 {
    let rollup = std::fs::read_to_string(format!("/proc/{pid}/smaps_rollup")).unwrap_or_default();
    let kb = rollup
        .lines()
        .find_map(|l| l.strip_prefix("Pss:"))
        .and_then(|v| v.trim().trim_end_matches("kB").trim().parse::<f64>().ok())
        .unwrap_or(0.0);
    kb / 1024.0
}

/// An Xvfb display of the benchmark's own: nothing else draws there, and nothing drawn
/// there is mistaken for another test's window.
pub struct PrivateDisplay {
    pub name: String,
    server: Child,
}

impl PrivateDisplay {
    pub fn start() -> PrivateDisplay {
        // From a place set by the process id, so the soak and the rounds (run side by
        // side) look in different places; a display whose lock or socket exists is taken.
        let start = 140 + std::process::id() % 50;
        let number = (start..start + 60)
            .find(|n| {
                !Path::new(&format!("/tmp/.X11-unix/X{n}")).exists()
                    && !Path::new(&format!("/tmp/.X{n}-lock")).exists()
            })
            .unwrap();
        let name = format!(":{number}");
        let server = Command::new("Xvfb")
            .args([
                name.as_str(),
                "-screen",
                "0",
                "1280x800x24",
                "-nolisten",
                "tcp",
            ])
            .stdout(Stdio::null())
            .stderr(Stdio::null())
            .spawn()
            .expect("Xvfb starts");
        let socket = format!("/tmp/.X11-unix/X{number}");
        assert!(crate::wait_until(Duration::from_secs(10), || {
            Path::new(&socket).exists()
        }));
        PrivateDisplay { name, server }
    }
}

impl Drop for PrivateDisplay {
    /// SIGTERM, so Xvfb removes its socket and lock file (SIGKILL would leave them, and
    /// every later run would skip that display number); SIGKILL only if it lingers.
    fn drop(&mut self) {
        let _ = Command::new("kill")
            .arg(self.server.id().to_string())
            .status();
        let ended = crate::wait_until(Duration::from_secs(5), || {
            self.server.try_wait().ok().flatten().is_some()
        });
        if !ended {
            let _ = self.server.kill();
            let _ = self.server.wait();
        }
    }
}

/// A screenshot of `display` in `SHIPSHAPE_BENCH_SCREENSHOTS` (default the temp dir),
/// its path printed with `what` it shows.
pub fn screenshot(display: &str, file: &str, what: &str) {
    let dir = std::env::var_os("SHIPSHAPE_BENCH_SCREENSHOTS")
        .map(PathBuf::from)
        .unwrap_or_else(std::env::temp_dir);
    let path = dir.join(file);
    let taken = Command::new("import")
        .args(["-window", "root"])
        .arg(&path)
        .env("DISPLAY", display)
        .status()
        .is_ok_and(|s| s.success());
    match taken {
        true => println!("  screenshot of {what}: {}", path.display()),
        false => println!("  no screenshot of {what} (ImageMagick's `import` is missing)"),
    }
}

/// Runs `program` on `display` (xdotool, xprop), which must succeed; its output.
pub fn run_ok(program: &str, args: &[&str], display: &str) -> String {
    let out = Command::new(program)
        .args(args)
        .env("DISPLAY", display)
        .output()
        .expect("runs");
    assert!(
        out.status.success(),
        "{program} {args:?}: {}",
        String::from_utf8_lossy(&out.stderr)
    );
    String::from_utf8_lossy(&out.stdout).into_owned()
}
