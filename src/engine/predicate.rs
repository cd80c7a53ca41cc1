//! Compiled conditions: a tree of boolean nodes over field predicates.
//!
//! The compiler folds constants and orders every `and`/`or` so cheap
//! predicates (header fields, lengths) run before costly ones (entropy, DNS,
//! regex): a packet that fails `payload.len > 64` never pays for its entropy.
//! A predicate on a field the packet does not have is false, negated or not:
//! `dns.qname != "x"` is a [`Predicate`] with `negated` set, false on a TCP
//! packet, while `not (dns.qname == "x")` is a [`Node::Not`], true there.

use std::collections::HashSet;
use std::fmt;

use regex::bytes::Regex;

use crate::decode::features::{Features, FieldValue};
use crate::engine::field;
use crate::engine::header::Net;

pub use crate::decode::features::Field;

/// A numeric comparison.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum CmpOp {
    /// `==`
    Eq,
    /// `!=`
    Ne,
    /// `<`
    Lt,
    /// `<=`
    Le,
    /// `>`
    Gt,
    /// `>=`
    Ge,
}

impl CmpOp {
    fn apply(self, a: f64, b: f64) -> bool {
        match self {
            CmpOp::Eq => a == b,
            CmpOp::Ne => a != b,
            CmpOp::Lt => a < b,
            CmpOp::Le => a <= b,
            CmpOp::Gt => a > b,
            CmpOp::Ge => a >= b,
        }
    }

    fn as_str(self) -> &'static str {
        match self {
            CmpOp::Eq => "==",
            CmpOp::Ne => "!=",
            CmpOp::Lt => "<",
            CmpOp::Le => "<=",
            CmpOp::Gt => ">",
            CmpOp::Ge => ">=",
        }
    }
}

/// What a predicate checks about its field's value.
#[derive(Clone, Debug)]
pub enum Check {
    /// `field OP number`
    Num(CmpOp, f64),
    /// `field in lo..hi` (inclusive)
    NumRange(f64, f64),
    /// `field in [numbers and ranges]`
    NumSet {
        /// Single values, sorted, for binary search.
        values: Vec<f64>,
        /// Inclusive ranges.
        ranges: Vec<(f64, f64)>,
    },
    /// `field == true/false`
    Bool(bool),
    /// `ip in [nets]` / `ip == net`
    IpIn(Vec<Net>),
    /// `text == "..."` / `in ["..", ".."]`; `nocase` compares ASCII case-insensitively.
    BytesIn {
        /// Accepted values.
        values: Vec<Vec<u8>>,
        /// Case-insensitive (text fields).
        nocase: bool,
    },
    /// `contains`
    Contains {
        /// The needle (lowercased when `nocase`).
        needle: Vec<u8>,
        /// Case-insensitive (text fields).
        nocase: bool,
    },
    /// `starts_with`
    StartsWith {
        /// The prefix.
        needle: Vec<u8>,
        /// Case-insensitive (text fields).
        nocase: bool,
    },
    /// `ends_with`
    EndsWith {
        /// The suffix.
        needle: Vec<u8>,
        /// Case-insensitive (text fields).
        nocase: bool,
    },
    /// `matches /re/`
    Regex(Regex),
    /// `under [domains]`: the name is one of the domains or below one.
    Under(DomainSet),
    /// `has [...]`: content matching with Suricata's positions.
    Content(Box<crate::engine::content::ContentSeq>),
}

/// The domains of an `under` test, lowercased, for label-by-label lookup.
///
/// A name is under the set when the name itself, or the part after any of
/// its dots, is an entry: `a.b.example.com` is under `example.com`, while
/// `badexample.com` is not. Lookups hash at most one suffix per label and
/// allocate nothing.
#[derive(Clone, Debug)]
pub struct DomainSet {
    names: HashSet<Box<[u8]>, foldhash::fast::FixedState>,
}

