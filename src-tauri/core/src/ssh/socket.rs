//! A request to a Unix socket on the host, over the connection itself: sshd connects to
//! the socket as the logged-in user (a `direct-streamlocal` channel, what `ssh -L
//! local:remote.sock` uses), so the host starts no process for it, the user's rights
//! decide what it may reach, and nothing can outlive the channel.

use russh::ChannelMsg;

use super::Connection;
use crate::error::{Error, Result};

/// What the socket answered, up to the limit asked for.
#[derive(Debug, Clone, Default)]
pub struct SocketAnswer {
    pub bytes: Vec<u8>,
    /// The answer went on past the limit; what is kept is its beginning.
    pub cut: bool,
}

impl Connection {
    /// Writes `request` to the socket at `path` on the host and reads the answer until
    /// the socket closes or `limit` bytes have come. `Ok(None)` if the host refused the
    /// channel: its sshd forbids such forwarding (`AllowStreamLocalForwarding no`), or
    /// the socket is missing or closed to this user.
    pub async fn ask_socket(
        &self,
        path: &str,
        request: &[u8],
        limit: usize,
    ) -> Result<Option<SocketAnswer>> {
        let lost = || Error::ConnectionLost {
            host: self.host.clone(),
        };
        let mut channel = match self.handle.channel_open_direct_streamlocal(path).await {
            Ok(channel) => channel,
            Err(russh::Error::ChannelOpenFailure(reason)) => {
                tracing::debug!(host = %self.host, path, ?reason, "the host refused a socket channel");
                return Ok(None);
            }
            Err(_) => return Err(lost()),
        };
        channel.data(request).await.map_err(|_| lost())?;
        let mut answer = SocketAnswer::default();
        while let Some(message) = channel.wait().await {
            match message {
                ChannelMsg::Data { data } => {
                    let room = limit.saturating_sub(answer.bytes.len());
                    answer
                        .bytes
                        .extend_from_slice(&data[..data.len().min(room)]);
                    if data.len() > room {
                        answer.cut = true;
                        break;
                    }
                }
                ChannelMsg::Eof | ChannelMsg::Close => break,
                _ => {}
            }
        }
        let _ = channel.close().await;
        if self.handle.is_closed() {
            return Err(lost());
        }
        Ok(Some(answer))
    }
}
