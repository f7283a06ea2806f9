//! The OS keyring as the only home of private keys (Secret Service on Linux, Keychain
//! on macOS, Credential Manager on Windows, via the `keyring` crate's core). Calls block:
//! async callers run them on a blocking thread.
//!
//! The store is opened on first need and opened again after it failed: a Secret Service
//! that was not running when the console started (or that restarted since) is reached
//! on the next try, as the error's "try again" promises. The `keyring` crate's own entry
//! point remembers a first failure for the life of the process.

use keyring_core::Entry;

use crate::error::{Error, Result};
use crate::secret::Secret;

/// The keyring service under which every Shipshape key is filed.
const SERVICE: &str = "shipshape";

/// The platform's store, newly opened.
#[cfg(all(
    unix,
    not(any(target_os = "macos", target_os = "ios", target_os = "android"))
))]
fn open_store() -> std::result::Result<(), keyring_core::Error> {
    let store = zbus_secret_service_keyring_store::Store::new()?;
    keyring_core::set_default_store(store);
    Ok(())
}

/// The platform's store (the `keyring` crate picks and opens it once).
#[cfg(not(all(
    unix,
    not(any(target_os = "macos", target_os = "ios", target_os = "android"))
)))]
fn open_store() -> std::result::Result<(), keyring_core::Error> {
    match keyring::Entry::store_status() {
        Ok(()) => Ok(()),
        Err(e) => Err(keyring_core::Error::NoStorageAccess(e.to_string().into())),
    }
}

fn entry(name: &str) -> Result<Entry> {
    if keyring_core::get_default_store().is_none() {
        open_store().map_err(keyring_error)?;
    }
    Entry::new(SERVICE, &format!("ssh-key:{name}")).map_err(keyring_error)
}

/// `result`, after forgetting the store if the failure was the store's own, so the next
/// call opens it again.
fn reopen_after<T>(
    result: std::result::Result<T, keyring_core::Error>,
) -> std::result::Result<T, keyring_core::Error> {
    if let Err(keyring_core::Error::PlatformFailure(_) | keyring_core::Error::NoStorageAccess(_)) =
        &result
    {
        keyring_core::unset_default_store();
    }
    result
}

/// Stores an (unencrypted) OpenSSH private key under `name`, replacing any earlier one.
pub(super) fn store(name: &str, private_key: &Secret) -> Result<()> {
    reopen_after(entry(name)?.set_password(private_key.expose())).map_err(keyring_error)
}

/// Loads the private key named `name`.
pub(super) fn load(name: &str) -> Result<Secret> {
    match reopen_after(entry(name)?.get_password()) {
        Ok(text) => Ok(Secret::new(text)),
        Err(keyring_core::Error::NoEntry) => Err(Error::KeyNotFound(name.to_string())),
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
    match reopen_after(entry(name)?.delete_credential()) {
        Ok(()) | Err(keyring_core::Error::NoEntry) => Ok(()),
        Err(e) => Err(keyring_error(e)),
    }
}

/// Maps keyring failures to a cause (the remedy is the error's own). Only variant names and platform messages
/// are kept: some variants carry the secret's bytes, which must never reach a message.
fn keyring_error(error: keyring_core::Error) -> Error {
    use keyring_core::Error as K;
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
        K::NoDefaultStore => no_session(&"no credential store is open"),
        _ => match keyring_core::get_default_store() {
            None => no_session(&error),
            Some(_) => "the keyring refused the request".to_string(),
        },
    };
    Error::KeyringUnavailable { cause }
}
