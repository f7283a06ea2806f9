//! Hermetic SSH tests against the in-process host (`host/`; the lab's OpenSSH covers
//! interop). The host counts every authentication request it receives, so the tests can
//! prove a wrong host key stops the client before it authenticates.

mod host;

use std::sync::Arc;
use std::time::Duration;

use host::{FakeHost, Reply};
use russh::keys::PrivateKey;
use shipshape_core::shell::RemoteCommand;
use shipshape_core::ssh::{Connection, Deadline, Endpoint};
use shipshape_core::trust::HostPin;
use shipshape_core::{Error, ErrorCode};

fn ed25519() -> PrivateKey {
    PrivateKey::random(&mut rand::rng(), russh::keys::Algorithm::Ed25519).unwrap()
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

/// A pin of `fingerprint`, a key of `key_type` (`None`: a pin from before types).
fn pin(fingerprint: &str, key_type: Option<&str>) -> HostPin {
    HostPin {
        fingerprint: fingerprint.to_string(),
        key_type: key_type.map(str::to_string),
    }
}

async fn connected(host: &FakeHost) -> Connection {
    Connection::open(
        &endpoint(host.port),
        Some(&pin(&host.fingerprint, Some("ssh-ed25519"))),
        &host.client_key,
        TIMEOUT,
    )
    .await
    .unwrap()
}

#[tokio::test]
async fn a_pinned_host_runs_commands_on_one_multiplexed_connection() {
    let host = FakeHost::start().await;
    host.answer("docker compose ps", Reply::ok("ran"), None);
    host.answer(
        "fail",
        Reply::Exit {
            stdout: String::new(),
            exit: 3,
            delay: Duration::ZERO,
        },
        None,
    );
    let connection = connected(&host).await;
    assert_eq!(connection.host_key(), host.fingerprint);
    let command = RemoteCommand::new("docker")
        .args(["compose", "ps"])
        .in_dir("/srv/my app");
    let failing = RemoteCommand::new("fail");
    let (a, b) = tokio::join!(
        connection.exec(&command, LONG),
        connection.exec(&failing, LONG)
    );
    let (a, b) = (a.unwrap(), b.unwrap());
    assert_eq!(a.stdout, "ran");
    assert_eq!(a.command, "cd '/srv/my app' && docker compose ps");
    assert_eq!(a.exit_code, Some(0));
    assert_eq!(b.exit_code, Some(3));
    assert!(!b.succeeded());
    // The host received exactly the rendered command (under its supervisor).
    assert!(host
        .received()
        .contains(&"cd '/srv/my app' && docker compose ps".to_string()));
}

#[tokio::test]
async fn a_wrong_pin_is_refused_before_any_authentication() {
    let host = FakeHost::start().await;
    let wrong = "SHA256:AAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAA";
    let wrong_pin = pin(wrong, Some("ssh-ed25519"));
    let error = Connection::open(
        &endpoint(host.port),
        Some(&wrong_pin),
        &host.client_key,
        TIMEOUT,
    )
    .await
    .err()
    .expect("a wrong host key must not connect");
    match &error {
        Error::HostKeyMismatch {
            expected, actual, ..
        } => {
            assert_eq!(expected, wrong);
            assert_eq!(actual, &host.fingerprint);
        }
        other => panic!("expected a host key mismatch, got {other:?}"),
    }
    assert_eq!(error.code().exit_code(), 3);
    tokio::time::sleep(Duration::from_millis(100)).await;
    assert_eq!(
        host.auth_requests(),
        0,
        "the server saw an authentication request"
    );
}

/// A host holds several keys and shows the one the client prefers (ed25519). A pin of its
/// ECDSA key records the type, and connecting asks for that key: it connects. Before pins
/// had types, the host showed its ed25519 key and was refused as an impostor.
#[tokio::test]
async fn a_host_pinned_by_its_ecdsa_key_is_asked_for_that_key() {
    let host = FakeHost::start().await;
    let ecdsa = pin(&host.ecdsa_fingerprint, Some("ecdsa-sha2-nistp256"));
    let connection = Connection::open(
        &endpoint(host.port),
        Some(&ecdsa),
        &host.client_key,
        TIMEOUT,
    )
    .await
    .expect("the pinned ECDSA key is the one asked for");
    assert_eq!(connection.host_key(), host.ecdsa_fingerprint);
    let authenticated = host.auth_requests();

    // Without the type, the host shows the key it prefers, which is not the pinned one.
    let untyped = pin(&host.ecdsa_fingerprint, None);
    let error = Connection::open(
        &endpoint(host.port),
        Some(&untyped),
        &host.client_key,
        TIMEOUT,
    )
    .await
    .err()
    .unwrap();
    assert_eq!(error.code(), ErrorCode::HostKeyMismatch);

    // A pinned type the host does not hold is a mismatch that says so, before any
    // authentication.
    let rsa = pin(&host.ecdsa_fingerprint, Some("ssh-rsa"));
    let error = Connection::open(&endpoint(host.port), Some(&rsa), &host.client_key, TIMEOUT)
        .await
        .err()
        .unwrap();
    assert_eq!(error.code(), ErrorCode::HostKeyMismatch);
    assert!(error.to_string().contains("no ssh-rsa key"), "{error}");
    assert_eq!(
        host.auth_requests(),
        authenticated,
        "a refused host saw a user"
    );

    // Probing lists each key the host holds, the preferred first.
    let offers = Connection::probe_host_keys("127.0.0.1", host.port, TIMEOUT)
        .await
        .unwrap();
    let listed: Vec<_> = offers
        .iter()
        .map(|o| (o.key_type.as_str(), o.fingerprint.as_str()))
        .collect();
    assert_eq!(
        listed,
        [
            ("ssh-ed25519", host.fingerprint.as_str()),
            ("ecdsa-sha2-nistp256", host.ecdsa_fingerprint.as_str())
        ]
    );
}

#[tokio::test]
async fn an_unpinned_host_reports_what_it_offered_and_is_not_trusted() {
    let host = FakeHost::start().await;
    let error = Connection::open(&endpoint(host.port), None, &host.client_key, TIMEOUT)
        .await
        .err()
        .unwrap();
    match error {
        Error::HostKeyUnknown {
            fingerprint,
            key_type,
            ..
        } => {
            assert_eq!(fingerprint, host.fingerprint);
            assert_eq!(key_type, "ssh-ed25519");
        }
        other => panic!("expected an unknown host key, got {other:?}"),
    }
    assert_eq!(host.auth_requests(), 0);
}

#[tokio::test]
async fn a_key_the_server_does_not_know_is_rejected_with_its_public_line() {
    let host = FakeHost::start().await;
    let stranger = ed25519();
    let error = Connection::open(
        &endpoint(host.port),
        Some(&pin(&host.fingerprint, None)),
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
    assert!(host.auth_requests() > 0);
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
    let host = FakeHost::start().await;
    host.answer(
        "forever",
        Reply::Stream {
            every: Duration::from_millis(10),
        },
        None,
    );
    let connection = connected(&host).await;
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
    // The host saw the command's input end: on a real host its supervisor ends it.
    assert_eq!(host.ended_by_client(), ["logs forever"]);
    // The connection stays usable for other commands after a cancelled stream.
    let after = connection
        .exec(&RemoteCommand::new("echo"), LONG)
        .await
        .unwrap();
    assert_eq!(after.exit_code, Some(0));
}

#[tokio::test]
async fn a_command_the_host_refuses_to_start_ends_at_once_even_unbounded() {
    let host = FakeHost::start().await;
    host.answer("forkless", Reply::Refuse, None);
    let connection = connected(&host).await;
    let started = std::time::Instant::now();
    let refused = tokio::time::timeout(
        Duration::from_secs(5),
        connection.exec(&RemoteCommand::new("forkless"), Deadline::Unbounded),
    )
    .await
    .expect("a refused command ends at once, not never")
    .unwrap();
    assert_eq!(refused.exit_code, None);
    assert!(!refused.succeeded());
    assert!(
        refused.stderr.contains("refused to start"),
        "{}",
        refused.stderr
    );
    assert!(started.elapsed() < Duration::from_secs(2));
    // The connection still serves the next command.
    host.answer("after", Reply::ok("fine"), None);
    let after = connection
        .exec(&RemoteCommand::new("after"), LONG)
        .await
        .unwrap();
    assert_eq!(after.stdout, "fine");
}

#[tokio::test]
async fn a_command_whose_caller_went_away_is_ended_on_the_host() {
    let host = FakeHost::start().await;
    host.answer("forever", Reply::Hang, None);
    let connection = Arc::new(connected(&host).await);
    let caller = tokio::spawn({
        let connection = connection.clone();
        async move {
            let _ = connection
                .exec(&RemoteCommand::new("forever"), Deadline::Unbounded)
                .await;
        }
    });
    while host.received_containing("forever") == 0 {
        tokio::time::sleep(Duration::from_millis(10)).await;
    }
    // A sibling probe failed, or the window closed: the task is dropped mid-exec.
    caller.abort();
    let started = std::time::Instant::now();
    while host.ended_by_client().is_empty() {
        assert!(
            started.elapsed() < Duration::from_secs(3),
            "the command still runs on the host"
        );
        tokio::time::sleep(Duration::from_millis(20)).await;
    }
    assert_eq!(host.ended_by_client(), ["forever"]);
}
