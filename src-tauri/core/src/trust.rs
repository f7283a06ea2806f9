//! Host trust: the SHA256 fingerprint each host must present, pinned in Shipshape's own
//! known-hosts file. The SSH layer compares the server's key with the pin during key
//! exchange, before any authentication, so a wrong host never sees our key.
//!
//! File format, one pin per line: `[host]:port SHA256:<base64> [key-type]`; `#` starts a
//! comment. The key type (`ssh-ed25519`, `ecdsa-sha2-nistp256`, `ssh-rsa`...) says which of
//! a host's keys the pin is: connecting asks the host for that type only, so a host with
//! several keys can be pinned by any of them. Pins written before it had no type; they are
//! compared with the key the host prefers.

use std::path::{Path, PathBuf};

use crate::error::{Error, Result};

#[derive(Debug, Clone)]
pub struct KnownHosts {
    path: PathBuf,
    pins: Vec<(String, HostPin)>,
}

/// One host's pinned key.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct HostPin {
    /// `SHA256:...`
    pub fingerprint: String,
    /// The key's type as OpenSSH names it (`ssh-ed25519`); `None` in pins from before types.
    pub key_type: Option<String>,
}

/// The host pattern of a pin, as OpenSSH writes non-standard ports.
pub fn host_pattern(host: &str, port: u16) -> String {
    if port == 22 {
        host.to_string()
    } else {
        format!("[{host}]:{port}")
    }
}

/// Checks the shape of a SHA256 fingerprint as `ssh-keygen -l -E sha256` prints it.
pub fn parse_fingerprint(text: &str) -> Result<String> {
    let text = text.trim();
    let digest = text.strip_prefix("SHA256:").unwrap_or(text);
    let valid = digest.len() == 43
        && digest
            .chars()
            .all(|c| c.is_ascii_alphanumeric() || c == '+' || c == '/');
    if valid {
        Ok(format!("SHA256:{digest}"))
    } else {
        Err(Error::BadInput(format!(
            "\"{text}\" is not a SHA256 host key fingerprint (expected SHA256: followed by 43 base64 characters)."
        )))
    }
}

impl KnownHosts {
    pub fn load(path: impl Into<PathBuf>) -> Result<Self> {
        let path = path.into();
        let text = match std::fs::read_to_string(&path) {
            Ok(text) => text,
            Err(e) if e.kind() == std::io::ErrorKind::NotFound => String::new(),
            Err(e) => return Err(Error::storage(&path, e)),
        };
        let pins = text
            .lines()
            .map(str::trim)
            .filter(|line| !line.is_empty() && !line.starts_with('#'))
            .filter_map(|line| {
                let mut fields = line.split_whitespace();
                let pattern = fields.next()?.to_string();
                let pin = HostPin {
                    fingerprint: fields.next()?.to_string(),
                    key_type: fields.next().map(str::to_string),
                };
                Some((pattern, pin))
            })
            .collect();
        Ok(KnownHosts { path, pins })
    }

    pub fn path(&self) -> &Path {
        &self.path
    }

    /// The pin for `host:port`, if any.
    pub fn pin_of(&self, host: &str, port: u16) -> Option<&HostPin> {
        let pattern = host_pattern(host, port);
        self.pins
            .iter()
            .find(|(p, _)| *p == pattern)
            .map(|(_, pin)| pin)
    }

    /// The pinned fingerprint for `host:port`, if any.
    pub fn pinned(&self, host: &str, port: u16) -> Option<&str> {
        self.pin_of(host, port).map(|pin| pin.fingerprint.as_str())
    }

