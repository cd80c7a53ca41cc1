//! A map from key hashes to per-key state, made so that a lookup can be
//! started before it is needed.
//!
//! A state table is larger than the caches, so the slot of a packet's key
//! is a cache miss; a packet's decisions start all their tables' lookups
//! first so that those misses overlap. A general hash map cannot start a
//! lookup without finishing it: finding the slot compares its key, and the
//! compare waits for the miss. Here the values live in one dense array and a
//! compact index of `u64` words (the key's upper half as a tag, the entry's
//! number) finds them: the index is an eighth of the entries' size, small
//! enough to stay in cache, so [`KeyMap::prefetch`] reads it at once and
//! only asks for the entry's lines, which arrive while the packet's other
//! lookups start. Linear probing with backward-shift deletion (no
//! tombstones, so churn never degrades it); a removed entry's place is
//! taken by the last one. Keys are already hashes (seeded per table), so
//! they are not hashed again. The index functions (`word`, `find`, `place`,
//! `unindex`) are shared with the flow table, which keeps its own entries.

use crate::prefetch::prefetch_whole;

/// An index word: the upper half of the key (the tag, whose low bits pick
/// the home bucket) and the entry's number + 1 (0 is an empty bucket).
pub(super) fn word(key: u64, entry: usize) -> u64 {
    (key & !0xffff_ffff) | (entry as u64 + 1)
}

/// The entry a non-empty index word points at.
pub(super) fn entry_of(word: u64) -> usize {
    ((word & 0xffff_ffff) as usize).wrapping_sub(1)
}

/// The home bucket of a key or index word in an index of `mask + 1` buckets.
pub(super) fn home(key_or_word: u64, mask: usize) -> usize {
    (key_or_word >> 32) as usize & mask
}

/// A map from `u64` key hashes to `V`.
pub(crate) struct KeyMap<V> {
    /// A power of two of words (see [`word`]), at most half full.
    index: Vec<u64>,
    /// Keys and values, dense.
    entries: Vec<(u64, V)>,
}

impl<V> Default for KeyMap<V> {
    fn default() -> Self {
        KeyMap { index: vec![0; Self::MIN_BUCKETS], entries: Vec::new() }
    }
}

impl<V> KeyMap<V> {
    const MIN_BUCKETS: usize = 16;

    /// Most index words a key may cost (the index is a power of two at
    /// most half full, and at least a quarter full once it has grown).
    pub(crate) const WORDS_PER_KEY: usize = 4;

    /// Keys held.
    pub(crate) fn len(&self) -> usize {
        self.entries.len()
    }

    /// The bucket and entry of `key`, if held.
    fn find(&self, key: u64) -> Option<(usize, usize)> {
        find(&self.index, key, |i| self.entries.get(i).is_some_and(|e| e.0 == key))
    }

    /// Asks for the lines of `key`'s entry, if held, without waiting for
    /// them: only the index (in cache, as a rule) is read now.
    pub(crate) fn prefetch(&self, key: u64) {
        let mask = self.index.len() - 1;
        let tag = key & !0xffff_ffff;
        let mut pos = home(key, mask);
        for _ in 0..self.index.len() {
            match self.index.get(pos) {
                Some(&w) if w != 0 => {
                    if w & !0xffff_ffff == tag {
                        // Almost always the key's (a tag is 32 bits).
                        if let Some(e) = self.entries.get(entry_of(w)) {
                            prefetch_whole(e);
                        }
                        return;
                    }
                }
                _ => return,
            }
            pos = (pos + 1) & mask;
        }
    }

    /// The value of `key`.
    pub(crate) fn get(&self, key: &u64) -> Option<&V> {
        let (_, i) = self.find(*key)?;
        self.entries.get(i).map(|e| &e.1)
    }

    /// The value of `key`, to change.
    pub(crate) fn get_mut(&mut self, key: &u64) -> Option<&mut V> {
        let (_, i) = self.find(*key)?;
        self.entries.get_mut(i).map(|e| &mut e.1)
    }

    /// True if `key` is held.
    #[cfg(test)]
    pub(crate) fn contains_key(&self, key: &u64) -> bool {
        self.find(*key).is_some()
    }

    /// Every value, in no particular order.
    #[cfg(test)]
    pub(crate) fn values(&self) -> impl Iterator<Item = &V> {
        self.entries.iter().map(|e| &e.1)
    }

    /// Holds `value` under `key`, returning the value it replaces.
    #[cfg(test)]
    pub(crate) fn insert(&mut self, key: u64, value: V) -> Option<V> {
        if let Some((_, i)) = self.find(key) {
            return self.entries.get_mut(i).map(|e| std::mem::replace(&mut e.1, value));
        }
        self.insert_absent(key, value);
        None
    }

