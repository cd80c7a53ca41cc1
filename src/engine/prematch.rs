//! Matching ahead of the engine's state, so it can run on other threads.
//!
//! Most of a packet's matching needs nothing but the packet: the rule index,
//! the headers, the conditions and the costly features they read. Only a few
//! fields come from the engine's state, in packet order (a packet's place in
//! its flow, the echo correlation fields). [`prematch`] does the first part
//! for one packet with a shared, read-only [`RuleSet`]; the engine finishes
//! the packet in order with [`crate::engine::Engine::process_prematched`],
//! evaluating only the rules left open and deciding every stateful clause.
//! The alerts are exactly those of [`crate::engine::Engine::process`].

use crate::decode::features::Features;
use crate::decode::Packet;

use super::ruleset::{CompiledRule, RuleSet};

/// Which rules one matching of a packet tries. A TCP segment to or from
/// port 53 is matched twice over: the segment by the rules that read no DNS
/// field, and each DNS message the engine's stream reassembler
/// ([`crate::engine::dns_tcp`]) takes out of it by the rules that read one,
/// so every message is seen once, whole, and the segment once.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Scope {
    /// Every rule: any other packet.
    All,
    /// A segment of a DNS-over-TCP stream: rules that read no DNS field.
    Segment,
    /// One DNS message out of a TCP stream: rules that read a DNS field.
    Message,
}

impl Scope {
    /// The scope of a captured packet (or a rebuilt datagram).
    pub fn of(pkt: &Packet<'_>) -> Scope {
        if pkt.is_dns_stream_segment() {
            Scope::Segment
        } else {
            Scope::All
        }
    }

    /// True if `rule` is matched in this scope.
    pub fn admits(self, rule: &CompiledRule) -> bool {
        match self {
            Scope::All => true,
            Scope::Segment => !rule.reads_dns,
            Scope::Message => rule.reads_dns,
        }
    }
}

/// Marks an entry of a pre-matched list as matched already; entries without
/// it are candidates whose condition reads engine state, left for the engine.
pub const MATCHED: u32 = 1 << 31;

/// What [`prematch`] left in its output list for one packet: `pass` entries
/// (pass rules), then `alert` entries (alert rules), each a rule index in
/// load order, or'ed with [`MATCHED`] when its condition already held.
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq)]
pub struct Prematched {
    /// Where the packet's entries start in the list.
    pub start: u32,
    /// Pass rule entries.
    pub pass: u32,
    /// Alert rule entries (after the pass entries).
    pub alert: u32,
}

impl Prematched {
    /// The pass entries and the alert entries of this packet in `list`.
    pub fn split<'l>(&self, list: &'l [u32]) -> (&'l [u32], &'l [u32]) {
        let start = self.start as usize;
        let pass_end = start + self.pass as usize;
        let end = pass_end + self.alert as usize;
        (list.get(start..pass_end).unwrap_or(&[]), list.get(pass_end..end).unwrap_or(&[]))
    }
}

/// Matches what can be matched of one packet without the engine's state,
/// appending its entries to `out` (`candidates` is scratch space). Rules whose
/// condition fails are left out; rules whose condition reads engine state
/// stay as candidates. Allocates only when `out` or `candidates` grow.
pub fn prematch(
    rules: &RuleSet,
    f: &mut Features<'_, '_>,
    candidates: &mut Vec<u32>,
    out: &mut Vec<u32>,
) -> Prematched {
    if rules.is_network_scoped() {
        if let Some(ip) = f.packet().ip() {
            let map = rules.networks();
            f.set_networks(map.lookup(ip.src), map.lookup(ip.dst));
        }
    }
    let start = out.len();
    let scope = Scope::of(f.packet());
    // Pass rules: up to the first that surely matches (later ones cannot
    // matter). Unless an entry before it reads state, the packet surely
    // passes and its alert rules are not tried, as the engine never tries them.
    rules.candidates(f, true, candidates);
    let settled = settle(rules, f, scope, candidates, out, true) && out.len() == start + 1;
    let pass = out.len() - start;
    if !settled {
        rules.candidates(f, false, candidates);
        settle(rules, f, scope, candidates, out, false);
    }
    let alert = out.len() - start - pass;
    Prematched { start: start as u32, pass: pass as u32, alert: alert as u32 }
}

