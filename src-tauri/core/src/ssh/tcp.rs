//! The TCP connection to the first host, acknowledging what it reads at once.
//!
//! OpenSSH's sshd turns Nagle's algorithm off only when a session's command starts. Until
//! then, a small packet it sends (a channel's confirmation, just after the packets that
//! follow a login) waits in its kernel until we acknowledge the packet before it, and
//! Linux delays that acknowledgement by 40 ms when it has nothing to send back. Every
//! connection paid that once before its first command could start: a fifth of a whole
//! verification of the lab. Re-arming `TCP_QUICKACK` after each read (the flag does not
//! stick) has the acknowledgement leave at once; it costs one system call a read.

use std::io;
use std::pin::Pin;
use std::task::{Context, Poll};

use tokio::io::{AsyncRead, AsyncWrite, ReadBuf};
use tokio::net::TcpStream;

use super::Endpoint;
use crate::error::{Error, Result};

/// A TCP stream that acknowledges each read immediately (on Linux; elsewhere as is).
pub(crate) struct QuickAckStream(TcpStream);

/// Connects to `endpoint`, trying each address its name resolves to.
pub(crate) async fn connect(endpoint: &Endpoint) -> Result<QuickAckStream> {
    let host = endpoint.host.clone();
    let addresses: Vec<_> = tokio::net::lookup_host((host.as_str(), endpoint.port))
        .await
        .map_err(|_| Error::NameNotResolved { host: host.clone() })?
        .collect();
    if addresses.is_empty() {
        return Err(Error::NameNotResolved { host });
    }
    let stream = TcpStream::connect(&addresses[..])
        .await
        .map_err(|e| match e.kind() {
            io::ErrorKind::ConnectionRefused => Error::ConnectionRefused {
                host: host.clone(),
                port: endpoint.port,
            },
            _ => Error::Protocol(format!("could not reach {host}:{}: {e}", endpoint.port)),
        })?;
    stream.set_nodelay(true).ok();
    Ok(QuickAckStream(stream))
}

impl QuickAckStream {
    fn acknowledge_now(&self) {
        #[cfg(target_os = "linux")]
        let _ = socket2::SockRef::from(&self.0).set_tcp_quickack(true);
    }
}

impl AsyncRead for QuickAckStream {
    fn poll_read(
        mut self: Pin<&mut Self>,
        cx: &mut Context<'_>,
        buf: &mut ReadBuf<'_>,
    ) -> Poll<io::Result<()>> {
        let before = buf.filled().len();
        let polled = Pin::new(&mut self.0).poll_read(cx, buf);
        if matches!(polled, Poll::Ready(Ok(()))) && buf.filled().len() > before {
            self.acknowledge_now();
        }
        polled
    }
}

impl AsyncWrite for QuickAckStream {
    fn poll_write(
        mut self: Pin<&mut Self>,
        cx: &mut Context<'_>,
        buf: &[u8],
    ) -> Poll<io::Result<usize>> {
        Pin::new(&mut self.0).poll_write(cx, buf)
    }

    fn poll_write_vectored(
        mut self: Pin<&mut Self>,
        cx: &mut Context<'_>,
        bufs: &[io::IoSlice<'_>],
    ) -> Poll<io::Result<usize>> {
        Pin::new(&mut self.0).poll_write_vectored(cx, bufs)
    }

    fn is_write_vectored(&self) -> bool {
        self.0.is_write_vectored()
    }

    fn poll_flush(mut self: Pin<&mut Self>, cx: &mut Context<'_>) -> Poll<io::Result<()>> {
        Pin::new(&mut self.0).poll_flush(cx)
    }

    fn poll_shutdown(mut self: Pin<&mut Self>, cx: &mut Context<'_>) -> Poll<io::Result<()>> {
        Pin::new(&mut self.0).poll_shutdown(cx)
    }
}
