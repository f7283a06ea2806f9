//! Hermetic SSH tests against russh's own server on 127.0.0.1:0 (the lab's OpenSSH
//! covers interop). The server counts every authentication request it receives, so the
//! tests can prove a wrong host key stops the client before it authenticates.

use std::sync::atomic::{AtomicUsize, Ordering};
use std::sync::Arc;
use std::time::Duration;

use russh::keys::{HashAlg, PrivateKey, PublicKey};
use russh::server::{self, Auth, Msg, Session};
use russh::{Channel, ChannelId};
use shipshape_core::shell::RemoteCommand;
use shipshape_core::ssh::{Connection, Deadline, Endpoint};
use shipshape_core::{Error, ErrorCode};

fn ed25519() -> PrivateKey {
    PrivateKey::random(&mut rand::rng(), russh::keys::Algorithm::Ed25519).unwrap()
}

#[derive(Clone)]
struct TestServer {
    authorized: PublicKey,
    auth_requests: Arc<AtomicUsize>,
}

impl server::Handler for TestServer {
    type Error = russh::Error;

    async fn auth_none(&mut self, _user: &str) -> Result<Auth, Self::Error> {
        self.auth_requests.fetch_add(1, Ordering::SeqCst);
        Ok(Auth::reject())
    }

    async fn auth_publickey_offered(
        &mut self,
        _user: &str,
        offer: server::PublicKeyOffer<'_>,
    ) -> Result<Auth, Self::Error> {
        self.auth_requests.fetch_add(1, Ordering::SeqCst);
        Ok(
            if offer.public_key.key_data() == self.authorized.key_data() {
                Auth::Accept
            } else {
                Auth::reject()
            },
        )
    }

    async fn auth_publickey(
        &mut self,
        _user: &str,
        key: server::VerifiedPublicKey<'_>,
    ) -> Result<Auth, Self::Error> {
        self.auth_requests.fetch_add(1, Ordering::SeqCst);
        Ok(if key.public_key.key_data() == self.authorized.key_data() {
            Auth::Accept
        } else {
            Auth::reject()
        })
    }

    async fn channel_close(
        &mut self,
        _channel: ChannelId,
        _session: &mut Session,
    ) -> Result<(), Self::Error> {
        Ok(())
    }

    async fn channel_open_session(
        &mut self,
        _channel: Channel<Msg>,
        reply: server::ChannelOpenHandle,
        _session: &mut Session,
    ) -> Result<(), Self::Error> {
        reply.accept().await;
        Ok(())
    }

    /// Echoes the command it was given; exits 3 when the command mentions `fail`.
    async fn exec_request(
        &mut self,
        channel: ChannelId,
        data: &[u8],
        session: &mut Session,
    ) -> Result<(), Self::Error> {
        let sent = String::from_utf8_lossy(data).into_owned();
        let command = shipshape_core::shell::unsupervised(&sent).expect("commands run supervised");
        session.channel_success(channel)?;
        if command.contains("forever") {
            // Like `logs -f`: a line every 10 ms until the client closes the channel.
            let handle = session.handle();
            tokio::spawn(async move {
                for i in 0.. {
                    if handle.data(channel, format!("line {i}\n")).await.is_err() {
                        break;
                    }
                    tokio::time::sleep(Duration::from_millis(10)).await;
                }
            });
            return Ok(());
        }
        session.data(channel, format!("ran: {command}"))?;
        session.exit_status_request(channel, if command.contains("fail") { 3 } else { 0 })?;
        session.eof(channel)?;
        session.close(channel)?;
        Ok(())
    }
}

struct Fixture {
    port: u16,
    host_key_fingerprint: String,
    client_key: PrivateKey,
    auth_requests: Arc<AtomicUsize>,
}

async fn start_server() -> Fixture {
    let host_key = ed25519();
    let client_key = ed25519();
    let host_key_fingerprint = host_key
        .public_key()
        .fingerprint(HashAlg::Sha256)
        .to_string();
    let auth_requests = Arc::new(AtomicUsize::new(0));
    let handler = TestServer {
        authorized: client_key.public_key().clone(),
        auth_requests: auth_requests.clone(),
    };
    let config = Arc::new(server::Config {
        keys: vec![host_key],
        auth_rejection_time: Duration::from_millis(1),
        auth_rejection_time_initial: Some(Duration::ZERO),
        inactivity_timeout: Some(Duration::from_secs(30)),
        ..Default::default()
    });
    let listener = tokio::net::TcpListener::bind("127.0.0.1:0").await.unwrap();
    let port = listener.local_addr().unwrap().port();
    tokio::spawn(async move {
        while let Ok((socket, _)) = listener.accept().await {
            let (config, handler) = (config.clone(), handler.clone());
            tokio::spawn(async move {
                if let Ok(session) = server::run_stream(config, socket, handler).await {
                    let _ = session.await;
                }
            });
        }
    });
    Fixture {
        port,
        host_key_fingerprint,
        client_key,
        auth_requests,
    }
}

fn endpoint(port: u16) -> Endpoint {
    Endpoint {
        host: "127.0.0.1".into(),
        port,
        user: "ubuntu".into(),
    }
}

const TIMEOUT: Duration = Duration::from_secs(10);
const LONG: Deadline = Deadline::Total(Duration::from_secs(10));

