//! Where Shipshape keeps its own files. One function so the console, the CLI and the
//! tests agree; `SHIPSHAPE_HOME` moves everything (tests give each run its own).

use std::path::{Path, PathBuf};

/// Creates `dir` (and what leads to it) readable by its owner only: the journal holds
/// command output and the pins decide whom Shipshape trusts, so no other account on the
/// machine reads them or writes beside them, whatever the umask. A directory that exists
/// is left as it is.
pub fn create_private_dir(dir: &Path) -> std::io::Result<()> {
    let mut builder = std::fs::DirBuilder::new();
    builder.recursive(true);
    #[cfg(unix)]
    std::os::unix::fs::DirBuilderExt::mode(&mut builder, 0o700);
    builder.create(dir)
}

/// The data directory: settings, known hosts, history. Never secrets.
pub fn data_dir() -> PathBuf {
    if let Some(home) = std::env::var_os("SHIPSHAPE_HOME").filter(|v| !v.is_empty()) {
        return PathBuf::from(home);
    }
    let base = std::env::var_os("XDG_DATA_HOME")
        .filter(|v| !v.is_empty())
        .map(PathBuf::from)
        .or_else(|| std::env::var_os("HOME").map(|h| PathBuf::from(h).join(".local/share")))
        .unwrap_or_else(|| PathBuf::from("."));
    base.join("shipshape")
}

/// The settings file shared by the console (tauri-plugin-store) and the CLI.
pub fn settings_file() -> PathBuf {
    data_dir().join("settings.json")
}

/// The history of earlier versions (JSON lines), imported into the journal once.
pub fn history_file() -> PathBuf {
    data_dir().join("history.jsonl")
}

/// The journal: every operation and verification, hash-chained (SQLite).
pub fn journal_file() -> PathBuf {
    data_dir().join("journal.sqlite3")
}

/// Shipshape's own known-hosts file (pinned host keys), separate from `~/.ssh/known_hosts`.
pub fn known_hosts_file() -> PathBuf {
    data_dir().join("known_hosts")
}

/// What Shipshape learned about each target's host (compose version, services), reused
/// while the host's compose file is unchanged. Not a secret, only a cache.
pub fn facts_cache_file() -> PathBuf {
    data_dir().join("facts.json")
}

/// The diagnostic log's directory (rotated daily, a week kept).
pub fn log_dir() -> PathBuf {
    data_dir().join("logs")
}

#[cfg(test)]
mod tests {
    #[test]
    #[cfg(unix)]
    fn shipshapes_directories_are_its_owners_alone() {
        use std::os::unix::fs::PermissionsExt;
        let base = tempfile::tempdir().unwrap();
        let dir = base.path().join("share/shipshape/logs");
        super::create_private_dir(&dir).unwrap();
        for made in [&dir, &base.path().join("share/shipshape")] {
            let mode = std::fs::metadata(made).unwrap().permissions().mode() & 0o777;
            assert_eq!(mode, 0o700, "{}", made.display());
        }
        super::create_private_dir(&dir).unwrap();
    }
}
