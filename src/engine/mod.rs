//! The engine: compiled rules plus state, applied to one decoded packet at a time.
//!
//! For each packet the engine asks the [`RuleSet`] for the candidate rules
//! (by protocol, then the [`index`]), evaluates pass rules first (any match suppresses
//! the packet's alerts), then alert rules in load order; a matching rule with
//! stateful clauses asks its state table whether to fire. Features are
//! computed lazily and shared by all rules of the packet. Nothing here
//! allocates unless an alert is raised or a state table meets a new key.

pub mod alert;
pub mod compile;
pub mod content;
pub mod defrag;
pub mod dns_tcp;
pub mod echo;
pub mod field;
pub mod flows;
pub mod header;
pub mod index;
mod keymap;
pub mod networks;
pub mod predicate;
pub mod prematch;
pub mod ruleset;
pub mod slots;
pub mod state;
pub mod stats;
pub mod suppress;
pub mod swap;
pub mod tables;
pub mod template;
pub mod window;

use std::sync::Arc;

use crate::decode::dns::DnsMessage;
use crate::decode::features::{FeatureCache, Features, FlowPosition, FragStatus};
use crate::decode::Packet;
use alert::Alert;
use ruleset::RuleSet;
use stats::Stats;
use tables::{Decision, StateTables, TableLimits};

/// Runs a rule set over packets.
pub struct Engine {
    rules: Arc<RuleSet>,
    tables: StateTables,
    /// Echo request memory, when a rule reads the echo correlation fields.
    echo: Option<echo::EchoTable>,
    stats: Stats,
    limits: TableLimits,
    /// Matching alert rules of the current packet (reused; never shrinks).
    matched: Vec<u32>,
    /// Candidate rules of the current packet from the rule index (reused; never shrinks).
    candidates: Vec<u32>,
    /// Flows: for EVE (`flow_id`, `flow{}`) when asked for, and for rules that
    /// read a packet's place in its flow or pass whole flows.
    flows: Option<flows::FlowTable>,
    /// Alerts carry their flow (EVE asked for it).
    flows_in_alerts: bool,
    /// Most alerts one packet may raise (Suricata's `packet-alert-max`); `None`: no limit.
    alert_max: Option<usize>,
    /// Bounds of IP reassembly.
    defrag_limits: defrag::DefragLimits,
    /// Bounds of DNS-over-TCP reassembly.
    dns_tcp_limits: dns_tcp::DnsTcpLimits,
    /// IP reassembly, created at the first fragment.
    defrag: Option<Box<defrag::Defrag>>,
    /// The packet last processed completed a datagram ([`Engine::completed_datagram`]).
    completed: bool,
    /// The packet last processed completed DNS messages that were matched
    /// ([`Engine::completed_dns_messages`]).
    messages_matched: bool,
    /// DNS-over-TCP stream reassembly, created at the first TCP segment on
    /// port 53 when some rule reads a DNS field.
    dns_tcp: Option<Box<dns_tcp::DnsTcp>>,
    /// Some rule reads a DNS field (so DNS over TCP is reassembled).
    dns_rules: bool,
}

impl Engine {
    /// An engine for `rules` with default state limits.
    pub fn new(rules: Arc<RuleSet>) -> Engine {
        Engine::with_limits(rules, TableLimits::default())
    }

    /// An engine for `rules` with the given state limits.
    pub fn with_limits(rules: Arc<RuleSet>, limits: TableLimits) -> Engine {
        let n = rules.rules().len();
        let stats = Stats {
            alerts_by_rule: vec![0; n],
            suppressed_by_rule: vec![0; n],
            limited_by_rule: vec![0; n],
            ..Stats::default()
        };
        let tables = StateTables::new(&rules, limits);
        let echo = rules.uses_echo().then(|| echo::EchoTable::new(limits));
        let flows = rules.uses_flows().then(|| flows::FlowTable::new(limits));
        let dns_rules = rules.uses_dns();
        Engine {
            rules,
            tables,
            echo,
            stats,
            limits,
            matched: Vec::with_capacity(64),
            candidates: Vec::with_capacity(64),
            flows,
            flows_in_alerts: false,
            alert_max: None,
            defrag_limits: defrag::DefragLimits::default(),
            dns_tcp_limits: dns_tcp::DnsTcpLimits::default(),
            defrag: None,
            completed: false,
            messages_matched: false,
            dns_tcp: None,
            dns_rules,
        }
    }

