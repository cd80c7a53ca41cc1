//! Rule headers compiled to address and port matchers.
//!
//! A header `alert udp $HOME_NET any -> !10.0.0.0/8 53` becomes a
//! [`HeaderMatch`]: four small set matchers and a direction. Lists follow
//! Suricata's meaning: `[a, b, !c]` matches what is in `a` or `b` and not in
//! `c`; a list of only negations matches everything else.

use std::fmt;
use std::net::IpAddr;

use crate::decode::Packet;

/// An IP network with host bits masked off.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash)]
pub struct Net {
    addr: IpAddr,
    prefix: u8,
}

impl Net {
    /// A network from an address and a prefix length (clamped to the family's width).
    pub fn new(addr: IpAddr, prefix: u8) -> Net {
        let prefix = prefix.min(if addr.is_ipv4() { 32 } else { 128 });
        let addr = match addr {
            IpAddr::V4(a) => IpAddr::V4(mask_v4(u32::from(a), prefix).into()),
            IpAddr::V6(a) => IpAddr::V6(mask_v6(u128::from(a), prefix).into()),
        };
        Net { addr, prefix }
    }

    /// True if `ip` lies inside this network (never across families).
    pub fn contains(&self, ip: IpAddr) -> bool {
        match (self.addr, ip) {
            (IpAddr::V4(n), IpAddr::V4(a)) => mask_v4(u32::from(a), self.prefix) == u32::from(n),
            (IpAddr::V6(n), IpAddr::V6(a)) => mask_v6(u128::from(a), self.prefix) == u128::from(n),
            _ => false,
        }
    }

    /// The network address (host bits masked off).
    pub fn addr(&self) -> IpAddr {
        self.addr
    }

    /// The prefix length.
    pub fn prefix(&self) -> u8 {
        self.prefix
    }
}

impl fmt::Display for Net {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        let full = if self.addr.is_ipv4() { 32 } else { 128 };
        if self.prefix == full {
            write!(f, "{}", self.addr)
        } else {
            write!(f, "{}/{}", self.addr, self.prefix)
        }
    }
}

/// `a` with all but the first `prefix` bits cleared.
pub(crate) fn mask_v4(a: u32, prefix: u8) -> u32 {
    if prefix == 0 {
        0
    } else {
        a & (u32::MAX << (32 - u32::from(prefix)))
    }
}

/// `a` with all but the first `prefix` bits cleared.
pub(crate) fn mask_v6(a: u128, prefix: u8) -> u128 {
    if prefix == 0 {
        0
    } else {
        a & (u128::MAX << (128 - u32::from(prefix)))
    }
}

/// A compiled set of values (addresses or ports) from a rule header.
#[derive(Clone, Debug, PartialEq)]
pub enum SetMatch<T> {
    /// `any`
    Any,
    /// One network or port range.
    One(T),
    /// `[...]`: in some positive element (or no positive elements) and in no negative one.
    List {
        /// Elements written without `!`.
        include: Vec<SetMatch<T>>,
        /// Elements written with `!`.
        exclude: Vec<SetMatch<T>>,
    },
    /// `!x` outside a list.
    Not(Box<SetMatch<T>>),
}

/// Something a [`SetMatch`] can hold.
pub trait Element<V: Copy> {
    /// True if `v` is in the element.
    fn holds(&self, v: V) -> bool;
}

impl Element<IpAddr> for Net {
    fn holds(&self, v: IpAddr) -> bool {
        self.contains(v)
    }
}

/// An inclusive port range.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct PortRange {
    /// Lowest port.
    pub lo: u16,
    /// Highest port.
    pub hi: u16,
}

impl Element<u16> for PortRange {
    fn holds(&self, v: u16) -> bool {
        self.lo <= v && v <= self.hi
    }
}

impl fmt::Display for PortRange {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        if self.lo == self.hi {
            write!(f, "{}", self.lo)
        } else {
            write!(f, "{}:{}", self.lo, self.hi)
        }
    }
}

impl<T> SetMatch<T> {
    /// True if `v` is in the set.
    pub fn matches<V: Copy>(&self, v: V) -> bool
    where
        T: Element<V>,
    {
        match self {
            SetMatch::Any => true,
            SetMatch::One(e) => e.holds(v),
            SetMatch::List { include, exclude } => {
                (include.is_empty() || include.iter().any(|m| m.matches(v))) && !exclude.iter().any(|m| m.matches(v))
            }
            SetMatch::Not(inner) => !inner.matches(v),
        }
    }

    /// True for `any`.
    pub fn is_any(&self) -> bool {
        matches!(self, SetMatch::Any)
    }

