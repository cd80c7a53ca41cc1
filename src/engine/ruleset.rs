//! A compiled rule set: the rules, and the groups that pick the candidates for a packet.
//!
//! Rules are grouped by protocol; inside a group, pass rules and alert rules
//! each have a [`RuleIndex`] that files every rule under one test it cannot
//! match without (an address prefix, a port, a numeric bound, a needle), so a
//! packet only meets the rules that can match it, however many are loaded. A `RuleSet` is immutable once built and
//! `Send + Sync`, so a new one can be swapped in atomically while packets flow.

use std::fmt::{self, Write};

use crate::decode::features::Features;
use crate::decode::{Network, Packet, Transport};
use crate::engine::field::{self, Layer};
use crate::engine::header::HeaderMatch;
use crate::engine::index::RuleIndex;
use crate::engine::networks::NetworkMap;
use crate::engine::predicate::{Field, Node};
use crate::engine::state::StateSpec;
use crate::engine::suppress::Suppression;
use crate::engine::template::Template;
use crate::rules::ast::{Action, Proto, Severity};

/// Where a rule was written.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct RuleSource {
    /// File path.
    pub path: String,
    /// 1-based line of the rule's action keyword.
    pub line: usize,
}

/// Which address of a packet picks its network.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Side {
    /// The source address.
    Src,
    /// The destination address.
    Dst,
}

/// A condition compiled once per network that gives its variables their own values.
#[derive(Debug)]
pub struct Scoped {
    /// The address that picks the network.
    pub side: Side,
    /// Per network id: the condition with that network's values (`None`: the default applies).
    pub by_network: Vec<Option<Node>>,
}

/// A variable a rule's condition uses, with its values (for `explain`).
#[derive(Clone, Debug, PartialEq)]
pub struct VarReport {
    /// The name, without `$`.
    pub name: String,
    /// The value outside every network that overrides it.
    pub default: String,
    /// `(network, value)` for networks with their own value.
    pub per_network: Vec<(String, String)>,
}

/// One rule, ready to match.
#[derive(Debug)]
pub struct CompiledRule {
    /// Generator id (`gid`, default 1), as Suricata numbers alerts `[gid:sid:rev]`.
    pub gid: u64,
    /// Signature id (`id`).
    pub sid: u64,
    /// Revision (`rev`, default 1).
    pub rev: u64,
    /// `alert` or `pass`.
    pub action: Action,
    /// `noalert`: matches and counts, raises no alert.
    pub noalert: bool,
    /// A pass rule that silences the rest of its flow (`applies flow`).
    pub pass_flow: bool,
    /// Protocol group.
    pub proto: Proto,
    /// Addresses, ports, direction.
    pub header: HeaderMatch,
    /// The condition, optimized.
    pub cond: Node,
    /// Alert message.
    pub msg: Template,
    /// Severity (default medium).
    pub severity: Severity,
    /// Class (threat type), default `unclassified`.
    pub class: String,
    /// Tags.
    pub tags: Vec<String>,
    /// References.
    pub references: Vec<String>,
    /// Recommendations, rendered like `msg`.
    pub recommends: Vec<Template>,
    /// Fields the rule reads, reported with each alert.
    pub measured: Vec<Field>,
    /// Stateful clauses.
    pub state: StateSpec,
    /// Where it was written.
    pub source: RuleSource,
    /// The condition reads a value the engine's state sets (a packet's place
    /// in its flow, the echo correlation fields): it can only be evaluated in
    /// packet order, not ahead on another thread (see [`crate::engine::prematch`]).
    pub reads_engine_state: bool,
    /// Among those values, a packet's place in its flow, which only the flow
    /// table knows, for every packet (the others it knows ahead for most
    /// packets: see [`crate::engine::prematch`]).
    pub reads_flow_state: bool,
    /// The condition reads a DNS field: on DNS over TCP it is matched
    /// against each message taken out of the stream, not the segments
    /// (see [`crate::engine::prematch::Scope`]).
    pub reads_dns: bool,
    /// Per-network conditions, when the condition uses network-scoped variables.
    pub scoped: Option<Scoped>,
    /// The variables the condition uses, with their values.
    pub variables: Vec<VarReport>,
    /// The config's `suppress` entries for this rule: an alert on a packet
    /// any of them applies to is dropped (the stateful clauses still count it).
    pub suppress: Vec<Suppression>,
}

/// A rule `disable` left out of the set (for `explain`).
#[derive(Clone, Debug, PartialEq)]
pub struct DisabledRule {
    /// Signature id.
    pub sid: u64,
    /// Revision.
    pub rev: u64,
    /// `alert` or `pass`.
    pub action: Action,
    /// Where it was written.
    pub source: RuleSource,
}

