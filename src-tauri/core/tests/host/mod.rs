//! An in-process host for SSH and console flows: a russh server on 127.0.0.1 that answers the
//! commands Shipshape renders from a table (output, exit code, delay, a hang, a dropped
//! connection), behind a TCP proxy that can freeze (a host that stops answering, like a
//! SIGSTOPped sshd) or cut the line. Fast and hermetic: no lab, no keyring.

#![allow(dead_code)] // each test file uses its own part of it

pub mod console;

use std::collections::HashMap;
use std::sync::atomic::{AtomicBool, AtomicUsize, Ordering};
use std::sync::{Arc, Mutex};
use std::time::Duration;

use russh::keys::{HashAlg, PrivateKey};
use russh::server::{self, Auth, Msg, Session};
use russh::{Channel, ChannelId};
use tokio::io::{AsyncReadExt, AsyncWriteExt};

/// How the host answers a command.
#[derive(Debug, Clone)]
pub enum Reply {
    /// Prints `stdout`, then exits with `exit`, after `delay`.
    Exit {
        stdout: String,
        exit: u32,
        delay: Duration,
    },
    /// Prints `stderr` to standard error and exits with `exit`.
    Fails { stderr: String, exit: u32 },
    /// Never answers; ends (as the supervisor would end it) when its input ends.
    Hang,
    /// Drops the whole connection.
    Drop,
    /// Like `logs -f`: `line N` every `every`, until the client ends its input.
    Stream { every: Duration },
    /// Refuses to start it (OpenSSH when it cannot fork): a failure reply, and the
    /// channel left open.
    Refuse,
    /// A batch of probes (`shipshape-batch NONCE ...`) whose listed parts end with their
    /// output and status, framed with the batch's nonce; then it exits, or with `hang`
    /// it hangs: a part that never ends (a remote `git` that waits on the network).
    Frames {
        parts: Vec<(&'static str, &'static str, i32)>,
        hang: bool,
    },
}

impl Reply {
    pub fn ok(stdout: &str) -> Reply {
        Reply::Exit {
            stdout: stdout.to_string(),
            exit: 0,
            delay: Duration::ZERO,
        }
    }
}

struct Rule {
    /// Applies to commands containing this text.
    contains: String,
    reply: Reply,
    /// How many more times it applies; `None`: always.
    times: Option<usize>,
}

#[derive(Default)]
struct State {
    rules: Vec<Rule>,
    /// Every command received, as Shipshape rendered it (without its supervisor).
    received: Vec<String>,
    /// Hanging commands whose input the client ended (cancel, deadline, disconnect).
    ended_by_client: Vec<String>,
    hanging: HashMap<ChannelId, String>,
}

#[derive(Clone)]
struct Handler {
    state: Arc<Mutex<State>>,
    authorized: russh::keys::PublicKey,
    /// Every authentication request received, of any kind.
    auth_requests: Arc<AtomicUsize>,
}

impl server::Handler for Handler {
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

    async fn channel_open_session(
        &mut self,
        _channel: Channel<Msg>,
        reply: server::ChannelOpenHandle,
        _session: &mut Session,
    ) -> Result<(), Self::Error> {
        reply.accept().await;
        Ok(())
    }

