//! Rule management from outside the rule files: rules turned off (`disable`)
//! and alerts dropped (`suppress`), as suricata-update's `disable.conf` and
//! Suricata's `threshold.config` `suppress` do.
//!
//! The config and the command line hand the compiler a list of
//! [`Disable`]s and [`Suppress`]es. A disabled rule is left out of the
//! [`RuleSet`](crate::engine::ruleset::RuleSet) altogether; a suppression is
//! compiled into its rule ([`CompiledRule::suppress`](crate::engine::ruleset::CompiledRule::suppress)),
//! so the engine applies it without knowing where it came from, and a reload
//! that compiles the rules again rebuilds both.

use std::fmt;
use std::net::IpAddr;

use crate::decode::Packet;
use crate::engine::header::{Net, SetMatch};

/// A rule to leave out of the compiled set.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Disable {
    /// The rule's id.
    pub sid: u64,
    /// Where it was asked for, for warnings (`--disable 5`, `ferret.yaml:3:12: disable 5`).
    pub origin: String,
}

/// Alerts of one rule to drop.
#[derive(Clone, Debug, PartialEq)]
pub struct Suppress {
    /// The rule's id.
    pub sid: u64,
    /// Which alerts.
    pub suppression: Suppression,
    /// Where it was written, for warnings (`ferret.yaml:7:9: suppress 5`).
    pub origin: String,
}

/// Which address of an alert a suppression looks at (Suricata's `track`).
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Track {
    /// The source address.
    BySrc,
    /// The destination address.
    ByDst,
    /// Either address.
    ByEither,
}

impl Track {
    /// The name as written in the config.
    pub fn name(self) -> &'static str {
        match self {
            Track::BySrc => "by_src",
            Track::ByDst => "by_dst",
            Track::ByEither => "by_either",
        }
    }
}

/// The alerts of a rule one `suppress` entry drops.
#[derive(Clone, Debug, PartialEq)]
pub enum Suppression {
    /// Every alert of the rule.
    All,
    /// Alerts whose tracked address is in the set.
    Addrs(Track, SetMatch<Net>),
}

impl Suppression {
    /// True if an alert of the rule on `pkt` is dropped. A packet without IP
    /// addresses (ARP) is dropped only by [`Suppression::All`].
    pub fn applies(&self, pkt: &Packet<'_>) -> bool {
        match self {
            Suppression::All => true,
            Suppression::Addrs(track, set) => pkt.ip().is_some_and(|ip| holds(*track, set, ip.src, ip.dst)),
        }
    }
}

fn holds(track: Track, set: &SetMatch<Net>, src: IpAddr, dst: IpAddr) -> bool {
    match track {
        Track::BySrc => set.matches(src),
        Track::ByDst => set.matches(dst),
        Track::ByEither => set.matches(src) || set.matches(dst),
    }
}

/// An address set from `(negated, network)` entries as a config lists them:
/// one entry is that network (or everything else, negated); several follow
/// the header's list meaning (in some positive entry, in no negated one).
pub fn addr_set(entries: &[(bool, Net)]) -> SetMatch<Net> {
    match entries {
        [(false, net)] => SetMatch::One(*net),
        [(true, net)] => SetMatch::Not(Box::new(SetMatch::One(*net))),
        _ => {
            let pick = |negated: bool| {
                entries.iter().filter(|(n, _)| *n == negated).map(|(_, net)| SetMatch::One(*net)).collect()
            };
            SetMatch::List { include: pick(false), exclude: pick(true) }
        }
    }
}

impl fmt::Display for Suppression {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            Suppression::All => write!(f, "every alert"),
            Suppression::Addrs(track, set) => write!(f, "{} {set}", track.name()),
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn net(s: &str) -> Net {
        let (a, p) = s.split_once('/').unwrap_or((s, "128"));
        Net::new(a.parse().unwrap(), p.parse().unwrap())
    }

    fn ip(s: &str) -> IpAddr {
        s.parse().unwrap()
    }

    #[test]
    fn tracks_pick_the_address() {
        let set = addr_set(&[(false, net("10.0.5.0/24"))]);
        let (inside, outside) = (ip("10.0.5.20"), ip("192.0.2.1"));
        assert!(holds(Track::BySrc, &set, inside, outside));
        assert!(!holds(Track::BySrc, &set, outside, inside));
        assert!(holds(Track::ByDst, &set, outside, inside));
        assert!(!holds(Track::ByDst, &set, inside, outside));
        assert!(holds(Track::ByEither, &set, outside, inside));
        assert!(holds(Track::ByEither, &set, inside, outside));
        assert!(!holds(Track::ByEither, &set, outside, outside));
    }

    #[test]
    fn address_lists_follow_the_header_meaning() {
        let set = addr_set(&[(false, net("10.0.0.0/8")), (true, net("10.9.0.0/16"))]);
        assert!(set.matches(ip("10.1.2.3")));
        assert!(!set.matches(ip("10.9.2.3")));
        assert!(!set.matches(ip("192.0.2.1")));
        let not = addr_set(&[(true, net("10.0.0.0/8"))]);
        assert!(not.matches(ip("192.0.2.1")));
        assert!(!not.matches(ip("10.0.0.1")));
        assert_eq!(Suppression::Addrs(Track::BySrc, set).to_string(), "by_src [10.0.0.0/8, !10.9.0.0/16]");
        assert_eq!(Suppression::All.to_string(), "every alert");
    }
}
