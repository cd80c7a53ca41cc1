//! A keyed table of reusable slots: what the reassemblers ([`super::defrag`],
//! [`super::dns_tcp`]) keep their work in.
//!
//! Values live in a `Vec` and are found by key through a hash map of slot
//! numbers; a freed slot keeps its value (and the buffers in it) for the
//! next key, so steady traffic reuses memory. The map keeps room for twice
//! the keys held: removals leave tombstones, and when they fill the table
//! hashbrown clears them in place if at most half its room is live and
//! grows otherwise, so with that room it grows only when the number of keys
//! reaches a new high, never because of where tombstones fell, and a steady
//! churn of keys allocates nothing once warm.

use std::collections::HashMap;
use std::hash::Hash;

/// Slots of `V` found by `K`.
#[derive(Debug)]
pub struct Slots<K, V> {
    index: HashMap<K, usize>,
    /// Entries the index has room for, not counting tombstones.
    room: usize,
    values: Vec<V>,
    free: Vec<usize>,
}

impl<K: Hash + Eq, V: Default> Slots<K, V> {
    /// No slots.
    pub fn new() -> Self {
        Slots { index: HashMap::new(), room: 0, values: Vec::new(), free: Vec::new() }
    }

    /// Keys held.
    pub fn len(&self) -> usize {
        self.index.len()
    }

    /// True when no key is held.
    pub fn is_empty(&self) -> bool {
        self.index.is_empty()
    }

    /// The slot of `key`.
    pub fn find(&self, key: &K) -> Option<usize> {
        self.index.get(key).copied()
    }

    /// A slot for `key` (not held): a freed one, whose value the caller
    /// resets, or a new one holding `V::default()`.
    pub fn insert(&mut self, key: K) -> usize {
        let slot = self.free.pop().unwrap_or_else(|| {
            self.values.push(V::default());
            self.values.len() - 1
        });
        if self.index.len() + 1 > self.room / 2 {
            self.room = (4 * (self.index.len() + 1)).max(32);
            // Afterwards the map holds at least `room` entries without growing.
            self.index.reserve(self.room - self.index.len());
        }
        self.index.insert(key, slot);
        slot
    }

    /// Frees the slot of `key`; its value stays for the next key.
    pub fn remove(&mut self, key: &K) {
        if let Some(slot) = self.index.remove(key) {
            self.free.push(slot);
        }
    }

    /// Freed slots waiting for a key.
    pub fn freed(&self) -> usize {
        self.free.len()
    }

    /// The value in `slot`.
    pub fn get(&self, slot: usize) -> Option<&V> {
        self.values.get(slot)
    }

    /// The value in `slot`, to change.
    pub fn get_mut(&mut self, slot: usize) -> Option<&mut V> {
        self.values.get_mut(slot)
    }

    /// Every slot, held or free (slot numbers run from 0 to this).
    pub fn capacity(&self) -> usize {
        self.values.len()
    }

    /// Every value, held or free, with its slot.
    pub fn values(&self) -> impl Iterator<Item = (usize, &V)> + '_ {
        self.values.iter().enumerate()
    }
}

impl<K: Hash + Eq, V: Default> Default for Slots<K, V> {
    fn default() -> Self {
        Slots::new()
    }
}
