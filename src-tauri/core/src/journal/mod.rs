//! The journal: everything Shipshape ran and every verification, in an embedded SQLite
//! database the console and the CLI share. Crash-safe (WAL, `synchronous=FULL`), and
//! tamper-evident: entries are only appended, each chained to the one before by hash
//! ([`chain`]), so `history verify` finds any stored byte that changed.
//!
//! A run is written when it starts and again when it ends. A process killed in between
//! leaves its start alone, which reads back as interrupted, never as missing.

pub mod chain;
mod entries;
mod lineage;

use std::path::{Path, PathBuf};
use std::sync::Mutex;
use std::time::Duration;

use rusqlite::{params, Connection, OptionalExtension};

use crate::checklist::{Checklist, ChecklistChange};
use crate::deploy::{Approval, DeployRecord, DeployReview};
use crate::error::{Error, Result};
use crate::history::HistoryRecord;
pub use chain::{BrokenEntry, ChainReport};
pub use entries::{Entry, RunStart};
pub use lineage::Lineages;

const SCHEMA: &str = "
CREATE TABLE IF NOT EXISTS entries (
    seq INTEGER PRIMARY KEY,
    record_id TEXT NOT NULL,
    kind TEXT NOT NULL,
    body TEXT NOT NULL,
    prev_hash TEXT NOT NULL,
    hash TEXT NOT NULL
);
CREATE INDEX IF NOT EXISTS entries_by_record ON entries(record_id);
CREATE TABLE IF NOT EXISTS meta (key TEXT PRIMARY KEY, value TEXT NOT NULL);
";

pub struct Journal {
    path: PathBuf,
    db: Mutex<Connection>,
}

/// How long a write waits for another process's.
const BUSY_WAIT: Duration = Duration::from_secs(10);

impl Journal {
    /// Opens (or creates) the journal at `path`. Records of an older `history.jsonl` at
    /// `legacy` are imported once, as the first entries.
    pub fn open(path: &Path, legacy: Option<&Path>) -> Result<Journal> {
        if let Some(dir) = path.parent() {
            crate::paths::create_private_dir(dir).map_err(|e| Error::storage(dir, e))?;
        }
        let fail = |e: rusqlite::Error| Error::storage(path, e);
        let db = Connection::open(path).map_err(fail)?;
        db.busy_timeout(BUSY_WAIT).map_err(fail)?;
        let journal = Journal {
            path: path.to_path_buf(),
            db: Mutex::new(db),
        };
        // Several processes opening a new journal at once (the console and the CLI after
        // an upgrade) meet where SQLite does not wait for its busy handler: switching to
        // WAL and the first import. Those are asked again until the busy wait is spent.
        let started = std::time::Instant::now();
        loop {
            let opened = journal.set_up().and_then(|()| match legacy {
                Some(legacy) => journal.import_legacy(legacy),
                None => Ok(()),
            });
            match opened {
                Err(Error::Storage { ref cause, .. })
                    if cause.contains("database is locked") && started.elapsed() < BUSY_WAIT =>
                {
                    std::thread::sleep(Duration::from_millis(20));
                }
                other => return other.map(|()| journal),
            }
        }
    }

    fn set_up(&self) -> Result<()> {
        let db = self.db.lock().expect("journal lock");
        db.pragma_update(None, "journal_mode", "WAL")
            .map_err(|e| self.fail(e))?;
        db.pragma_update(None, "synchronous", "FULL")
            .map_err(|e| self.fail(e))?;
        db.execute_batch(SCHEMA).map_err(|e| self.fail(e))
    }

    pub fn path(&self) -> &Path {
        &self.path
    }

    fn fail(&self, e: impl std::fmt::Display) -> Error {
        Error::storage(&self.path, e)
    }

    /// Appends one entry under the write lock, chained to the current head. Returns the
    /// new head.
    pub fn append(&self, record_id: &str, entry: &Entry) -> Result<String> {
        let body = serde_json::to_string(entry).expect("journal entries serialize");
        let mut db = self.db.lock().expect("journal lock");
        let tx = db
            .transaction_with_behavior(rusqlite::TransactionBehavior::Immediate)
            .map_err(|e| self.fail(e))?;
        let head = append_in(&tx, record_id, entry.kind(), &body).map_err(|e| self.fail(e))?;
        tx.commit().map_err(|e| self.fail(e))?;
        Ok(head)
    }

