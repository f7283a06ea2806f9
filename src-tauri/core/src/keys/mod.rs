//! Key custody. A key's private half lives only in the OS keyring ([`keyring_store`]);
//! its public facts (type, fingerprint, comment, public line) are kept in the settings
//! document so lists and the "copy public key" button never touch the secret.
//! Passphrase-protected keys are decrypted once, at import, and stored decrypted inside
//! the keyring, which is itself encrypted and unlocked with the operator's session.

mod keyring_store;

use russh::keys::ssh_key::LineEnding;
use russh::keys::{Algorithm, HashAlg, PrivateKey};
use serde::{Deserialize, Serialize};
use ts_rs::TS;

use crate::error::{Error, Result};
use crate::secret::Secret;
use crate::settings::Settings;

const SETTINGS_KEY: &str = "keys";

/// The public facts of a key in the keyring.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize, TS)]
pub struct KeyInfo {
    pub name: String,
    /// e.g. `ssh-ed25519`, `ecdsa-sha2-nistp256`, `ssh-rsa`
    pub algorithm: String,
    /// `SHA256:...`, as `ssh-keygen -l` prints it.
    pub fingerprint: String,
    pub comment: String,
    pub created_at: String,
    /// The `authorized_keys` line to install on a host.
    pub public_key: String,
}

/// Checks a key name: it becomes part of a keyring entry and a CLI argument.
pub fn validate_name(name: &str) -> Result<()> {
    let ok = !name.is_empty()
        && name.len() <= 64
        && name
            .chars()
            .all(|c| c.is_ascii_alphanumeric() || "._-".contains(c))
        && !name.starts_with('-');
    if ok {
        Ok(())
    } else {
        Err(Error::BadInput(format!(
            "{} is not a valid key name: use 1 to 64 letters, digits, dots, dashes or underscores.",
            crate::input::shown(name)
        )))
    }
}

/// Decodes an OpenSSH (or PEM RSA) private key, decrypting it with `passphrase` if needed.
/// The OpenSSH form (every key the keyring holds, read for each connection) is read
/// straight into the key's own zeroized storage; russh's general decoder first copies
/// the whole body, as base64 and then as bytes, into buffers it frees without wiping, so
/// it reads only the other forms (met on import).
pub fn decode(name: &str, private_key: &Secret, passphrase: Option<&Secret>) -> Result<PrivateKey> {
    let passphrase = passphrase.map(Secret::expose).filter(|p| !p.is_empty());
    let text = private_key.expose();
    // ssh-key reads the OpenSSH form only (it checks the PEM label first): any other
    // form, or one it cannot take (CRLF line endings), goes on to russh's decoder.
    if let Ok(key) = PrivateKey::from_openssh(text) {
        return match (key.is_encrypted(), passphrase) {
            (false, _) => Ok(key),
            (true, None) => Err(Error::PassphraseRequired(name.to_string())),
            (true, Some(passphrase)) => key
                .decrypt(passphrase)
                .map_err(|_| Error::PassphraseWrong(name.to_string())),
        };
    }
    match russh::keys::decode_secret_key(text, passphrase) {
        Ok(key) => Ok(key),
        Err(russh::keys::Error::KeyIsEncrypted) => Err(Error::PassphraseRequired(name.to_string())),
        Err(error) if passphrase.is_some() && is_decryption_failure(&error) => {
            Err(Error::PassphraseWrong(name.to_string()))
        }
        // The decoder's messages never quote key material; keep only its text.
        Err(error) => Err(Error::KeyInvalid {
            name: name.to_string(),
            cause: error.to_string(),
        }),
    }
}

fn is_decryption_failure(error: &russh::keys::Error) -> bool {
    let text = error.to_string().to_lowercase();
    ["crypt", "checkint", "padding", "decode", "invalid"]
        .iter()
        .any(|w| text.contains(w))
}

