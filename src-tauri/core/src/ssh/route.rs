//! The way to a host: directly over TCP, or through jump hosts (bastions), each reached
//! through the one before it on a `direct-tcpip` channel, all inside this process (no
//! local `ssh`, no `ProxyCommand`). Every hop is a full SSH session of its own: its host
//! key is checked against its pin in the key exchange, before anything about us is sent
//! to it, exactly as for the target.

use std::sync::{Arc, Mutex};
use std::time::Duration;

use russh::client::{self, Handle};
use russh::keys::{PrivateKey, PrivateKeyWithHashAlg};
use tokio::io::{AsyncRead, AsyncWrite};

use super::host_key::{self, PinnedHostKey};
use super::{Endpoint, KEEPALIVE_INTERVAL, KEEPALIVE_MAX};
use crate::error::{Error, Result};
use crate::trust::HostPin;

/// A host passed through on the way: where it is, what proves it, what logs in to it.
#[derive(Clone)]
pub struct Hop {
    pub endpoint: Endpoint,
    pub pin: Option<HostPin>,
    pub key: PrivateKey,
}

/// The jump hosts of a route, connected and authenticated in turn. Kept as long as the
/// connection through them: dropping it closes every hop.
#[derive(Default)]
pub(crate) struct Tunnel {
    hops: Vec<(String, Handle<PinnedHostKey>)>,
}

/// A byte stream to the next host: a TCP socket or a channel of the last hop.
pub(crate) trait Stream: AsyncRead + AsyncWrite + Unpin + Send {}
impl<T: AsyncRead + AsyncWrite + Unpin + Send> Stream for T {}

impl Tunnel {
    /// Connects to each of `jumps` through the ones before it, checking each host key
    /// before authenticating there.
    pub(crate) async fn through(jumps: &[Hop]) -> Result<Tunnel> {
        let mut tunnel = Tunnel::default();
        for hop in jumps {
            let pinned = hop.pin.as_ref().map(|p| p.fingerprint.as_str());
            let key_type = hop.pin.as_ref().and_then(|p| p.key_type.as_deref());
            let (mut handle, _) = tunnel.handshake(&hop.endpoint, pinned, key_type).await?;
            authenticate(&mut handle, &hop.endpoint, &hop.key).await?;
            tracing::debug!(hop = %address(&hop.endpoint), "jump host authenticated");
            tunnel.hops.push((address(&hop.endpoint), handle));
        }
        Ok(tunnel)
    }

    /// A stream to `endpoint`: over TCP from here, or from the last hop.
    async fn stream_to(&self, endpoint: &Endpoint) -> Result<Box<dyn Stream>> {
        let host = &endpoint.host;
        let Some((via, handle)) = self.hops.last() else {
            return Ok(Box::new(super::tcp::connect(endpoint).await?));
        };
        let refused = |reason: String| Error::JumpRefused {
            via: via.clone(),
            host: host.clone(),
            port: endpoint.port,
            reason,
        };
        // The hop resolves the name: the target may be known only on its side.
        match handle
            .channel_open_direct_tcpip(host.as_str(), u32::from(endpoint.port), "127.0.0.1", 0)
            .await
        {
            Ok(channel) => Ok(Box::new(channel.into_stream())),
            Err(russh::Error::ChannelOpenFailure(reason)) => Err(refused(format!("{reason:?}"))),
            Err(_) => Err(Error::ConnectionLost { host: via.clone() }),
        }
    }

    /// Opens an SSH session with `endpoint` through this tunnel, accepting it only if its
    /// key matches `pinned` (asking for `key_type`); returns it with the key it showed.
    pub(crate) async fn handshake(
        &self,
        endpoint: &Endpoint,
        pinned: Option<&str>,
        key_type: Option<&str>,
    ) -> Result<(Handle<PinnedHostKey>, String)> {
        let stream = self.stream_to(endpoint).await?;
        let config = Arc::new(client::Config {
            keepalive_interval: Some(KEEPALIVE_INTERVAL),
            keepalive_max: KEEPALIVE_MAX,
            inactivity_timeout: None,
            preferred: host_key::preferences(key_type)?,
            ..Default::default()
        });
        let seen = Arc::new(Mutex::new(None));
        let verifier = PinnedHostKey {
            expected: pinned.map(str::to_string),
            seen: seen.clone(),
        };
        let host = address(endpoint);
        match client::connect_stream(config, stream, verifier).await {
            Ok(handle) => {
                let shown = seen.lock().unwrap().as_ref().map(|s| s.fingerprint.clone());
                Ok((handle, shown.unwrap_or_default()))
            }
            Err(error) => {
                let seen = seen.lock().unwrap().clone();
                Err(match (error, seen, pinned) {
                    (russh::Error::UnknownKey, Some(seen), Some(expected)) => {
                        Error::HostKeyMismatch {
                            host,
                            expected: expected.to_string(),
                            actual: seen.fingerprint,
                        }
                    }
                    (russh::Error::UnknownKey, Some(seen), None) => Error::HostKeyUnknown {
                        host,
                        key_type: seen.key_type,
                        fingerprint: seen.fingerprint,
                    },
                    // The host holds no key of the type asked for (the pinned one).
                    (
                        russh::Error::NoCommonAlgo {
                            kind: russh::AlgorithmKind::Key,
                            ..
                        },
                        _,
                        _,
                    ) if key_type.is_some() => {
                        host_key::type_missing(host, pinned, key_type.unwrap_or_default())
                    }
                    (error, _, _) => protocol_error(&endpoint.host, error),
                })
            }
        }
    }

    /// Hangs up on every hop, the last first.
    pub(crate) async fn close(&self) {
        for (_, handle) in self.hops.iter().rev() {
            let _ = handle
                .disconnect(russh::Disconnect::ByApplication, "", "en")
                .await;
        }
    }
}

/// Logs in to `endpoint` as its user with `key`.
pub(crate) async fn authenticate(
    handle: &mut Handle<PinnedHostKey>,
    endpoint: &Endpoint,
    key: &PrivateKey,
) -> Result<()> {
    let host = &endpoint.host;
    let hash = handle
        .best_supported_rsa_hash()
        .await
        .map_err(|e| protocol_error(host, e))?
        .flatten();
    let auth = handle
        .authenticate_publickey(
            &endpoint.user,
            PrivateKeyWithHashAlg::new(Arc::new(key.clone()), hash),
        )
        .await
        .map_err(|e| protocol_error(host, e))?;
    if !auth.success() {
        return Err(Error::AuthRejected {
            host: host.clone(),
            user: endpoint.user.clone(),
            key: key.public_key().to_openssh().unwrap_or_default(),
        });
    }
    Ok(())
}

/// `host:port`, as errors name a host.
pub(crate) fn address(endpoint: &Endpoint) -> String {
    format!("{}:{}", endpoint.host, endpoint.port)
}

pub(crate) fn protocol_error(host: &str, error: russh::Error) -> Error {
    match error {
        russh::Error::Disconnect | russh::Error::HUP | russh::Error::SendError => {
            Error::ConnectionLost {
                host: host.to_string(),
            }
        }
        other => Error::Protocol(other.to_string()),
    }
}

/// How long connecting through `hops` jump hosts may take: each hop is a connection of
/// its own.
pub(crate) fn timeout_through(hops: usize, each: Duration) -> Duration {
    each * (hops as u32 + 1)
}