    /// The last entry's hash (the genesis value for an empty journal).
    pub fn head(&self) -> Result<String> {
        let db = self.db.lock().expect("journal lock");
        last_hash(&db).map_err(|e| self.fail(e))
    }

    /// Walks the whole chain.
    pub fn verify(&self) -> Result<ChainReport> {
        let db = self.db.lock().expect("journal lock");
        let mut statement = db
            .prepare("SELECT seq, record_id, kind, body, prev_hash, hash FROM entries ORDER BY seq")
            .map_err(|e| self.fail(e))?;
        let rows = statement
            .query_map([], |row| {
                let bytes = |i: usize| -> rusqlite::Result<Vec<u8>> {
                    Ok(row
                        .get_ref(i)?
                        .as_bytes_or_null()?
                        .unwrap_or_default()
                        .to_vec())
                };
                const COLUMNS: [&str; 5] = ["record id", "kind", "body", "link", "hash"];
                let mut not_text = None;
                for (i, column) in COLUMNS.iter().enumerate() {
                    if row.get_ref(i + 1)?.data_type() != rusqlite::types::Type::Text {
                        not_text.get_or_insert(*column);
                    }
                }
                Ok(chain::StoredEntry {
                    not_text,
                    seq: row.get(0)?,
                    record_id: bytes(1)?,
                    kind: bytes(2)?,
                    body: bytes(3)?,
                    prev_hash: bytes(4)?,
                    hash: bytes(5)?,
                })
            })
            .map_err(|e| self.fail(e))?;
        let entries: Vec<_> = rows
            .collect::<rusqlite::Result<_>>()
            .map_err(|e| self.fail(e))?;
        // Every other read skips an entry it cannot parse (with a warning); here it is
        // named, so an entry the history leaves out is never silent.
        let unreadable = entries.iter().find_map(|entry| {
            let error = serde_json::from_slice::<Entry>(&entry.body).err()?;
            let record_id = String::from_utf8_lossy(&entry.record_id);
            Some(unreadable(entry.seq, &record_id, &error))
        });
        let mut report = chain::verify(entries);
        if report.broken.is_none() {
            report.unreadable = unreadable;
        }
        Ok(report)
    }

    /// The sequence number of the entry whose hash is `hash`, if the journal holds one:
    /// a report's chain head is found in an intact journal only if the entries up to it
    /// are all still there, unchanged.
    pub fn seq_of_hash(&self, hash: &str) -> Result<Option<i64>> {
        let db = self.db.lock().expect("journal lock");
        db.query_row("SELECT seq FROM entries WHERE hash = ?1", [hash], |row| {
            row.get(0)
        })
        .optional()
        .map_err(|e| self.fail(e))
    }

    /// The first entry of `record_id` that this version cannot read, if any: a report
    /// of that record would leave it out.
    pub fn unreadable_of(&self, record_id: &str) -> Result<Option<chain::BrokenEntry>> {
        let db = self.db.lock().expect("journal lock");
        let mut statement = db
            .prepare("SELECT seq, body FROM entries WHERE record_id = ?1 ORDER BY seq")
            .map_err(|e| self.fail(e))?;
        let rows = statement
            .query_map([record_id], |row| {
                let body = row.get_ref(1)?.as_bytes_or_null()?.unwrap_or_default();
                Ok((
                    row.get::<_, i64>(0)?,
                    serde_json::from_slice::<Entry>(body).err(),
                ))
            })
            .map_err(|e| self.fail(e))?;
        for row in rows {
            if let (seq, Some(error)) = row.map_err(|e| self.fail(e))? {
                return Ok(Some(unreadable(seq, record_id, &error)));
            }
        }
        Ok(None)
    }

    /// Every readable entry, oldest first, with its record id. An entry whose body does
    /// not parse is skipped here; `verify` names it (broken if its bytes changed,
    /// unreadable if they hold).
    pub fn entries(&self) -> Result<Vec<(String, Entry)>> {
        self.entries_where("1 = 1", [])
    }

