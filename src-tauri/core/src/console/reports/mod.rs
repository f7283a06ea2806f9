//! Reports of recorded verifications: made from the journal (with its chain head),
//! written where the operator says, signed with a key from the keyring, co-signed by
//! reviewers; each export and co-signature is itself a journal entry, so the history
//! lists every report made and who signed it.
//!
//! Nothing is made or signed from a journal whose hash chain does not hold: a row
//! edited behind Shipshape's back (a failure turned into a pass) would otherwise come
//! out as a signed report that says "Passed", with the edited journal's head on it.

mod files;
#[cfg(test)]
mod tests;

use std::path::{Path, PathBuf};
use std::sync::Arc;

use serde::{Deserialize, Serialize};
use ts_rs::TS;

use super::Console;
use crate::checklist::{sha256_hex, Actor};
use crate::error::{Error, Result};
use crate::history::{now, operator};
use crate::journal::{Entry, Journal};
use crate::report::{sign, Report, ReportFormat, Signer};

/// Exported reports, PDF included, are well under this; a larger file is not one of them.
const MAX_REPORT_BYTES: u64 = 256 << 20;

/// A report file made from a verification, as the journal remembers it.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize, TS)]
pub struct ReportExport {
    pub record_id: String,
    pub path: String,
    pub format: ReportFormat,
    /// Of the file as written.
    pub sha256: String,
    pub exported_at: String,
    pub exported_by: Actor,
    /// The operator's signature file, if signed.
    pub signature: Option<String>,
    /// Signature files of an earlier report at the same path, removed as this one was
    /// written: they no longer matched its bytes.
    #[serde(default)]
    pub removed_signatures: Vec<String>,
    /// Reviewers who co-signed the file since.
    #[serde(default)]
    pub cosigners: Vec<Signer>,
}

impl Console {
    /// The report of the verification `record_id` (or of the one that ended deploy
    /// `record_id`), with every tick and waiver made so far, the deploy it ended if any,
    /// and the journal's current chain head.
    /// Refused if the journal's chain does not hold.
    pub fn report(&self, record_id: &str) -> Result<Report> {
        // Its head names the journal it was made from: an entry written by another
        // process between the walk and the reads (a waiver in the window) would show in
        // it under an older head, so it is made again until the head held throughout.
        for _ in 0..5 {
            let (journal, head) = self.intact_journal()?;
            let report = Self::report_from(&journal, &head, record_id)?;
            if journal.head()? == head {
                return Ok(report);
            }
        }
        Err(Error::Busy {
            target: "The journal".into(),
            running: "another Shipshape writing to it".into(),
        })
    }

    fn report_from(journal: &Journal, head: &str, record_id: &str) -> Result<Report> {
        // A change to it that this version cannot read would be left out unsaid.
        let readable = |record_id: &str| match journal.unreadable_of(record_id)? {
            Some(entry) => Err(Error::JournalUnreadable {
                seq: entry.seq,
                record: entry.record_id,
                reason: format!("{}; no report is made of it without that", entry.reason),
            }),
            None => Ok(()),
        };
        readable(record_id)?;
        let record_id = match journal.deploy(record_id)? {
            Some(deploy) => deploy.checklist.ok_or_else(|| {
                Error::BadInput(format!(
                    "{record_id} ended before its verification ran, so there is no report of it: `shipshape history` lists verifications."
                ))
            })?,
            None => record_id.to_string(),
        };
        let record_id = record_id.as_str();
        readable(record_id)?;
        let checklist = journal.checklist(record_id)?;
        let mut report = Report::of(&checklist, head);
        report.deploy = journal.deploy_of_checklist(record_id)?;
        Ok(report)
    }