    /// Counts packets and bytes per flow from now on, so alerts carry their
    /// flow (EVE `flow_id` and `flow{}`). Bounded by the engine's state limits.
    pub fn track_flows(&mut self) {
        self.flows_in_alerts = true;
        if self.flows.is_none() {
            self.flows = Some(flows::FlowTable::new(self.limits));
        }
    }

    /// Keeps at most `max` alerts per packet, as Suricata's `packet-alert-max`
    /// (15 by default there): the most severe rules first, then load order;
    /// `noalert` rules take no place. `None` (the default) keeps every alert.
    pub fn set_packet_alert_max(&mut self, max: Option<usize>) {
        self.alert_max = max;
    }

    /// Bounds IP reassembly by `limits` (Suricata's `defrag` settings)
    /// instead of [`defrag::DefragLimits::default`]. Set it before the first
    /// packet: a reassembler already at work keeps the bounds it began with.
    /// Kept across [`Engine::replace_rules`].
    pub fn set_defrag_limits(&mut self, limits: defrag::DefragLimits) {
        self.defrag_limits = limits;
    }

    /// Bounds DNS-over-TCP reassembly by `limits` instead of
    /// [`dns_tcp::DnsTcpLimits::default`]. Set it before the first packet: a
    /// reassembler already at work keeps the bounds it began with. Kept
    /// across [`Engine::replace_rules`].
    pub fn set_dns_tcp_limits(&mut self, limits: dns_tcp::DnsTcpLimits) {
        self.dns_tcp_limits = limits;
    }

    /// The rule set in use.
    pub fn rules(&self) -> &Arc<RuleSet> {
        &self.rules
    }

    /// Puts `rules` in place of the rule set in use, between two packets.
    ///
    /// Every rule whose id, revision, header, condition and stateful clauses
    /// are unchanged keeps its state (counters, windows, distinct sets); the
    /// others start fresh. Echo memory is kept while some rule reads it.
    /// Alert counts follow their rule ids; counts of rules no longer loaded
    /// stay in [`Stats::alerts_unloaded`].
    pub fn replace_rules(&mut self, rules: Arc<RuleSet>) -> swap::Swapped {
        let keep = swap::unchanged(&self.rules, &rules);
        let tables = std::mem::take(&mut self.tables);
        let (tables, kept) = tables.carry_over(&rules, self.limits, &keep);
        self.tables = tables;
        if !rules.uses_echo() {
            self.echo = None;
        } else if self.echo.is_none() {
            self.echo = Some(echo::EchoTable::new(self.limits));
        }
        if rules.uses_flows() && self.flows.is_none() {
            self.flows = Some(flows::FlowTable::new(self.limits));
        }
        self.stats.rekey_alerts(&self.rules, &rules);
        self.dns_rules = rules.uses_dns();
        let stateful = rules.rules().iter().filter(|r| r.state.is_stateful()).count();
        let unchanged = keep.iter().filter(|k| k.is_some()).count();
        let swapped = swap::Swapped {
            rules: rules.rules().len(),
            unchanged,
            stateful,
            state_kept: kept,
            removed: self.rules.rules().len().saturating_sub(unchanged),
        };
        self.rules = rules;
        swapped
    }

    /// A hint that the packet in `frame` (captured on `link_type`) comes
    /// next: starts loading what processing it will need (its flow's place
    /// in the flow table), so that it is in cache by then. Changes nothing.
    pub fn preload(&self, link_type: u32, frame: &[u8]) {
        if let Some(flows) = &self.flows {
            flows.prefetch_frame(link_type, frame);
        }
    }

    /// Statistics so far.
    pub fn stats(&self) -> &Stats {
        &self.stats
    }

    /// Counters of every state table (stateful clauses and echo memory).
    pub fn table_stats(&self) -> Vec<tables::TableStats> {
        let mut out = self.tables.stats();
        out.extend(self.echo.as_ref().into_iter().flat_map(echo::EchoTable::stats));
        out
    }

    /// Matches one packet, calling `emit` for each alert in rule load order.
    ///
    /// An IP fragment is matched as it is (an IP packet without transport),
    /// then given to the reassembler; the fragment that completes a datagram
    /// is followed by the datagram itself, decoded as a raw IP packet with the
    /// fragment's number and timestamp and matched like any packet.
    ///
    /// A TCP segment to or from port 53 is matched by the rules that read no
    /// DNS field, then given to the DNS stream reassembler; each DNS message
    /// it completes follows, matched by the rules that read a DNS field (the
    /// segment's headers, the message as payload, the segment's number and
    /// timestamp), so each message is seen once, whole.
    pub fn process(&mut self, pkt: &Packet<'_>, emit: &mut impl FnMut(Alert)) {
        self.process_one(pkt, None, emit);
    }

