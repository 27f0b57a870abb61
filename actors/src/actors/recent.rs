//! What an actor committed but the store may not show yet.

use std::collections::{HashMap, VecDeque};

/// Records an actor committed recently (a wallet's purchases, transfers and applied
/// messages, a budget's applied messages), so a command arriving before the record is
/// readable from the store still finds it. An entry
/// is pruned once its commit has settled and newer ones crowd it out.
pub(crate) struct Recent<K, V> {
    entries: HashMap<K, (V, u64)>,
    order: VecDeque<K>,
}

const RECENT_MAX: usize = 256;

impl<K: std::hash::Hash + Eq + Copy, V> Recent<K, V> {
    pub(crate) fn new() -> Self {
        Recent {
            entries: HashMap::new(),
            order: VecDeque::new(),
        }
    }

    pub(crate) fn get(&self, key: &K) -> Option<&V> {
        self.entries.get(key).map(|(value, _)| value)
    }

    /// Keeps `value`, committed by this actor's commit number `commit`; `settled` is how
    /// many of its commits have completed.
    pub(crate) fn remember(&mut self, key: K, value: V, commit: u64, settled: u64) {
        if self.entries.insert(key, (value, commit)).is_none() {
            self.order.push_back(key);
        }
        while self.order.len() > RECENT_MAX {
            let Some(oldest) = self.order.front().copied() else {
                break;
            };
            match self.entries.get(&oldest) {
                Some((_, commit)) if *commit > settled => break,
                _ => {
                    self.order.pop_front();
                    self.entries.remove(&oldest);
                }
            }
        }
    }

    pub(crate) fn clear(&mut self) {
        self.entries.clear();
        self.order.clear();
    }
}