/// True if the engine's state sets none of `pkt`'s fields but its place in
/// its flow: the packet is neither an IP fragment nor ICMP. Reassembly marks
/// only fragments (and the datagrams it rebuilds, never matched ahead), echo
/// memory only ICMP, DNS-over-TCP reassembly only the messages it takes out
/// of a stream (never matched ahead either); on any other packet those
/// fields keep here the values the engine leaves them at. So a rule reading
/// them (`ip.frag.overlap`, `icmp.reply_mismatch`, ...) is settled ahead on
/// such a packet, and one that cannot match it (most, on TCP and UDP) no
/// longer sends every packet to the thread that keeps the state.
fn engine_state_known(pkt: &Packet<'_>) -> bool {
    pkt.fragment.is_none() && pkt.icmp().is_none()
}

/// Appends the entries of `candidates`: matched ones and open ones, up to
/// the first match if `first_only`, of the rules `scope` admits. True if one matched.
fn settle(
    rules: &RuleSet,
    f: &mut Features<'_, '_>,
    scope: Scope,
    candidates: &[u32],
    out: &mut Vec<u32>,
    first_only: bool,
) -> bool {
    let mut any = false;
    let known = engine_state_known(f.packet());
    for &i in candidates {
        let Some(rule) = rules.rule(i).filter(|r| scope.admits(r)) else { continue };
        if rule.reads_engine_state && (rule.reads_flow_state || !known) {
            out.push(i);
        } else if rule.matches(f) {
            out.push(i | MATCHED);
            any = true;
            if first_only {
                break;
            }
        }
    }
    any
}

#[cfg(test)]
mod tests {
    use super::*;
    use ferret_synth::frame;
    use std::net::Ipv4Addr;

    fn rules(conditions: &[&str]) -> RuleSet {
        let text: String = conditions
            .iter()
            .enumerate()
            .map(|(i, c)| format!("alert ip any any -> any any {{ id {}  when {c} }}\n", i + 1))
            .collect();
        crate::load::compile_texts(vec![("t.rules".into(), text)], &[]).unwrap()
    }

    /// The entries prematch leaves for `frame`: (rule id, matched already).
    fn entries(set: &RuleSet, frame: &[u8]) -> Vec<(u64, bool)> {
        let pkt = Packet::decode(1, frame, 1, 1, frame.len() as u32);
        let mut f = Features::new(&pkt);
        let (mut candidates, mut out) = (Vec::new(), Vec::new());
        let pre = prematch(set, &mut f, &mut candidates, &mut out);
        let (pass, alert) = pre.split(&out);
        pass.iter().chain(alert).map(|&e| (set.rule(e & !MATCHED).unwrap().sid, e & MATCHED != 0)).collect()
    }

    const ENGINE_FIELDS: [&str; 4] = ["ip.frag.overlap", "icmp.reply_mismatch", "not ip.reassembled", "flow.to_server"];

    #[test]
    fn fields_the_engine_sets_are_settled_ahead_on_plain_packets() {
        let set = rules(&ENGINE_FIELDS);
        let (a, b) = (Ipv4Addr::new(10, 0, 0, 1), Ipv4Addr::new(10, 0, 0, 2));
        // TCP and UDP: reassembly and echo memory set nothing; the fields
        // hold their defaults, so their rules are settled here. Only the
        // flow's rule waits for the flow table.
        for frame in [frame::tcp(a, b, 40000, 443, 0x10, 1, b"data"), frame::udp(a, b, 5000, 53, b"q")] {
            assert_eq!(entries(&set, &frame), vec![(3, true), (4, false)]);
        }
    }

    #[test]
    fn fields_the_engine_sets_wait_for_it_on_icmp_and_fragments() {
        let set = rules(&ENGINE_FIELDS);
        let (a, b) = (Ipv4Addr::new(10, 0, 0, 1), Ipv4Addr::new(10, 0, 0, 2));
        let open = vec![(1, false), (2, false), (3, false), (4, false)];
        assert_eq!(entries(&set, &frame::icmp_echo(a, b, true, 1, 1, b"ping")), open, "echo memory");
        let whole = frame::udp(a, b, 5000, 9, &[7; 64]);
        let first = frame::fragments(&whole, 48, 9).remove(0);
        // (A UDP fragment is no candidate for the ICMP field's rule.)
        assert_eq!(entries(&set, &first), vec![(1, false), (3, false), (4, false)], "reassembly");
    }
}
