//! The map under every state table: key hash → the key's state, stored in
//! the map's own array.
//!
//! A stateful clause's table is larger than the caches (the `rate by src`
//! table of a busy link holds tens of thousands of keys), so each lookup is
//! a cache miss, and a packet that matches several stateful rules pays one
//! per rule. std's `HashMap` finds a key through its control bytes, then the
//! slot: two dependent loads, at an address only it knows. Here a key's
//! state sits in the array at its home position or just after it (open
//! addressing, linear probing, at most half full), so one load usually
//! finds it, and [`KeyMap::prefetch`] can start that load from the hash
//! alone: the engine asks for the slots of every stateful rule a packet
//! matched before deciding any, and their misses overlap.
//!
//! Keys are already hashes (seeded per table, see `tables::keyed_hasher`),
//! so they are not hashed again. Removal shifts the following keys back
//! (no tombstones), so churn never lengthens probes nor grows the array; it
//! grows (doubling) only when a new key would make it more than half full.

use crate::prefetch::prefetch_whole;

/// Positions the array starts with at its first key.
const MIN_SLOTS: usize = 16;

/// A map from key hash to `V`, in one open-addressing array.
pub(crate) struct KeyMap<V> {
    /// A power of two of slots (none before the first key), at most half full.
    slots: Vec<Option<(u64, V)>>,
    len: usize,
}

impl<V> Default for KeyMap<V> {
    fn default() -> Self {
        KeyMap { slots: Vec::new(), len: 0 }
    }
}

/// The home position of `key` in an array of `mask + 1` slots. The upper
/// half of the hash, so that it stays independent of the low bits other
/// users of the same hash may look at.
fn home(key: u64, mask: usize) -> usize {
    key.rotate_right(32) as usize & mask
}

impl<V> KeyMap<V> {
    /// Keys held.
    pub(crate) fn len(&self) -> usize {
        self.len
    }

    /// Starts loading the slot where `key` would be found, so that a lookup
    /// soon after does not wait for memory. Only a hint: any key, held or not.
    #[inline]
    pub(crate) fn prefetch(&self, key: u64) {
        if let Some(slot) = self.slots.get(home(key, self.slots.len().wrapping_sub(1))) {
            prefetch_whole(slot);
        }
    }

    /// The position of `key`, if held.
    fn find(&self, key: u64) -> Option<usize> {
        let mask = self.slots.len().checked_sub(1)?;
        let mut pos = home(key, mask);
        // At most one pass over the array (it always has an empty slot).
        for _ in 0..self.slots.len() {
            match self.slots.get(pos)? {
                Some((k, _)) if *k == key => return Some(pos),
                Some(_) => pos = (pos + 1) & mask,
                None => return None,
            }
        }
        None
    }

    /// The value of `key`, if held.
    pub(crate) fn get(&self, key: u64) -> Option<&V> {
        let pos = self.find(key)?;
        self.slots.get(pos)?.as_ref().map(|(_, v)| v)
    }

    /// The value of `key`, if held, to change.
    pub(crate) fn get_mut(&mut self, key: u64) -> Option<&mut V> {
        let pos = self.find(key)?;
        self.slots.get_mut(pos)?.as_mut().map(|(_, v)| v)
    }

    /// True if `key` is held.
    #[cfg(test)]
    pub(crate) fn contains_key(&self, key: u64) -> bool {
        self.find(key).is_some()
    }

    /// Every value, in no particular order.
    #[cfg(test)]
    pub(crate) fn values(&self) -> impl Iterator<Item = &V> {
        self.slots.iter().flatten().map(|(_, v)| v)
    }

    /// Sets the value of `key`, returning the one it replaces. The array
    /// doubles first if the new key would make it more than half full.
    pub(crate) fn insert(&mut self, key: u64, value: V) -> Option<V> {
        if let Some(old) = self.get_mut(key) {
            return Some(std::mem::replace(old, value));
        }
        if 2 * (self.len + 1) > self.slots.len() {
            self.grow();
        }
        place(&mut self.slots, key, value);
        self.len += 1;
        None
    }

    /// Doubles the array (to [`MIN_SLOTS`] at first), placing every key anew.
    fn grow(&mut self) {
        let size = (self.slots.len() * 2).max(MIN_SLOTS);
        let mut bigger = Vec::with_capacity(size);
        bigger.resize_with(size, || None);
        for (key, value) in std::mem::replace(&mut self.slots, bigger).into_iter().flatten() {
            place(&mut self.slots, key, value);
        }
    }

