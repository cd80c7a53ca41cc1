//! Which test of a rule the index files it under: its anchor.
//!
//! An anchor is one test the rule cannot match without: a header address or
//! port set, or a conjunct of its condition (`payload.len > 64`,
//! `icmp.type in [0, 8]`, `payload contains "x"`, or an `or` of such tests).
//! A packet that fails the anchor cannot match the rule, so the index only
//! hands the rule on when its anchor holds, and the rule's whole check runs
//! then, as before. Everything else a rule tests (exclusions, regexes,
//! `under`, predicates the index does not know) stays in that check, so new
//! kinds of predicates need no change here.
//!
//! Of a rule's possible anchors the chooser takes a cheap one (header fields,
//! lengths, DNS header values: reading it costs what the rule's first test
//! would) that the fewest packets are expected to pass; costly fields
//! (entropy, pattern) anchor a rule only when it has no cheap test at all, so
//! the index never computes a value the rule would not have.

use std::fmt;

use crate::decode::features::Field;
use crate::engine::field;
use crate::engine::header::{Net, SetMatch};
use crate::engine::predicate::{Check, CmpOp, Node, Predicate};
use crate::engine::ruleset::CompiledRule;

use super::bounds::BoundOp;

/// Which packet address or port a header test reads.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Side {
    /// The source.
    Src,
    /// The destination.
    Dst,
    /// Either (a `<>` rule).
    Either,
}

/// One indexable test.
#[derive(Clone, Debug)]
pub enum Atom {
    /// The address on `side` lies in `net`.
    Addr(Side, Net),
    /// The port on `side` lies in `lo..=hi`.
    Port(Side, u16, u16),
    /// The numeric field passes `op t`.
    Num(Field, BoundOp, f64),
    /// The byte or text field contains (or starts with) the needle.
    Text {
        /// The field.
        field: Field,
        /// The needle (lowercase when `nocase`).
        needle: Vec<u8>,
        /// ASCII case-insensitive.
        nocase: bool,
        /// `starts_with`.
        prefix: bool,
    },
}

/// The tests a rule is filed under: the rule may match only when one of them holds.
#[derive(Clone, Debug)]
pub struct Anchor {
    /// The tests (an `or`).
    pub atoms: Vec<Atom>,
    /// Estimated share of packets passing, 0-1.
    pub share: f64,
    /// True when reading the tested values costs more than a header or length read.
    pub costly: bool,
}

/// Field cost above which a test is costly (entropy, pattern, registered domain).
const CHEAP: u32 = 12;

/// The anchor the index files `rule` under, or `None` when every packet of its group must try it.
pub fn choose(rule: &CompiledRule) -> Option<Anchor> {
    let h = &rule.header;
    let (src, dst) = if h.both_directions { (Side::Either, Side::Either) } else { (Side::Src, Side::Dst) };
    let mut options: Vec<Anchor> = Vec::new();
    options.extend(address_anchor(&h.src, src));
    options.extend(address_anchor(&h.dst, dst));
    options.extend(port_anchor(&h.src_ports, src));
    options.extend(port_anchor(&h.dst_ports, dst));
    // A per-network condition differs by network: only the header is common to all.
    if rule.scoped.is_none() {
        let conjuncts = match &rule.cond {
            Node::And(children) => children.as_slice(),
            other => std::slice::from_ref(other),
        };
        options.extend(conjuncts.iter().filter_map(condition_anchor));
    }
    options
        .into_iter()
        .filter(|a| a.share < 1.0 && !a.atoms.is_empty())
        .min_by(|a, b| a.costly.cmp(&b.costly).then(a.share.total_cmp(&b.share)))
}

/// The networks a set needs one of (`None` for `any`, negations and lists of only negations).
fn positive_nets(set: &SetMatch<Net>, out: &mut Vec<Net>) -> bool {
    match set {
        SetMatch::One(n) => {
            out.push(*n);
            true
        }
        SetMatch::List { include, .. } => !include.is_empty() && include.iter().all(|m| positive_nets(m, out)),
        SetMatch::Any | SetMatch::Not(_) => false,
    }
}

