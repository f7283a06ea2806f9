//! Saving the viewer's lines to a file ("download the full log"). The UI names no path:
//! the adapter passes the user's Downloads directory and the name is made here from the
//! target, the service and the time, so no request can write anywhere else or replace a
//! file. Escape sequences are removed, so the saved log is plain text that is safe to
//! `cat` in a terminal.

use std::io::Write;
use std::path::{Path, PathBuf};
use std::time::SystemTime;

use super::super::Console;
use crate::error::{Error, Result};
use crate::operations::validate_service;

/// The longest a name part (target or service) may be in a file name.
const NAME_PART_MAX: usize = 48;

impl Console {
    /// Writes `lines` to a new file in `dir` named
    /// `shipshape-TARGET-SERVICE-YYYYMMDDTHHMMSSZ.log` (with `-2`, `-3`... if taken),
    /// readable by the operator only, and returns its path.
    pub fn save_log(
        &self,
        dir: &Path,
        target: &str,
        service: &str,
        lines: &[String],
    ) -> Result<PathBuf> {
        let (target, policy) = self.target_and_policy(target)?;
        validate_service(service, &policy, &policy.services)?;
        std::fs::create_dir_all(dir).map_err(|e| Error::storage(dir, e))?;
        let stem = log_file_stem(&target.name, service, SystemTime::now());
        let mut text = String::with_capacity(lines.iter().map(|l| l.len() + 1).sum());
        for line in lines {
            text.push_str(&crate::terminal::plain_text(line));
            text.push('\n');
        }
        for attempt in 1..=100 {
            let name = match attempt {
                1 => format!("{stem}.log"),
                n => format!("{stem}-{n}.log"),
            };
            let path = dir.join(name);
            match create_private(&path) {
                Ok(mut file) => {
                    file.write_all(text.as_bytes())
                        .and_then(|()| file.sync_all())
                        .map_err(|e| Error::storage(&path, e))?;
                    return Ok(path);
                }
                Err(e) if e.kind() == std::io::ErrorKind::AlreadyExists => continue,
                Err(e) => return Err(Error::storage(&path, e)),
            }
        }
        Err(Error::storage(dir, "too many log files with the same name"))
    }
}

fn create_private(path: &Path) -> std::io::Result<std::fs::File> {
    let mut options = std::fs::OpenOptions::new();
    options.write(true).create_new(true);
    #[cfg(unix)]
    std::os::unix::fs::OpenOptionsExt::mode(&mut options, 0o600);
    options.open(path)
}

/// `shipshape-Local-lab-db-20240601T120000Z`: only letters, digits, `.`, `_` and `-`.
pub fn log_file_stem(target: &str, service: &str, at: SystemTime) -> String {
    let time: String = humantime::format_rfc3339_seconds(at)
        .to_string()
        .chars()
        .filter(|c| !matches!(c, '-' | ':'))
        .collect();
    format!(
        "shipshape-{}-{}-{time}",
        file_name_part(target),
        file_name_part(service)
    )
}

/// Keeps letters, digits, `.` and `_`; every other run of characters becomes one `-`.
fn file_name_part(name: &str) -> String {
    let mut part = String::new();
    for c in name.chars() {
        if c.is_ascii_alphanumeric() || c == '_' || (c == '.' && !part.is_empty()) {
            part.push(c);
        } else if !part.is_empty() && !part.ends_with('-') {
            part.push('-');
        }
    }
    let part: String = part
        .trim_end_matches(['-', '.'])
        .chars()
        .take(NAME_PART_MAX)
        .collect();
    if part.is_empty() {
        "unnamed".into()
    } else {
        part
    }
}

#[cfg(test)]
mod tests {
    use std::time::{Duration, UNIX_EPOCH};

    use super::*;

    #[test]
    fn file_names_keep_only_safe_characters() {
        let at = UNIX_EPOCH + Duration::from_secs(1_717_243_200); // 2024-06-01T12:00:00Z
        assert_eq!(
            log_file_stem("Local lab", "market-updater-aws", at),
            "shipshape-Local-lab-market-updater-aws-20240601T120000Z"
        );
        assert_eq!(file_name_part("../../etc/passwd"), "etc-passwd");
        assert_eq!(file_name_part("a/b\\c\0d"), "a-b-c-d");
        assert_eq!(file_name_part("..."), "unnamed");
        assert_eq!(file_name_part(&"x".repeat(200)).len(), NAME_PART_MAX);
    }
}
