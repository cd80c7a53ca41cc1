//! Named networks and the longest-prefix lookup that places an address in one.
//!
//! Per-network variables (`networks:` in the config) make one rule carry
//! different thresholds per subnet. For each packet the engine asks this map,
//! once per side, which network is the most specific one holding the address;
//! rules then pick the condition compiled for that network. The lookup keeps
//! one hash map per prefix length present, longest first, so its cost grows
//! with the number of distinct prefix lengths, not of networks.

use std::collections::HashMap;
use std::net::IpAddr;

use crate::engine::header::{mask_v4, mask_v6, Net};

/// Index of a network in the configuration, in declaration order.
pub type NetworkId = u16;

/// A named network: its CIDRs.
#[derive(Clone, Debug, PartialEq)]
pub struct Network {
    /// The name from the config (`lab`, `office`).
    pub name: String,
    /// The CIDRs that make it up.
    pub nets: Vec<Net>,
}

/// Longest-prefix lookup from an address to the most specific network.
#[derive(Clone, Debug, Default)]
pub struct NetworkMap {
    networks: Vec<Network>,
    /// (prefix length, masked address -> network), longest prefix first.
    v4: Vec<(u8, HashMap<u32, NetworkId>)>,
    v6: Vec<(u8, HashMap<u128, NetworkId>)>,
}

/// Two networks claim the same CIDR.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Overlap {
    /// The CIDR.
    pub net: String,
    /// The network that claimed it first.
    pub first: String,
    /// The network that claimed it again.
    pub second: String,
}

impl NetworkMap {
    /// Builds the map; the same CIDR in two networks is an error (nested CIDRs are fine:
    /// the longer prefix wins).
    pub fn new(networks: Vec<Network>) -> Result<NetworkMap, Overlap> {
        let mut v4: Vec<(u8, HashMap<u32, NetworkId>)> = Vec::new();
        let mut v6: Vec<(u8, HashMap<u128, NetworkId>)> = Vec::new();
        for (id, network) in networks.iter().enumerate() {
            let id = NetworkId::try_from(id).unwrap_or(NetworkId::MAX);
            for net in &network.nets {
                let previous = match net.addr() {
                    IpAddr::V4(a) => {
                        let table = table_for(&mut v4, net.prefix());
                        table.insert(mask_v4(u32::from(a), net.prefix()), id)
                    }
                    IpAddr::V6(a) => {
                        let table = table_for(&mut v6, net.prefix());
                        table.insert(mask_v6(u128::from(a), net.prefix()), id)
                    }
                };
                if let Some(prev) = previous.filter(|p| *p != id) {
                    let first = networks.get(usize::from(prev)).map_or(String::new(), |n| n.name.clone());
                    return Err(Overlap { net: net.to_string(), first, second: network.name.clone() });
                }
            }
        }
        v4.sort_by_key(|t| std::cmp::Reverse(t.0));
        v6.sort_by_key(|t| std::cmp::Reverse(t.0));
        Ok(NetworkMap { networks, v4, v6 })
    }

    /// The most specific network holding `ip`.
    pub fn lookup(&self, ip: IpAddr) -> Option<NetworkId> {
        match ip {
            IpAddr::V4(a) => {
                let a = u32::from(a);
                self.v4.iter().find_map(|(p, t)| t.get(&mask_v4(a, *p)).copied())
            }
            IpAddr::V6(a) => {
                let a = u128::from(a);
                self.v6.iter().find_map(|(p, t)| t.get(&mask_v6(a, *p)).copied())
            }
        }
    }

    /// The networks, indexed by [`NetworkId`].
    pub fn networks(&self) -> &[Network] {
        &self.networks
    }

    /// True when no network is defined.
    pub fn is_empty(&self) -> bool {
        self.networks.is_empty()
    }

    /// The network's name.
    pub fn name(&self, id: NetworkId) -> &str {
        self.networks.get(usize::from(id)).map_or("?", |n| n.name.as_str())
    }
}

fn table_for<K>(tables: &mut Vec<(u8, HashMap<K, NetworkId>)>, prefix: u8) -> &mut HashMap<K, NetworkId> {
    let index = match tables.iter().position(|(p, _)| *p == prefix) {
        Some(i) => i,
        None => {
            tables.push((prefix, HashMap::new()));
            tables.len() - 1
        }
    };
    // The index was just found or pushed.
    #[allow(clippy::indexing_slicing)]
    &mut tables[index].1
}

#[cfg(test)]
mod tests {
    use super::*;

    fn net(s: &str) -> Net {
        let (a, p) = s.split_once('/').unwrap();
        Net::new(a.parse().unwrap(), p.parse().unwrap())
    }

    fn map() -> NetworkMap {
        NetworkMap::new(vec![
            Network { name: "corp".into(), nets: vec![net("10.0.0.0/8"), net("2001:db8::/32")] },
            Network { name: "lab".into(), nets: vec![net("10.20.0.0/16")] },
            Network { name: "rack".into(), nets: vec![net("10.20.3.0/24"), net("2001:db8:1::/48")] },
        ])
        .unwrap()
    }

    #[test]
    fn longest_prefix_wins() {
        let m = map();
        let at = |s: &str| m.lookup(s.parse().unwrap()).map(|id| m.name(id).to_string());
        assert_eq!(at("10.1.2.3").as_deref(), Some("corp"));
        assert_eq!(at("10.20.9.9").as_deref(), Some("lab"));
        assert_eq!(at("10.20.3.7").as_deref(), Some("rack"));
        assert_eq!(at("192.168.1.1"), None);
        assert_eq!(at("2001:db8:1::5").as_deref(), Some("rack"));
        assert_eq!(at("2001:db8:2::5").as_deref(), Some("corp"));
    }

    #[test]
    fn the_same_cidr_twice_is_an_error() {
        let e = NetworkMap::new(vec![
            Network { name: "a".into(), nets: vec![net("10.0.0.0/8")] },
            Network { name: "b".into(), nets: vec![net("10.1.2.3/8")] },
        ])
        .unwrap_err();
        assert_eq!(e, Overlap { net: "10.0.0.0/8".into(), first: "a".into(), second: "b".into() });
    }
}