    fn entries_where<P: rusqlite::Params>(
        &self,
        filter: &str,
        params: P,
    ) -> Result<Vec<(String, Entry)>> {
        let db = self.db.lock().expect("journal lock");
        let sql = format!("SELECT record_id, body FROM entries WHERE {filter} ORDER BY seq");
        let mut statement = db.prepare(&sql).map_err(|e| self.fail(e))?;
        let rows = statement
            .query_map(params, |row| {
                let id: String = row.get(0)?;
                let body = row
                    .get_ref(1)?
                    .as_bytes_or_null()?
                    .unwrap_or_default()
                    .to_vec();
                Ok((id, body))
            })
            .map_err(|e| self.fail(e))?;
        let mut found = Vec::new();
        for row in rows {
            let (id, body) = row.map_err(|e| self.fail(e))?;
            match serde_json::from_slice(&body) {
                Ok(entry) => found.push((id, entry)),
                Err(error) => {
                    tracing::warn!(record = %id, "a journal entry does not parse: {error}")
                }
            }
        }
        Ok(found)
    }

    /// The history: one line per run, newest last.
    pub fn history(&self) -> Result<Vec<HistoryRecord>> {
        Ok(entries::fold_history(self.entries()?))
    }

    /// A recorded verification with every later tick, waiver and re-run applied.
    pub fn checklist(&self, id: &str) -> Result<Checklist> {
        let mut checklist: Option<Checklist> = None;
        for (_, entry) in self.entries_where("record_id = ?1", [id])? {
            match entry {
                Entry::VerificationEnded(list) => checklist = Some(list),
                Entry::ChecklistChanged(change) => {
                    if let Some(list) = checklist.as_mut() {
                        list.apply(&change);
                    }
                }
                _ => {}
            }
        }
        checklist.ok_or_else(|| {
            Error::BadInput(format!(
                "There is no finished verification {} in the journal. `shipshape history` lists them.",
                crate::input::shown(id)
            ))
        })
    }

    /// Records a change to an item of `checklist` (as read from this journal) once it
    /// is known to apply, and applies it.
    pub fn change_checklist(
        &self,
        checklist: &mut Checklist,
        change: ChecklistChange,
    ) -> Result<()> {
        checklist.check_new_change(change.item, &change.change)?;
        self.append(&checklist.id, &Entry::ChecklistChanged(change.clone()))?;
        checklist.apply(&change);
        Ok(())
    }

    /// Records that run `record_id` ended in `error` before it could finish, and hands
    /// the error back (or the journal's own, if it could not be written).
    pub fn aborted(&self, record_id: &str, error: Error) -> Error {
        let reason = error.to_string();
        self.ended_in(
            record_id,
            Entry::Aborted {
                reason,
                at: Some(crate::history::now()),
            },
            error,
        )
    }

    /// Records that run `record_id` never reached the host because of `error` (it could
    /// not connect), and hands the error back like [`Journal::aborted`].
    pub fn not_started(&self, record_id: &str, error: Error) -> Error {
        let reason = error.to_string();
        self.ended_in(
            record_id,
            Entry::NotStarted {
                reason,
                at: Some(crate::history::now()),
            },
            error,
        )
    }

    /// Records that the operator stopped run `record_id` before it ended, and hands the
    /// error back like [`Journal::aborted`].
    pub fn cancelled(&self, record_id: &str, error: Error) -> Error {
        let reason = error.to_string();
        self.ended_in(
            record_id,
            Entry::Cancelled {
                reason,
                at: Some(crate::history::now()),
            },
            error,
        )
    }

    fn ended_in(&self, record_id: &str, entry: Entry, error: Error) -> Error {
        match self.append(record_id, &entry) {
            Ok(_) => error,
            Err(storage) => storage,
        }
    }

    /// A recorded deploy review, with its approval if a reviewer gave one.
    pub fn review(&self, id: &str) -> Result<(DeployReview, Option<Approval>)> {
        let mut review = None;
        let mut approval = None;
        for (_, entry) in self.entries_where("record_id = ?1", [id])? {
            match entry {
                Entry::ReviewRecorded(found) => review = Some(*found),
                Entry::ReviewApproved(found) => approval = Some(found),
                _ => {}
            }
        }
        let review = review.ok_or_else(|| {
            Error::BadInput(format!(
                "There is no deploy review {} in the journal: `shipshape review NAME` makes one.",
                crate::input::shown(id)
            ))
        })?;
        Ok((review, approval))
    }

    /// The deploy or rollback `id` as it ended, if it is one and it ended.
    pub fn deploy(&self, id: &str) -> Result<Option<DeployRecord>> {
        let entries = self.entries_where("record_id = ?1 AND kind = 'deploy_ended'", [id])?;
        Ok(entries.into_iter().find_map(|(_, entry)| match entry {
            Entry::DeployEnded(record) => Some(*record),
            _ => None,
        }))
    }

