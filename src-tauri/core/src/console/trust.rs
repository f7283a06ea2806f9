//! Host trust as the operator sees it: look at what a host offers, then pin it — after
//! comparing it by eye, against a pasted fingerprint, or against `~/.ssh/known_hosts`.
//! Every pin is made against what the host offers at that moment, so a fingerprint
//! that does not match what the server presents is never written. A host holds several
//! keys: each is probed, and the pin records the type of the one trusted.

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
    /// The key of the pinned type, or the one the host prefers to show.
    pub offered: HostKeyOffer,
    /// Every key the host holds, preferred first (`offered` among them).
    pub offers: Vec<HostKeyOffer>,
    pub pinned: Option<String>,
    /// True if a pin exists and the host's key matches it.
    pub matches: bool,
}

impl Console {
    fn target(&self, name: &str) -> Result<Target> {
        target::find(self.settings.as_ref(), name)
    }

    /// Asks the target's host for its keys without authenticating.
    pub async fn probe_host_key(&self, name: &str) -> Result<HostTrust> {
        let target = self.target(name)?;
        let offers =
            Connection::probe_host_keys(&target.host, target.port, CONNECT_TIMEOUT).await?;
        let pin = self
            .known_hosts()?
            .pin_of(&target.host, target.port)
            .cloned();
        let offered = pin
            .as_ref()
            .and_then(|pin| {
                let kind = pin.key_type.as_deref()?;
                offers.iter().find(|offer| offer.key_type == kind)
            })
            .or(offers.first())
            .cloned()
            .ok_or_else(|| Error::Protocol(format!("{} offered no host key.", target.address())))?;
        let pinned = pin.map(|pin| pin.fingerprint);
        Ok(HostTrust {
            target: name.to_string(),
            matches: pinned.as_deref() == Some(offered.fingerprint.as_str()),
            offered,
            offers,
            pinned,
        })
    }

    /// Pins `fingerprint` for the target's host if, and only if, the host holds exactly
    /// that key now (of whichever type). Replaces an earlier pin (the deliberate re-pin
    /// after a key change).
    pub async fn trust_host(&self, name: &str, fingerprint: &str) -> Result<HostKeyOffer> {
        let expected = parse_fingerprint(fingerprint)?;
        let target = self.target(name)?;
        let offers =
            Connection::probe_host_keys(&target.host, target.port, CONNECT_TIMEOUT).await?;
        match self
            .pin_one_of(&target, &offers, |offer| offer.fingerprint == expected)
            .await?
        {
            Some(offer) => Ok(offer),
            None => Err(Error::HostKeyMismatch {
                host: target.address(),
                expected,
                actual: listed(&offers),
            }),
        }
    }

    /// Pins the host's key if an OpenSSH known_hosts file (hashed entries too) already
    /// vouches for one of the keys it holds.
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
        let offers =
            Connection::probe_host_keys(&target.host, target.port, CONNECT_TIMEOUT).await?;
        let vouched =
            |offer: &HostKeyOffer| known.iter().any(|k| k.fingerprint == offer.fingerprint);
        match self.pin_one_of(&target, &offers, vouched).await? {
            Some(offer) => Ok(offer),
            None => Err(Error::HostKeyMismatch {
                host: target.address(),
                expected: known[0].fingerprint.clone(),
                actual: listed(&offers),
            }),
        }
    }

    /// Pins the first of `offers` that `wanted` picks, with its type, and drops the open
    /// connection (the next command asks for the pinned key); `None` if none is picked.
    async fn pin_one_of(
        &self,
        target: &Target,
        offers: &[HostKeyOffer],
        wanted: impl Fn(&HostKeyOffer) -> bool,
    ) -> Result<Option<HostKeyOffer>> {
        let Some(offer) = offers.iter().find(|offer| wanted(offer)) else {
            return Ok(None);
        };
        self.known_hosts()?.pin(
            &target.host,
            target.port,
            &offer.fingerprint,
            Some(&offer.key_type),
        )?;
        self.disconnect(&target.name).await;
        Ok(Some(offer.clone()))
    }
}

/// The keys a host offered, for an error: `SHA256:... (ssh-ed25519), ...`.
fn listed(offers: &[HostKeyOffer]) -> String {
    let keys: Vec<_> = offers
        .iter()
        .map(|o| format!("{} ({})", o.fingerprint, o.key_type))
        .collect();
    match keys.is_empty() {
        true => "no key".to_string(),
        false => keys.join(", "),
    }
}
