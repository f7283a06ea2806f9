//! One session per target: its connection, what the host said about itself, and the
//! change running on it. Each target has its own locks, so connecting to (or timing out
//! on) one host never makes the operator wait on another; the console's map of sessions
//! is only ever held for a lookup.
//!
//! The retry policy lives here too, in one place: a *read* whose connection turns out
//! to have dropped is run once more on a new connection; a *change* never is, because
//! nobody can tell from here whether it already happened on the host.

use std::future::Future;
use std::sync::{Arc, Mutex};

use super::Console;
use crate::error::{Error, Result};
use crate::operations::{Compose, HostFacts};
use crate::ssh::{Connection, CONNECT_TIMEOUT};
use crate::target::{self, Target};

#[derive(Default)]
pub(super) struct Session {
    /// Held while this target connects, and only by this target.
    connection: tokio::sync::Mutex<Option<Opened>>,
    /// The host's facts, learned on this connection (or proved current from the cache).
    pub(super) facts: Mutex<Option<HostFacts>>,
    /// Which Compose the host answered to last, for commands that need nothing more.
    pub(super) compose: Mutex<Option<Compose>>,
    /// The change running now, by title: one at a time per target.
    change: Mutex<Option<String>>,
    /// A deploy or rollback runs on this target: `Some(stop asked)`.
    pub(super) deploy: Mutex<Option<bool>>,
    /// Counts this console's writes of the env file, so a log follow takes a new value
    /// out before a restart could print it.
    pub(super) env_written: tokio::sync::watch::Sender<u64>,
}

/// A connection, and the target as it was defined when it was opened: a target since
/// changed (another host, port, user, key, jump host or project, by the CLI or another
/// window) is connected anew, never reached over the old definition's connection.
struct Opened {
    connection: Arc<Connection>,
    target: Target,
}

/// Marks a change as running on its target until dropped.
pub(super) struct ChangeGuard {
    session: Arc<Session>,
}

impl Session {
    /// The key fingerprint of the open connection, if there is one and it is not busy
    /// connecting.
    pub(super) fn live_client_key(&self) -> Option<String> {
        let slot = self.connection.try_lock().ok()?;
        slot.as_ref()
            .map(|opened| &opened.connection)
            .filter(|c| !c.is_closed())
            .map(|c| c.client_key().to_string())
    }
}

impl Drop for ChangeGuard {
    fn drop(&mut self) {
        *self.session.change.lock().unwrap() = None;
    }
}

impl Session {
    /// Marks a change as running, or says what already runs: another change, or a
    /// deploy or rollback (whose own steps, `of_a_deploy`, are its changes).
    pub(super) fn begin_change(
        self: &Arc<Self>,
        target: &str,
        title: &str,
        of_a_deploy: bool,
    ) -> Result<ChangeGuard> {
        if !of_a_deploy && self.deploy.lock().unwrap().is_some() {
            return Err(Error::Busy {
                target: target.to_string(),
                running: "a deploy or rollback".into(),
            });
        }
        let mut running = self.change.lock().unwrap();
        if let Some(running) = running.as_ref() {
            return Err(Error::Busy {
                target: target.to_string(),
                running: running.clone(),
            });
        }
        *running = Some(title.to_string());
        Ok(ChangeGuard {
            session: self.clone(),
        })
    }

    /// Forgets what was learned on a connection that is gone or was replaced.
    pub(super) fn forget_facts(&self) {
        *self.facts.lock().unwrap() = None;
    }

    /// Whether `connection` is the one this session holds now: the facts it remembers
    /// are that connection's. A deploy's connection, held to its target as the run
    /// began, is not once the target was redefined (nor while one is being opened).
    pub(super) fn holds(&self, connection: &Connection) -> bool {
        let Ok(slot) = self.connection.try_lock() else {
            return false;
        };
        slot.as_ref()
            .is_some_and(|opened| std::ptr::eq(Arc::as_ptr(&opened.connection), connection))
    }
}

impl Console {
    pub(super) fn session(&self, name: &str) -> Arc<Session> {
        self.sessions
            .lock()
            .unwrap()
            .entry(name.to_string())
            .or_default()
            .clone()
    }

    /// `name`'s session if it has one, without making one (for lookups that should
    /// leave no trace, like listing targets).
    pub(super) fn existing_session(&self, name: &str) -> Option<Arc<Session>> {
        self.sessions.lock().unwrap().get(name).cloned()
    }

