//! Host trust as the operator sees it: look at what a host offers, then pin it — after
//! comparing it by eye, against a pasted fingerprint, or against `~/.ssh/known_hosts`.
//! Every pin is made against what the host offers at that moment, so a fingerprint
//! that does not match what the server presents is never written. A host holds several
//! keys: each is probed, and the pin records the type of the one trusted. A target
//! reached through jump hosts has a pin for each host of its way ([`super::route`]).

use std::path::Path;

use serde::Serialize;
use ts_rs::TS;

use super::route::{self, RouteHost, Stop};
use super::Console;
use crate::error::{Error, Result};
use crate::known_hosts_import;
use crate::ssh::{Connection, HostKeyOffer, CONNECT_TIMEOUT};
use crate::target::{self, Target};
use crate::trust::{parse_fingerprint, HostPin};

/// What a host of a target's way offers now, next to what is pinned for it.
#[derive(Debug, Clone, Serialize, TS)]
pub struct HostTrust {
    pub target: String,
    /// Which host of the way this is: 0 the first jump host, the last the target.
    #[ts(type = "number")]
    pub hop: usize,
    /// `host:port` of that host.
    pub host: String,
    /// The whole way, jump hosts first, each with its pin.
    pub route: Vec<RouteHost>,
    /// The key of the pinned type, or the one the host prefers to show.
    pub offered: HostKeyOffer,
    /// Every key the host holds, preferred first (`offered` among them).
    pub offers: Vec<HostKeyOffer>,
    pub pinned: Option<String>,
    /// True if a pin exists and the host's key matches it.
    pub matches: bool,
}

/// A key pinned for a host of a target's way.
#[derive(Debug, Clone, Serialize, TS)]
pub struct PinnedKey {
    /// `host:port`.
    pub host: String,
    pub offer: HostKeyOffer,
}

impl Console {
    fn target(&self, name: &str) -> Result<Target> {
        target::find(self.settings.as_ref(), name)
    }

    /// Asks a host of the target's way for its keys, without authenticating there:
    /// `hop` if given; else the first host not pinned yet (or, if a jump host before it
    /// changed its key, that one), or the first whose key no longer matches its pin, or
    /// the target. A host is asked through the ones before it, which must be trusted.
    pub async fn probe_host_key(&self, name: &str, hop: Option<usize>) -> Result<HostTrust> {
        let target = self.target(name)?;
        let stops = route::stops(&target, &self.known_hosts()?);
        if let Some(hop) = hop {
            check_hop(&stops, hop)?;
            return self.probe_stop(&target, &stops, hop).await;
        }
        if let Some(first_unpinned) = stops.iter().position(|s| s.pin.is_none()) {
            return match self.probe_stop(&target, &stops, first_unpinned).await {
                // A jump host before it changed its key: that is the host to look at
                // first (it cannot be passed through until then).
                Err(mismatch @ Error::HostKeyMismatch { .. }) => {
                    for index in 0..first_unpinned {
                        let trust = self.probe_stop(&target, &stops, index).await?;
                        if !trust.matches {
                            return Ok(trust);
                        }
                    }
                    Err(mismatch)
                }
                other => other,
            };
        }
        for index in 0..stops.len() {
            let trust = self.probe_stop(&target, &stops, index).await?;
            if !trust.matches || index + 1 == stops.len() {
                return Ok(trust);
            }
        }
        unreachable!("a route ends at its target")
    }

    async fn probe_stop(&self, target: &Target, stops: &[Stop], hop: usize) -> Result<HostTrust> {
        let stop = &stops[hop];
        let offers = self.offers_of(target, stops, hop).await?;
        let pin = stop.pin.clone();
        let offered = pin
            .as_ref()
            .and_then(|pin| {
                let kind = pin.key_type.as_deref()?;
                offers.iter().find(|offer| offer.key_type == kind)
            })
            .or(offers.first())
            .cloned()
            .ok_or_else(|| {
                Error::Protocol(format!(
                    "{} offered no host key.",
                    stop.shown(false).address
                ))
            })?;
        let pinned = pin.map(|pin| pin.fingerprint);
        Ok(HostTrust {
            target: target.name.clone(),
            hop,
            host: stop.shown(false).address,
            route: shown(stops),
            matches: pinned.as_deref() == Some(offered.fingerprint.as_str()),
            offered,
            offers,
            pinned,
        })
    }

    /// Every key the host at `hop` holds, asked through the hosts before it.
    async fn offers_of(
        &self,
        target: &Target,
        stops: &[Stop],
        hop: usize,
    ) -> Result<Vec<HostKeyOffer>> {
        let jumps = self.hops(target, &stops[..hop]).await?;
        let endpoint = &stops[hop].endpoint;
        Connection::probe_host_keys_via(&jumps, &endpoint.host, endpoint.port, CONNECT_TIMEOUT)
            .await
    }