    /// Refuses a report that could not be written where asked (a path that is not
    /// absolute, has no report extension, whose folder does not exist or is Shipshape's
    /// own) or signed as asked (no such key): the CLI asks before a verification or
    /// deploy runs, so a typo is caught before the work, not after it.
    pub fn check_report_destination(
        &self,
        path: &Path,
        sign_with: Option<&str>,
    ) -> Result<ReportFormat> {
        let shown = crate::input::shown(&path.to_string_lossy());
        if !path.is_absolute() {
            return Err(Error::BadInput(format!(
                "{shown}: give the report's full path (it starts with /)."
            )));
        }
        let format = ReportFormat::from_path(path)?;
        if path.is_dir() {
            return Err(Error::BadInput(format!(
                "{shown} is a folder: name a file in it."
            )));
        }
        if !path.parent().is_some_and(Path::is_dir) {
            return Err(Error::BadInput(format!(
                "{shown}: name a file in a folder that exists."
            )));
        }
        files::refuse_own_dir(path, &self.own_dirs())?;
        if let Err(e) = crate::settings::check_writable(path) {
            return Err(Error::BadInput(format!(
                "{shown} cannot be written there ({e}): choose another folder."
            )));
        }
        if let Some(name) = sign_with {
            crate::keys::validate_name(name)?;
            if !self.keys()?.iter().any(|k| k.name == name) {
                return Err(Error::KeyNotFound(name.to_string()));
            }
        }
        Ok(format)
    }

    /// Writes `bytes` (the report rendered in `format`) to `path`, removes the signatures
    /// of an earlier file there, signs the file with the key `sign_with` if given, and
    /// records the export. Refused if the journal's chain does not hold (now, not only
    /// when `report` was made).
    pub async fn save_report(
        &self,
        report: &Report,
        format: ReportFormat,
        path: &Path,
        bytes: &[u8],
        sign_with: Option<&str>,
    ) -> Result<ReportExport> {
        self.check_report_destination(path, sign_with)?;
        let (journal, _) = self.intact_journal()?;
        // Signed before anything is written: a key that cannot sign (a keyring that said
        // no) leaves an earlier report there, and its signatures, as they were.
        let signed = match sign_with {
            Some(name) => Some(self.signature_by(name, bytes).await?),
            None => None,
        };
        crate::settings::write_atomically(path, bytes)?;
        let removed_signatures = files::remove_stale_signatures(path)?;
        // Only a key that signed the file is recorded as the exporter's: an unsigned
        // export names none (the verification's own key is in the report already).
        let (signature, key_fingerprint) = match signed {
            Some((armored, fingerprint)) => {
                let written = sign::signature_path(path, None);
                crate::settings::write_atomically(&written, armored.as_bytes())?;
                (Some(written.display().to_string()), Some(fingerprint))
            }
            None => (None, None),
        };
        let export = ReportExport {
            record_id: report.record_id.clone(),
            path: path.display().to_string(),
            format,
            sha256: sha256_hex(bytes),
            exported_at: now(),
            exported_by: Actor {
                user: operator(),
                key_fingerprint,
            },
            signature,
            removed_signatures,
            cosigners: Vec::new(),
        };
        journal.append(&export.record_id, &Entry::ReportExported(export.clone()))?;
        Ok(export)
    }

    /// Co-signs an exported report file with a reviewer's key: writes `FILE.KEY.sig` and
    /// records who signed it. Refused if the journal's chain does not hold: the export
    /// record that vouches for the file is in it.
    pub async fn cosign_report(&self, path: &Path, key_name: &str) -> Result<Signer> {
        crate::keys::validate_name(key_name)?;
        let (journal, _) = self.intact_journal()?;
        let bytes =
            crate::input::read_named_file(path, "the report", "a report", MAX_REPORT_BYTES)?;
        let sha256 = sha256_hex(&bytes);
        let export = exports_in(&journal)?
            .into_iter()
            .rev()
            .find(|e| e.sha256 == sha256)
            .ok_or_else(|| {
                Error::BadInput(format!(
                    "{} is in no export record of this journal: it was exported elsewhere, or it changed since. Co-sign it where it was exported, or sign it with your own key beside the operator's signature, never over it: ssh-keygen -Y sign -n shipshape-report -f KEY < FILE > FILE.YOURNAME.sig (it checks the same way).",
                    crate::input::shown(&path.to_string_lossy())
                ))
            })?;
        let (written, fingerprint) = self
            .sign_with(key_name, path, &bytes, Some(key_name))
            .await?;
        let signer = Signer {
            user: operator(),
            key_name: key_name.to_string(),
            fingerprint,
            signed_at: now(),
            signature_file: written,
        };
        journal.append(
            &export.record_id,
            &Entry::ReportCosigned {
                sha256,
                signer: signer.clone(),
            },
        )?;
        Ok(signer)
    }