    /// Finishes a packet [`prematch::prematch`] began with `rules`: `cache`
    /// (and `messages`) hold the features it computed on this very packet
    /// (see [`Features::detach`]), and `entries` the packet's entries of its
    /// list. The alerts are exactly those of [`Engine::process`]; if `rules`
    /// is no longer the rule set in use (a reload in between), the packet's
    /// rules are matched afresh.
    pub fn process_prematched(
        &mut self,
        pkt: &Packet<'_>,
        cache: FeatureCache,
        messages: &[DnsMessage<'static>],
        rules: &Arc<RuleSet>,
        entries: (&[u32], &[u32]),
        emit: &mut impl FnMut(Alert),
    ) {
        let entries = Arc::ptr_eq(rules, &self.rules).then_some(entries);
        self.process_one(pkt, Some(Prepared { cache, messages, entries }), emit);
    }

    /// The IP datagram the packet last processed completed, rebuilt from its
    /// fragments (a raw IP packet, [`LINKTYPE_RAW`]; matched with that
    /// packet's number and time), for what watches packets after the engine
    /// (a report's payload samples). `None` if it completed none.
    pub fn completed_datagram(&self) -> Option<&[u8]> {
        self.defrag.as_deref().filter(|_| self.completed).map(defrag::Defrag::last_datagram)
    }

    /// The DNS messages the packet last processed (`segment`, a TCP segment
    /// to or from port 53) completed in its stream and the engine matched,
    /// each as the packet it was matched as (the segment's headers, the
    /// message with its length prefix as payload), for what watches packets
    /// after the engine (a report's DNS sample). Empty if none.
    pub fn completed_dns_messages<'s>(&'s self, segment: &Packet<'s>) -> impl Iterator<Item = Packet<'s>> + 's {
        let segment = *segment;
        let streams = self.dns_tcp.as_deref().filter(|_| self.messages_matched);
        streams
            .into_iter()
            .flat_map(|s| s.last_messages().iter())
            .map(move |(m, _)| dns_tcp::message_packet(&segment, m))
    }

    /// Which tables keep something of every packet they apply to, whether a
    /// rule matches it or not (see [`Keeps::nothing_of`]).
    pub fn keeps(&self) -> Keeps {
        Keeps { flows: self.flows.is_some(), echo: self.echo.is_some(), dns_streams: self.dns_rules }
    }

    /// Adds packets counted on another thread (see [`Keeps::nothing_of`]):
    /// packets [`prematch::prematch`] found no candidate rule for, with the
    /// rule set in use, and of which the engine keeps nothing.
    pub fn add_counted(&mut self, counted: &Stats) {
        self.stats.add_counted(counted);
    }

    /// A captured packet: matched as it is, then, if it is an IP fragment,
    /// given to the reassembler, and the datagram it completes matched too.
    fn process_one(&mut self, pkt: &Packet<'_>, pre: Option<Prepared<'_>>, emit: &mut impl FnMut(Alert)) {
        self.stats.count_packet(pkt);
        self.completed = false;
        self.messages_matched = false;
        let Some(frag) = &pkt.fragment else {
            return self.inspect_with_messages(pkt, pre, FragStatus::default(), emit);
        };
        let limits = self.defrag_limits;
        let defrag = self.defrag.get_or_insert_with(|| Box::new(defrag::Defrag::new(limits)));
        let outcome = defrag.insert(pkt, frag, &mut self.stats.defrag);
        self.inspect(pkt, pre, frag_only(outcome.status), emit);
        let Some(status) = outcome.complete else { return };
        let Some(defrag) = self.defrag.as_mut() else { return };
        let datagram = defrag.take_datagram();
        let len = u32::try_from(datagram.len()).unwrap_or(u32::MAX);
        let whole = Packet::decode(LINKTYPE_RAW, &datagram, pkt.number, pkt.ts_nanos, len);
        self.inspect_with_messages(&whole, None, status, emit);
        if let Some(defrag) = self.defrag.as_mut() {
            defrag.restore(datagram);
            self.completed = true;
        }
    }

