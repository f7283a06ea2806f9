//! Host CPU as the benchmarks count it: the lab sshd's cpuacct cgroup (every process
//! it spawns for a session, exited ones included) plus the Docker daemons' own CPU,
//! which `docker` commands make work on their behalf.

use std::path::{Path, PathBuf};
use std::time::Duration;

use crate::app_processes::cpu_used;
use crate::{run, Lab};

const CGROUP_ROOT: &str = "/sys/fs/cgroup/cpuacct";

/// The lab sshd moved into a cgroup of its own while measured, moved back on drop.
pub struct MeasuredSshd {
    dir: PathBuf,
    pid: String,
}

impl MeasuredSshd {
    /// `None` where there is no writable cpuacct cgroup (needs root and cgroup v1).
    pub fn start(lab: &Lab) -> Option<MeasuredSshd> {
        let pid_file = Path::new(&lab.field("sshd_log")).with_file_name("sshd.pid");
        let pid = std::fs::read_to_string(pid_file).ok()?.trim().to_string();
        let dir = PathBuf::from(CGROUP_ROOT).join("shipshape-bench-sshd");
        std::fs::create_dir_all(&dir).ok()?;
        std::fs::write(dir.join("cgroup.procs"), &pid).ok()?;
        Some(MeasuredSshd { dir, pid })
    }

    fn sshd_nanos(&self) -> u64 {
        std::fs::read_to_string(self.dir.join("cpuacct.usage"))
            .unwrap()
            .trim()
            .parse()
            .unwrap()
    }

    /// Host CPU used so far (sshd's cgroup + the Docker daemons).
    pub fn used(&self) -> Duration {
        Duration::from_nanos(self.sshd_nanos() + docker_daemons_nanos())
    }
}

impl Drop for MeasuredSshd {
    fn drop(&mut self) {
        let _ = std::fs::write(Path::new(CGROUP_ROOT).join("cgroup.procs"), &self.pid);
        let _ = std::fs::remove_dir(&self.dir);
    }
}

/// CPU nanoseconds used so far by the Docker daemons (user + system).
fn docker_daemons_nanos() -> u64 {
    ["dockerd", "containerd"]
        .iter()
        .filter_map(|name| {
            run("pgrep", &["-x", name])
                .lines()
                .next()
                .and_then(|pid| pid.parse().ok())
        })
        .filter_map(cpu_used)
        .map(|used| used.as_nanos() as u64)
        .sum()
}