fn info_for(name: &str, key: &PrivateKey) -> Result<KeyInfo> {
    let public = key.public_key();
    Ok(KeyInfo {
        name: name.to_string(),
        algorithm: public.algorithm().to_string(),
        fingerprint: public.fingerprint(HashAlg::Sha256).to_string(),
        comment: key.comment().to_string(),
        created_at: humantime::format_rfc3339_seconds(std::time::SystemTime::now()).to_string(),
        public_key: public.to_openssh().map_err(|e| Error::KeyInvalid {
            name: name.to_string(),
            cause: e.to_string(),
        })?,
    })
}

/// Puts `key` in the keyring (unencrypted OpenSSH form) and records its public facts.
fn keep(settings: &dyn Settings, name: &str, key: &PrivateKey) -> Result<KeyInfo> {
    let text = key
        .to_openssh(LineEnding::LF)
        .map_err(|e| Error::KeyInvalid {
            name: name.to_string(),
            cause: e.to_string(),
        })?;
    let info = info_for(name, key)?;
    let was_kept = in_keyring(name)?;
    keyring_store::store(name, &Secret::new(text.to_string()))?;
    let recorded = change(settings, |infos| {
        infos.retain(|k| k.name != name);
        infos.push(info.clone());
    });
    // Settings that cannot be written (damaged, say) would leave a key in the keyring
    // that no command lists or removes, its name taken: it goes again.
    if let Err(error) = recorded {
        if !was_kept {
            let _ = keyring_store::delete(name);
        }
        return Err(error);
    }
    Ok(info)
}

/// Imports an OpenSSH private key. Never replaces a key in the keyring with another:
/// a key the settings name and the keyring holds is refused; one the keyring lost (a
/// new keyring, another machine) is restored only from the same key's file, and one the
/// keyring holds but the settings do not name (another Shipshape home on the same
/// keyring, settings reset) is recorded only from the same key's file.
pub fn import(
    settings: &dyn Settings,
    name: &str,
    private_key: &Secret,
    passphrase: Option<&Secret>,
) -> Result<KeyInfo> {
    validate_name(name)?;
    // Settings that cannot be read say so: not "no such key".
    let recorded = match find(settings, name) {
        Ok(recorded) => Some(recorded),
        Err(Error::KeyNotFound(_)) => None,
        Err(other) => return Err(other),
    };
    let stored = in_keyring(name)?;
    if recorded.is_some() && stored {
        return Err(Error::BadInput(format!(
            "A key named {name} already exists. Remove it first or choose another name."
        )));
    }
    let key = decode(name, private_key, passphrase)?;
    let fingerprint = key.public_key().fingerprint(HashAlg::Sha256).to_string();
    let (expected, whose) = match (recorded, stored) {
        (Some(recorded), _) => (
            Some(recorded.fingerprint),
            "is missing from the keyring; import its own file to restore it",
        ),
        (None, true) => (
            Some(load(name)?.public_key().fingerprint(HashAlg::Sha256).to_string()),
            "is already in the keyring (kept for another Shipshape, or before the settings were reset)",
        ),
        (None, false) => (None, ""),
    };
    match expected {
        Some(expected) if expected != fingerprint => Err(Error::BadInput(format!(
            "The key {name} ({expected}) {whose}; this file holds another key ({fingerprint}): give it another name."
        ))),
        _ => keep(settings, name, &key),
    }
}

/// Generates a new ed25519 key in the keyring, under a name neither the settings nor
/// the keyring holds.
pub fn generate(settings: &dyn Settings, name: &str, comment: &str) -> Result<KeyInfo> {
    validate_name(name)?;
    // Settings that cannot be read say so: not "no such key".
    match find(settings, name) {
        Ok(_) => {
            return Err(Error::BadInput(format!(
                "A key named {name} already exists."
            )))
        }
        Err(Error::KeyNotFound(_)) => {}
        Err(other) => return Err(other),
    }
    // Another Shipshape home on the same keyring may log in with it: never overwrite.
    if in_keyring(name)? {
        return Err(Error::BadInput(format!(
            "The key {name} is already in the keyring (kept for another Shipshape, or before the settings were reset), and a new one would replace it: choose another name (or, if you have that key's file, import it under this name)."
        )));
    }
    let mut key = PrivateKey::random(&mut rand::rng(), Algorithm::Ed25519).map_err(|e| {
        Error::KeyInvalid {
            name: name.to_string(),
            cause: e.to_string(),
        }
    })?;
    key.set_comment(comment);
    keep(settings, name, &key)
}