impl CompiledRule {
    /// True if a `suppress` entry drops this rule's alert on `pkt`.
    pub fn is_suppressed(&self, pkt: &Packet<'_>) -> bool {
        self.suppress.iter().any(|s| s.applies(pkt))
    }

    /// True if the rule's header and condition hold for the packet's features.
    pub fn matches(&self, f: &mut Features<'_, '_>) -> bool {
        self.header.matches(f.packet()) && self.condition_for(f).eval(f)
    }

    /// The condition that applies to this packet: its network's, or the default.
    fn condition_for(&self, f: &Features<'_, '_>) -> &Node {
        let scoped = self.scoped.as_ref().and_then(|s| {
            let id = f.network(s.side == Side::Dst)?;
            s.by_network.get(usize::from(id))?.as_ref()
        });
        scoped.unwrap_or(&self.cond)
    }
}

/// The groups a rule goes into. An `ip` rule whose condition cannot be true
/// without an ICMP field (`icmp.type in [...] and ...`) can only match ICMP or
/// ICMPv6 packets, and one that needs a DNS field only DNS packets, so it is
/// filed there and other packets never meet it. (A packet is ICMP or ICMPv6,
/// never both, so a rule filed under both is still evaluated once.)
fn effective_groups(rule: &CompiledRule) -> Vec<Proto> {
    if rule.proto != Proto::Ip {
        return vec![rule.proto];
    }
    let mut required = required_layers(&rule.cond);
    if let Some(s) = &rule.scoped {
        for node in s.by_network.iter().flatten() {
            let other = required_layers(node);
            required.retain(|l| other.contains(l));
        }
    }
    if required.contains(&Layer::Icmp) {
        vec![Proto::Icmp, Proto::Icmp6]
    } else if required.contains(&Layer::Dns) {
        vec![Proto::Dns]
    } else {
        vec![Proto::Ip]
    }
}

/// Layers a packet must have for the condition to be true (a test of an
/// absent field is false, so every field tested outside `not` and `or` counts).
fn required_layers(node: &Node) -> Vec<Layer> {
    match node {
        Node::Pred(p) => vec![field::info(p.field).layer],
        Node::And(children) => {
            let mut out: Vec<Layer> = children.iter().flat_map(required_layers).collect();
            out.dedup();
            out
        }
        Node::Or(children) => {
            let mut iter = children.iter().map(required_layers);
            let first = iter.next().unwrap_or_default();
            iter.fold(first, |mut acc, next| {
                acc.retain(|l| next.contains(l));
                acc
            })
        }
        Node::Not(_) | Node::Const(_) => Vec::new(),
    }
}

/// The rules that can match one protocol: in load order, and indexed.
#[derive(Debug, Default)]
struct Group {
    pass: Vec<u32>,
    alert: Vec<u32>,
    pass_index: RuleIndex,
    alert_index: RuleIndex,
}

const GROUPS: [Proto; 7] = [Proto::Ip, Proto::Icmp, Proto::Icmp6, Proto::Tcp, Proto::Udp, Proto::Dns, Proto::Arp];

fn group_index(p: Proto) -> usize {
    GROUPS.iter().position(|g| *g == p).unwrap_or(0)
}

/// The groups a packet belongs to: its network layer, its transport, DNS
/// (port 53, or the shape of DNS on another UDP port, checked only when
/// `dns_rules` says the DNS group has rules).
fn packet_groups(f: &mut Features<'_, '_>, dns_rules: bool) -> [Option<Proto>; 3] {
    let pkt = f.packet();
    let network = match pkt.network {
        Network::Ip(_) => Some(Proto::Ip),
        Network::Arp { .. } => Some(Proto::Arp),
        Network::None => None,
    };
    let transport = match pkt.transport {
        Transport::Icmp(_) => Some(Proto::Icmp),
        Transport::Icmp6(_) => Some(Proto::Icmp6),
        Transport::Tcp { .. } => Some(Proto::Tcp),
        Transport::Udp { .. } => Some(Proto::Udp),
        Transport::None => None,
    };
    let udp = matches!(pkt.transport, Transport::Udp { .. });
    let dns = pkt.is_dns() || (dns_rules && udp && f.is_dns());
    [network, transport, dns.then_some(Proto::Dns)]
}

/// The compiled rules and their groups.
#[derive(Debug, Default)]
pub struct RuleSet {
    rules: Vec<CompiledRule>,
    groups: [Group; 7],
    /// Some rule is a pass rule (most rule sets have none).
    has_pass: bool,
    networks: NetworkMap,
    scoped: bool,
    disabled: Vec<DisabledRule>,
    warnings: Vec<String>,
}

