//! A target's way: its jump hosts in order, then the target itself. Every host on it is
//! trusted on its own (its own pin in known_hosts), and each is reached through the ones
//! before it, so trusting or probing one needs the ones before it trusted.

use serde::Serialize;
use ts_rs::TS;

use super::Console;
use crate::error::{Error, Result};
use crate::ssh::{Endpoint, Hop};
use crate::target::Target;
use crate::trust::{HostPin, KnownHosts};

/// One host of a target's way there, as the trust dialog lists them.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, TS)]
pub struct RouteHost {
    /// `host:port`, as errors name it.
    pub address: String,
    pub user: String,
    /// The pinned fingerprint, if this host is trusted.
    pub pinned: Option<String>,
    /// True for the jump hosts, false for the target itself (the last).
    pub jump: bool,
}

/// One host of the way, with what connecting to it needs.
pub(super) struct Stop {
    pub(super) endpoint: Endpoint,
    pub(super) pin: Option<HostPin>,
    /// The keyring key that logs in there.
    pub(super) key: Option<String>,
}

/// The hosts of `target`'s way, jump hosts first, the target last.
pub(super) fn stops(target: &Target, known_hosts: &KnownHosts) -> Vec<Stop> {
    let jumps = target.jump.iter().map(|hop| Stop {
        endpoint: Endpoint {
            host: hop.host.clone(),
            port: hop.port,
            user: hop.user.clone(),
        },
        pin: known_hosts.pin_of(&hop.host, hop.port).cloned(),
        key: hop.key.clone().or_else(|| target.key.clone()),
    });
    let last = Stop {
        endpoint: Endpoint {
            host: target.host.clone(),
            port: target.port,
            user: target.user.clone(),
        },
        pin: known_hosts.pin_of(&target.host, target.port).cloned(),
        key: target.key.clone(),
    };
    jumps.chain(std::iter::once(last)).collect()
}

impl Stop {
    pub(super) fn shown(&self, last: bool) -> RouteHost {
        RouteHost {
            address: format!("{}:{}", self.endpoint.host, self.endpoint.port),
            user: self.endpoint.user.clone(),
            pinned: self.pin.as_ref().map(|p| p.fingerprint.clone()),
            jump: !last,
        }
    }
}

impl Console {
    /// The jump hosts among `stops`, keys loaded from the keyring (each key once).
    pub(super) async fn hops(&self, target: &Target, stops: &[Stop]) -> Result<Vec<Hop>> {
        let mut loaded: Vec<(String, russh::keys::PrivateKey)> = Vec::new();
        let mut hops = Vec::new();
        for stop in stops {
            let name = stop.key.clone().ok_or_else(|| no_key(&target.name))?;
            let key = match loaded.iter().find(|(n, _)| *n == name) {
                Some((_, key)) => key.clone(),
                None => {
                    let loader = self.key_loader.clone();
                    let wanted = name.clone();
                    let key = super::blocking(move || loader(&wanted)).await?;
                    loaded.push((name, key.clone()));
                    key
                }
            };
            hops.push(Hop {
                endpoint: stop.endpoint.clone(),
                pin: stop.pin.clone(),
                key,
            });
        }
        Ok(hops)
    }
}

pub(super) fn no_key(target: &str) -> Error {
    Error::BadInput(format!(
        "The target {target} has no key. Choose one on the Targets screen (with the CLI: remove the target and add it again with --key)."
    ))
}