    /// The steps deploy `id` journalled as each ended, oldest first: all there is of one
    /// killed before it ended.
    pub fn deploy_steps(&self, id: &str) -> Result<Vec<crate::deploy::StepRecord>> {
        let entries = self.entries_where("record_id = ?1 AND kind = 'deploy_step'", [id])?;
        Ok(entries
            .into_iter()
            .filter_map(|(_, entry)| match entry {
                Entry::DeployStep(step) => Some(step),
                _ => None,
            })
            .collect())
    }

    /// The deploy or rollback that ended with the verification `checklist`, if one did.
    pub fn deploy_of_checklist(&self, checklist: &str) -> Result<Option<DeployRecord>> {
        let entries = self.entries_where(
            "kind = 'deploy_ended' AND json_extract(body, '$.checklist') = ?1",
            [checklist],
        )?;
        Ok(entries
            .into_iter()
            .rev()
            .find_map(|(_, entry)| match entry {
                Entry::DeployEnded(record) => Some(*record),
                _ => None,
            }))
    }

    /// Every report export and co-signature, oldest first (only those entries are read).
    pub fn report_entries(&self) -> Result<Vec<Entry>> {
        let entries = self.entries_where("kind IN ('report_exported', 'report_cosigned')", [])?;
        Ok(entries.into_iter().map(|(_, entry)| entry).collect())
    }

    fn import_legacy(&self, legacy: &Path) -> Result<()> {
        let mut db = self.db.lock().expect("journal lock");
        let tx = db
            .transaction_with_behavior(rusqlite::TransactionBehavior::Immediate)
            .map_err(|e| self.fail(e))?;
        let done: Option<String> = tx
            .query_row(
                "SELECT value FROM meta WHERE key = 'legacy_imported'",
                [],
                |r| r.get(0),
            )
            .optional()
            .map_err(|e| self.fail(e))?;
        if done.is_some() {
            return Ok(());
        }
        for record in entries::legacy_records(legacy)? {
            let body = serde_json::to_string(&Entry::Imported(record.clone())).expect("serializes");
            append_in(&tx, &record.id, "imported", &body).map_err(|e| self.fail(e))?;
        }
        tx.execute(
            "INSERT INTO meta (key, value) VALUES ('legacy_imported', ?1)",
            [legacy.display().to_string()],
        )
        .map_err(|e| self.fail(e))?;
        tx.commit().map_err(|e| self.fail(e))
    }
}

fn last_hash(db: &Connection) -> rusqlite::Result<String> {
    Ok(db
        .query_row(
            "SELECT hash FROM entries ORDER BY seq DESC LIMIT 1",
            [],
            |r| r.get(0),
        )
        .optional()?
        .unwrap_or_else(|| chain::GENESIS.to_string()))
}

/// An entry that holds but does not parse, said in a few words.
fn unreadable(seq: i64, record_id: &str, error: &serde_json::Error) -> chain::BrokenEntry {
    let error = error.to_string();
    // serde lists every kind it knows after "expected": the first words say it.
    let error = error.split(", expected").next().unwrap_or_default();
    chain::BrokenEntry {
        seq,
        record_id: record_id.to_string(),
        reason: format!("this version of Shipshape cannot read it ({error})"),
    }
}

fn append_in(db: &Connection, record_id: &str, kind: &str, body: &str) -> rusqlite::Result<String> {
    let (seq, prev): (i64, String) = db
        .query_row(
            "SELECT seq, hash FROM entries ORDER BY seq DESC LIMIT 1",
            [],
            |r| Ok((r.get(0)?, r.get(1)?)),
        )
        .optional()?
        .unwrap_or((0, chain::GENESIS.to_string()));
    let seq = seq + 1;
    let hash = chain::entry_hash(
        prev.as_bytes(),
        seq,
        record_id.as_bytes(),
        kind.as_bytes(),
        body.as_bytes(),
    );
    db.execute(
        "INSERT INTO entries (seq, record_id, kind, body, prev_hash, hash) VALUES (?1, ?2, ?3, ?4, ?5, ?6)",
        params![seq, record_id, kind, body, prev, hash],
    )?;
    Ok(hash)
}

#[cfg(test)]
mod tests;