    /// The single port this set holds, if it is exactly one port (for the port index).
    pub fn single(&self) -> Option<&T> {
        match self {
            SetMatch::One(e) => Some(e),
            SetMatch::List { include, exclude } if include.len() == 1 && exclude.is_empty() => {
                include.first().and_then(|m| m.single())
            }
            _ => None,
        }
    }
}

impl<T: fmt::Display> fmt::Display for SetMatch<T> {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            SetMatch::Any => write!(f, "any"),
            SetMatch::One(e) => write!(f, "{e}"),
            SetMatch::List { include, exclude } => {
                write!(f, "[")?;
                let mut first = true;
                for (neg, m) in include.iter().map(|m| (false, m)).chain(exclude.iter().map(|m| (true, m))) {
                    if !first {
                        write!(f, ", ")?;
                    }
                    first = false;
                    write!(f, "{}{m}", if neg { "!" } else { "" })?;
                }
                write!(f, "]")
            }
            SetMatch::Not(inner) => write!(f, "!{inner}"),
        }
    }
}

/// A compiled rule header (protocol checks happen in the rule groups).
#[derive(Clone, Debug, PartialEq)]
pub struct HeaderMatch {
    /// Source addresses.
    pub src: SetMatch<Net>,
    /// Source ports.
    pub src_ports: SetMatch<PortRange>,
    /// Destination addresses.
    pub dst: SetMatch<Net>,
    /// Destination ports.
    pub dst_ports: SetMatch<PortRange>,
    /// `<>`: also match with source and destination swapped.
    pub both_directions: bool,
}

impl HeaderMatch {
    /// True if the header matches everything (nothing to check per packet).
    pub fn is_any(&self) -> bool {
        self.src.is_any() && self.dst.is_any() && self.src_ports.is_any() && self.dst_ports.is_any()
    }

    /// True if the packet's addresses and ports fit the header.
    ///
    /// Packets without addresses (ARP) match only `any` address sets; packets
    /// without ports (ICMP) match only `any` port sets.
    pub fn matches(&self, pkt: &Packet<'_>) -> bool {
        let addrs = pkt.ip().map(|ip| (ip.src, ip.dst));
        let ports = pkt.ports();
        self.matches_one_way(addrs, ports)
            || (self.both_directions && self.matches_one_way(addrs.map(|(s, d)| (d, s)), ports.map(|(s, d)| (d, s))))
    }

    fn matches_one_way(&self, addrs: Option<(IpAddr, IpAddr)>, ports: Option<(u16, u16)>) -> bool {
        let addr_ok = match addrs {
            Some((s, d)) => self.src.matches(s) && self.dst.matches(d),
            None => self.src.is_any() && self.dst.is_any(),
        };
        let port_ok = match ports {
            Some((s, d)) => self.src_ports.matches(s) && self.dst_ports.matches(d),
            None => self.src_ports.is_any() && self.dst_ports.is_any(),
        };
        addr_ok && port_ok
    }
}

impl fmt::Display for HeaderMatch {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        let dir = if self.both_directions { "<>" } else { "->" };
        write!(f, "{} {} {dir} {} {}", self.src, self.src_ports, self.dst, self.dst_ports)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn ip(s: &str) -> IpAddr {
        s.parse().unwrap()
    }

    #[test]
    fn nets_mask_and_contain() {
        let n = Net::new(ip("10.1.2.3"), 8);
        assert_eq!(n.to_string(), "10.0.0.0/8");
        assert!(n.contains(ip("10.200.0.1")));
        assert!(!n.contains(ip("11.0.0.1")));
        assert!(!n.contains(ip("::1")));
        let v6 = Net::new(ip("2001:db8::1"), 32);
        assert!(v6.contains(ip("2001:db8:ffff::")));
        assert!(Net::new(ip("0.0.0.0"), 0).contains(ip("255.255.255.255")));
    }

    #[test]
    fn lists_follow_suricata() {
        let set = SetMatch::List {
            include: vec![SetMatch::One(Net::new(ip("10.0.0.0"), 8))],
            exclude: vec![SetMatch::One(Net::new(ip("10.9.0.0"), 16))],
        };
        assert!(set.matches(ip("10.1.0.1")));
        assert!(!set.matches(ip("10.9.0.1")));
        assert!(!set.matches(ip("192.168.0.1")));
        let only_neg: SetMatch<PortRange> =
            SetMatch::List { include: vec![], exclude: vec![SetMatch::One(PortRange { lo: 53, hi: 53 })] };
        assert!(only_neg.matches(80u16));
        assert!(!only_neg.matches(53u16));
    }
}
