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
use std::net::SocketAddr;
use std::pin::Pin;
use std::task::{Context, Poll};
use std::time::Duration;

use tokio::io::{AsyncRead, AsyncWrite, ReadBuf};
use tokio::net::TcpStream;

use super::Endpoint;
use crate::error::{Error, Result};

/// A TCP stream that acknowledges each read immediately (on Linux; elsewhere as is).
pub(crate) struct QuickAckStream(TcpStream);

/// How long one address is given before the next one is tried beside it (RFC 8305's
/// connection attempt delay).
const NEXT_ADDRESS_AFTER: Duration = Duration::from_millis(250);

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
    let stream = first_to_answer(&addresses)
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

/// The first of `addresses` to accept, each started 250 ms after the one before it (or
/// at once when that one failed) and all of them racing from then on: a name with an
/// IPv6 address whose port is filtered and an IPv4 one that answers connects over IPv4
/// in a quarter of a second, where trying them in turn waited out the first for the whole
/// connect deadline. Failed everywhere: a refusal if there was one, else the last error.
pub(crate) async fn first_to_answer(addresses: &[SocketAddr]) -> io::Result<TcpStream> {
    let mut attempts = tokio::task::JoinSet::new();
    let mut waiting = addresses.iter();
    let mut failure: Option<io::Error> = None;
    let mut start_next = true;
    loop {
        if start_next {
            if let Some(address) = waiting.next() {
                attempts.spawn(TcpStream::connect(*address));
            }
        }
        let pending = waiting.len() > 0;
        let stagger = tokio::time::sleep(NEXT_ADDRESS_AFTER);
        tokio::select! {
            done = attempts.join_next() => match done {
                Some(Ok(Ok(stream))) => return Ok(stream),
                Some(Ok(Err(error))) => {
                    let refused = |e: &io::Error| e.kind() == io::ErrorKind::ConnectionRefused;
                    if !failure.as_ref().is_some_and(refused) {
                        failure = Some(error);
                    }
                    start_next = true;
                }
                Some(Err(join)) => failure = Some(io::Error::other(join.to_string())),
                None if !pending => {
                    return Err(failure.unwrap_or_else(|| io::Error::other("no address to try")))
                }
                None => start_next = true,
            },
            _ = stagger, if pending => start_next = true,
        }
    }
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

#[cfg(test)]
mod tests {
    use super::*;

    /// A loopback port whose listener never accepts and whose queue is full: the kernel
    /// drops further SYNs, so a connect there hangs, as to a filtered port.
    fn silent_port() -> (socket2::Socket, Vec<std::net::TcpStream>, SocketAddr) {
        let socket =
            socket2::Socket::new(socket2::Domain::IPV4, socket2::Type::STREAM, None).unwrap();
        socket
            .bind(&SocketAddr::from(([127, 0, 0, 1], 0)).into())
            .unwrap();
        socket.listen(0).unwrap();
        let address = socket.local_addr().unwrap().as_socket().unwrap();
        let filling = (0..4)
            .filter_map(|_| {
                std::net::TcpStream::connect_timeout(&address, Duration::from_millis(200)).ok()
            })
            .collect();
        (socket, filling, address)
    }

    #[tokio::test]
    async fn an_address_that_never_answers_does_not_hold_up_the_next() {
        let (_silent, _filling, silent) = silent_port();
        let hangs = tokio::time::timeout(Duration::from_secs(2), TcpStream::connect(silent));
        assert!(hangs.await.is_err(), "the silent port answered: no test");
        let listener = tokio::net::TcpListener::bind("127.0.0.1:0").await.unwrap();
        let answering = listener.local_addr().unwrap();
        let started = std::time::Instant::now();
        let stream = tokio::time::timeout(
            Duration::from_secs(5),
            first_to_answer(&[silent, answering]),
        )
        .await
        .expect("connected in time")
        .unwrap();
        assert_eq!(stream.peer_addr().unwrap(), answering);
        assert!(
            started.elapsed() < Duration::from_secs(1),
            "{:?}",
            started.elapsed()
        );

        // Refused everywhere: the refusal is what is said.
        drop(listener);
        let refused = first_to_answer(&[answering]).await.unwrap_err();
        assert_eq!(refused.kind(), io::ErrorKind::ConnectionRefused);
    }
}