    /// Matches a captured packet or a rebuilt datagram; if it is a segment of
    /// a DNS-over-TCP stream, then each message it completed.
    fn inspect_with_messages(
        &mut self,
        pkt: &Packet<'_>,
        pre: Option<Prepared<'_>>,
        frag: FragStatus,
        emit: &mut impl FnMut(Alert),
    ) {
        let segment = self.inspect(pkt, pre, frag_only(frag), emit);
        if !self.dns_rules || !pkt.is_dns_stream_segment() {
            return;
        }
        let limits = self.dns_tcp_limits;
        let streams = self.dns_tcp.get_or_insert_with(|| Box::new(dns_tcp::DnsTcp::new(limits)));
        if streams.insert(pkt, &mut self.stats.dns_tcp) == 0 {
            return;
        }
        let messages = streams.take_messages();
        // A segment a pass rule passed is passed whole, its messages too.
        if !segment.passed {
            for (payload, split) in messages.iter() {
                let message = Some(StreamMessage { split, flow: segment.flow });
                self.inspect(&dns_tcp::message_packet(pkt, payload), None, Matching { frag, message }, emit);
            }
            self.messages_matched = true;
        }
        if let Some(streams) = self.dns_tcp.as_mut() {
            streams.restore(messages);
        }
    }

    /// Matches one decoded packet (a captured one, a rebuilt datagram, or
    /// a DNS message out of a TCP stream), with what a pre-match learned of
    /// it, if anything; says whether a pass rule passed it, and its flow.
    fn inspect(
        &mut self,
        pkt: &Packet<'_>,
        pre: Option<Prepared<'_>>,
        matching: Matching,
        emit: &mut impl FnMut(Alert),
    ) -> Inspected {
        let Matching { frag, message } = matching;
        let (scope, flow) = match message {
            Some(m) => (prematch::Scope::Message, m.flow),
            None => (prematch::Scope::of(pkt), self.flows.as_mut().and_then(|t| t.observe(pkt))),
        };
        // (Built in place: a tuple of the features and the entries cost a
        // copy of the features, about a tenth of a packet's instructions.)
        let mut f = match &pre {
            Some(p) => Features::attach(pkt, p.cache, p.messages),
            None => Features::new(pkt),
        };
        let pre = pre.and_then(|p| p.entries);
        f.set_frag(frag);
        if let Some(m) = message {
            f.set_dns_message(m.split);
        }
        if let Some(seen) = &flow {
            f.set_flow(FlowPosition {
                to_server: seen.to_server,
                established: seen.established,
                first: seen.first_in_direction,
            });
        }
        if let Some(echo) = &mut self.echo {
            echo.observe(&mut f);
        }
        if pre.is_none() && self.rules.is_network_scoped() {
            if let Some(ip) = pkt.ip() {
                let map = self.rules.networks();
                f.set_networks(map.lookup(ip.src), map.lookup(ip.dst));
            }
        }
        let Engine { rules, matched, candidates, stats, tables, flows, flows_in_alerts, alert_max, .. } = self;
        matched.clear();
        // Pass rules first (a flow a pass rule passed stays passed), then the
        // alert rules; the index gives candidates in load order. Pre-matched
        // entries are in load order too, matched already or left to decide here.
        let mut passed = flow.is_some_and(|info| info.passed);
        let mut pass_flow = false;
        let open = |entry: u32| entry & !prematch::MATCHED;
        let holds = |entry: u32, f: &mut Features<'_, '_>| {
            entry & prematch::MATCHED != 0 || rules.rule(entry).is_some_and(|r| r.matches(f))
        };
        let admitted =
            |i: u32, f: &mut Features<'_, '_>| rules.rule(i).is_some_and(|r| scope.admits(r) && r.matches(f));
        if !passed {
            let found = match pre {
                Some((pass, _)) => pass.iter().find(|&&e| holds(e, &mut f)).map(|&e| open(e)),
                None => {
                    rules.candidates(&mut f, true, candidates);
                    candidates.iter().copied().find(|&i| admitted(i, &mut f))
                }
            };
            if let Some(rule) = found.and_then(|i| rules.rule(i)) {
                passed = true;
                pass_flow = rule.pass_flow;
            }
        }
        if !passed {
            match pre {
                Some((_, alert)) => matched.extend(alert.iter().filter(|&&e| holds(e, &mut f)).map(|&e| open(e))),
                None => {
                    rules.candidates(&mut f, false, candidates);
                    matched.extend(candidates.iter().copied().filter(|&i| admitted(i, &mut f)));
                }
            }
        }
        if let (true, Some(info), Some(table)) = (pass_flow, &flow, flows.as_mut()) {
            table.pass(info.key, pkt.ts_nanos);
        }
        let seen = Inspected { passed, flow };
        let flow = if *flows_in_alerts { flow } else { None };
        let flows = &*flows;
        if let Some(e) = f.dns_error() {
            stats.count_dns_error(e);
        }
        if passed {
            stats.passed += 1;
            return seen;
        }
        matched.sort_unstable();
        if let Some(max) = *alert_max {
            keep_most_severe(rules, matched, max);
        }
        // Each stateful rule's table lookup is likely a cache miss: start
        // them all before the first decision, so they overlap.
        tables.next_packet();
        for &index in matched.iter() {
            tables.prefetch(index, &mut f);
        }
        for &index in matched.iter() {
            let Some(rule) = rules.rule(index) else { continue };
            let report = match tables.decide(index, rule, &mut f) {
                Decision::Fire(report) => report,
                Decision::Hold => {
                    stats.suppressed += 1;
                    continue;
                }
                Decision::Limited => {
                    stats.suppressed += 1;
                    if let Some(c) = stats.limited_by_rule.get_mut(index as usize) {
                        *c += 1;
                    }
                    continue;
                }
                Decision::Suppress => {
                    if let Some(c) = stats.suppressed_by_rule.get_mut(index as usize) {
                        *c += 1;
                    }
                    continue;
                }
            };
            if rule.noalert {
                continue;
            }
            if let Some(mut alert) = Alert::build(rules, index, &mut f) {
                alert.state = report;
                alert.flow = flow.and_then(|seen| flows.as_ref()?.info(&seen, pkt));
                if let Some(c) = stats.alerts_by_rule.get_mut(index as usize) {
                    *c += 1;
                }
                emit(alert);
            }
        }
        seen
    }
}