impl DomainSet {
    /// A set of domains: case is ignored, and a leading `*.` or `.` and a
    /// trailing `.` are dropped (`*.example.com.` is `example.com`); empty
    /// entries are skipped.
    pub fn new<'e>(entries: impl IntoIterator<Item = &'e [u8]>) -> DomainSet {
        let mut names = HashSet::with_hasher(foldhash::fast::FixedState::with_seed(0x0075_6e64_6572));
        for entry in entries {
            let e = entry.strip_prefix(b"*.").unwrap_or(entry);
            let e = e.strip_prefix(b".").unwrap_or(e);
            let e = e.strip_suffix(b".").unwrap_or(e);
            if !e.is_empty() {
                names.insert(e.to_ascii_lowercase().into_boxed_slice());
            }
        }
        DomainSet { names }
    }

    /// Number of domains.
    pub fn len(&self) -> usize {
        self.names.len()
    }

    /// True when the set holds no domain.
    pub fn is_empty(&self) -> bool {
        self.names.is_empty()
    }

    /// True when `name` (dotted, any case, trailing dot ignored) is an entry or below one.
    pub fn covers(&self, name: &[u8]) -> bool {
        let name = name.strip_suffix(b".").unwrap_or(name);
        let mut buf = [0u8; 256];
        let Some(lower) = buf.get_mut(..name.len()) else {
            return self.covers_long(name);
        };
        lower.iter_mut().zip(name).for_each(|(d, s)| *d = s.to_ascii_lowercase());
        let mut rest: &[u8] = lower;
        loop {
            if self.names.contains(rest) {
                return true;
            }
            match rest.iter().position(|&b| b == b'.') {
                Some(dot) => rest = rest.get(dot + 1..).unwrap_or_default(),
                None => return false,
            }
        }
    }

    /// The slow path for names longer than any DNS name (other text fields).
    fn covers_long(&self, name: &[u8]) -> bool {
        self.names.iter().any(|entry| {
            let Some(cut) = name.len().checked_sub(entry.len()) else { return false };
            let tail_matches = name.get(cut..).is_some_and(|t| t.eq_ignore_ascii_case(entry));
            tail_matches && (cut == 0 || name.get(cut - 1) == Some(&b'.'))
        })
    }

    /// Up to `n` entries, sorted, for display.
    fn sample(&self, n: usize) -> Vec<String> {
        let mut all: Vec<String> = self.names.iter().map(|e| String::from_utf8_lossy(e).into_owned()).collect();
        all.sort();
        all.truncate(n);
        all
    }
}

impl Check {
    /// Extra cost of the check on top of reading the field.
    fn cost(&self) -> u32 {
        match self {
            Check::Num(..) | Check::NumRange(..) | Check::Bool(_) => 0,
            Check::NumSet { values, ranges } => 1 + values.len().ilog2_or_zero() + ranges.len() as u32,
            Check::IpIn(v) => v.len() as u32,
            Check::BytesIn { values, .. } => 2 * values.len() as u32,
            Check::Contains { .. } | Check::StartsWith { .. } | Check::EndsWith { .. } => 8,
            Check::Regex(_) => 40,
            Check::Under(_) => 6,
            Check::Content(seq) => 10 * seq.len() as u32,
        }
    }

    fn eval(&self, v: FieldValue<'_>) -> bool {
        match (self, v) {
            (Check::Num(op, b), FieldValue::Num(a)) => op.apply(a, *b),
            (Check::NumRange(lo, hi), FieldValue::Num(a)) => *lo <= a && a <= *hi,
            (Check::NumSet { values, ranges }, FieldValue::Num(a)) => {
                values.binary_search_by(|x| x.total_cmp(&a)).is_ok()
                    || ranges.iter().any(|(lo, hi)| *lo <= a && a <= *hi)
            }
            (Check::Bool(b), FieldValue::Bool(a)) => a == *b,
            (Check::IpIn(nets), FieldValue::Ip(a)) => nets.iter().any(|n| n.contains(a)),
            (Check::BytesIn { values, nocase }, FieldValue::Bytes(a)) => {
                values.iter().any(|v| if *nocase { v.eq_ignore_ascii_case(a) } else { v == a })
            }
            (Check::Contains { needle, nocase }, FieldValue::Bytes(a)) => contains(a, needle, *nocase),
            (Check::StartsWith { needle, nocase }, FieldValue::Bytes(a)) => {
                a.get(..needle.len()).is_some_and(|p| eq(p, needle, *nocase))
            }
            (Check::EndsWith { needle, nocase }, FieldValue::Bytes(a)) => {
                a.len() >= needle.len() && a.get(a.len() - needle.len()..).is_some_and(|p| eq(p, needle, *nocase))
            }
            (Check::Regex(re), FieldValue::Bytes(a)) => re.is_match(a),
            (Check::Under(set), FieldValue::Bytes(a)) => set.covers(a),
            (Check::Content(seq), FieldValue::Bytes(a)) => seq.matches(a),
            _ => false,
        }
    }
}