fn positive_ports(set: &SetMatch<crate::engine::header::PortRange>, out: &mut Vec<(u16, u16)>) -> bool {
    match set {
        SetMatch::One(r) => {
            out.push((r.lo, r.hi));
            true
        }
        SetMatch::List { include, .. } => !include.is_empty() && include.iter().all(|m| positive_ports(m, out)),
        SetMatch::Any | SetMatch::Not(_) => false,
    }
}

/// Share of addresses in `net`: IPv4 by its prefix, IPv6 counted in nibbles
/// (a /64 is as specific as an IPv4 /16).
fn net_share(net: &Net) -> f64 {
    let bits = if net.addr().is_ipv4() { f64::from(net.prefix()) } else { f64::from(net.prefix()) / 4.0 };
    (-bits).exp2()
}

fn address_anchor(set: &SetMatch<Net>, side: Side) -> Option<Anchor> {
    let mut nets = Vec::new();
    positive_nets(set, &mut nets).then_some(())?;
    let share = nets.iter().map(net_share).sum::<f64>().min(1.0);
    Some(Anchor { atoms: nets.into_iter().map(|n| Atom::Addr(side, n)).collect(), share, costly: false })
}

fn port_anchor(set: &SetMatch<crate::engine::header::PortRange>, side: Side) -> Option<Anchor> {
    let mut ranges = Vec::new();
    positive_ports(set, &mut ranges).then_some(())?;
    let ports: u32 = ranges.iter().map(|(lo, hi)| u32::from(hi.saturating_sub(*lo)) + 1).sum();
    let share = (f64::from(ports) / 65536.0).min(1.0);
    // Wide ranges (`1024:65535`) would make long interval lists for little gain.
    (share <= 0.25).then_some(())?;
    Some(Anchor { atoms: ranges.into_iter().map(|(lo, hi)| Atom::Port(side, lo, hi)).collect(), share, costly: false })
}

/// An anchor from one conjunct: a predicate, or an `or` of predicates that all index.
fn condition_anchor(node: &Node) -> Option<Anchor> {
    let preds: Vec<&Predicate> = match node {
        Node::Pred(p) => vec![p],
        Node::Or(children) => {
            children.iter().map(|c| if let Node::Pred(p) = c { Some(p) } else { None }).collect::<Option<_>>()?
        }
        _ => return None,
    };
    let mut anchor = Anchor { atoms: Vec::new(), share: 0.0, costly: false };
    for p in preds {
        let (atoms, share) = predicate_atoms(p)?;
        anchor.atoms.extend(atoms);
        anchor.share = (anchor.share + share).min(1.0);
        anchor.costly |= p.cost() > CHEAP;
    }
    Some(anchor)
}

/// The atoms of one predicate (any of which holds when it does) and the share passing.
fn predicate_atoms(p: &Predicate) -> Option<(Vec<Atom>, f64)> {
    // The index runs before the engine's state has set its fields (see `engine::prematch`).
    if p.negated || p.field.set_by_engine() {
        return None;
    }
    let f = p.field;
    let num = |op: BoundOp, t: f64| (Atom::Num(f, op, t), bound_share(f, op, t));
    let (atoms, share): (Vec<Atom>, f64) = match &p.check {
        Check::Num(op, t) => {
            let op = match op {
                CmpOp::Gt => BoundOp::Gt,
                CmpOp::Ge => BoundOp::Ge,
                CmpOp::Lt => BoundOp::Lt,
                CmpOp::Le => BoundOp::Le,
                CmpOp::Eq => BoundOp::Eq,
                CmpOp::Ne => return None,
            };
            let (atom, share) = num(op, *t);
            (vec![atom], share)
        }
        Check::NumRange(lo, hi) => {
            // Filed under its lower end; the rule's own check tests the upper one.
            let (atom, _) = num(BoundOp::Ge, *lo);
            (vec![atom], range_share(f, *lo, *hi))
        }
        Check::NumSet { values, ranges } => {
            let mut atoms = Vec::new();
            let mut share = 0.0;
            for v in values {
                let (atom, s) = num(BoundOp::Eq, *v);
                atoms.push(atom);
                share += s;
            }
            for (lo, hi) in ranges {
                atoms.push(num(BoundOp::Ge, *lo).0);
                share += range_share(f, *lo, *hi);
            }
            (atoms, share)
        }
        Check::IpIn(nets) if matches!(f, Field::IpSrc | Field::IpDst) => {
            let side = if f == Field::IpSrc { Side::Src } else { Side::Dst };
            (nets.iter().map(|n| Atom::Addr(side, *n)).collect(), nets.iter().map(net_share).sum())
        }
        Check::Contains { needle, nocase } | Check::StartsWith { needle, nocase } if !needle.is_empty() => {
            let prefix = matches!(p.check, Check::StartsWith { .. });
            let share = if prefix { 0.01 } else { 0.02 };
            (vec![Atom::Text { field: f, needle: needle.clone(), nocase: *nocase, prefix }], share)
        }
        // Everything else (regexes, `under`, exact strings, flags, kinds added
        // later) stays in the rule's own check.
        _ => return None,
    };
    Some((atoms, share.min(1.0)))
}

