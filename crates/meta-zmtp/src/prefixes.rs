//! A subscriber's prefixes: a set, as libzmq's XPUB keeps it, matched in time that does not
//! grow with the number of prefixes.
//!
//! Besides the set, it keeps the *minimal* prefixes: those that no other subscribed prefix
//! starts. Minimal prefixes never start one another, so at most one of them can start a topic,
//! and if one does it is the greatest minimal prefix not above the topic: one ordered lookup.
//! A topic matches some subscribed prefix exactly when it matches a minimal one.

use std::collections::BTreeSet;
use std::ops::Bound;

#[derive(Debug, Default)]
pub(crate) struct PrefixSet {
    all: BTreeSet<Vec<u8>>,
    minimal: BTreeSet<Vec<u8>>,
    bytes: usize,
}

impl PrefixSet {
    pub(crate) fn len(&self) -> usize {
        self.all.len()
    }

    /// Bytes of all prefixes together.
    pub(crate) fn bytes(&self) -> usize {
        self.bytes
    }

    /// Every prefix, in order.
    pub(crate) fn iter(&self) -> impl Iterator<Item = &[u8]> {
        self.all.iter().map(Vec::as_slice)
    }

    pub(crate) fn contains(&self, prefix: &[u8]) -> bool {
        self.all.contains(prefix)
    }

    /// Does some prefix start `topic`?
    pub(crate) fn matches(&self, topic: &[u8]) -> bool {
        self.minimal
            .range::<[u8], _>((Bound::Unbounded, Bound::Included(topic)))
            .next_back()
            .is_some_and(|prefix| topic.starts_with(prefix))
    }

    /// Adds `prefix`; false when it was there already.
    pub(crate) fn insert(&mut self, prefix: &[u8]) -> bool {
        if !self.all.insert(prefix.to_vec()) {
            return false;
        }
        self.bytes += prefix.len();
        if !self.matches(prefix) {
            // Minimal now; the minimal prefixes it starts are not any more. They follow it in
            // order, one run.
            let covered: Vec<Vec<u8>> = self
                .minimal
                .range::<[u8], _>((Bound::Excluded(prefix), Bound::Unbounded))
                .take_while(|other| other.starts_with(prefix))
                .cloned()
                .collect();
            for other in covered {
                self.minimal.remove(&other);
            }
            self.minimal.insert(prefix.to_vec());
        }
        true
    }

    /// Removes `prefix`; false when it was not there.
    pub(crate) fn remove(&mut self, prefix: &[u8]) -> bool {
        if !self.all.remove(prefix) {
            return false;
        }
        self.bytes -= prefix.len();
        if self.minimal.remove(prefix) {
            // The prefixes it covered may be minimal again: those it starts, taken in order,
            // each unless an earlier one of the run starts it.
            let mut freed: Vec<Vec<u8>> = Vec::new();
            for other in self
                .all
                .range::<[u8], _>((Bound::Excluded(prefix), Bound::Unbounded))
                .take_while(|other| other.starts_with(prefix))
            {
                if freed.last().is_none_or(|last| !other.starts_with(last)) {
                    freed.push(other.clone());
                }
            }
            self.minimal.extend(freed);
        }
        true
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn naive(prefixes: &BTreeSet<Vec<u8>>, topic: &[u8]) -> bool {
        prefixes.iter().any(|p| topic.starts_with(p))
    }

    #[test]
    fn matches_as_a_linear_scan_would_under_random_changes() {
        let mut rng = fastrand::Rng::with_seed(7);
        let alphabet = b"ab:";
        let word = |rng: &mut fastrand::Rng, max: usize| -> Vec<u8> {
            (0..rng.usize(0..=max))
                .map(|_| alphabet[rng.usize(..alphabet.len())])
                .collect()
        };
        let mut set = PrefixSet::default();
        let mut reference = BTreeSet::new();
        for _ in 0..20_000 {
            let prefix = word(&mut rng, 4);
            if rng.bool() {
                assert_eq!(set.insert(&prefix), reference.insert(prefix.clone()));
            } else {
                assert_eq!(set.remove(&prefix), reference.remove(&prefix));
            }
            let topic = word(&mut rng, 6);
            assert_eq!(set.matches(&topic), naive(&reference, &topic), "{topic:?}");
            assert_eq!(set.len(), reference.len());
            assert_eq!(set.bytes(), reference.iter().map(Vec::len).sum::<usize>());
            // The minimal prefixes never start one another.
            let minimal: Vec<_> = set.minimal.iter().collect();
            for pair in minimal.windows(2) {
                assert!(!pair[1].starts_with(pair[0]));
            }
        }
    }

    #[test]
    fn the_empty_prefix_matches_everything_until_cancelled() {
        let mut set = PrefixSet::default();
        set.insert(b"core:file:");
        set.insert(b"");
        assert!(set.matches(b"acme:build:done:"));
        set.remove(b"");
        assert!(!set.matches(b"acme:build:done:"));
        assert!(set.matches(b"core:file:created:"));
    }
}
