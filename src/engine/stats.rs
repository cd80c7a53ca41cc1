//! Run statistics: packets, bytes, time span, protocols, decode errors, alerts.
//!
//! Counting is a handful of integer increments per packet; the summary printed
//! at the end of a scan and the stats file beside EVE output both come from here.

use crate::decode::dns::DnsError;
use crate::decode::{DecodeError, Network, Packet, Transport};

/// Packets seen per protocol (a packet counts once at each layer it has).
#[derive(Clone, Debug, Default, PartialEq, Eq, serde::Serialize)]
pub struct ProtoCounts {
    /// Ethernet frames.
    pub ethernet: u64,
    /// Frames with a VLAN tag.
    pub vlan: u64,
    /// ARP.
    pub arp: u64,
    /// IPv4.
    pub ipv4: u64,
    /// IPv6.
    pub ipv6: u64,
    /// TCP.
    pub tcp: u64,
    /// UDP.
    pub udp: u64,
    /// ICMPv4.
    pub icmp: u64,
    /// ICMPv6.
    pub icmpv6: u64,
    /// TCP or UDP with port 53 on either side.
    pub dns: u64,
    /// Nothing of the above at the network layer.
    pub other: u64,
}

impl ProtoCounts {
    fn add(&mut self, o: &ProtoCounts) {
        let ProtoCounts { ethernet, vlan, arp, ipv4, ipv6, tcp, udp, icmp, icmpv6, dns, other } = self;
        *ethernet += o.ethernet;
        *vlan += o.vlan;
        *arp += o.arp;
        *ipv4 += o.ipv4;
        *ipv6 += o.ipv6;
        *tcp += o.tcp;
        *udp += o.udp;
        *icmp += o.icmp;
        *icmpv6 += o.icmpv6;
        *dns += o.dns;
        *other += o.other;
    }
}

/// `pick` of the two when both are there, else the one that is.
fn min_some(a: Option<i64>, b: Option<i64>, pick: fn(i64, i64) -> i64) -> Option<i64> {
    match (a, b) {
        (Some(a), Some(b)) => Some(pick(a, b)),
        (a, b) => a.or(b),
    }
}

/// Counters for one run (one or several capture files).
#[derive(Clone, Debug, Default)]
pub struct Stats {
    /// Packets read.
    pub packets: u64,
    /// Bytes on the wire.
    pub bytes: u64,
    /// Earliest packet timestamp (ns).
    pub first_ts: Option<i64>,
    /// Latest packet timestamp (ns).
    pub last_ts: Option<i64>,
    /// Per-protocol counts.
    pub protocols: ProtoCounts,
    /// Decode errors, indexed by [`DecodeError::index`].
    pub decode_errors: [u64; DecodeError::ALL.len()],
    /// DNS decoding errors by kind (only counted where a rule needed DNS).
    pub dns_errors: Vec<(DnsError, u64)>,
    /// Alerts raised per rule index.
    pub alerts_by_rule: Vec<u64>,
    /// Alerts of rules a reload has since removed.
    pub alerts_unloaded: u64,
    /// IP reassembly: fragments, datagrams rebuilt and given up.
    pub defrag: super::defrag::DefragStats,
    /// DNS-over-TCP reassembly: segments, messages, gaps and what was given up.
    pub dns_tcp: super::dns_tcp::DnsTcpStats,
    /// Packets whose alerts a pass rule suppressed.
    pub passed: u64,
    /// Matches a stateful clause held back (below threshold, over limit).
    pub suppressed: u64,
    /// Alerts the config's `suppress` entries dropped, per rule index.
    pub suppressed_by_rule: Vec<u64>,
    /// Matches that would have fired but a `limit` held back, per rule index.
    pub limited_by_rule: Vec<u64>,
    /// Packets a snap length cut short (captured less than on the wire).
    pub snapped: u64,
    /// The most a cut packet kept: the capture's snap length, as far as seen.
    pub snap_len: u32,
}

impl Stats {
    /// Alerts raised in all, by every rule loaded now or before.
    pub fn alerts(&self) -> u64 {
        self.alerts_by_rule.iter().sum::<u64>() + self.alerts_unloaded
    }

    /// Moves the per-rule alert counts from the indices of `old` to those of
    /// `new` (by rule id); counts of ids `new` lacks go to `alerts_unloaded`.
    pub fn rekey_alerts(&mut self, old: &crate::engine::ruleset::RuleSet, new: &crate::engine::ruleset::RuleSet) {
        let mut by_sid: std::collections::HashMap<u64, u64> =
            old.rules().iter().zip(&self.alerts_by_rule).map(|(r, c)| (r.sid, *c)).collect();
        self.alerts_by_rule = new.rules().iter().map(|r| by_sid.remove(&r.sid).unwrap_or(0)).collect();
        self.alerts_unloaded += by_sid.values().sum::<u64>();
        let mut suppressed: std::collections::HashMap<u64, u64> =
            old.rules().iter().zip(&self.suppressed_by_rule).map(|(r, c)| (r.sid, *c)).collect();
        self.suppressed_by_rule = new.rules().iter().map(|r| suppressed.remove(&r.sid).unwrap_or(0)).collect();
        let mut limited: std::collections::HashMap<u64, u64> =
            old.rules().iter().zip(&self.limited_by_rule).map(|(r, c)| (r.sid, *c)).collect();
        self.limited_by_rule = new.rules().iter().map(|r| limited.remove(&r.sid).unwrap_or(0)).collect();
    }