    /// Holds `value` under `key`, which the caller has just failed to find
    /// (a lookup fewer than [`KeyMap::insert`]; a key held already would be
    /// held twice).
    pub(crate) fn insert_absent(&mut self, key: u64, value: V) {
        if 2 * (self.entries.len() + 1) > self.index.len() {
            self.rebuild(self.index.len() * 2);
        }
        self.entries.push((key, value));
        place(&mut self.index, word(key, self.entries.len() - 1));
    }

    /// Removes `key`, returning its value.
    pub(crate) fn remove(&mut self, key: &u64) -> Option<V> {
        let (bucket, i) = self.find(*key)?;
        unindex(&mut self.index, bucket);
        let last = self.entries.len() - 1;
        if i != last {
            // The last entry moves into the hole: its word follows it.
            let moved = self.entries.get(last)?.0;
            if let Some(w) = bucket_of(&self.index, word(moved, last)).and_then(|b| self.index.get_mut(b)) {
                *w = word(moved, i);
            }
        }
        Some(self.entries.swap_remove(i).1)
    }

    /// Rebuilds the index with `buckets` buckets (a power of two).
    fn rebuild(&mut self, buckets: usize) {
        let mut index = vec![0u64; buckets];
        for (i, (key, _)) in self.entries.iter().enumerate() {
            place(&mut index, word(*key, i));
        }
        self.index = index;
    }
}

/// The bucket and entry of `key` in `index`; `holds(entry)` says whether
/// an entry holds `key` (tags may collide).
pub(super) fn find(index: &[u64], key: u64, holds: impl Fn(usize) -> bool) -> Option<(usize, usize)> {
    let mask = index.len() - 1;
    let tag = key & !0xffff_ffff;
    let mut pos = home(key, mask);
    // At most one pass over the index (it always has an empty bucket).
    for _ in 0..index.len() {
        let w = *index.get(pos)?;
        if w == 0 {
            return None;
        }
        if w & !0xffff_ffff == tag && holds(entry_of(w)) {
            return Some((pos, entry_of(w)));
        }
        pos = (pos + 1) & mask;
    }
    None
}

/// The bucket of `index` holding word `w` exactly, if any.
pub(super) fn bucket_of(index: &[u64], w: u64) -> Option<usize> {
    let mask = index.len() - 1;
    let mut pos = home(w, mask);
    // At most one pass over the index (it always has an empty bucket).
    for _ in 0..index.len() {
        match *index.get(pos)? {
            0 => return None,
            b if b == w => return Some(pos),
            _ => pos = (pos + 1) & mask,
        }
    }
    None
}

/// Empties bucket `hole` of `index`, shifting back the words after it that
/// would not be found past the hole (backward-shift deletion).
pub(super) fn unindex(index: &mut [u64], mut hole: usize) {
    let mask = index.len() - 1;
    let mut pos = hole;
    loop {
        pos = (pos + 1) & mask;
        let w = match index.get(pos) {
            Some(&w) if w != 0 => w,
            _ => break,
        };
        // `w` may fill the hole if its home is not after the hole, cyclically, up to `pos`.
        let from_home = pos.wrapping_sub(home(w, mask)) & mask;
        let from_hole = pos.wrapping_sub(hole) & mask;
        if from_home >= from_hole {
            if let Some(h) = index.get_mut(hole) {
                *h = w;
            }
            hole = pos;
        }
    }
    if let Some(h) = index.get_mut(hole) {
        *h = 0;
    }
}

/// Puts index word `w` in the first free bucket from its home (there is one:
/// the index is never full).
pub(super) fn place(index: &mut [u64], w: u64) {
    let mask = index.len() - 1;
    let mut pos = home(w, mask);
    while let Some(b) = index.get_mut(pos) {
        if *b == 0 {
            *b = w;
            return;
        }
        pos = (pos + 1) & mask;
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use proptest::prelude::*;
    use std::collections::HashMap;

    proptest! {
        #[test]
        fn behaves_as_a_hash_map(ops in proptest::collection::vec((any::<bool>(), 0u64..40, any::<u32>()), 1..400), spread in any::<bool>()) {
            // Keys either spread over the tag bits or all in one home bucket
            // with one tag (the worst case: every lookup compares keys).
            let key = |k: u64| if spread { k.wrapping_mul(0x9e37_79b9_7f4a_7c15) } else { k };
            let mut map = KeyMap::default();
            let mut model = HashMap::new();
            for (op, k, v) in ops {
                let k = key(k);
                if op {
                    prop_assert_eq!(map.insert(k, v), model.insert(k, v));
                } else {
                    prop_assert_eq!(map.remove(&k), model.remove(&k));
                }
                prop_assert_eq!(map.len(), model.len());
                prop_assert!(2 * map.len() <= map.index.len());
                for (mk, mv) in &model {
                    prop_assert_eq!(map.get(mk), Some(mv));
                    map.prefetch(*mk);
                }
                prop_assert_eq!(map.get(&key(99)), None);
                let words = map.index.iter().filter(|&&w| w != 0).count();
                prop_assert_eq!(words, map.len());
            }
        }
    }
}
