//! The host's key, checked inside the key exchange. A host usually holds several keys
//! (ed25519, ECDSA, RSA) and presents the one the client prefers; a pin records which
//! type it is, and connecting asks for that type only. Otherwise a host pinned by its RSA
//! key (the fingerprint an EC2 console printed, say) would present its ed25519 key and be
//! refused as an impostor.

use std::borrow::Cow;
use std::sync::{Arc, Mutex};
use std::time::Duration;

use russh::client;
use russh::keys::{Algorithm, HashAlg, PublicKeyOrCertificate};
use serde::Serialize;
use ts_rs::TS;

use super::route::{self, Hop, Tunnel};
use super::{Connection, Endpoint};
use crate::error::{Error, Result};

/// What the server presented during key exchange.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, TS)]
pub struct HostKeyOffer {
    /// e.g. `ssh-ed25519`
    pub key_type: String,
    /// `SHA256:...`
    pub fingerprint: String,
}

/// Accepts the server only if its key matches the pin; remembers what it saw either way.
pub(crate) struct PinnedHostKey {
    pub(crate) expected: Option<String>,
    pub(crate) seen: Arc<Mutex<Option<HostKeyOffer>>>,
}

impl client::Handler for PinnedHostKey {
    type Error = russh::Error;

    async fn check_server_key(
        &mut self,
        key: &PublicKeyOrCertificate,
    ) -> std::result::Result<bool, Self::Error> {
        let PublicKeyOrCertificate::PublicKey { key, .. } = key else {
            return Ok(false); // host certificates are not part of the trust model (yet)
        };
        let fingerprint = key.fingerprint(HashAlg::Sha256).to_string();
        let matches = self.expected.as_deref() == Some(fingerprint.as_str());
        *self.seen.lock().unwrap() = Some(HostKeyOffer {
            key_type: key.algorithm().to_string(),
            fingerprint,
        });
        Ok(matches)
    }
}

/// The key types a host is asked for, most preferred first (russh's own order).
const KEY_TYPES: [&str; 5] = [
    "ssh-ed25519",
    "ecdsa-sha2-nistp256",
    "ecdsa-sha2-nistp384",
    "ecdsa-sha2-nistp521",
    "ssh-rsa",
];

/// The host-key algorithms that make a host present its key of type `key_type` (an RSA
/// key is presented with a SHA-2 signature; SHA-1 `ssh-rsa` signatures are not accepted).
pub fn host_key_algorithms(key_type: &str) -> Result<Vec<Algorithm>> {
    let unsupported = || {
        Error::BadInput(format!(
            "\"{key_type}\" is not a host key type Shipshape can pin (one of {}).",
            KEY_TYPES.join(", ")
        ))
    };
    if !KEY_TYPES.contains(&key_type) {
        return Err(unsupported());
    }
    Ok(match Algorithm::new(key_type).map_err(|_| unsupported())? {
        Algorithm::Rsa { .. } => vec![
            Algorithm::Rsa {
                hash: Some(HashAlg::Sha512),
            },
            Algorithm::Rsa {
                hash: Some(HashAlg::Sha256),
            },
        ],
        other => vec![other],
    })
}

/// The key-exchange preferences that ask for `key_type` only (`None`: any, preferred first).
pub(crate) fn preferences(key_type: Option<&str>) -> Result<russh::Preferred> {
    Ok(match key_type {
        None => russh::Preferred::DEFAULT,
        Some(kind) => russh::Preferred {
            key: Cow::Owned(host_key_algorithms(kind)?),
            ..russh::Preferred::DEFAULT
        },
    })
}

/// The mismatch of a host that holds no key of the pinned (or probed) type.
pub(super) fn type_missing(host: String, pinned: Option<&str>, key_type: &str) -> Error {
    Error::HostKeyMismatch {
        host,
        expected: pinned.map_or_else(|| format!("a {key_type} key"), str::to_string),
        actual: format!("{MISSING}{key_type} key"),
    }
}

/// How [`type_missing`] words what the host offered.
const MISSING: &str = "no ";

impl Connection {
    /// Every key the host holds, one probe per type side by side, most preferred first,
    /// asked through `jumps` (connected and authenticated once, each checked against its
    /// pin). Each probe hangs up during key exchange: nothing about us (user, key) is
    /// ever sent to the host. A type the host does not have is left out; any other
    /// failure is returned.
    pub async fn probe_host_keys_via(
        jumps: &[Hop],
        host: &str,
        port: u16,
        timeout: Duration,
    ) -> Result<Vec<HostKeyOffer>> {
        let endpoint = Endpoint {
            host: host.to_string(),
            port,
            user: String::new(),
        };
        let timeout = route::timeout_through(jumps.len(), timeout);
        let asking = async {
            let tunnel = Tunnel::through(jumps).await?;
            let probe = |kind| probe_one(&tunnel, &endpoint, kind);
            let [a, b, c, d, e] = KEY_TYPES.map(probe);
            let outcomes = tokio::join!(a, b, c, d, e);
            tunnel.close().await;
            let mut offers = Vec::new();
            for outcome in [outcomes.0, outcomes.1, outcomes.2, outcomes.3, outcomes.4] {
                match outcome {
                    Ok(offer) => offers.push(offer),
                    Err(Error::HostKeyMismatch { actual, .. }) if actual.starts_with(MISSING) => {}
                    Err(other) => return Err(other),
                }
            }
            Ok(offers)
        };
        tokio::time::timeout(timeout, asking)
            .await
            .map_err(|_| Error::Timeout {
                what: format!("Asking {host}:{port} for its host keys"),
                seconds: timeout.as_secs(),
            })?
    }

    /// [`Connection::probe_host_keys_via`] directly.
    pub async fn probe_host_keys(
        host: &str,
        port: u16,
        timeout: Duration,
    ) -> Result<Vec<HostKeyOffer>> {
        Self::probe_host_keys_via(&[], host, port, timeout).await
    }
}

/// The host's key of `key_type`: a key exchange with nothing pinned, which refuses
/// whatever the host shows and reports it.
async fn probe_one(tunnel: &Tunnel, endpoint: &Endpoint, key_type: &str) -> Result<HostKeyOffer> {
    match tunnel.handshake(endpoint, None, Some(key_type)).await {
        Err(Error::HostKeyUnknown {
            key_type,
            fingerprint,
            ..
        }) => Ok(HostKeyOffer {
            key_type,
            fingerprint,
        }),
        Err(other) => Err(other),
        Ok(_) => unreachable!("an unpinned host is never accepted"),
    }
}