    /// Removes `key`, returning its value; the keys after it that would not
    /// be found past the hole it leaves move back into it.
    pub(crate) fn remove(&mut self, key: u64) -> Option<V> {
        let mut hole = self.find(key)?;
        let (_, value) = self.slots.get_mut(hole)?.take()?;
        self.len -= 1;
        let mask = self.slots.len() - 1;
        let mut pos = hole;
        loop {
            pos = (pos + 1) & mask;
            let Some(Some((k, _))) = self.slots.get(pos) else { break };
            // The key at `pos` may fill the hole if its home is not after the
            // hole, cyclically, up to `pos`.
            let from_home = pos.wrapping_sub(home(*k, mask)) & mask;
            let from_hole = pos.wrapping_sub(hole) & mask;
            if from_home >= from_hole {
                self.slots.swap(hole, pos);
                hole = pos;
            }
        }
        Some(value)
    }
}

/// Puts `key` in the first empty slot from its home (there is one: the array
/// is never full).
fn place<V>(slots: &mut [Option<(u64, V)>], key: u64, value: V) {
    let mask = slots.len() - 1;
    let mut pos = home(key, mask);
    loop {
        match slots.get_mut(pos) {
            Some(slot @ None) => {
                *slot = Some((key, value));
                return;
            }
            Some(Some(_)) => pos = (pos + 1) & mask,
            None => return,
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use proptest::prelude::*;
    use std::collections::HashMap;

    /// A key whose home, in any array of up to 2^8 slots, is `home`, with
    /// `tag` in bits no home reads: many keys share a home and probe past
    /// one another.
    fn key(home: u8, tag: u8) -> u64 {
        u64::from(home) << 32 | u64::from(tag) << 48 | u64::from(tag)
    }

    #[derive(Clone, Debug)]
    enum Op {
        Insert(u8, u8, u32),
        Remove(u8, u8),
        Get(u8, u8),
    }

    fn op() -> impl Strategy<Value = Op> {
        // Few homes, so probe runs form, wrap around the end and are cut by removals.
        let k = || (prop_oneof![0u8..4, 12u8..16, 60u8..64, 252u8..=255], 0u8..6);
        prop_oneof![
            (k(), any::<u32>()).prop_map(|((h, t), v)| Op::Insert(h, t, v)),
            k().prop_map(|(h, t)| Op::Remove(h, t)),
            k().prop_map(|(h, t)| Op::Get(h, t)),
        ]
    }

    proptest! {
        #[test]
        fn behaves_as_a_hash_map(ops in proptest::collection::vec(op(), 1..400)) {
            let mut map = KeyMap::default();
            let mut model = HashMap::new();
            for op in ops {
                match op {
                    Op::Insert(h, t, v) => prop_assert_eq!(map.insert(key(h, t), v), model.insert(key(h, t), v)),
                    Op::Remove(h, t) => prop_assert_eq!(map.remove(key(h, t)), model.remove(&key(h, t))),
                    Op::Get(h, t) => prop_assert_eq!(map.get(key(h, t)), model.get(&key(h, t))),
                }
                map.prefetch(key(1, 1));
                prop_assert_eq!(map.len(), model.len());
                prop_assert!(2 * map.len() <= map.slots.len().max(1));
                for (k, v) in &model {
                    prop_assert_eq!(map.get(*k), Some(v));
                }
                let mut held: Vec<u32> = map.values().copied().collect();
                let mut want: Vec<u32> = model.values().copied().collect();
                held.sort_unstable();
                want.sort_unstable();
                prop_assert_eq!(held, want);
            }
        }
    }

    #[test]
    fn churn_at_a_steady_size_never_grows_the_array() {
        let mut map = KeyMap::default();
        for k in 0..1000u64 {
            map.insert(k.wrapping_mul(0x9e37_79b9_7f4a_7c15), k);
        }
        let size = map.slots.len();
        for k in 1000..100_000u64 {
            map.remove((k - 1000).wrapping_mul(0x9e37_79b9_7f4a_7c15));
            map.insert(k.wrapping_mul(0x9e37_79b9_7f4a_7c15), k);
        }
        assert_eq!((map.len(), map.slots.len()), (1000, size));
    }
}
