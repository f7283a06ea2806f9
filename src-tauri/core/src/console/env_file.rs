//! The env file editor's front door: keys by name, one key set or unset at a time. Each
//! save is journalled like an operation (started before it runs, so a cut-off save shows
//! as interrupted), never with a value; the file's old text and the new one exist only
//! in memory here, zeroized when dropped.

use serde::Serialize;
use ts_rs::TS;

use super::Console;
use crate::env_file::{self, EnvKey, KeyChanges};
use crate::error::{Error, Result};
use crate::history::{new_record_id, HistoryRecord, RunOutcome};
use crate::journal::{Entry, RunStart};
use crate::secret::Secret;
use crate::ssh::Deadline;

/// The env file's keys, with where it is.
#[derive(Debug, Clone, Serialize, TS)]
pub struct EnvKeys {
    pub target: String,
    /// The file, relative to the project dir (the policy's `env_file`).
    pub file: String,
    pub exists: bool,
    pub keys: Vec<EnvKey>,
    pub command: String,
    /// Exactly what a save runs on the host (the new text goes on its input): the same
    /// for every save, shown before one.
    pub write_command: String,
}

/// A save as it ended: what changed (names only) and the backup on the host.
#[derive(Debug, Clone, Serialize, TS)]
pub struct EnvSaved {
    pub target: String,
    pub file: String,
    pub added: Vec<String>,
    pub removed: Vec<String>,
    pub changed: Vec<String>,
    pub backup: Option<String>,
    pub record_id: String,
    pub command: String,
}

/// A change the operator asks for.
pub enum EnvChange {
    Set { key: String, value: Secret },
    Unset { key: String },
}

impl Console {
    async fn read_env(&self, target: &str) -> Result<(Secret, bool, String)> {
        let (target_config, policy) = self.target_and_policy(target)?;
        let connection = self.connect(target).await?;
        let command = env_file::read_command(&policy.env_file, &target_config.project_dir);
        let what = format!("Reading {}", policy.env_file);
        let output = connection
            .exec(&command, Deadline::total(policy.deadlines.read_seconds))
            .await?
            .required(&what)?;
        let (text, exists) =
            env_file::read_output(&output.stdout).ok_or_else(|| Error::RemoteFailed {
                what,
                exit_code: 0,
                detail: "its output did not start with `== present` or `== absent`".into(),
            })?;
        Ok((
            Secret::new(text.to_string()),
            exists,
            output.command.clone(),
        ))
    }

    /// The env file's keys (names only).
    pub async fn env_keys(&self, target: &str) -> Result<EnvKeys> {
        let (target_config, policy) = self.target_and_policy(target)?;
        let (text, exists, command) = self.read_env(target).await?;
        Ok(EnvKeys {
            target: target.to_string(),
            file: policy.env_file.clone(),
            exists,
            keys: env_file::keys(text.expose()),
            command,
            write_command: env_file::write_command(&policy.env_file, &target_config.project_dir)
                .render(),
        })
    }

    /// Sets or unsets one key of the env file, written atomically on the host with a
    /// backup of the old file.
    pub async fn change_env(&self, target: &str, change: EnvChange) -> Result<EnvSaved> {
        let (target_config, policy) = self.target_and_policy(target)?;
        let (old, exists, _) = self.read_env(target).await?;
        // Bytes that are not UTF-8 were replaced as they were read: a text edited from
        // that would not be the file, and its hash would never match the host's.
        if old.expose().contains('\u{FFFD}') {
            return Err(Error::BadInput(format!(
                "{} holds bytes that are not UTF-8 text, which Shipshape cannot edit without changing them: convert it to UTF-8 on the host (compose reads it as UTF-8 too), then edit it here.",
                policy.env_file
            )));
        }
        let (new, title) = match &change {
            EnvChange::Set { key, value } => (
                env_file::set(old.expose(), key, value.expose())?,
                format!("Set {key} in {}", policy.env_file),
            ),
            EnvChange::Unset { key } => (
                env_file::unset(old.expose(), key)?,
                format!("Remove {key} from {}", policy.env_file),
            ),
        };
        let new = Secret::new(new);
        if new.expose() == old.expose() {
            return Err(Error::BadInput(format!(
                "{title}: the file already says so; nothing was written."
            )));
        }
        env_file::reads_back_as_asked(old.expose(), new.expose(), &change)?;
        // One change at a time on a target, a deploy's included: the file must not move
        // under an `up` that reads it.
        let _change = self.session(target).begin_change(target, &title, false)?;
        let old_sha = exists.then(|| crate::checklist::sha256_hex(old.expose().as_bytes()));
        let command = env_file::write_command(&policy.env_file, &target_config.project_dir);
        let input = env_file::write_input(new.expose().as_bytes(), old_sha.as_deref());
        let journal = self.journal()?;
        let record_id = new_record_id("env");
        journal.append(
            &record_id,
            &Entry::OperationStarted(RunStart::now(target, &title, &command.render())),
        )?;
        let deadline = Deadline::total(policy.deadlines.change_seconds);
        let connection = match self.connect(target).await {
            Ok(connection) => connection,
            Err(error) => return Err(journal.not_started(&record_id, error)),
        };
        let read_seconds = policy.deadlines.read_seconds;
        if let Err(error) = Self::refuse_if_deploying(&connection, read_seconds).await {
            return Err(journal.not_started(&record_id, error));
        }
        let output = match connection
            .exec_with_input(&command, input.expose().as_bytes(), deadline)
            .await
        {
            Ok(output) => output,
            Err(error) => return Err(journal.aborted(&record_id, error)),
        };
        // A deploy took the host's lock after it was read above: nothing was written.
        if crate::deploy::lock::refused_by_gate(output.exit_code, &output.stderr) {
            let locked = Self::locked_after_reading(&connection, read_seconds).await;
            return Err(journal.not_started(&record_id, locked));
        }
        // A follow of this target's logs reads the file again before a restart could
        // print the new value.
        self.session(target).env_written.send_modify(|n| *n += 1);
        journal.append(
            &record_id,
            &Entry::OperationEnded(HistoryRecord::of(
                &record_id,
                target,
                &title,
                &output,
                RunOutcome::Exited,
            )),
        )?;
        if output.exit_code == Some(3) && output.stderr.contains("under way") {
            return Err(Error::Busy {
                target: target.to_string(),
                running: format!("another save of {} (on the host)", policy.env_file),
            });
        }
        if output.exit_code == Some(3) {
            return Err(Error::BadInput(format!(
                "{} changed on the host since it was read, so nothing was written: read it again and redo the change.",
                policy.env_file
            )));
        }
        let output = output.required(&title)?;
        self.forget_facts(target);
        let changes = KeyChanges::between(old.expose(), new.expose());
        Ok(EnvSaved {
            target: target.to_string(),
            file: policy.env_file.clone(),
            added: changes.added,
            removed: changes.removed,
            changed: changes.changed,
            backup: output
                .stdout
                .lines()
                .find_map(|l| l.strip_prefix("backup "))
                .map(str::to_string)
                .filter(|_| exists),
            record_id,
            command: output.command,
        })
    }
}