/// Which of the engine's tables see every packet, matched or not: what a
/// worker thread needs to know to tell that a packet no rule can match needs
/// nothing of the engine but its counters.
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq)]
pub struct Keeps {
    flows: bool,
    echo: bool,
    dns_streams: bool,
}

impl Keeps {
    /// True if the engine keeps nothing of `pkt` when no rule can match it:
    /// not a fragment, no flow table, no echo memory for an ICMP packet, no
    /// DNS stream reassembly for a DNS-over-TCP segment. Such a packet only
    /// counts ([`Stats::count_packet`]).
    pub fn nothing_of(self, pkt: &Packet<'_>) -> bool {
        let kept = pkt.fragment.is_some()
            || self.flows
            || (self.echo && pkt.icmp().is_some())
            || (self.dns_streams && pkt.is_dns_stream_segment());
        !kept
    }
}

/// How one matching of a packet goes.
#[derive(Clone, Copy)]
struct Matching {
    /// What IP reassembly says of it.
    frag: FragStatus,
    /// It is a DNS message out of a TCP stream.
    message: Option<StreamMessage>,
}

/// Only IP reassembly's view: a captured packet or a rebuilt datagram.
fn frag_only(frag: FragStatus) -> Matching {
    Matching { frag, message: None }
}

/// A DNS message out of a TCP stream, matched after the segment that completed it.
#[derive(Clone, Copy)]
struct StreamMessage {
    /// Its bytes came in more than one segment.
    split: bool,
    /// The segment's flow (counted once, for the segment).
    flow: Option<flows::FlowSeen>,
}

/// What matching a packet found that its DNS messages follow.
#[derive(Clone, Copy)]
struct Inspected {
    /// A pass rule passed it.
    passed: bool,
    /// Its flow.
    flow: Option<flows::FlowSeen>,
}

/// What [`prematch::prematch`] learned of a packet on another thread.
struct Prepared<'m> {
    cache: FeatureCache,
    messages: &'m [DnsMessage<'static>],
    /// The pass and alert entries, if prepared with the rule set in use.
    entries: Option<(&'m [u32], &'m [u32])>,
}

/// The link type of a raw IPv4 or IPv6 packet: how a rebuilt datagram is decoded.
pub const LINKTYPE_RAW: u32 = 101;