trait Ilog2OrZero {
    fn ilog2_or_zero(self) -> u32;
}

impl Ilog2OrZero for usize {
    fn ilog2_or_zero(self) -> u32 {
        self.checked_ilog2().unwrap_or(0)
    }
}

fn eq(a: &[u8], b: &[u8], nocase: bool) -> bool {
    if nocase {
        a.eq_ignore_ascii_case(b)
    } else {
        a == b
    }
}

fn contains(hay: &[u8], needle: &[u8], nocase: bool) -> bool {
    if needle.is_empty() {
        return true;
    }
    if nocase {
        hay.windows(needle.len()).any(|w| w.eq_ignore_ascii_case(needle))
    } else {
        memchr::memmem::find(hay, needle).is_some()
    }
}

/// One test of one field.
#[derive(Clone, Debug)]
pub struct Predicate {
    /// The field read.
    pub field: Field,
    /// What is checked.
    pub check: Check,
    /// True for `!=` and `not in`: the field is present and the check fails.
    pub negated: bool,
}

impl Predicate {
    /// Cost estimate used for ordering.
    pub fn cost(&self) -> u32 {
        field::info(self.field).cost + self.check.cost()
    }

    /// A test of `field`, true when `check` holds.
    pub fn new(field: Field, check: Check) -> Predicate {
        Predicate { field, check, negated: false }
    }

    /// A test of `field`, true when it is present and `check` fails (`!=`, `not in`).
    pub fn negated(field: Field, check: Check) -> Predicate {
        Predicate { field, check, negated: true }
    }

    /// Evaluates on one packet; false when the packet lacks the field, negated or not.
    pub fn eval(&self, f: &mut Features<'_, '_>) -> bool {
        if let Some((limit, outcome)) = self.settled_below() {
            if f.entropy_at_most(self.field, limit) {
                return outcome != self.negated;
            }
        }
        match f.get(self.field) {
            Some(v) => self.check.eval(v) != self.negated,
            None => false,
        }
    }
}

impl Predicate {
    /// For a comparison of an entropy, a limit and the check's outcome for
    /// every value at most that limit: `payload.entropy > 5.8` is false for
    /// any value ≤ 5.8, so the entropy need not be known exactly once it is
    /// sure not to exceed 5.8 ([`Features::entropy_at_most`]).
    fn settled_below(&self) -> Option<(f64, bool)> {
        if !matches!(
            self.field,
            Field::PayloadEntropy | Field::DnsQnameEntropy | Field::DnsDomainEntropy | Field::DnsSubdomainEntropy
        ) {
            return None;
        }
        // Below `b` (at most the float before it): `>=`, `==` false, `<`, `!=` true.
        match self.check {
            Check::Num(CmpOp::Gt, b) => Some((b, false)),
            Check::Num(CmpOp::Le, b) => Some((b, true)),
            Check::Num(CmpOp::Ge | CmpOp::Eq, b) => Some((b.next_down(), false)),
            Check::Num(CmpOp::Lt | CmpOp::Ne, b) => Some((b.next_down(), true)),
            Check::NumRange(lo, _) => Some((lo.next_down(), false)),
            _ => None,
        }
    }
}

/// A compiled condition.
#[derive(Clone, Debug)]
pub enum Node {
    /// A constant (after folding).
    Const(bool),
    /// All children true; children ordered cheapest first.
    And(Vec<Node>),
    /// Any child true; children ordered cheapest first.
    Or(Vec<Node>),
    /// Negation.
    Not(Box<Node>),
    /// A field test.
    Pred(Predicate),
}

impl Node {
    /// Evaluates on one packet, short-circuiting.
    pub fn eval(&self, f: &mut Features<'_, '_>) -> bool {
        match self {
            Node::Const(b) => *b,
            Node::And(children) => children.iter().all(|c| c.eval(f)),
            Node::Or(children) => children.iter().any(|c| c.eval(f)),
            Node::Not(c) => !c.eval(f),
            Node::Pred(p) => p.eval(f),
        }
    }