    /// Pins `fingerprint`, a key of type `key_type`, for `host:port`, replacing any earlier
    /// pin, and saves the file.
    pub fn pin(
        &mut self,
        host: &str,
        port: u16,
        fingerprint: &str,
        key_type: Option<&str>,
    ) -> Result<()> {
        let fingerprint = parse_fingerprint(fingerprint)?;
        if let Some(kind) = key_type {
            crate::ssh::host_key_algorithms(kind)?;
        }
        let pattern = host_pattern(host, port);
        // Under the file's lock, from the file as it is now: the console and the CLI pin
        // side by side, and a pin read before another process wrote must not undo it.
        let _lock = crate::settings::FileLock::take(&self.path)?;
        self.pins = KnownHosts::load(&self.path)?.pins;
        self.pins.retain(|(p, _)| *p != pattern);
        let key_type = key_type.map(str::to_string);
        self.pins.push((
            pattern,
            HostPin {
                fingerprint,
                key_type,
            },
        ));
        self.save()
    }

    fn save(&self) -> Result<()> {
        let mut text = String::from(
            "# Shipshape's pinned host keys: [host]:port SHA256:fingerprint key-type\n",
        );
        for (pattern, pin) in &self.pins {
            match &pin.key_type {
                Some(kind) => text.push_str(&format!("{pattern} {} {kind}\n", pin.fingerprint)),
                None => text.push_str(&format!("{pattern} {}\n", pin.fingerprint)),
            }
        }
        crate::settings::write_atomically(&self.path, text.as_bytes())
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    const FP: &str = "SHA256:+p+Z1VF9qrvl6Q0eYxxgc0DZGe5A045pT/o8rvqfmJk";

    #[test]
    fn pins_round_trip_and_replace() {
        let dir = tempfile::tempdir().unwrap();
        let mut hosts = KnownHosts::load(dir.path().join("known_hosts")).unwrap();
        assert_eq!(hosts.pinned("127.0.0.1", 2222), None);
        hosts
            .pin(
                "127.0.0.1",
                2222,
                "SHA256:AAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAA",
                None,
            )
            .unwrap();
        hosts.pin("127.0.0.1", 2222, FP, Some("ssh-rsa")).unwrap();
        let again = KnownHosts::load(hosts.path()).unwrap();
        assert_eq!(again.pinned("127.0.0.1", 2222), Some(FP));
        assert_eq!(
            again.pin_of("127.0.0.1", 2222).unwrap().key_type.as_deref(),
            Some("ssh-rsa")
        );
        assert!(hosts.pin("127.0.0.1", 2222, FP, Some("ssh-dss")).is_err());
        assert_eq!(again.pinned("127.0.0.1", 22), None);
    }

    #[test]
    fn pins_written_side_by_side_are_all_kept() {
        let dir = tempfile::tempdir().unwrap();
        let path = dir.path().join("known_hosts");
        // Loaded before the other pinned: each pin keeps the other's.
        let (mut a, mut b) = (
            KnownHosts::load(&path).unwrap(),
            KnownHosts::load(&path).unwrap(),
        );
        a.pin("a.example", 22, FP, None).unwrap();
        b.pin("b.example", 22, FP, None).unwrap();
        let both = KnownHosts::load(&path).unwrap();
        assert!(both.pinned("a.example", 22).is_some() && both.pinned("b.example", 22).is_some());
        // And eight processes' worth of pins at once, none lost.
        std::thread::scope(|scope| {
            for port in 1..=8u16 {
                let path = &path;
                scope.spawn(move || {
                    let mut hosts = KnownHosts::load(path).unwrap();
                    hosts.pin("c.example", port, FP, None).unwrap();
                });
            }
        });
        let all = KnownHosts::load(&path).unwrap();
        assert!((1..=8).all(|port| all.pinned("c.example", port).is_some()));
    }

    #[test]
    fn malformed_fingerprints_are_refused() {
        for bad in [
            "",
            "SHA256:short",
            "MD5:aa:bb",
            "SHA256:+p+Z1VF9qrvl6Q0eYxxgc0DZGe5A045pT/o8rvqfmJ;",
        ] {
            assert!(parse_fingerprint(bad).is_err(), "{bad}");
        }
        assert_eq!(parse_fingerprint(&FP[7..]).unwrap(), FP);
    }
}
