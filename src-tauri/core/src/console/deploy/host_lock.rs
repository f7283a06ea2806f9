//! The host's deploy lock seen from outside a deploy: who holds it, and breaking it
//! deliberately (its holder's process ended), recorded in the journal and on the host.

use crate::console::Console;
use crate::deploy::lock::{self, LockHolder, LockStatus};
use crate::error::{Error, Result};
use crate::history::{new_record_id, operator};
use crate::journal::Entry;
use crate::ssh::{Connection, Deadline};

impl Console {
    /// The deploy lock on `target`'s host: held or free, and by whom.
    pub async fn lock_status(&self, target: &str) -> Result<LockStatus> {
        let (_, policy) = self.target_and_policy(target)?;
        let connection = self.connect(target).await?;
        let output = connection
            .exec(
                &lock::status_command(),
                Deadline::total(policy.deadlines.read_seconds),
            )
            .await?
            .required("Reading the host's deploy lock")?;
        Ok(lock::parse_status(&output.stdout))
    }

    /// Refuses a change while a deploy holds `connection`'s host, whoever runs it (another
    /// operator, or this operator's CLI beside the window): one change at a time on a
    /// host, not only in this process. Asked just before the change runs.
    pub(in crate::console) async fn refuse_if_deploying(
        connection: &Connection,
        read_seconds: u32,
    ) -> Result<()> {
        let output = connection
            .exec(&lock::status_command(), Deadline::total(read_seconds))
            .await?
            .required("Reading the host's deploy lock")?;
        match lock::parse_status(&output.stdout) {
            LockStatus {
                held: true, holder, ..
            } => Err(Error::HostLocked {
                host: connection.host().to_string(),
                holder: holder.map_or("someone (its holder file cannot be read)".into(), |h| {
                    h.describe()
                }),
            }),
            _ => Ok(()),
        }
    }

    /// Why a change the host refused to begin ([`lock::refused_by_gate`]) never ran: a
    /// deploy took the lock after [`Console::refuse_if_deploying`] read it free. Read
    /// again, to name the holder.
    pub(in crate::console) async fn locked_after_reading(
        connection: &Connection,
        read_seconds: u32,
    ) -> Error {
        match Self::refuse_if_deploying(connection, read_seconds).await {
            Err(error) => error,
            Ok(()) => Error::HostLocked {
                host: connection.host().to_string(),
                holder: "a deploy that has since ended".into(),
            },
        }
    }

    /// Breaks the deploy lock on `target`'s host deliberately (its holder's process is
    /// ended), recording why in the journal and on the host.
    pub async fn break_lock(&self, target: &str, reason: &str) -> Result<LockStatus> {
        let (_, policy) = self.target_and_policy(target)?;
        if reason.trim().chars().count() < 10 {
            return Err(Error::BadInput(
                "Say why the lock is broken, in at least 10 characters (--reason): it is recorded here and on the host.".into(),
            ));
        }
        crate::input::line("The reason", reason)?;
        if self.session(target).deploy.lock().unwrap().is_some() {
            return Err(Error::Busy {
                target: target.to_string(),
                running:
                    "this console's own deploy or rollback, which holds the lock: stop it instead"
                        .into(),
            });
        }
        let before = self.lock_status(target).await?;
        let connection = self.connect(target).await?;
        let deadline = Deadline::total(policy.deadlines.change_seconds);
        connection
            .exec(&lock::break_command(), deadline)
            .await?
            .required("Breaking the host's deploy lock")?;
        let journal = self.journal()?;
        journal.append(
            &new_record_id("lock"),
            &Entry::LockBroken {
                target: target.to_string(),
                operator: operator(),
                reason: reason.to_string(),
                // The last holder of a free lock held nothing when it was broken.
                holder: before.holder.clone().filter(|_| before.held),
                at: Some(crate::history::now()),
            },
        )?;
        let breaker = LockHolder::new(operator(), connection.client_key(), reason, "-");
        let held_by = before
            .holder
            .filter(|_| before.held)
            .map(|h| h.describe())
            .unwrap_or_else(|| "nobody known".into());
        let line = lock::audit_command(
            &breaker,
            "lock broken",
            &format!("held by {held_by}; reason: {reason}"),
        );
        connection.exec(&line, deadline).await?;
        self.lock_status(target).await
    }
}