    /// Cost estimate: the sum of the predicates' costs.
    pub fn cost(&self) -> u32 {
        match self {
            Node::Const(_) => 0,
            Node::And(c) | Node::Or(c) => c.iter().map(Node::cost).sum(),
            Node::Not(c) => c.cost(),
            Node::Pred(p) => p.cost(),
        }
    }

    /// Folds constants, flattens nested and/or, and orders children by cost.
    pub fn optimize(self) -> Node {
        match self {
            Node::Not(inner) => match inner.optimize() {
                Node::Const(b) => Node::Const(!b),
                Node::Not(x) => *x,
                other => Node::Not(Box::new(other)),
            },
            Node::And(children) => fold_junction(children, true),
            Node::Or(children) => fold_junction(children, false),
            other => other,
        }
    }

    /// Every field the condition reads, in first-use order, without repeats.
    pub fn fields(&self, out: &mut Vec<Field>) {
        match self {
            Node::Const(_) => {}
            Node::And(c) | Node::Or(c) => c.iter().for_each(|n| n.fields(out)),
            Node::Not(c) => c.fields(out),
            Node::Pred(p) => {
                if !out.contains(&p.field) {
                    out.push(p.field);
                }
            }
        }
    }

    /// Writes the tree, one node per line, indented, with costs.
    pub fn write_tree(&self, f: &mut impl fmt::Write, indent: usize) -> fmt::Result {
        let pad = "  ".repeat(indent);
        match self {
            Node::Const(b) => writeln!(f, "{pad}{b}"),
            Node::And(c) | Node::Or(c) => {
                let name = if matches!(self, Node::And(_)) { "and" } else { "or" };
                writeln!(f, "{pad}{name}  (cost {})", self.cost())?;
                c.iter().try_for_each(|n| n.write_tree(f, indent + 1))
            }
            Node::Not(c) => {
                writeln!(f, "{pad}not")?;
                c.write_tree(f, indent + 1)
            }
            Node::Pred(p) => writeln!(f, "{pad}{p}  (cost {})", p.cost()),
        }
    }
}

/// `and` (identity true) or `or` (identity false) of optimized children.
fn fold_junction(children: Vec<Node>, is_and: bool) -> Node {
    let mut flat = Vec::with_capacity(children.len());
    for child in children {
        match child.optimize() {
            Node::Const(b) if b == is_and => {}
            Node::Const(b) => return Node::Const(b),
            Node::And(grand) if is_and => flat.extend(grand),
            Node::Or(grand) if !is_and => flat.extend(grand),
            other => flat.push(other),
        }
    }
    flat.sort_by_key(Node::cost);
    match flat.len() {
        0 => Node::Const(is_and),
        1 => flat.pop().unwrap_or(Node::Const(is_and)),
        _ if is_and => Node::And(flat),
        _ => Node::Or(flat),
    }
}

impl fmt::Display for Predicate {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        let name = field::info(self.field).name;
        // Word-valued fields show their words: `payload.pattern == random`, not `== 6`.
        let num = |v: f64| field::value_name(self.field, v).map_or_else(|| v.to_string(), str::to_string);
        // The compiler negates only membership tests (`!=` on a number is `CmpOp::Ne`).
        let is_in = if self.negated { "not in" } else { "in" };
        match &self.check {
            Check::Num(..)
            | Check::Bool(_)
            | Check::Contains { .. }
            | Check::StartsWith { .. }
            | Check::EndsWith { .. }
            | Check::Regex(_)
            | Check::Under(_)
            | Check::Content(_)
                if self.negated =>
            {
                write!(f, "{name} present and not ({})", Predicate::new(self.field, self.check.clone()))
            }
            Check::Num(op, v) => write!(f, "{name} {} {}", op.as_str(), num(*v)),
            Check::NumRange(lo, hi) => write!(f, "{name} {is_in} {lo}..{hi}"),
            Check::NumSet { values, ranges } => {
                let values = values.iter().map(|v| num(*v));
                let list: Vec<String> = values.chain(ranges.iter().map(|(lo, hi)| format!("{lo}..{hi}"))).collect();
                write!(f, "{name} {is_in} [{}]", list.join(", "))
            }
            Check::Bool(b) => write!(f, "{name} == {b}"),
            Check::IpIn(nets) => {
                let list: Vec<String> = nets.iter().map(ToString::to_string).collect();
                write!(f, "{name} {is_in} [{}]", list.join(", "))
            }
            Check::BytesIn { values, nocase } => {
                let list: Vec<String> = values.iter().map(|v| format!("{:?}", String::from_utf8_lossy(v))).collect();
                write!(f, "{name} {is_in} [{}]{}", list.join(", "), if *nocase { " (nocase)" } else { "" })
            }
            Check::Contains { needle, nocase } => write_needle(f, name, "contains", needle, *nocase),
            Check::StartsWith { needle, nocase } => write_needle(f, name, "starts_with", needle, *nocase),
            Check::EndsWith { needle, nocase } => write_needle(f, name, "ends_with", needle, *nocase),
            Check::Regex(re) => write!(f, "{name} matches /{}/", re.as_str()),
            Check::Content(seq) => write!(f, "{name} has {seq}"),
            Check::Under(set) => {
                let shown = set.sample(3);
                let more = set.len().saturating_sub(shown.len());
                let list: Vec<String> = shown.iter().map(|d| format!("{d:?}")).collect();
                match more {
                    0 => write!(f, "{name} under [{}]", list.join(", ")),
                    _ => write!(f, "{name} under [{}, ... {more} more]", list.join(", ")),
                }
            }
        }
    }
}

