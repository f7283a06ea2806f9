//! The hash chain: each entry's hash covers the previous entry's hash and every byte
//! stored for this one, so changing, removing or reordering any stored entry breaks the
//! chain at that entry, and `history verify` can name it.

use serde::Serialize;
use sha2::{Digest, Sha256};
use ts_rs::TS;

/// The `prev_hash` of the first entry.
pub const GENESIS: &str = "0000000000000000000000000000000000000000000000000000000000000000";

/// One stored row, as read back: the bytes exactly as the database holds them.
pub struct StoredEntry {
    pub seq: i64,
    pub record_id: Vec<u8>,
    pub kind: Vec<u8>,
    pub body: Vec<u8>,
    pub prev_hash: Vec<u8>,
    pub hash: Vec<u8>,
    /// A column stored as something other than text (same bytes as a blob, say): the
    /// hash still holds, but lookups by it (`kind = 'deploy_ended'`) no longer find the
    /// entry, so it is a change all the same.
    pub not_text: Option<&'static str>,
}

/// The hash of an entry: SHA-256 over the previous hash, the sequence number, the
/// record id, the kind and the body, each followed by a newline. Hex, lower case.
pub fn entry_hash(
    prev_hash: &[u8],
    seq: i64,
    record_id: &[u8],
    kind: &[u8],
    body: &[u8],
) -> String {
    let mut hash = Sha256::new();
    for part in [prev_hash, seq.to_string().as_bytes(), record_id, kind, body] {
        hash.update(part);
        hash.update(b"\n");
    }
    data_encoding::HEXLOWER.encode(&hash.finalize())
}

/// What walking the chain found.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, TS)]
pub struct ChainReport {
    #[ts(type = "number")]
    pub entries: u64,
    /// The last entry's hash: what reports made now carry.
    pub head: String,
    /// The first entry that does not hold, if any.
    pub broken: Option<BrokenEntry>,
    /// The first entry that holds but that this version cannot read (written by a
    /// newer one, or by a bug): the history and reports leave out what it records.
    pub unreadable: Option<BrokenEntry>,
}

#[derive(Debug, Clone, PartialEq, Eq, Serialize, TS)]
pub struct BrokenEntry {
    #[ts(type = "number")]
    pub seq: i64,
    pub record_id: String,
    pub reason: String,
}

/// Walks `entries` (in sequence order) and names the first one that breaks the chain.
pub fn verify(entries: impl IntoIterator<Item = StoredEntry>) -> ChainReport {
    let mut head = GENESIS.to_string();
    let mut count = 0;
    let mut expected_seq = None;
    for entry in entries {
        count += 1;
        let broken = |reason: String| ChainReport {
            entries: count,
            head: head.clone(),
            broken: Some(BrokenEntry {
                seq: entry.seq,
                record_id: String::from_utf8_lossy(&entry.record_id).into_owned(),
                reason,
            }),
            unreadable: None,
        };
        if let Some(column) = entry.not_text {
            return broken(format!(
                "its {column} is no longer stored as text, which hides it from the journal's lookups: it was changed"
            ));
        }
        if let Some(seq) = expected_seq {
            if entry.seq != seq {
                return broken(format!(
                    "entry {seq} is missing: the journal jumps from {} to {}",
                    seq - 1,
                    entry.seq
                ));
            }
        }
        if entry.prev_hash != head.as_bytes() {
            return broken(
                "its link to the previous entry does not match that entry's hash".into(),
            );
        }
        let computed = entry_hash(
            &entry.prev_hash,
            entry.seq,
            &entry.record_id,
            &entry.kind,
            &entry.body,
        );
        if computed.as_bytes() != entry.hash.as_slice() {
            return broken("its stored bytes no longer match its hash: it was changed".into());
        }
        head = computed;
        expected_seq = Some(entry.seq + 1);
    }
    ChainReport {
        entries: count,
        head,
        broken: None,
        unreadable: None,
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn chain(bodies: &[&str]) -> Vec<StoredEntry> {
        let mut prev = GENESIS.to_string();
        bodies
            .iter()
            .enumerate()
            .map(|(i, body)| {
                let seq = i as i64 + 1;
                let hash = entry_hash(prev.as_bytes(), seq, b"r1", b"k", body.as_bytes());
                let entry = StoredEntry {
                    seq,
                    record_id: b"r1".to_vec(),
                    kind: b"k".to_vec(),
                    body: body.as_bytes().to_vec(),
                    prev_hash: prev.as_bytes().to_vec(),
                    hash: hash.as_bytes().to_vec(),
                    not_text: None,
                };
                prev = hash;
                entry
            })
            .collect()
    }

    #[test]
    fn an_intact_chain_verifies_and_any_flipped_byte_names_its_entry() {
        let report = verify(chain(&["a", "b", "c"]));
        assert_eq!(report.entries, 3);
        assert!(report.broken.is_none());

        for at in 0..3 {
            let mut entries = chain(&["a", "b", "c"]);
            entries[at].body[0] ^= 1;
            let broken = verify(entries).broken.expect("a changed byte is found");
            assert_eq!(broken.seq, at as i64 + 1);
        }
        let mut entries = chain(&["a", "b", "c"]);
        entries[1].hash[3] ^= 1;
        assert_eq!(verify(entries).broken.unwrap().seq, 2);

        let mut entries = chain(&["a", "b", "c"]);
        entries.remove(1);
        assert_eq!(verify(entries).broken.unwrap().seq, 3);
    }
}