/// Keeps in `matched` (rule indexes in load order) the `max` most severe rules
/// that alert, earliest first among equals, and every `noalert` rule; the
/// order stays load order. Allocates nothing.
fn keep_most_severe(rules: &ruleset::RuleSet, matched: &mut Vec<u32>, max: usize) {
    let alerting = |i: &u32| rules.rule(*i).is_some_and(|r| !r.noalert);
    if matched.iter().filter(|i| alerting(i)).count() <= max {
        return;
    }
    let severity = |i: u32| std::cmp::Reverse(rules.rule(i).map(|r| r.severity));
    matched.sort_by_key(|&i| (severity(i), i));
    let mut kept = 0;
    matched.retain(|i| {
        if !alerting(i) {
            return true;
        }
        kept += 1;
        kept <= max
    });
    matched.sort_unstable();
}

#[cfg(test)]
mod tests {
    use super::*;
    use defrag::DefragLimits;
    use dns_tcp::DnsTcpLimits;
    use ferret_synth::frame::{dns_query, dns_tcp as framed, flags, fragments, icmp_echo, tcp};
    use std::net::Ipv4Addr;

    const CLIENT: Ipv4Addr = Ipv4Addr::new(10, 0, 0, 1);
    const SERVER: Ipv4Addr = Ipv4Addr::new(10, 0, 0, 53);
    const RULES: &str = r#"
alert icmp any any -> any any { id 1 msg "echo" when payload.len > 0 }
alert dns any any -> any 53 { id 2 msg "query {dns.qname}" when not dns.is_response }
"#;

    fn rules() -> Arc<RuleSet> {
        Arc::new(crate::load::compile_texts(vec![("t.rules".into(), RULES.into())], &[]).expect("the rules compile"))
    }

    /// Feeds Ethernet frames one millisecond apart; returns the alerts raised.
    fn feed(engine: &mut Engine, frames: &[Vec<u8>]) -> usize {
        let mut alerts = 0;
        for (n, frame) in (1..).zip(frames) {
            let pkt = Packet::decode(1, frame, n, n as i64 * 1_000_000, frame.len() as u32);
            engine.process(&pkt, &mut |_| alerts += 1);
        }
        alerts
    }

    /// An echo request of 3,000 bytes, in three IPv4 fragments.
    fn three_fragments() -> Vec<Vec<u8>> {
        let frags = fragments(&icmp_echo(CLIENT, SERVER, false, 1, 1, &[0x5a; 3000]), 1500, 7);
        assert_eq!(frags.len(), 3);
        frags
    }

    /// A SYN, then one segment holding a query for a 60-character name.
    fn long_query() -> Vec<Vec<u8>> {
        let name = format!("{}.example", "a".repeat(51));
        let message = framed(&dns_query(9, &name, 1));
        vec![
            tcp(CLIENT, SERVER, 40000, 53, flags::SYN, 100, &[]),
            tcp(CLIENT, SERVER, 40000, 53, flags::ACK | flags::PSH, 101, &message),
        ]
    }

    #[test]
    fn configured_defrag_limits_bound_reassembly_across_a_reload() {
        let mut engine = Engine::new(rules());
        assert_eq!(feed(&mut engine, &three_fragments()), 1, "the rebuilt echo request");
        assert_eq!((engine.stats().defrag.reassembled, engine.stats().defrag.too_many_fragments), (1, 0));

        let mut engine = Engine::new(rules());
        engine.set_defrag_limits(DefragLimits { max_fragments: 2, ..DefragLimits::default() });
        engine.replace_rules(rules());
        assert_eq!(feed(&mut engine, &three_fragments()), 0, "given up at the third fragment");
        assert_eq!((engine.stats().defrag.reassembled, engine.stats().defrag.too_many_fragments), (0, 1));
    }

    #[test]
    fn configured_dns_tcp_limits_bound_reassembly_across_a_reload() {
        let mut engine = Engine::new(rules());
        assert_eq!(feed(&mut engine, &long_query()), 1, "the query");
        assert_eq!((engine.stats().dns_tcp.messages, engine.stats().dns_tcp.too_large), (1, 0));

        let mut engine = Engine::new(rules());
        engine.set_dns_tcp_limits(DnsTcpLimits { max_message: 40, ..DnsTcpLimits::default() });
        engine.replace_rules(rules());
        assert_eq!(feed(&mut engine, &long_query()), 0, "the query is skipped");
        assert_eq!((engine.stats().dns_tcp.messages, engine.stats().dns_tcp.too_large), (0, 1));
    }
}