    /// The live connection to `name`, opened (and host-verified) if there is none.
    pub async fn connect(&self, name: &str) -> Result<Arc<Connection>> {
        let target = target::find(self.settings.as_ref(), name)?;
        let session = self.session(name);
        let mut slot = session.connection.lock().await;
        match slot.take() {
            Some(opened) if opened.target != target => {
                tracing::info!(
                    target = name,
                    "the target changed since it connected; connecting anew"
                );
                *session.compose.lock().unwrap() = None;
                session.forget_facts(); // another host's, or another project's
                                        // A run that holds it (a deploy under its lock) keeps it until it ends.
                if Arc::strong_count(&opened.connection) == 1 {
                    opened.connection.close().await;
                }
            }
            Some(opened) if !opened.connection.is_closed() => {
                let connection = opened.connection.clone();
                *slot = Some(opened);
                return Ok(connection);
            }
            Some(_) => tracing::info!(target = name, "connection closed; reconnecting"),
            None => {}
        }
        // Jump hosts first, each checked against its own pin before we log in there.
        let stops = super::route::stops(&target, &self.known_hosts()?);
        let mut jumps = self.hops(&target, &stops).await?;
        let last = jumps.pop().expect("a route ends at its target");
        let opened = Connection::open_via(
            &jumps,
            &last.endpoint,
            last.pin.as_ref(),
            &last.key,
            CONNECT_TIMEOUT,
        )
        .await;
        match &opened {
            Ok(_) => tracing::info!(target = name, address = %target.address(), "connected"),
            Err(error) => tracing::warn!(target = name, code = ?error.code(), "{error}"),
        }
        let connection = Arc::new(opened?);
        session.forget_facts();
        *slot = Some(Opened {
            connection: connection.clone(),
            target,
        });
        Ok(connection)
    }

    /// Nothing changes `name`'s host now: a deploy, a rollback or an operation running
    /// on its connection would be cut if it were closed (its lock freed midway).
    pub(super) fn idle(&self, name: &str) -> Result<()> {
        let Some(session) = self.sessions.lock().unwrap().get(name).cloned() else {
            return Ok(());
        };
        let running = match *session.deploy.lock().unwrap() {
            Some(_) => Some("a deploy or rollback".to_string()),
            None => session.change.lock().unwrap().clone(),
        };
        match running {
            Some(running) => Err(Error::Busy {
                target: name.to_string(),
                running,
            }),
            None => Ok(()),
        }
    }

    /// Closes the connection to `name` and forgets what it learned there.
    pub async fn disconnect(&self, name: &str) {
        let session = self.sessions.lock().unwrap().remove(name);
        if let Some(session) = session {
            if let Some(opened) = session.connection.lock().await.take() {
                opened.connection.close().await;
            }
        }
    }

    /// [`Console::disconnect`] as an adapter asks it: a name no target could have is
    /// refused; one without a connection (or a target any more) is no error.
    pub async fn disconnect_target(&self, name: &str) -> Result<()> {
        crate::input::target_name(name)?;
        self.idle(name)?;
        self.disconnect(name).await;
        Ok(())
    }

    /// Closes every connection, all at once: the console is going away, and a host that
    /// does not answer must not keep the others from a clean close.
    pub async fn disconnect_all(&self) {
        let names: Vec<String> = self.sessions.lock().unwrap().keys().cloned().collect();
        futures::future::join_all(names.iter().map(|name| self.disconnect(name))).await;
    }

    /// Runs a *read* on `name`'s connection; if the connection turns out to have
    /// dropped, runs it once more on a new one.
    pub(super) async fn read_with_retry<T, F, Fut>(&self, name: &str, read: F) -> Result<T>
    where
        F: Fn(Arc<Connection>) -> Fut,
        Fut: Future<Output = Result<T>>,
    {
        let connection = self.connect(name).await?;
        match read(connection.clone()).await {
            Err(Error::ConnectionLost { .. }) => {
                tracing::info!(
                    target = name,
                    "connection lost during a read; retrying once"
                );
                self.drop_connection(name, &connection).await;
                read(self.connect(name).await?).await
            }
            other => other,
        }
    }

    /// Lets go of `connection` if it is still `name`'s current one.
    pub(super) async fn drop_connection(&self, name: &str, connection: &Arc<Connection>) {
        let session = self.session(name);
        let mut slot = session.connection.lock().await;
        if slot
            .as_ref()
            .is_some_and(|opened| Arc::ptr_eq(&opened.connection, connection))
        {
            *slot = None;
            session.forget_facts();
        }
        drop(slot);
        connection.close().await;
    }
}
