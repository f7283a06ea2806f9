//! Key custody: private keys live only in the OS keyring (Secret Service on Linux,
//! Keychain on macOS, Credential Manager on Windows, via the `keyring` crate). They are
//! read into a [`Secret`] just long enough to decode and sign; nothing else stores them.

use keyring::Entry;
use russh::keys::PrivateKey;

use crate::error::{Error, Result};
use crate::secret::Secret;

/// The keyring service under which every Shipshape key is filed.
const SERVICE: &str = "shipshape";

fn entry(name: &str) -> Result<Entry> {
    Entry::new(SERVICE, &format!("ssh-key:{name}")).map_err(keyring_error)
}

/// Stores an (unencrypted) OpenSSH private key under `name`, replacing any earlier one.
/// The key is decoded first, so the keyring never holds something unusable.
pub fn store(name: &str, private_key: &Secret) -> Result<()> {
    decode(name, private_key, None)?;
    entry(name)?
        .set_password(private_key.expose())
        .map_err(keyring_error)
}

/// Loads the private key named `name`.
pub fn load(name: &str) -> Result<Secret> {
    match entry(name)?.get_password() {
        Ok(text) => Ok(Secret::new(text)),
        Err(keyring::Error::NoEntry) => Err(Error::KeyNotFound(name.to_string())),
        Err(e) => Err(keyring_error(e)),
    }
}

/// True if a key named `name` is in the keyring.
pub fn exists(name: &str) -> Result<bool> {
    match load(name) {
        Ok(_) => Ok(true),
        Err(Error::KeyNotFound(_)) => Ok(false),
        Err(e) => Err(e),
    }
}

/// Decodes an OpenSSH private key; the passphrase is only needed for encrypted keys.
pub fn decode(name: &str, private_key: &Secret, passphrase: Option<&Secret>) -> Result<PrivateKey> {
    russh::keys::decode_secret_key(private_key.expose(), passphrase.map(Secret::expose)).map_err(
        |e| {
            // The decoder's messages never quote key material; keep only its text.
            Error::KeyInvalid {
                name: name.to_string(),
                cause: e.to_string(),
            }
        },
    )
}

/// Maps keyring failures to a cause and a fix. Only variant names and platform messages
/// are kept: some variants carry the secret's bytes, which must never reach a message.
fn keyring_error(error: keyring::Error) -> Error {
    use keyring::Error as K;
    let fix = "Unlock your keyring, or start a Secret Service (for example gnome-keyring) in your desktop session, then try again.".to_string();
    let cause = match &error {
        K::NoStorageAccess(e) => format!("access was refused ({e})"),
        K::PlatformFailure(e) => format!("the keyring service failed ({e})"),
        K::NoEntry => return Error::KeyNotFound("(unnamed)".into()),
        K::BadEncoding(_) | K::BadDataFormat(..) => {
            return Error::KeyInvalid {
                name: "(keyring entry)".into(),
                cause: "the stored value is not a readable key".into(),
            }
        }
        _ => match Entry::store_status() {
            Err(e) => format!("no keyring could be opened ({e})"),
            Ok(()) => "the keyring refused the request".to_string(),
        },
    };
    Error::KeyringUnavailable { cause, fix }
}
