//! Host trust as the operator sees it: look at what a host offers, then pin it — after
//! comparing it by eye, against a pasted fingerprint, or against `~/.ssh/known_hosts`.
//! Every pin is made against what the host offers at that moment, so a fingerprint
//! that does not match what the server presents is never written.

use std::path::Path;

use serde::Serialize;
use ts_rs::TS;

use super::Console;
use crate::error::{Error, Result};
use crate::known_hosts_import;
use crate::ssh::{Connection, HostKeyOffer, CONNECT_TIMEOUT};
use crate::target::{self, Target};
use crate::trust::parse_fingerprint;

/// What a host offers now, next to what is pinned for it.
#[derive(Debug, Clone, Serialize, TS)]
pub struct HostTrust {
    pub target: String,
    pub offered: HostKeyOffer,
    pub pinned: Option<String>,
    /// True if a pin exists and the host's key matches it.
    pub matches: bool,
}

impl Console {
    fn target(&self, name: &str) -> Result<Target> {
        target::find(self.settings.as_ref(), name)
    }

    /// Asks the target's host for its key without authenticating.
    pub async fn probe_host_key(&self, name: &str) -> Result<HostTrust> {
        let target = self.target(name)?;
        let offered =
            Connection::probe_host_key(&target.host, target.port, CONNECT_TIMEOUT).await?;
        let pinned = self
            .known_hosts()?
            .pinned(&target.host, target.port)
            .map(str::to_string);
        Ok(HostTrust {
            target: name.to_string(),
            matches: pinned.as_deref() == Some(offered.fingerprint.as_str()),
            offered,
            pinned,
        })
    }

    /// Pins `fingerprint` for the target's host if, and only if, the host offers exactly
    /// that key now. Replaces an earlier pin (the deliberate re-pin after a key change).
    pub async fn trust_host(&self, name: &str, fingerprint: &str) -> Result<HostKeyOffer> {
        let expected = parse_fingerprint(fingerprint)?;
        let target = self.target(name)?;
        let offered =
            Connection::probe_host_key(&target.host, target.port, CONNECT_TIMEOUT).await?;
        if offered.fingerprint != expected {
            return Err(Error::HostKeyMismatch {
                host: format!("{}:{}", target.host, target.port),
                expected,
                actual: offered.fingerprint,
            });
        }
        self.known_hosts()?
            .pin(&target.host, target.port, &offered.fingerprint)?;
        self.disconnect(name).await;
        Ok(offered)
    }

    /// Pins the host's key if an OpenSSH known_hosts file (hashed entries too) already
    /// vouches for it.
    pub async fn trust_from_known_hosts(
        &self,
        name: &str,
        known_hosts: &Path,
    ) -> Result<HostKeyOffer> {
        let target = self.target(name)?;
        let known = known_hosts_import::keys_for(known_hosts, &target.host, target.port)?;
        if known.is_empty() {
            return Err(Error::BadInput(format!(
                "{} lists no key for {}. Trust the host by its fingerprint instead.",
                known_hosts.display(),
                crate::trust::host_pattern(&target.host, target.port)
            )));
        }
        let offered =
            Connection::probe_host_key(&target.host, target.port, CONNECT_TIMEOUT).await?;
        match known.iter().find(|k| k.fingerprint == offered.fingerprint) {
            Some(_) => self.trust_host(name, &offered.fingerprint).await,
            None => Err(Error::HostKeyMismatch {
                host: format!("{}:{}", target.host, target.port),
                expected: known[0].fingerprint.clone(),
                actual: offered.fingerprint,
            }),
        }
    }
}
