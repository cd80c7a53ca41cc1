//! Port ranges of every indexed rule, found from one port.
//!
//! The ranges' ends cut the port space into elementary intervals, inside
//! each of which the same ranges hold; a lookup is one binary search for the
//! port's interval, whose rules are stored together. Rules anchored on ports
//! name few of them (the anchor chooser leaves wide ranges such as
//! `1024:65535` to other tests), so the intervals stay few and short.

/// Inclusive port ranges of several rules.
#[derive(Debug, Default)]
pub struct RangeMap {
    /// First port of each elementary interval, ascending, starting at 0.
    starts: Vec<u16>,
    /// `ids[offsets[i]..offsets[i + 1]]`: the rules of interval `i`.
    offsets: Vec<u32>,
    ids: Vec<u32>,
    entries: usize,
}

impl RangeMap {
    /// Builds the map over `(lo, hi, rule)` entries.
    pub fn new(mut entries: Vec<(u16, u16, u32)>) -> RangeMap {
        let count = entries.len();
        if entries.is_empty() {
            return RangeMap::default();
        }
        let mut starts: Vec<u16> = vec![0];
        for &(lo, hi, _) in &entries {
            starts.push(lo);
            if let Some(next) = hi.checked_add(1) {
                starts.push(next);
            }
        }
        starts.sort_unstable();
        starts.dedup();
        entries.sort_unstable_by_key(|e| e.0);
        let (mut offsets, mut ids) = (vec![0u32], Vec::new());
        let mut active: Vec<(u16, u16, u32)> = Vec::new();
        let mut next = entries.iter().peekable();
        for &start in &starts {
            active.retain(|e| e.1 >= start);
            while let Some(e) = next.next_if(|e| e.0 <= start) {
                if e.1 >= start {
                    active.push(*e);
                }
            }
            ids.extend(active.iter().map(|e| e.2));
            offsets.push(ids.len() as u32);
        }
        RangeMap { starts, offsets, ids, entries: count }
    }

    /// True when no rule is filed here.
    pub fn is_empty(&self) -> bool {
        self.entries == 0
    }

    /// Number of (range, rule) entries.
    pub fn len(&self) -> usize {
        self.entries
    }

    /// Pushes every rule with a range holding `port`.
    pub fn lookup(&self, port: u16, out: &mut Vec<u32>) {
        let Some(i) = self.starts.partition_point(|s| *s <= port).checked_sub(1) else { return };
        let (Some(&a), Some(&b)) = (self.offsets.get(i), self.offsets.get(i + 1)) else { return };
        if let Some(rules) = self.ids.get(a as usize..b as usize) {
            out.extend_from_slice(rules);
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn finds_the_rules_whose_ranges_hold_the_port() {
        let m = RangeMap::new(vec![(53, 53, 1), (1000, 2000, 2), (1500, 65535, 3), (0, 0, 4), (53, 80, 5)]);
        let found = |p: u16| {
            let mut out = Vec::new();
            m.lookup(p, &mut out);
            out.sort_unstable();
            out
        };
        assert_eq!(found(0), [4]);
        assert_eq!(found(1), Vec::<u32>::new());
        assert_eq!(found(53), [1, 5]);
        assert_eq!(found(54), [5]);
        assert_eq!(found(80), [5]);
        assert_eq!(found(81), Vec::<u32>::new());
        assert_eq!(found(1499), [2]);
        assert_eq!(found(1500), [2, 3]);
        assert_eq!(found(2001), [3]);
        assert_eq!(found(65535), [3]);
        assert_eq!(m.len(), 5);
        assert!(RangeMap::new(Vec::new()).is_empty());
    }
}
