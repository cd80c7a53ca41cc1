//! Stateful clauses: what a rule asks to be counted, and over which key.
//!
//! The clauses (`threshold`, `rate`, `limit`, `distinct`) are compiled into a
//! [`StateSpec`]; the tables that count live in `engine::tables`.

use crate::decode::features::Field;
use crate::rules::ast::FixedKind;

/// A time window, in nanoseconds of packet time.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct Window {
    /// Length in nanoseconds (at least 1).
    pub nanos: u64,
}

/// One part of a state key.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash)]
pub enum KeyItem {
    /// Source address.
    Src,
    /// Destination address.
    Dst,
    /// Both addresses, unordered.
    Pair,
    /// Ordered 5-tuple.
    Flow,
    /// The whole rule.
    Rule,
    /// A packet field's value.
    Field(Field),
}

/// The stateful clauses of one rule (all optional).
#[derive(Clone, Debug, Default, PartialEq)]
pub struct StateSpec {
    /// `threshold N within T by KEY`
    pub threshold: Option<(u64, Window, Vec<KeyItem>)>,
    /// `rate > N/T by KEY`
    pub rate: Option<(f64, Window, Vec<KeyItem>)>,
    /// `limit N per T by KEY`
    pub limit: Option<(u64, Window, Vec<KeyItem>)>,
    /// `distinct FIELD > N within T by KEY`
    pub distinct: Option<(Field, u64, Window, Vec<KeyItem>)>,
    /// `fixed KIND N per T by KEY` (Suricata's threshold and detection_filter)
    pub fixed: Option<(FixedKind, u64, Window, Vec<KeyItem>)>,
}

impl StateSpec {
    /// True if the rule has any stateful clause.
    pub fn is_stateful(&self) -> bool {
        self.threshold.is_some()
            || self.rate.is_some()
            || self.limit.is_some()
            || self.distinct.is_some()
            || self.fixed.is_some()
    }
}

fn key_text(key: &[KeyItem]) -> String {
    key.iter()
        .map(|k| match k {
            KeyItem::Src => "src".to_string(),
            KeyItem::Dst => "dst".to_string(),
            KeyItem::Pair => "pair".to_string(),
            KeyItem::Flow => "flow".to_string(),
            KeyItem::Rule => "rule".to_string(),
            KeyItem::Field(f) => crate::engine::field::info(*f).name.to_string(),
        })
        .collect::<Vec<_>>()
        .join(", ")
}

/// A duration for people: `10s`, `1.5s`, `250ms`.
pub fn duration(nanos: u64) -> String {
    if nanos.is_multiple_of(3_600_000_000_000) {
        format!("{}h", nanos / 3_600_000_000_000)
    } else if nanos.is_multiple_of(60_000_000_000) {
        format!("{}m", nanos / 60_000_000_000)
    } else if nanos.is_multiple_of(1_000_000_000) {
        format!("{}s", nanos / 1_000_000_000)
    } else if nanos >= 1_000_000_000 {
        format!("{:.3}s", nanos as f64 / 1e9)
    } else if nanos.is_multiple_of(1_000_000) {
        format!("{}ms", nanos / 1_000_000)
    } else {
        format!("{nanos}ns")
    }
}

impl std::fmt::Display for StateSpec {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        let mut parts = Vec::new();
        if let Some((n, w, k)) = &self.threshold {
            parts.push(format!("threshold {n} within {} by {}", duration(w.nanos), key_text(k)));
        }
        if let Some((n, w, k)) = &self.rate {
            parts.push(format!("rate > {n}/{} by {}", duration(w.nanos), key_text(k)));
        }
        if let Some((field, n, w, k)) = &self.distinct {
            let name = crate::engine::field::info(*field).name;
            parts.push(format!("distinct {name} > {n} within {} by {}", duration(w.nanos), key_text(k)));
        }
        if let Some((kind, n, w, k)) = &self.fixed {
            parts.push(format!("fixed {} {n} per {} by {}", kind.keyword(), duration(w.nanos), key_text(k)));
        }
        if let Some((n, w, k)) = &self.limit {
            parts.push(format!("limit {n} per {} by {}", duration(w.nanos), key_text(k)));
        }
        write!(f, "{}", parts.join("; "))
    }
}