fn write_needle(f: &mut fmt::Formatter<'_>, name: &str, op: &str, needle: &[u8], nocase: bool) -> fmt::Result {
    // Printable ASCII as is, other bytes as \xHH, so binary needles read back.
    write!(f, "{name} {op} \"")?;
    crate::decode::dns::write_escaped(needle, f)?;
    write!(f, "\"{}", if nocase { " (nocase)" } else { "" })
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::decode::Packet;

    /// A raw-IPv4 ICMP echo request carrying `payload`.
    fn icmp_frame(payload: &[u8]) -> Vec<u8> {
        let mut f = vec![0u8; 28];
        f[0] = 0x45;
        f[2..4].copy_from_slice(&((28 + payload.len()) as u16).to_be_bytes());
        f[8] = 64;
        f[9] = 1;
        f[12..16].copy_from_slice(&[10, 0, 0, 1]);
        f[16..20].copy_from_slice(&[10, 0, 0, 2]);
        f[20] = 8;
        f.extend_from_slice(payload);
        f
    }

    proptest::proptest! {
        #![proptest_config(proptest::prelude::ProptestConfig::with_cases(500))]

        /// Entropy comparisons that stop early give the answers the exact
        /// value gives, and leave the exact value for the fields that need it.
        #[test]
        fn entropy_tests_answer_as_the_exact_value_does(
            payload in proptest::collection::vec(0u8..40, 0..300),
            bound in 0.0f64..9.0,
            negated in proptest::prelude::any::<bool>(),
        ) {
            let frame = icmp_frame(&payload);
            let pkt = Packet::decode(228, &frame, 1, 0, frame.len() as u32);
            let exact = crate::decode::entropy::shannon(pkt.payload);
            let checks = [
                Check::Num(CmpOp::Gt, bound),
                Check::Num(CmpOp::Ge, bound),
                Check::Num(CmpOp::Lt, bound),
                Check::Num(CmpOp::Le, bound),
                Check::Num(CmpOp::Eq, exact),
                Check::Num(CmpOp::Ne, exact),
                Check::Num(CmpOp::Ge, exact),
                Check::Num(CmpOp::Gt, exact),
                Check::NumRange(bound, bound + 1.0),
                Check::NumRange(exact, 9.0),
            ];
            // One Features for all, as the rules of one packet share it.
            let mut shared = Features::new(&pkt);
            for check in checks {
                let p = Predicate { field: Field::PayloadEntropy, check, negated };
                let expected = p.check.eval(FieldValue::Num(exact)) != negated;
                let mut fresh = Features::new(&pkt);
                proptest::prop_assert_eq!(p.eval(&mut fresh), expected, "{}", p);
                proptest::prop_assert_eq!(p.eval(&mut shared), expected, "{}", p);
            }
            let value = shared.get(Field::PayloadEntropy);
            proptest::prop_assert!(matches!(value, Some(FieldValue::Num(v)) if v.to_bits() == exact.to_bits()));
        }
    }
}
