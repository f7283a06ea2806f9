//! Which entries are of one target across its renames. Entries name a target as it was
//! named when they were written, and a rename is journalled, so a renamed target keeps
//! its snapshots (a rollback finds them) and its verifications, while a new target given
//! a name another one had before starts with none of that one's past.

use std::collections::HashMap;

use super::Journal;
use crate::checklist::Checklist;
use crate::error::Result;

/// Names over time, walked oldest entry first: a name stands for one target (a lineage)
/// until a rename moves that target to its new name.
#[derive(Debug, Default)]
pub struct Lineages {
    named: HashMap<String, usize>,
    count: usize,
}

impl Lineages {
    /// The target `name` stands for at this point of the walk.
    pub fn of(&mut self, name: &str) -> usize {
        if let Some(&lineage) = self.named.get(name) {
            return lineage;
        }
        self.count += 1;
        self.named.insert(name.to_string(), self.count);
        self.count
    }

    /// The target named `from` is named `to` from here on; `from` is free again.
    pub fn renamed(&mut self, from: &str, to: &str) {
        let lineage = self.of(from);
        self.named.remove(from);
        self.named.insert(to.to_string(), lineage);
    }

    /// The target named `name` was removed: the name stands for a new target from here.
    pub fn removed(&mut self, name: &str) {
        self.named.remove(name);
    }

    /// The name `lineage` goes by now, if it has one.
    pub fn name_of(&self, lineage: usize) -> Option<&str> {
        self.named
            .iter()
            .find(|(_, l)| **l == lineage)
            .map(|(name, _)| name.as_str())
    }
}

impl Journal {
    /// The newest finished verification of `target`, under whichever name it had.
    pub fn latest_checklist(&self, target: &str) -> Result<Option<Checklist>> {
        let mut lineages = Lineages::default();
        let mut newest = std::collections::HashMap::new();
        for named in self.verifications_and_renames()? {
            match named {
                Named::Renamed { from, to } => lineages.renamed(&from, &to),
                Named::Removed { name } => lineages.removed(&name),
                Named::Verification { id, target } => {
                    newest.insert(lineages.of(&target), id);
                }
            }
        }
        let id = newest.remove(&lineages.of(target));
        id.map(|id| self.checklist(&id)).transpose()
    }

    /// The name the target of verification `id` goes by now (`then`, the name the
    /// verification gives, unless it was renamed since); `None` once it was removed (a
    /// target added under its name since is another one).
    pub fn target_now(&self, id: &str, then: &str) -> Result<Option<String>> {
        let mut lineages = Lineages::default();
        let mut of_it = None;
        for named in self.verifications_and_renames()? {
            match named {
                Named::Renamed { from, to } => lineages.renamed(&from, &to),
                Named::Removed { name } => lineages.removed(&name),
                Named::Verification { id: found, target } if found == id => {
                    of_it = Some(lineages.of(&target))
                }
                Named::Verification { .. } => {}
            }
        }
        Ok(match of_it {
            Some(lineage) => lineages.name_of(lineage).map(str::to_string),
            None => Some(then.to_string()),
        })
    }

    /// Each finished verification and each rename, oldest first, by their names alone
    /// (a checklist's body is read only once one is chosen).
    fn verifications_and_renames(&self) -> Result<Vec<Named>> {
        let db = self.db.lock().expect("journal lock");
        let mut statement = db
            .prepare(
                "SELECT record_id, kind, json_extract(body, '$.target.name'),
                 json_extract(body, '$.from'), json_extract(body, '$.to'),
                 json_extract(body, '$.name') FROM entries
                 WHERE kind IN ('verification_ended', 'target_renamed', 'target_removed')
                 ORDER BY seq",
            )
            .map_err(|e| self.fail(e))?;
        let rows = statement
            .query_map([], |row| {
                let text = |i: usize| row.get::<_, Option<String>>(i);
                Ok(
                    match (
                        row.get::<_, String>(1)?.as_str(),
                        text(2)?,
                        text(3)?,
                        text(4)?,
                    ) {
                        ("target_renamed", _, Some(from), Some(to)) => {
                            Some(Named::Renamed { from, to })
                        }
                        ("target_removed", ..) => text(5)?.map(|name| Named::Removed { name }),
                        ("verification_ended", Some(target), _, _) => Some(Named::Verification {
                            id: row.get(0)?,
                            target,
                        }),
                        _ => None,
                    },
                )
            })
            .map_err(|e| self.fail(e))?;
        let mut found = Vec::new();
        for row in rows {
            found.extend(row.map_err(|e| self.fail(e))?);
        }
        Ok(found)
    }
}

/// An entry that names a target, as `latest_checklist` walks them.
enum Named {
    Renamed { from: String, to: String },
    Removed { name: String },
    Verification { id: String, target: String },
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_renamed_target_keeps_its_past_and_its_old_name_starts_afresh() {
        let mut lineages = Lineages::default();
        let staging = lineages.of("staging");
        lineages.renamed("staging", "prod-eu");
        assert_eq!(lineages.of("prod-eu"), staging);
        let new_staging = lineages.of("staging");
        assert_ne!(new_staging, staging);
        lineages.renamed("prod-eu", "prod");
        assert_eq!(lineages.of("prod"), staging);
        assert_eq!(lineages.name_of(staging), Some("prod"));
        assert_eq!(lineages.name_of(new_staging), Some("staging"));
        // A swap through a spare name.
        lineages.renamed("prod", "spare");
        lineages.renamed("staging", "prod");
        lineages.renamed("spare", "staging");
        assert_eq!(lineages.of("staging"), staging);
        assert_eq!(lineages.of("prod"), new_staging);
    }
}