/// The range of values a field usually takes, for estimating shares.
fn typical_range(f: Field) -> Option<(f64, f64)> {
    Some(match f {
        Field::PayloadLen | Field::IpLen | Field::PktLen => (0.0, 1500.0),
        Field::PayloadEntropy => (0.0, 8.0),
        Field::PayloadEntropyNorm | Field::PayloadPrintable => (0.0, 1.0),
        Field::DnsQnameEntropy | Field::DnsDomainEntropy | Field::DnsSubdomainEntropy => (0.0, 5.2),
        Field::DnsQnameLen | Field::DnsSubdomainLen | Field::DnsDomainLen => (0.0, 128.0),
        Field::DnsLabels => (0.0, 16.0),
        Field::DnsLabelMaxlen => (0.0, 63.0),
        Field::IpTtl | Field::IcmpType | Field::IcmpCode | Field::IpProto | Field::TcpFlags => (0.0, 255.0),
        Field::SrcPort | Field::DstPort | Field::IcmpId | Field::IcmpSeq | Field::DnsId => (0.0, 65535.0),
        Field::DnsQtype => (0.0, 255.0),
        Field::DnsOpcode | Field::DnsRcode => (0.0, 15.0),
        _ => return None,
    })
}

fn bound_share(f: Field, op: BoundOp, t: f64) -> f64 {
    let Some((lo, hi)) = typical_range(f) else {
        return if op == BoundOp::Eq { 0.1 } else { 0.5 };
    };
    let span = hi - lo;
    let share = match op {
        BoundOp::Gt | BoundOp::Ge => (hi - t) / span,
        BoundOp::Lt | BoundOp::Le => (t - lo) / span,
        BoundOp::Eq => 1.0 / (span + 1.0).max(10.0),
    };
    share.clamp(0.001, 0.999)
}

fn range_share(f: Field, lo: f64, hi: f64) -> f64 {
    match typical_range(f) {
        Some((a, b)) => ((hi.min(b) - lo.max(a)) / (b - a)).clamp(0.001, 0.999),
        None => 0.5,
    }
}

impl fmt::Display for Atom {
    fn fmt(&self, out: &mut fmt::Formatter<'_>) -> fmt::Result {
        let side = |s: Side| match s {
            Side::Src => "src",
            Side::Dst => "dst",
            Side::Either => "src or dst",
        };
        match self {
            Atom::Addr(s, net) => write!(out, "{} in {net}", side(*s)),
            Atom::Port(s, lo, hi) if lo == hi => write!(out, "{}.port == {lo}", side(*s)),
            Atom::Port(s, lo, hi) => write!(out, "{}.port in {lo}..{hi}", side(*s)),
            Atom::Num(f, op, t) => {
                let name = field::info(*f).name;
                let shown = field::value_name(*f, *t).map_or_else(|| t.to_string(), str::to_string);
                write!(out, "{name} {} {shown}", op.as_str())
            }
            Atom::Text { field: f, needle, nocase, prefix } => {
                let op = if *prefix { "starts_with" } else { "contains" };
                write!(out, "{} {op} \"", field::info(*f).name)?;
                crate::decode::dns::write_escaped(needle, out)?;
                write!(out, "\"{}", if *nocase { " (nocase)" } else { "" })
            }
        }
    }
}

impl fmt::Display for Anchor {
    fn fmt(&self, out: &mut fmt::Formatter<'_>) -> fmt::Result {
        for (i, atom) in self.atoms.iter().enumerate() {
            if i > 0 {
                write!(out, " or ")?;
            }
            write!(out, "{atom}")?;
        }
        Ok(())
    }
}