impl RuleSet {
    /// Builds the groups over `rules` (kept in load order), with no networks.
    pub fn new(rules: Vec<CompiledRule>) -> RuleSet {
        RuleSet::with_networks(rules, NetworkMap::default())
    }

    /// Builds the groups over `rules` with the config's networks.
    pub fn with_networks(rules: Vec<CompiledRule>, networks: NetworkMap) -> RuleSet {
        let mut groups: [Group; 7] = Default::default();
        for (i, rule) in rules.iter().enumerate() {
            for proto in effective_groups(rule) {
                let Some(group) = groups.get_mut(group_index(proto)) else { continue };
                let list = if rule.action == Action::Pass { &mut group.pass } else { &mut group.alert };
                list.push(i as u32);
            }
        }
        for group in &mut groups {
            let pick = |list: &[u32]| -> RuleIndex {
                RuleIndex::new(list.iter().filter_map(|&i| rules.get(i as usize).map(|r| (i, r))))
            };
            group.pass_index = pick(&group.pass);
            group.alert_index = pick(&group.alert);
        }
        let scoped = rules.iter().any(|r| r.scoped.is_some());
        let has_pass = rules.iter().any(|r| r.action == Action::Pass);
        RuleSet { rules, groups, has_pass, networks, scoped, disabled: Vec::new(), warnings: Vec::new() }
    }

    /// The same set, noting the rules `disable` left out and what loading warns of.
    pub fn with_management(self, disabled: Vec<DisabledRule>, warnings: Vec<String>) -> RuleSet {
        RuleSet { disabled, warnings, ..self }
    }

    /// The same set with more warnings (rules a Suricata file could not load).
    pub fn with_warnings(mut self, more: Vec<String>) -> RuleSet {
        self.warnings.extend(more);
        self
    }

    /// Rules left out by `disable`, in load order.
    pub fn disabled(&self) -> &[DisabledRule] {
        &self.disabled
    }

    /// What loading noticed without failing: `disable` and `suppress` ids that
    /// name no rule, suppressions of pass rules. Each names where it was written.
    pub fn warnings(&self) -> &[String] {
        &self.warnings
    }

    /// The configured networks.
    pub fn networks(&self) -> &NetworkMap {
        &self.networks
    }

    /// True if some rule's condition depends on the packet's network.
    pub fn is_network_scoped(&self) -> bool {
        self.scoped
    }

    /// All rules in load order.
    pub fn rules(&self) -> &[CompiledRule] {
        &self.rules
    }

    /// The rule at `index`.
    pub fn rule(&self, index: u32) -> Option<&CompiledRule> {
        self.rules.get(index as usize)
    }

    /// Sets `out` to the pass rules (`pass`) or the alert rules that may
    /// match the packet, in load order without repeats: those of the packet's
    /// groups whose index anchor it passes, and those with no anchor. Every
    /// rule that matches is among them ([`RuleSet::walk`] is the reference).
    pub fn candidates(&self, f: &mut Features<'_, '_>, pass: bool, out: &mut Vec<u32>) {
        out.clear();
        if pass && !self.has_pass {
            // No pass rules at all: no group to look at.
            return;
        }
        for proto in packet_groups(f, self.has_dns_rules(pass)).into_iter().flatten() {
            let Some(group) = self.groups.get(group_index(proto)) else { continue };
            let index = if pass { &group.pass_index } else { &group.alert_index };
            // Most packets meet a group or two with no rules of the kind
            // (no pass rules at all, often): not even the call is made.
            if !index.is_empty() {
                index.candidates(f, out);
            }
        }
        out.sort_unstable();
        out.dedup();
    }

    /// Sets `out` to every pass rule (`pass`) or alert rule of the packet's
    /// groups, in load order: the walk the index spares, kept as its reference.
    pub fn walk(&self, pkt: &Packet<'_>, pass: bool, out: &mut Vec<u32>) {
        out.clear();
        let mut f = Features::new(pkt);
        for proto in packet_groups(&mut f, self.has_dns_rules(pass)).into_iter().flatten() {
            let Some(group) = self.groups.get(group_index(proto)) else { continue };
            out.extend_from_slice(if pass { &group.pass } else { &group.alert });
        }
        out.sort_unstable();
        out.dedup();
    }

    /// True if the DNS group has pass rules (`pass`) or alert rules.
    fn has_dns_rules(&self, pass: bool) -> bool {
        self.groups.get(group_index(Proto::Dns)).is_some_and(|g| !if pass { &g.pass } else { &g.alert }.is_empty())
    }

