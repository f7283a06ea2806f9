//! Which entries are of one target across its renames. Entries name a target as it was
//! named when they were written, and a rename is journalled, so a renamed target keeps
//! its snapshots (a rollback finds them) and its verifications, while a new target given
//! a name another one had before starts with none of that one's past.

use std::collections::HashMap;

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

    /// The name `lineage` goes by now, if it has one.
    pub fn name_of(&self, lineage: usize) -> Option<&str> {
        self.named
            .iter()
            .find(|(_, l)| **l == lineage)
            .map(|(name, _)| name.as_str())
    }
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