pub fn list(settings: &dyn Settings) -> Result<Vec<KeyInfo>> {
    parse(settings.get(SETTINGS_KEY)?)
}

/// Changes the list of keys under the settings' lock.
fn change(settings: &dyn Settings, mut edit: impl FnMut(&mut Vec<KeyInfo>)) -> Result<()> {
    settings.update(SETTINGS_KEY, &mut |value| {
        let mut infos = parse(value)?;
        edit(&mut infos);
        Ok(serde_json::to_value(&infos).expect("key infos serialize"))
    })
}

fn parse(value: Option<serde_json::Value>) -> Result<Vec<KeyInfo>> {
    match value {
        None => Ok(Vec::new()),
        Some(value) => {
            serde_json::from_value(value).map_err(|e| Error::settings_part("the keys list", e))
        }
    }
}

pub fn find(settings: &dyn Settings, name: &str) -> Result<KeyInfo> {
    list(settings)?
        .into_iter()
        .find(|k| k.name == name)
        .ok_or_else(|| Error::KeyNotFound(name.to_string()))
}

/// Removes the key from the keyring and from the list. The caller checks first that no
/// target still uses it.
pub fn remove(settings: &dyn Settings, name: &str) -> Result<()> {
    find(settings, name)?;
    keyring_store::delete(name)?;
    change(settings, |infos| infos.retain(|k| k.name != name))
}

/// Stores `private_key` as `name`, replacing what the keyring and the settings held
/// under that name: for the lab, whose key is its own (an earlier lab's may be in the
/// keyring, and first runs side by side each store the same one).
pub(crate) fn replace(
    settings: &dyn Settings,
    name: &str,
    private_key: &Secret,
) -> Result<KeyInfo> {
    validate_name(name)?;
    let key = decode(name, private_key, None)?;
    keep(settings, name, &key)
}

/// True if the keyring holds a key named `name` (whether or not it is listed).
pub fn in_keyring(name: &str) -> Result<bool> {
    keyring_store::exists(name)
}

/// Loads and decodes the key named `name` for signing.
pub fn load(name: &str) -> Result<PrivateKey> {
    let secret = keyring_store::load(name)?;
    decode(name, &secret, None)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn an_openssh_key_decodes_with_its_passphrase_only() {
        let key = PrivateKey::random(&mut rand::rng(), Algorithm::Ed25519).unwrap();
        let fingerprint = key.public_key().fingerprint(HashAlg::Sha256);
        let text =
            |key: &PrivateKey| Secret::new(key.to_openssh(LineEnding::LF).unwrap().to_string());
        // The keyring's form is read by ssh-key itself, not copied by russh's decoder.
        assert!(PrivateKey::from_openssh(text(&key).expose()).is_ok());
        let plain = decode("k", &text(&key), None).unwrap();
        assert_eq!(plain.public_key().fingerprint(HashAlg::Sha256), fingerprint);

        let locked = text(&key.encrypt(&mut rand::rng(), "fake-passphrase").unwrap());
        let asked = |passphrase: Option<&str>| {
            let passphrase = passphrase.map(|p| Secret::new(p.into()));
            decode("k", &locked, passphrase.as_ref())
        };
        assert!(matches!(asked(None), Err(Error::PassphraseRequired(_))));
        assert!(matches!(asked(Some("")), Err(Error::PassphraseRequired(_))));
        assert!(matches!(
            asked(Some("not it")),
            Err(Error::PassphraseWrong(_))
        ));
        let opened = asked(Some("fake-passphrase")).unwrap();
        assert_eq!(
            opened.public_key().fingerprint(HashAlg::Sha256),
            fingerprint
        );
        assert!(!opened.is_encrypted());
        // Windows line endings, which ssh-key does not read, go to russh's decoder.
        let crlf = Secret::new(text(&key).expose().replace('\n', "\r\n"));
        let read = decode("k", &crlf, None).unwrap();
        assert_eq!(read.public_key().fingerprint(HashAlg::Sha256), fingerprint);
    }
}
