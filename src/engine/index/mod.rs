//! The rule index: from a packet to the few rules that may match it.
//!
//! Walking every rule of a protocol group costs in proportion to the number
//! of rules, most of which fail on their first test (an address, a port, a
//! length). The index files each rule under one test it cannot match without
//! (its [`anchor::Anchor`]) in a structure shared by every rule testing the
//! same thing: address prefixes ([`prefix`]), port ranges ([`ranges`]),
//! numeric bounds per field ([`bounds`]), needles per field ([`patterns`]). A
//! packet reads each indexed value once and finds, in one lookup per
//! structure, every rule whose anchor it passes; those rules, and the rules
//! with no anchor, are the candidates, each then checked in full as before.
//! The index is a filter only: it never decides a match, so a predicate it
//! does not know (a new kind of test) simply stays in the rule's own check.
//!
//! A lookup allocates nothing: it appends to a vector the caller keeps.

pub mod anchor;
pub mod bounds;
pub mod patterns;
pub mod prefix;
pub mod ranges;

use std::fmt::{self, Write};

use crate::decode::features::{Features, Field, FieldValue};
use crate::engine::field;
use crate::engine::ruleset::CompiledRule;

use anchor::{Anchor, Atom, Side};
use bounds::Bounds;
use patterns::{Needle, Patterns};
use prefix::PrefixTable;
use ranges::RangeMap;

/// Address tables per side: source, destination, either.
#[derive(Debug, Default)]
struct Addresses {
    src: PrefixTable,
    dst: PrefixTable,
    either: PrefixTable,
}

/// Port maps per side.
#[derive(Debug, Default)]
struct Ports {
    src: RangeMap,
    dst: RangeMap,
    either: RangeMap,
}

/// The index over one list of rules (one protocol group's pass or alert rules).
#[derive(Debug, Default)]
pub struct RuleIndex {
    /// Rules with no anchor: candidates for every packet.
    always: Vec<u32>,
    addresses: Addresses,
    ports: Ports,
    bounds: Vec<(Field, Bounds)>,
    patterns: Vec<(Field, Patterns)>,
    /// Each indexed rule's anchor, by rule index (for `explain`).
    anchors: Vec<(u32, Anchor)>,
}