    async fn exec_request(
        &mut self,
        channel: ChannelId,
        data: &[u8],
        session: &mut Session,
    ) -> Result<(), Self::Error> {
        let sent = String::from_utf8_lossy(data).into_owned();
        // Every command runs supervised, but one that is handed input (the env file's
        // write), whose input the supervisor would take for its channel's.
        let command = shipshape_core::shell::unsupervised(&sent).unwrap_or(sent);
        let reply = {
            let mut state = self.state.lock().unwrap();
            state.received.push(command.clone());
            let found = state
                .rules
                .iter()
                .position(|rule| command.contains(&rule.contains));
            match found {
                Some(at) => {
                    let rule = &mut state.rules[at];
                    let reply = rule.reply.clone();
                    if let Some(times) = rule.times.as_mut() {
                        *times -= 1;
                        if *times == 0 {
                            state.rules.remove(at);
                        }
                    }
                    reply
                }
                None => Reply::ok(""),
            }
        };
        if let Reply::Refuse = reply {
            session.channel_failure(channel)?;
            return Ok(());
        }
        session.channel_success(channel)?;
        match reply {
            Reply::Refuse => unreachable!("answered above"),
            Reply::Drop => return Err(russh::Error::Disconnect),
            Reply::Hang => {
                self.state.lock().unwrap().hanging.insert(channel, command);
            }
            Reply::Frames { parts, hang } => {
                let nonce = command
                    .split("shipshape-batch ")
                    .nth(1)
                    .and_then(|rest| rest.split(' ').next())
                    .expect("a batch names its nonce")
                    .to_string();
                let framed: String = parts
                    .iter()
                    .map(|(name, output, status)| {
                        format!("{nonce} begin {name}\n{output}\n{nonce} end {name} {status}\n")
                    })
                    .collect();
                if hang {
                    self.state.lock().unwrap().hanging.insert(channel, command);
                }
                let handle = session.handle();
                tokio::spawn(async move {
                    let _ = handle.data(channel, framed.into_bytes()).await;
                    if !hang {
                        let _ = handle.exit_status_request(channel, 0).await;
                        let _ = handle.eof(channel).await;
                        let _ = handle.close(channel).await;
                    }
                });
            }
            Reply::Stream { every } => {
                self.state.lock().unwrap().hanging.insert(channel, command);
                let handle = session.handle();
                tokio::spawn(async move {
                    for i in 0.. {
                        if handle.data(channel, format!("line {i}\n")).await.is_err() {
                            break;
                        }
                        tokio::time::sleep(every).await;
                    }
                });
            }
            Reply::Fails { stderr, exit } => {
                let handle = session.handle();
                tokio::spawn(async move {
                    let _ = handle.extended_data(channel, 1, stderr.into_bytes()).await;
                    let _ = handle.exit_status_request(channel, exit).await;
                    let _ = handle.eof(channel).await;
                    let _ = handle.close(channel).await;
                });
            }
            Reply::Exit {
                stdout,
                exit,
                delay,
            } => {
                let handle = session.handle();
                tokio::spawn(async move {
                    tokio::time::sleep(delay).await;
                    let _ = handle.data(channel, stdout.into_bytes()).await;
                    let _ = handle.exit_status_request(channel, exit).await;
                    let _ = handle.eof(channel).await;
                    let _ = handle.close(channel).await;
                });
            }
        }
        Ok(())
    }

    async fn channel_eof(
        &mut self,
        channel: ChannelId,
        session: &mut Session,
    ) -> Result<(), Self::Error> {
        let ended = self.state.lock().unwrap().hanging.remove(&channel);
        if let Some(command) = ended {
            // What the supervisor does on the real host: the command ends.
            self.state.lock().unwrap().ended_by_client.push(command);
            session.exit_status_request(channel, 143)?;
            session.eof(channel)?;
            session.close(channel)?;
        }
        Ok(())
    }
}

/// A running in-process host.
pub struct FakeHost {
    /// The port to connect to (the proxy's).
    pub port: u16,
    /// The fingerprint of its ed25519 key, the one a client prefers.
    pub fingerprint: String,
    /// Its second key, ECDSA P-256, as hosts hold several.
    pub ecdsa_fingerprint: String,
    pub client_key: PrivateKey,
    state: Arc<Mutex<State>>,
    auth_requests: Arc<AtomicUsize>,
    frozen: Arc<AtomicBool>,
    cut: Arc<AtomicBool>,
}

impl FakeHost {
    pub async fn start() -> FakeHost {
        let client_key =
            PrivateKey::random(&mut rand::rng(), russh::keys::Algorithm::Ed25519).unwrap();
        FakeHost::start_for(client_key).await
    }

    /// A host of its own (its own host keys) that lets `client_key` log in.
    pub async fn start_for(client_key: PrivateKey) -> FakeHost {
        let host_key =
            PrivateKey::random(&mut rand::rng(), russh::keys::Algorithm::Ed25519).unwrap();
        let fingerprint = host_key
            .public_key()
            .fingerprint(HashAlg::Sha256)
            .to_string();
        let ecdsa = PrivateKey::random(
            &mut rand::rng(),
            russh::keys::Algorithm::Ecdsa {
                curve: russh::keys::EcdsaCurve::NistP256,
            },
        )
        .unwrap();
        let ecdsa_fingerprint = ecdsa.public_key().fingerprint(HashAlg::Sha256).to_string();
        let state = Arc::new(Mutex::new(State::default()));
        let auth_requests = Arc::new(AtomicUsize::new(0));
        let handler = Handler {
            state: state.clone(),
            authorized: client_key.public_key().clone(),
            auth_requests: auth_requests.clone(),
        };
        let config = Arc::new(server::Config {
            keys: vec![host_key, ecdsa],
            auth_rejection_time: Duration::from_millis(1),
            auth_rejection_time_initial: Some(Duration::ZERO),
            ..Default::default()
        });
        let listener = tokio::net::TcpListener::bind("127.0.0.1:0").await.unwrap();
        let server_port = listener.local_addr().unwrap().port();
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
        let (frozen, cut) = (
            Arc::new(AtomicBool::new(false)),
            Arc::new(AtomicBool::new(false)),
        );
        let port = proxy(server_port, frozen.clone(), cut.clone()).await;
        FakeHost {
            port,
            fingerprint,
            ecdsa_fingerprint,
            client_key,
            state,
            auth_requests,
            frozen,
            cut,
        }
    }

