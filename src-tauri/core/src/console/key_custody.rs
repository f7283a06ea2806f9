//! Keys as the console manages them. Key files are read here, in the core, from a path
//! the operator chose: the private key never crosses IPC or reaches the UI.

use std::path::{Path, PathBuf};

use serde::Serialize;
use ts_rs::TS;

use super::{blocking, Console};
use crate::error::{Error, Result};
use crate::keys::{self, KeyInfo};
use crate::secret::Secret;
use crate::target;

/// A file in `~/.ssh` that looks like a private key, offered for import.
#[derive(Debug, Clone, Serialize, TS)]
pub struct KeyFile {
    pub path: String,
    /// From the file name, e.g. `id_ed25519`.
    pub suggested_name: String,
}

impl Console {
    pub fn keys(&self) -> Result<Vec<KeyInfo>> {
        keys::list(self.settings.as_ref())
    }

    /// Imports the OpenSSH private key at `path` under `name`.
    pub async fn import_key_file(
        &self,
        name: &str,
        path: &Path,
        passphrase: Option<Secret>,
    ) -> Result<KeyInfo> {
        keys::validate_name(name)?;
        let secret = read_key_file(path)?;
        let (settings, name) = (self.settings.clone(), name.to_string());
        blocking(move || keys::import(settings.as_ref(), &name, &secret, passphrase.as_ref())).await
    }

    pub async fn generate_key(&self, name: &str, comment: &str) -> Result<KeyInfo> {
        keys::validate_name(name)?;
        crate::input::line("The key's comment", comment)?;
        let (settings, name, comment) =
            (self.settings.clone(), name.to_string(), comment.to_string());
        blocking(move || keys::generate(settings.as_ref(), &name, &comment)).await
    }

    /// Removes a key that no target uses, to log in to it or to one of its jump hosts.
    pub async fn remove_key(&self, name: &str) -> Result<()> {
        let users: Vec<String> = target::list(self.settings.as_ref())?
            .into_iter()
            .filter_map(|t| {
                let own = t.key.as_deref() == Some(name);
                let hop = t.jump.iter().any(|hop| hop.key.as_deref() == Some(name));
                match (own, hop) {
                    (true, _) => Some(t.name),
                    (false, true) => Some(format!("{} (for its jump host)", t.name)),
                    (false, false) => None,
                }
            })
            .collect();
        if !users.is_empty() {
            return Err(Error::BadInput(format!(
                "The key {name} is used by {}. Give those targets (or their jump hosts) another key on the Targets screen first, or remove them.",
                users.join(", ")
            )));
        }
        let (settings, name) = (self.settings.clone(), name.to_string());
        blocking(move || keys::remove(settings.as_ref(), &name)).await
    }

    /// Private key files in `~/.ssh`, for the import dialog.
    pub fn key_files(&self) -> Vec<KeyFile> {
        let Some(home) = std::env::var_os("HOME") else {
            return Vec::new();
        };
        let mut files: Vec<KeyFile> = std::fs::read_dir(PathBuf::from(home).join(".ssh"))
            .into_iter()
            .flatten()
            .flatten()
            .map(|entry| entry.path())
            .filter(|path| looks_like_private_key(path))
            .map(|path| KeyFile {
                suggested_name: path
                    .file_name()
                    .unwrap_or_default()
                    .to_string_lossy()
                    .into_owned(),
                path: path.display().to_string(),
            })
            .collect();
        files.sort_by(|a, b| a.path.cmp(&b.path));
        files
    }
}

/// Reads only the first line: enough to recognise a PEM/OpenSSH private key. Only a
/// regular file is opened: opening a FIFO left in `~/.ssh` would wait for a writer, and
/// the window with it.
fn looks_like_private_key(path: &Path) -> bool {
    use std::io::{BufRead, BufReader, Read};
    let regular = std::fs::metadata(path).is_ok_and(|m| m.is_file() && m.len() <= MAX_KEY_FILE);
    let Some(file) = regular.then(|| std::fs::File::open(path).ok()).flatten() else {
        return false;
    };
    let mut first = String::new();
    let _ = BufReader::new(file).take(100).read_line(&mut first);
    first.starts_with("-----BEGIN") && first.contains("PRIVATE KEY")
}

/// The SHA-256 fingerprint of the key in the private key file at `path`, without its
/// passphrase: an OpenSSH key file holds its public half in the clear, an unencrypted PEM
/// one (EC2's `.pem`) is read whole, and an encrypted PEM one may have it beside it in
/// `PATH.pub`. `None` if none of them says.
pub(super) fn file_fingerprint(path: &Path) -> Option<String> {
    use russh::keys::{HashAlg, PrivateKey, PublicKey};
    let text = read_key_file(path).ok();
    let from_file = text.as_ref().and_then(|text| {
        let public = match PrivateKey::from_openssh(text.expose()) {
            Ok(key) => key.public_key().clone(),
            Err(_) => keys::decode("the file", text, None)
                .ok()?
                .public_key()
                .clone(),
        };
        Some(public.fingerprint(HashAlg::Sha256).to_string())
    });
    let beside = || {
        let mut public = path.as_os_str().to_owned();
        public.push(".pub");
        let text = std::fs::read_to_string(PathBuf::from(public)).ok()?;
        let key = PublicKey::from_openssh(text.trim()).ok()?;
        Some(key.fingerprint(HashAlg::Sha256).to_string())
    };
    from_file.or_else(beside)
}

/// A private key file is a few kilobytes; anything past this is not one.
const MAX_KEY_FILE: u64 = 64 * 1024;