    /// A file for the report of `record_id`: in the Documents folder (or the home
    /// folder), named after the target and the record.
    pub fn suggest_report_path(&self, record_id: &str, format: ReportFormat) -> Result<String> {
        let checklist = self.journal()?.checklist(record_id)?;
        let target: String = checklist
            .target
            .name
            .chars()
            .map(|c| {
                if c.is_ascii_alphanumeric() || c == '-' {
                    c.to_ascii_lowercase()
                } else {
                    '-'
                }
            })
            .collect();
        let home = std::env::var_os("HOME")
            .map(std::path::PathBuf::from)
            .unwrap_or_else(crate::paths::data_dir);
        let documents = home.join("Documents");
        let mut dir = if documents.is_dir() { documents } else { home };
        // A home that is the data folder itself (a test's, a kiosk's): beside it instead.
        while files::refuse_own_dir(&dir.join("report"), &self.own_dirs()).is_err() {
            match dir.parent() {
                Some(parent) => dir = parent.to_path_buf(),
                None => break,
            }
        }
        let stem = format!("shipshape-{target}-{record_id}");
        let path = files::unused_path(&dir, &stem, format.extension());
        Ok(path.display().to_string())
    }

    /// Every report exported, oldest first, with its co-signers.
    pub fn report_exports(&self) -> Result<Vec<ReportExport>> {
        exports_in(&*self.journal()?)
    }

    /// The journal with its chain walked: an error naming the first entry that does
    /// not hold, or the journal and its head.
    fn intact_journal(&self) -> Result<(Arc<Journal>, String)> {
        let journal = self.journal()?;
        let chain = journal.verify()?;
        match chain.broken {
            Some(broken) => Err(Error::JournalBroken {
                seq: broken.seq,
                record: broken.record_id,
                reason: format!(
                    "{}; no report is made or signed from a journal that does not hold",
                    broken.reason
                ),
            }),
            None => Ok((journal, chain.head)),
        }
    }

    /// Where Shipshape keeps its own files: no report goes there.
    fn own_dirs(&self) -> Vec<PathBuf> {
        let mut dirs = vec![crate::paths::data_dir()];
        for file in [
            &self.journal_path,
            &self.history_path,
            &self.known_hosts_path,
            &self.facts_cache_path,
        ] {
            if let Some(dir) = file.parent().filter(|d| !d.as_os_str().is_empty()) {
                if !dirs.iter().any(|known| known == dir) {
                    dirs.push(dir.to_path_buf());
                }
            }
        }
        dirs
    }

    async fn sign_with(
        &self,
        key_name: &str,
        path: &Path,
        bytes: &[u8],
        cosigner: Option<&str>,
    ) -> Result<(String, String)> {
        let (armored, fingerprint) = self.signature_by(key_name, bytes).await?;
        let written = sign::signature_path(path, cosigner);
        crate::settings::write_atomically(&written, armored.as_bytes())?;
        Ok((written.display().to_string(), fingerprint))
    }

    /// `bytes` signed with the keyring's key `key_name`: the armored signature and the
    /// key's fingerprint.
    async fn signature_by(&self, key_name: &str, bytes: &[u8]) -> Result<(String, String)> {
        let loader = self.key_loader.clone();
        let name = key_name.to_string();
        let key = super::blocking(move || loader(&name)).await?;
        let fingerprint = key
            .public_key()
            .fingerprint(russh::keys::HashAlg::Sha256)
            .to_string();
        // A key that cannot sign is the key's problem (exit 2), not the connection's.
        let armored = sign::sign(&key, bytes).map_err(|e| Error::KeyInvalid {
            name: key_name.to_string(),
            cause: e.to_string(),
        })?;
        Ok((armored, fingerprint))
    }
}

/// Every report exported in `journal`, oldest first, with its co-signers.
fn exports_in(journal: &Journal) -> Result<Vec<ReportExport>> {
    let mut exports: Vec<ReportExport> = Vec::new();
    for entry in journal.report_entries()? {
        match entry {
            Entry::ReportExported(export) => exports.push(export),
            Entry::ReportCosigned { sha256, signer } => {
                if let Some(export) = exports.iter_mut().rev().find(|e| e.sha256 == sha256) {
                    // Co-signed again into the same file: that file holds the newer one.
                    export
                        .cosigners
                        .retain(|c| c.signature_file != signer.signature_file);
                    export.cosigners.push(signer);
                }
            }
            _ => {}
        }
    }
    Ok(exports)
}