    /// Pins `fingerprint` for a host of the target's way (`hop`; the target itself if
    /// `None`) if, and only if, that host holds exactly that key now (of whichever type).
    /// Replaces an earlier pin (the deliberate re-pin after a key change).
    pub async fn trust_host(
        &self,
        name: &str,
        hop: Option<usize>,
        fingerprint: &str,
    ) -> Result<HostKeyOffer> {
        let expected = parse_fingerprint(fingerprint)?;
        let target = self.target(name)?;
        let stops = route::stops(&target, &self.known_hosts()?);
        let hop = hop.unwrap_or(stops.len() - 1);
        check_hop(&stops, hop)?;
        let offers = self.offers_of(&target, &stops, hop).await?;
        match self
            .pin_one_of(&target, &stops[hop], &offers, |offer| {
                offer.fingerprint == expected
            })
            .await?
        {
            Some(offer) => Ok(offer),
            None => Err(Error::HostKeyMismatch {
                host: stops[hop].shown(false).address,
                expected,
                actual: listed(&offers),
            }),
        }
    }

    /// Pins each host of the target's way that is not pinned yet, in order, if an
    /// OpenSSH known_hosts file (hashed entries too) already vouches for one of the keys
    /// it holds; stops at the first it does not vouch for. With `repin`, a pinned host
    /// the file speaks for is pinned to the file's key (the CLI's `--known-hosts`, named
    /// by the operator); without it (the window, where replacing a pin takes the target's
    /// name typed) a pinned host keeps its pin. Returns what was pinned.
    pub async fn trust_from_known_hosts(
        &self,
        name: &str,
        known_hosts: &Path,
        repin: bool,
    ) -> Result<Vec<PinnedKey>> {
        let target = self.target(name)?;
        let mut stops = route::stops(&target, &self.known_hosts()?);
        if !repin && stops.iter().all(|stop| stop.pin.is_some()) {
            return Err(Error::BadInput(format!(
                "Every host of {name}'s way is pinned already, so {} changes nothing here. A changed key is pinned anew by its fingerprint, with the target's name typed.",
                known_hosts.display()
            )));
        }
        let mut pinned = Vec::new();
        let mut spoke = false;
        for hop in 0..stops.len() {
            let endpoint = &stops[hop].endpoint;
            let known = known_hosts_import::keys_for(known_hosts, &endpoint.host, endpoint.port)?;
            // A host already pinned keeps its pin unless the file speaks for it, and
            // may replace it.
            if stops[hop].pin.is_some() && (known.is_empty() || !repin) {
                continue;
            }
            spoke = true;
            if known.is_empty() {
                return Err(Error::BadInput(format!(
                    "{} lists no key for {}. Trust the host by its fingerprint instead.",
                    known_hosts.display(),
                    crate::trust::host_pattern(&endpoint.host, endpoint.port)
                )));
            }
            let offers = self.offers_of(&target, &stops, hop).await?;
            let vouched =
                |offer: &HostKeyOffer| known.iter().any(|k| k.fingerprint == offer.fingerprint);
            match self
                .pin_one_of(&target, &stops[hop], &offers, vouched)
                .await?
            {
                Some(offer) => {
                    stops[hop].pin = Some(HostPin {
                        fingerprint: offer.fingerprint.clone(),
                        key_type: Some(offer.key_type.clone()),
                    });
                    pinned.push(PinnedKey {
                        host: stops[hop].shown(false).address,
                        offer,
                    });
                }
                None => {
                    return Err(Error::HostKeyMismatch {
                        host: stops[hop].shown(false).address,
                        expected: known[0].fingerprint.clone(),
                        actual: listed(&offers),
                    })
                }
            }
        }
        if !spoke {
            return Err(Error::BadInput(format!(
                "{} lists no key for any host of {name}'s way. Trust it by its fingerprint instead.",
                known_hosts.display()
            )));
        }
        Ok(pinned)
    }

    /// Pins the first of `offers` that `wanted` picks for `stop`'s host, with its type,
    /// and drops the open connection (the next command asks for the pinned key); `None`
    /// if none is picked.
    async fn pin_one_of(
        &self,
        target: &Target,
        stop: &Stop,
        offers: &[HostKeyOffer],
        wanted: impl Fn(&HostKeyOffer) -> bool,
    ) -> Result<Option<HostKeyOffer>> {
        let Some(offer) = offers.iter().find(|offer| wanted(offer)) else {
            return Ok(None);
        };
        self.idle(&target.name)?;
        self.known_hosts()?.pin(
            &stop.endpoint.host,
            stop.endpoint.port,
            &offer.fingerprint,
            Some(&offer.key_type),
        )?;
        self.disconnect(&target.name).await;
        Ok(Some(offer.clone()))
    }
}

/// The way as the operator sees it.
fn shown(stops: &[Stop]) -> Vec<RouteHost> {
    let last = stops.len() - 1;
    stops
        .iter()
        .enumerate()
        .map(|(i, stop)| stop.shown(i == last))
        .collect()
}

fn check_hop(stops: &[Stop], hop: usize) -> Result<()> {
    match hop < stops.len() {
        true => Ok(()),
        false => Err(Error::BadInput(format!(
            "There is no host {} on this target's way: it has {} jump host{}.",
            hop + 1,
            stops.len() - 1,
            if stops.len() == 2 { "" } else { "s" }
        ))),
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
