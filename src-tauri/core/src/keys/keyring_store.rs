//! The OS keyring as the only home of private keys (Secret Service on Linux, Keychain
//! on macOS, Credential Manager on Windows, via the `keyring` crate). Calls block: async
//! callers run them on a blocking thread.

use keyring::Entry;

use crate::error::{Error, Result};
use crate::secret::Secret;

/// The keyring service under which every Shipshape key is filed.
const SERVICE: &str = "shipshape";

fn entry(name: &str) -> Result<Entry> {
    Entry::new(SERVICE, &format!("ssh-key:{name}")).map_err(keyring_error)
}

/// Stores an (unencrypted) OpenSSH private key under `name`, replacing any earlier one.
pub(super) fn store(name: &str, private_key: &Secret) -> Result<()> {
    entry(name)?
        .set_password(private_key.expose())
        .map_err(keyring_error)
}

/// Loads the private key named `name`.
pub(super) fn load(name: &str) -> Result<Secret> {
    match entry(name)?.get_password() {
        Ok(text) => Ok(Secret::new(text)),
        Err(keyring::Error::NoEntry) => Err(Error::KeyNotFound(name.to_string())),
        Err(e) => Err(keyring_error(e)),
    }
}

/// True if a key named `name` is in the keyring.
pub(super) fn exists(name: &str) -> Result<bool> {
    match load(name) {
        Ok(_) => Ok(true),
        Err(Error::KeyNotFound(_)) => Ok(false),
        Err(e) => Err(e),
    }
}

/// Deletes the key named `name`; deleting a missing key is not an error.
pub(super) fn delete(name: &str) -> Result<()> {
    match entry(name)?.delete_credential() {
        Ok(()) | Err(keyring::Error::NoEntry) => Ok(()),
        Err(e) => Err(keyring_error(e)),
    }
}

/// Maps keyring failures to a cause (the remedy is the error's own). Only variant names and platform messages
/// are kept: some variants carry the secret's bytes, which must never reach a message.
fn keyring_error(error: keyring::Error) -> Error {
    use keyring::Error as K;
    let no_session = |e: &dyn std::fmt::Display| {
        let text = e.to_string();
        if text.contains("Failed to connect") || text.contains("DBUS_SESSION_BUS_ADDRESS") {
            format!("no D-Bus session is running, so no Secret Service can answer ({text})")
        } else {
            format!("no keyring could be opened ({text})")
        }
    };
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
            Err(e) => no_session(e),
            Ok(()) => "the keyring refused the request".to_string(),
        },
    };
    Error::KeyringUnavailable { cause }
}