#[tokio::test]
async fn a_pinned_host_runs_commands_on_one_multiplexed_connection() {
    let f = start_server().await;
    let connection = Connection::open(
        &endpoint(f.port),
        Some(&f.host_key_fingerprint),
        &f.client_key,
        TIMEOUT,
    )
    .await
    .unwrap();
    assert_eq!(connection.host_key(), f.host_key_fingerprint);
    let command = RemoteCommand::new("docker")
        .args(["compose", "ps"])
        .in_dir("/srv/my app");
    let failing = RemoteCommand::new("fail");
    let (a, b) = tokio::join!(
        connection.exec(&command, LONG),
        connection.exec(&failing, LONG)
    );
    let (a, b) = (a.unwrap(), b.unwrap());
    assert_eq!(a.stdout, "ran: cd '/srv/my app' && docker compose ps");
    assert_eq!(a.exit_code, Some(0));
    assert_eq!(b.exit_code, Some(3));
    assert!(!b.succeeded());
}

#[tokio::test]
async fn a_wrong_pin_is_refused_before_any_authentication() {
    let f = start_server().await;
    let wrong = "SHA256:AAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAA";
    let error = Connection::open(&endpoint(f.port), Some(wrong), &f.client_key, TIMEOUT)
        .await
        .err()
        .expect("a wrong host key must not connect");
    match &error {
        Error::HostKeyMismatch {
            expected, actual, ..
        } => {
            assert_eq!(expected, wrong);
            assert_eq!(actual, &f.host_key_fingerprint);
        }
        other => panic!("expected a host key mismatch, got {other:?}"),
    }
    assert_eq!(error.code().exit_code(), 3);
    tokio::time::sleep(Duration::from_millis(100)).await;
    assert_eq!(
        f.auth_requests.load(Ordering::SeqCst),
        0,
        "the server saw an authentication request"
    );
}

#[tokio::test]
async fn an_unpinned_host_reports_what_it_offered_and_is_not_trusted() {
    let f = start_server().await;
    let error = Connection::open(&endpoint(f.port), None, &f.client_key, TIMEOUT)
        .await
        .err()
        .unwrap();
    match error {
        Error::HostKeyUnknown {
            fingerprint,
            key_type,
            ..
        } => {
            assert_eq!(fingerprint, f.host_key_fingerprint);
            assert_eq!(key_type, "ssh-ed25519");
        }
        other => panic!("expected an unknown host key, got {other:?}"),
    }
    assert_eq!(f.auth_requests.load(Ordering::SeqCst), 0);
}

#[tokio::test]
async fn a_key_the_server_does_not_know_is_rejected_with_its_public_line() {
    let f = start_server().await;
    let stranger = ed25519();
    let error = Connection::open(
        &endpoint(f.port),
        Some(&f.host_key_fingerprint),
        &stranger,
        TIMEOUT,
    )
    .await
    .err()
    .unwrap();
    assert_eq!(error.code(), ErrorCode::AuthRejected);
    assert!(error
        .to_string()
        .contains(&stranger.public_key().to_openssh().unwrap()));
    assert!(f.auth_requests.load(Ordering::SeqCst) > 0);
}

#[tokio::test]
async fn a_closed_port_is_connection_refused() {
    let listener = std::net::TcpListener::bind("127.0.0.1:0").unwrap();
    let port = listener.local_addr().unwrap().port();
    drop(listener);
    let error = Connection::open(&endpoint(port), None, &ed25519(), TIMEOUT)
        .await
        .err()
        .unwrap();
    assert_eq!(error.code(), ErrorCode::ConnectionRefused);
}

#[tokio::test]
async fn a_streamed_command_delivers_output_as_it_comes_and_stops_on_cancel() {
    let f = start_server().await;
    let connection = Connection::open(
        &endpoint(f.port),
        Some(&f.host_key_fingerprint),
        &f.client_key,
        TIMEOUT,
    )
    .await
    .unwrap();
    let cancel = shipshape_core::ssh::CancellationToken::new();
    let received = Arc::new(std::sync::Mutex::new(String::new()));
    let (sink, stopper) = (received.clone(), cancel.clone());
    let watcher = tokio::spawn(async move {
        // Cancel once a few lines have arrived, while the command is still running.
        loop {
            if sink.lock().unwrap().matches('\n').count() >= 5 {
                stopper.cancel();
                break;
            }
            tokio::time::sleep(Duration::from_millis(5)).await;
        }
    });
    let into = received.clone();
    let end = tokio::time::timeout(
        Duration::from_secs(10),
        connection.exec_streaming(
            &RemoteCommand::new("logs").arg("forever"),
            Deadline::Unbounded,
            move |chunk| {
                if let shipshape_core::ssh::StreamChunk::Stdout(bytes) = chunk {
                    into.lock()
                        .unwrap()
                        .push_str(&String::from_utf8_lossy(bytes));
                }
            },
            &cancel,
        ),
    )
    .await
    .expect("cancel ends the stream promptly")
    .unwrap();
    watcher.await.unwrap();
    assert!(end.cancelled());
    assert!(received.lock().unwrap().starts_with("line 0\nline 1\n"));
    // The connection stays usable for other commands after a cancelled stream.
    let after = connection
        .exec(&RemoteCommand::new("echo"), LONG)
        .await
        .unwrap();
    assert_eq!(after.exit_code, Some(0));
}