    /// True if any rule reads a DNS field (so DNS decoding errors are worth counting).
    pub fn uses_dns(&self) -> bool {
        self.rules.iter().any(|r| r.measured.iter().any(|f| field::info(*f).layer == field::Layer::Dns))
    }

    /// True if some rule reads a packet's place in its flow or passes whole flows.
    pub fn uses_flows(&self) -> bool {
        use crate::decode::features::Field;
        self.rules.iter().any(|r| {
            r.pass_flow
                || r.measured
                    .iter()
                    .any(|f| matches!(f, Field::FlowToServer | Field::FlowEstablished | Field::FlowFirst))
        })
    }

    /// True if any rule reads the echo correlation fields.
    pub fn uses_echo(&self) -> bool {
        use crate::decode::features::Field;
        self.rules.iter().any(|r| {
            r.measured.iter().any(|f| {
                matches!(
                    f,
                    Field::IcmpReplyMismatch | Field::IcmpUnpairedReply | Field::IcmpSeqJump | Field::IcmpTtlProbe
                )
            })
        })
    }

    /// Writes the matcher tree for `ferret explain`.
    pub fn explain(&self, out: &mut String) -> fmt::Result {
        write!(out, "{} rules in {} groups", self.rules.len(), self.groups.iter().filter(|g| !g.is_empty()).count())?;
        match self.disabled.len() {
            0 => writeln!(out)?,
            n => writeln!(out, " ({n} disabled)")?,
        }
        for (proto, group) in GROUPS.iter().zip(&self.groups) {
            if group.is_empty() {
                continue;
            }
            writeln!(out, "\ngroup {}", proto.keyword())?;
            for (kind, list, index) in
                [("pass", &group.pass, &group.pass_index), ("alert", &group.alert, &group.alert_index)]
            {
                if list.is_empty() {
                    continue;
                }
                writeln!(out, "  {kind} rules, index:")?;
                index.describe(out, "    ")?;
                for &i in list {
                    self.explain_rule(out, i, "  ", *proto, index)?;
                }
            }
        }
        if !self.disabled.is_empty() {
            writeln!(out, "\ndisabled (not compiled into the matcher)")?;
        }
        for r in &self.disabled {
            let action = if r.action == Action::Pass { "pass " } else { "" };
            writeln!(out, "  {action}rule {} rev {} ({}:{})", r.sid, r.rev, r.source.path, r.source.line)?;
        }
        Ok(())
    }

    fn explain_rule(&self, out: &mut String, index: u32, pad: &str, group: Proto, ix: &RuleIndex) -> fmt::Result {
        let Some(r) = self.rule(index) else { return Ok(()) };
        let action = if r.action == Action::Pass { "pass " } else { "" };
        let severity = r.severity.keyword();
        let (sid, rev, path, line) = (r.sid, r.rev, &r.source.path, r.source.line);
        writeln!(out, "{pad}{action}rule {sid} rev {rev} ({path}:{line}) severity {severity}")?;
        if r.proto != group {
            writeln!(
                out,
                "{pad}  (an {} rule filed here: its condition needs {} fields)",
                r.proto.keyword(),
                group.keyword()
            )?;
        }
        if !r.header.is_any() {
            writeln!(out, "{pad}  header {}", r.header)?;
        }
        match ix.anchor(index) {
            Some(anchor) => writeln!(out, "{pad}  index: {anchor}")?,
            None => writeln!(out, "{pad}  index: none (tried on every packet of the group)")?,
        }
        let mut tree = String::new();
        r.cond.write_tree(&mut tree, 0)?;
        for line in tree.lines() {
            writeln!(out, "{pad}  {line}")?;
        }
        if r.state.is_stateful() {
            writeln!(out, "{pad}  state: {}", r.state)?;
        }
        for s in &r.suppress {
            writeln!(out, "{pad}  suppress {s}")?;
        }
        for v in &r.variables {
            write!(out, "{pad}  ${} = {}", v.name, v.default)?;
            for (network, value) in &v.per_network {
                write!(out, "; in {network}: {value}")?;
            }
            writeln!(out)?;
        }
        if let Some(s) = &r.scoped {
            let side = if s.side == Side::Src { "source" } else { "destination" };
            writeln!(out, "{pad}  network picked by the {side} address")?;
            for (id, node) in s.by_network.iter().enumerate() {
                let Some(node) = node else { continue };
                writeln!(out, "{pad}  in network {}:", self.networks.name(id as u16))?;
                let mut tree = String::new();
                node.write_tree(&mut tree, 0)?;
                for line in tree.lines() {
                    writeln!(out, "{pad}    {line}")?;
                }
            }
        }
        Ok(())
    }
}

impl Group {
    fn is_empty(&self) -> bool {
        self.pass.is_empty() && self.alert.is_empty()
    }
}