    /// Answers commands containing `contains` with `reply`, `times` times (or always).
    /// Earlier rules win.
    pub fn answer(&self, contains: &str, reply: Reply, times: Option<usize>) {
        self.state.lock().unwrap().rules.push(Rule {
            contains: contains.to_string(),
            reply,
            times,
        });
    }

    /// How many authentication requests the host has received.
    pub fn auth_requests(&self) -> usize {
        self.auth_requests.load(Ordering::SeqCst)
    }

    /// Forgets every rule.
    pub fn clear_answers(&self) {
        self.state.lock().unwrap().rules.clear();
    }

    pub fn received(&self) -> Vec<String> {
        self.state.lock().unwrap().received.clone()
    }

    pub fn received_containing(&self, text: &str) -> usize {
        self.received().iter().filter(|c| c.contains(text)).count()
    }

    pub fn forget_received(&self) {
        self.state.lock().unwrap().received.clear();
    }

    pub fn ended_by_client(&self) -> Vec<String> {
        self.state.lock().unwrap().ended_by_client.clone()
    }

    /// The host stops answering: nothing passes either way, and nothing is closed.
    pub fn freeze(&self) {
        self.frozen.store(true, Ordering::SeqCst);
    }

    pub fn thaw(&self) {
        self.frozen.store(false, Ordering::SeqCst);
    }

    /// Cuts every connection now.
    pub fn cut(&self) {
        self.cut.store(true, Ordering::SeqCst);
    }
}

/// A TCP proxy to `port` that passes nothing while `frozen` and closes all on `cut`.
async fn proxy(port: u16, frozen: Arc<AtomicBool>, cut: Arc<AtomicBool>) -> u16 {
    let listener = tokio::net::TcpListener::bind("127.0.0.1:0").await.unwrap();
    let proxy_port = listener.local_addr().unwrap().port();
    cut.store(false, Ordering::SeqCst);
    tokio::spawn(async move {
        while let Ok((client, _)) = listener.accept().await {
            let Ok(server) = tokio::net::TcpStream::connect(("127.0.0.1", port)).await else {
                continue;
            };
            let (client_read, client_write) = client.into_split();
            let (server_read, server_write) = server.into_split();
            for (from, to) in [
                (
                    Box::new(client_read) as Box<dyn tokio::io::AsyncRead + Unpin + Send>,
                    Box::new(server_write) as Box<dyn tokio::io::AsyncWrite + Unpin + Send>,
                ),
                (Box::new(server_read), Box::new(client_write)),
            ] {
                tokio::spawn(pass(from, to, frozen.clone(), cut.clone()));
            }
        }
    });
    proxy_port
}

async fn pass(
    mut from: Box<dyn tokio::io::AsyncRead + Unpin + Send>,
    mut to: Box<dyn tokio::io::AsyncWrite + Unpin + Send>,
    frozen: Arc<AtomicBool>,
    cut: Arc<AtomicBool>,
) {
    let mut buffer = vec![0u8; 64 * 1024];
    loop {
        if cut.load(Ordering::SeqCst) {
            let _ = to.shutdown().await;
            return;
        }
        if frozen.load(Ordering::SeqCst) {
            tokio::time::sleep(Duration::from_millis(20)).await;
            continue;
        }
        match tokio::time::timeout(Duration::from_millis(20), from.read(&mut buffer)).await {
            Err(_) => continue,
            Ok(Ok(0)) | Ok(Err(_)) => {
                let _ = to.shutdown().await;
                return;
            }
            Ok(Ok(n)) => {
                if to.write_all(&buffer[..n]).await.is_err() {
                    return;
                }
            }
        }
    }
}
