//! Address prefixes of every indexed rule, found from one packet address.
//!
//! Rules anchored on addresses put each network they name (`10.0.0.0/8`,
//! `192.168.1.4`) here once. A lookup masks the address once per prefix
//! length present in the table and finds every rule with that prefix in one
//! hash probe, so its cost depends on how many distinct lengths the rules use
//! (a handful in practice: /8, /16, /24, /32), not on how many rules there are.
//! The table only says a rule *may* match: exclusions (`!10.9.0.0/16`) are left
//! to the rule's own header check.

use std::collections::HashMap;
use std::hash::Hash;
use std::net::IpAddr;

use foldhash::fast::FixedState;

use crate::engine::header::{mask_v4, mask_v6, Net};

/// Rules per network of one prefix length.
#[derive(Debug)]
struct Level<K> {
    prefix: u8,
    rules: HashMap<K, Vec<u32>, FixedState>,
}

/// Networks of several rules, looked up by address.
#[derive(Debug, Default)]
pub struct PrefixTable {
    v4: Vec<Level<u32>>,
    v6: Vec<Level<u128>>,
    entries: usize,
}

fn insert_at<K: Hash + Eq>(levels: &mut Vec<Level<K>>, prefix: u8, key: K, rule: u32) {
    let at = levels.partition_point(|l| l.prefix < prefix);
    if levels.get(at).is_none_or(|l| l.prefix != prefix) {
        let rules = HashMap::with_hasher(FixedState::with_seed(0x7072_6566_6978));
        levels.insert(at, Level { prefix, rules });
    }
    if let Some(level) = levels.get_mut(at) {
        level.rules.entry(key).or_default().push(rule);
    }
}

impl PrefixTable {
    /// Files `rule` under `net`.
    pub fn insert(&mut self, net: Net, rule: u32) {
        match net.addr() {
            IpAddr::V4(a) => insert_at(&mut self.v4, net.prefix(), u32::from(a), rule),
            IpAddr::V6(a) => insert_at(&mut self.v6, net.prefix(), u128::from(a), rule),
        }
        self.entries += 1;
    }

    /// True when no rule is filed here.
    pub fn is_empty(&self) -> bool {
        self.entries == 0
    }

    /// Number of (network, rule) entries.
    pub fn len(&self) -> usize {
        self.entries
    }

    /// Distinct prefix lengths (the hash probes of one lookup), IPv4 and IPv6.
    pub fn lengths(&self) -> (usize, usize) {
        (self.v4.len(), self.v6.len())
    }

    /// Pushes every rule filed under a network holding `ip` (a rule filed
    /// under two such networks is pushed twice).
    pub fn lookup(&self, ip: IpAddr, out: &mut Vec<u32>) {
        match ip {
            IpAddr::V4(a) => {
                let a = u32::from(a);
                for level in &self.v4 {
                    if let Some(rules) = level.rules.get(&mask_v4(a, level.prefix)) {
                        out.extend_from_slice(rules);
                    }
                }
            }
            IpAddr::V6(a) => {
                let a = u128::from(a);
                for level in &self.v6 {
                    if let Some(rules) = level.rules.get(&mask_v6(a, level.prefix)) {
                        out.extend_from_slice(rules);
                    }
                }
            }
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn net(s: &str, prefix: u8) -> Net {
        Net::new(s.parse().unwrap(), prefix)
    }

    fn found(t: &PrefixTable, ip: &str) -> Vec<u32> {
        let mut out = Vec::new();
        t.lookup(ip.parse().unwrap(), &mut out);
        out.sort_unstable();
        out
    }

    #[test]
    fn finds_every_covering_prefix_and_nothing_else() {
        let mut t = PrefixTable::default();
        t.insert(net("10.0.0.0", 8), 1);
        t.insert(net("10.20.0.0", 16), 2);
        t.insert(net("10.20.3.4", 32), 3);
        t.insert(net("2001:db8::", 32), 4);
        t.insert(net("0.0.0.0", 0), 5);
        assert_eq!(found(&t, "10.20.3.4"), [1, 2, 3, 5]);
        assert_eq!(found(&t, "10.21.3.4"), [1, 5]);
        assert_eq!(found(&t, "11.0.0.1"), [5]);
        assert_eq!(found(&t, "2001:db8::7"), [4]);
        assert_eq!(found(&t, "2001:db9::7"), Vec::<u32>::new());
        assert_eq!(t.lengths(), (4, 1));
        assert_eq!(t.len(), 5);
    }
}