    /// Adds the packet counters of `other`, packets counted apart from this
    /// run's (on another thread): packets, bytes, time span, protocols,
    /// decode and DNS errors, snapped packets. Alert counters are not touched.
    pub fn add_counted(&mut self, other: &Stats) {
        self.packets += other.packets;
        self.bytes += other.bytes;
        self.first_ts = min_some(self.first_ts, other.first_ts, i64::min);
        self.last_ts = min_some(self.last_ts, other.last_ts, i64::max);
        self.protocols.add(&other.protocols);
        for (mine, theirs) in self.decode_errors.iter_mut().zip(other.decode_errors) {
            *mine += theirs;
        }
        for &(e, n) in &other.dns_errors {
            match self.dns_errors.iter_mut().find(|(k, _)| *k == e) {
                Some((_, c)) => *c += n,
                None => self.dns_errors.push((e, n)),
            }
        }
        self.snapped += other.snapped;
        self.snap_len = self.snap_len.max(other.snap_len);
    }

    /// Zeroes every counter, keeping the DNS error list's buffer: for a
    /// `Stats` that counts packets apart, reused (see [`Stats::add_counted`]).
    pub fn clear_counted(&mut self) {
        let dns_errors = std::mem::take(&mut self.dns_errors);
        *self = Stats { dns_errors, ..Stats::default() };
        self.dns_errors.clear();
    }

    /// Counts one decoded packet.
    pub fn count_packet(&mut self, pkt: &Packet<'_>) {
        self.packets += 1;
        self.bytes += u64::from(pkt.wire_len);
        self.first_ts = Some(self.first_ts.map_or(pkt.ts_nanos, |t| t.min(pkt.ts_nanos)));
        self.last_ts = Some(self.last_ts.map_or(pkt.ts_nanos, |t| t.max(pkt.ts_nanos)));
        let p = &mut self.protocols;
        p.ethernet += u64::from(pkt.link_type == 1);
        p.vlan += u64::from(pkt.vlan);
        match pkt.network {
            Network::Arp { .. } => p.arp += 1,
            Network::Ip(ip) if ip.version == 4 => p.ipv4 += 1,
            Network::Ip(_) => p.ipv6 += 1,
            Network::None => p.other += 1,
        }
        match pkt.transport {
            Transport::Tcp { .. } => p.tcp += 1,
            Transport::Udp { .. } => p.udp += 1,
            Transport::Icmp(_) => p.icmp += 1,
            Transport::Icmp6(_) => p.icmpv6 += 1,
            Transport::None => {}
        }
        p.dns += u64::from(pkt.is_dns());
        if pkt.snapped() {
            self.snapped += 1;
            self.snap_len = self.snap_len.max(pkt.cap_len);
        }
        if let Some(e) = pkt.error {
            if let Some(c) = self.decode_errors.get_mut(e.index()) {
                *c += 1;
            }
        }
    }

    /// Counts a DNS decoding error.
    pub fn count_dns_error(&mut self, e: DnsError) {
        match self.dns_errors.iter_mut().find(|(k, _)| *k == e) {
            Some((_, c)) => *c += 1,
            None => self.dns_errors.push((e, 1)),
        }
    }

    /// Decode errors by name, nonzero only, plus DNS errors.
    pub fn errors_by_kind(&self) -> Vec<(&'static str, u64)> {
        let mut out: Vec<_> = DecodeError::ALL
            .iter()
            .zip(&self.decode_errors)
            .filter(|(_, &c)| c > 0)
            .map(|(k, &c)| (k.as_str(), c))
            .collect();
        out.extend(self.dns_errors.iter().map(|(k, c)| (k.as_str(), *c)));
        out.sort();
        out
    }

    /// Total matches held back by `limit` clauses.
    pub fn limited_matches(&self) -> u64 {
        self.limited_by_rule.iter().sum()
    }

    /// Total alerts dropped by `suppress` entries.
    pub fn suppressed_alerts(&self) -> u64 {
        self.suppressed_by_rule.iter().sum()
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use ferret_synth::scenario::{bench_mix, office};

    fn comparable(s: &Stats) -> String {
        let mut dns = s.dns_errors.clone();
        dns.sort_by_key(|(e, _)| format!("{e:?}"));
        format!(
            "{} {} {:?} {:?} {:?} {:?} {dns:?} {} {}",
            s.packets, s.bytes, s.first_ts, s.last_ts, s.protocols, s.decode_errors, s.snapped, s.snap_len
        )
    }

    #[test]
    fn packets_counted_apart_and_added_count_as_if_counted_here() {
        let frames: Vec<_> = bench_mix(3000, 5).chain(office(2000, 3).packets).collect();
        let (mut whole, mut here, mut apart) = (Stats::default(), Stats::default(), Stats::default());
        for (i, p) in frames.iter().enumerate() {
            let pkt = Packet::decode(p.link_type, &p.frame, i as u64 + 1, p.ts_nanos, p.frame.len() as u32);
            whole.count_packet(&pkt);
            // Every third packet is counted apart, in chunks that are added and cleared.
            let part = if i % 3 == 0 { &mut apart } else { &mut here };
            part.count_packet(&pkt);
            if i % 7 == 0 {
                whole.count_dns_error(DnsError::TooShort);
                part.count_dns_error(DnsError::TooShort);
            }
            if i % 500 == 499 {
                here.add_counted(&apart);
                apart.clear_counted();
                assert_eq!(comparable(&apart), comparable(&Stats::default()));
            }
        }
        here.add_counted(&apart);
        assert!(whole.protocols.dns > 0 && whole.protocols.icmp > 0 && !whole.dns_errors.is_empty());
        assert_eq!(comparable(&here), comparable(&whole));
    }
}