impl RuleIndex {
    /// Indexes `rules` (rule index and rule).
    pub fn new<'r>(rules: impl IntoIterator<Item = (u32, &'r CompiledRule)>) -> RuleIndex {
        let mut index = RuleIndex::default();
        let mut port_entries: [Vec<(u16, u16, u32)>; 3] = Default::default();
        let mut needles: Vec<(Field, Vec<Needle>)> = Vec::new();
        for (i, rule) in rules {
            let Some(anchor) = anchor::choose(rule) else {
                index.always.push(i);
                continue;
            };
            for atom in &anchor.atoms {
                match atom {
                    Atom::Addr(side, net) => index.addresses.side_mut(*side).insert(*net, i),
                    Atom::Port(side, lo, hi) => {
                        let slot = match side {
                            Side::Src => 0,
                            Side::Dst => 1,
                            Side::Either => 2,
                        };
                        if let Some(list) = port_entries.get_mut(slot) {
                            list.push((*lo, *hi, i));
                        }
                    }
                    Atom::Num(f, op, t) => {
                        if let Some(b) = entry(&mut index.bounds, *f) {
                            b.insert(*op, *t, i);
                        }
                    }
                    Atom::Text { field, needle, nocase, prefix } => {
                        let n = Needle { bytes: needle.clone(), nocase: *nocase, prefix: *prefix, rule: i };
                        if let Some(list) = entry(&mut needles, *field) {
                            list.push(n);
                        }
                    }
                }
            }
            index.anchors.push((i, anchor));
        }
        let [src, dst, either] = port_entries;
        index.ports = Ports { src: RangeMap::new(src), dst: RangeMap::new(dst), either: RangeMap::new(either) };
        index.bounds.iter_mut().for_each(|(_, b)| b.finish());
        for (f, list) in needles {
            let patterns = Patterns::new(&list);
            if !patterns.complete() {
                // Past the automaton's limits: these rules are tried on every packet instead.
                index.always.extend(list.iter().map(|n| n.rule));
            }
            index.patterns.push((f, patterns));
        }
        index.always.sort_unstable();
        index.always.dedup();
        index
    }

    /// True when no rule is indexed or always tried.
    pub fn is_empty(&self) -> bool {
        self.always.is_empty() && self.anchors.is_empty()
    }

    /// The anchor rule `index` is filed under (`None`: tried on every packet).
    pub fn anchor(&self, index: u32) -> Option<&Anchor> {
        self.anchors.iter().find(|(i, _)| *i == index).map(|(_, a)| a)
    }

    /// Appends every rule that may match the packet: each rule whose anchor
    /// it passes (possibly more than once) and every rule without an anchor.
    pub fn candidates(&self, f: &mut Features<'_, '_>, out: &mut Vec<u32>) {
        out.extend_from_slice(&self.always);
        let pkt = f.packet();
        let a = &self.addresses;
        // Empty structures are skipped before the call: a small rule set
        // (the reports' two rules) indexes no address or port at all, and
        // the calls alone cost a few percent of its scan.
        if let Some(ip) = pkt.ip() {
            if !a.src.is_empty() {
                a.src.lookup(ip.src, out);
            }
            if !a.dst.is_empty() {
                a.dst.lookup(ip.dst, out);
            }
            if !a.either.is_empty() {
                a.either.lookup(ip.src, out);
                a.either.lookup(ip.dst, out);
            }
        }
        if let Some((sp, dp)) = pkt.ports() {
            let p = &self.ports;
            if !p.src.is_empty() {
                p.src.lookup(sp, out);
            }
            if !p.dst.is_empty() {
                p.dst.lookup(dp, out);
            }
            if !p.either.is_empty() {
                p.either.lookup(sp, out);
                p.either.lookup(dp, out);
            }
        }
        for (field, bounds) in &self.bounds {
            if let Some(FieldValue::Num(v)) = f.get(*field) {
                bounds.lookup(v, out);
            }
        }
        for (field, patterns) in &self.patterns {
            if let Some(FieldValue::Bytes(hay)) = f.get(*field) {
                patterns.lookup(hay, out);
            }
        }
    }

    /// Writes what the index holds, one line per structure, for `explain`.
    pub fn describe(&self, out: &mut String, pad: &str) -> fmt::Result {
        let a = &self.addresses;
        for (name, table) in [("src", &a.src), ("dst", &a.dst), ("src or dst", &a.either)] {
            if !table.is_empty() {
                let (v4, v6) = table.lengths();
                writeln!(
                    out,
                    "{pad}{name} addresses: {} prefixes ({v4} IPv4 and {v6} IPv6 lengths probed)",
                    table.len()
                )?;
            }
        }
        let p = &self.ports;
        for (name, map) in [("src", &p.src), ("dst", &p.dst), ("src or dst", &p.either)] {
            if !map.is_empty() {
                writeln!(out, "{pad}{name} ports: {} ranges", map.len())?;
            }
        }
        for (f, b) in &self.bounds {
            writeln!(out, "{pad}{}: {} sorted bounds", field::info(*f).name, b.len())?;
        }
        for (f, p) in &self.patterns {
            writeln!(out, "{pad}{}: {} needles in one automaton pass", field::info(*f).name, p.len())?;
        }
        if !self.always.is_empty() {
            writeln!(out, "{pad}tried on every packet: {} rules", self.always.len())?;
        }
        Ok(())
    }
}

impl Addresses {
    fn side_mut(&mut self, side: Side) -> &mut PrefixTable {
        match side {
            Side::Src => &mut self.src,
            Side::Dst => &mut self.dst,
            Side::Either => &mut self.either,
        }
    }
}

/// The value kept for `field`, added when missing.
fn entry<T: Default>(list: &mut Vec<(Field, T)>, field: Field) -> Option<&mut T> {
    if !list.iter().any(|(f, _)| *f == field) {
        list.push((field, T::default()));
    }
    list.iter_mut().find(|(f, _)| *f == field).map(|(_, t)| t)
}