/// Reads a key file, refusing what is not one before reading it (a FIFO, a device, a
/// file too large to be a key).
fn read_key_file(path: &Path) -> Result<Secret> {
    let bytes =
        crate::input::read_named_file(path, "the key file", "an SSH private key", MAX_KEY_FILE)?;
    let text = String::from_utf8(bytes).map_err(|e| {
        let mut bytes = e.into_bytes();
        zeroize::Zeroize::zeroize(&mut bytes);
        Error::BadInput(format!(
            "{} is not a text file: an OpenSSH private key file is text, with its key between BEGIN and END lines.",
            crate::input::shown(&path.to_string_lossy())
        ))
    })?;
    Ok(Secret::new(text))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn what_is_not_a_key_file_is_refused_before_it_is_read() {
        // FIFOs and the rest: input::read_named_file's test.
        let dir = tempfile::tempdir().unwrap();
        let refused = |path: &Path| match read_key_file(path) {
            Err(Error::BadInput(message)) => message,
            other => panic!(
                "{} was not refused: {:?}",
                path.display(),
                other.map(|_| ())
            ),
        };
        assert!(refused(Path::new("/dev/zero"))
            .contains("not a regular file, so not an SSH private key"));
        let big = dir.path().join("big");
        std::fs::write(&big, vec![b'a'; MAX_KEY_FILE as usize + 1]).unwrap();
        assert!(refused(&big).contains("too large"));
        let binary = dir.path().join("binary");
        std::fs::write(&binary, [0xff, 0xfe, 0x00]).unwrap();
        assert!(refused(&binary).contains("not a text file"));
        assert!(refused(dir.path()).contains("is a directory"));
    }

    #[test]
    fn a_fifo_among_the_key_files_is_passed_over_not_opened() {
        let dir = tempfile::tempdir().unwrap();
        let fifo = dir.path().join("id_fifo");
        let made = std::process::Command::new("mkfifo")
            .arg(&fifo)
            .status()
            .unwrap();
        assert!(made.success());
        // A key made for this run, as `key generate` makes one: none is kept in the tree.
        let made =
            russh::keys::PrivateKey::random(&mut rand::rng(), russh::keys::Algorithm::Ed25519)
                .unwrap();
        let text = made
            .to_openssh(russh::keys::ssh_key::LineEnding::LF)
            .unwrap();
        let key = dir.path().join("id_test");
        std::fs::write(&key, text.as_bytes()).unwrap();
        // Opened, the FIFO would wait for a writer for ever: asked on a thread of its
        // own, so a regression fails here instead of hanging the suite.
        let (said, heard) = std::sync::mpsc::channel();
        std::thread::spawn(move || said.send(looks_like_private_key(&fifo)));
        let fifo_looked = heard.recv_timeout(std::time::Duration::from_secs(5));
        assert_eq!(fifo_looked, Ok(false), "the FIFO was opened");
        assert!(looks_like_private_key(&key));
    }

    #[tokio::test]
    async fn a_key_a_jump_host_logs_in_with_is_not_removed() {
        let dir = tempfile::tempdir().unwrap();
        let settings = crate::settings::JsonFileSettings::open(dir.path().join("s.json")).unwrap();
        let mut behind = target::Target::new("inner", "10.0.0.5", Some("inner"));
        behind.jump = vec![target::JumpHost {
            host: "bastion".into(),
            port: 22,
            user: "ubuntu".into(),
            key: Some("jumpy".into()),
        }];
        target::save(&settings, behind).unwrap();
        let console = Console::in_dir(std::sync::Arc::new(settings), dir.path());
        let refused = console.remove_key("jumpy").await.unwrap_err();
        assert_eq!(refused.code(), crate::ErrorCode::BadInput);
        assert!(
            refused.to_string().contains("inner (for its jump host)"),
            "{refused}"
        );
    }

    #[test]
    fn a_key_files_fingerprint_is_read_without_its_passphrase() {
        use russh::keys::{Algorithm, HashAlg, PrivateKey};
        let dir = tempfile::tempdir().unwrap();
        let key = PrivateKey::random(&mut rand::rng(), Algorithm::Ed25519).unwrap();
        let expected = key.public_key().fingerprint(HashAlg::Sha256).to_string();
        let plain = dir.path().join("plain");
        let text = key
            .to_openssh(russh::keys::ssh_key::LineEnding::LF)
            .unwrap();
        std::fs::write(&plain, text.as_bytes()).unwrap();
        assert_eq!(file_fingerprint(&plain).as_deref(), Some(expected.as_str()));

        // Encrypted, its public half is still read, with no passphrase.
        let encrypted = key.encrypt(&mut rand::rng(), "fake-passphrase").unwrap();
        let locked = dir.path().join("locked");
        let text = encrypted
            .to_openssh(russh::keys::ssh_key::LineEnding::LF)
            .unwrap();
        std::fs::write(&locked, text.as_bytes()).unwrap();
        assert!(!std::fs::read_to_string(&locked)
            .unwrap()
            .contains(&expected));
        assert_eq!(
            file_fingerprint(&locked).as_deref(),
            Some(expected.as_str())
        );

        // A file that cannot be read as a key (as an encrypted PEM one cannot, without
        // its passphrase) says nothing, until its public half is beside it.
        let pem = dir.path().join("pem");
        std::fs::write(&pem, "not a key that can be read\n").unwrap();
        assert_eq!(file_fingerprint(&pem), None);
        let public = key.public_key().to_openssh().unwrap();
        std::fs::write(dir.path().join("pem.pub"), format!("{public} me@laptop\n")).unwrap();
        assert_eq!(file_fingerprint(&pem).as_deref(), Some(expected.as_str()));
    }
}
