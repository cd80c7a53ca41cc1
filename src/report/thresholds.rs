//! The numeric limits of the rules, to draw on the entropy charts.
//!
//! A chart of inspected payloads means little without the lines the rules
//! draw through it. Rather than guess from variable names (a rule may use a
//! literal, or a variable under another name), this reads the compiled
//! condition tree: every `payload.len`, `payload.entropy`, `dns.qname.len`
//! and `dns.qname.entropy` compared with a number, outside any `not`, in an
//! alert rule. Whatever the rules say is what the chart shows.

use serde::{Deserialize, Serialize};

use crate::engine::predicate::{Check, CmpOp, Field, Node};
use crate::engine::ruleset::RuleSet;
use crate::rules::ast::Action;

/// One limit a rule puts on a charted field.
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
pub struct Threshold {
    /// The rule's signature id.
    pub sid: u64,
    /// `payload.len`, `payload.entropy`, `dns.qname.len` or `dns.qname.entropy`.
    pub field: String,
    /// `>`, `>=`, `<` or `<=`.
    pub op: String,
    /// The constant.
    pub value: f64,
}

fn charted(field: Field) -> Option<&'static str> {
    match field {
        Field::PayloadLen => Some("payload.len"),
        Field::PayloadEntropy => Some("payload.entropy"),
        Field::DnsQnameLen => Some("dns.qname.len"),
        Field::DnsQnameEntropy => Some("dns.qname.entropy"),
        _ => None,
    }
}

fn op_str(op: CmpOp) -> Option<&'static str> {
    match op {
        CmpOp::Gt => Some(">"),
        CmpOp::Ge => Some(">="),
        CmpOp::Lt => Some("<"),
        CmpOp::Le => Some("<="),
        CmpOp::Eq | CmpOp::Ne => None,
    }
}

fn walk(node: &Node, sid: u64, out: &mut Vec<Threshold>) {
    match node {
        Node::And(children) | Node::Or(children) => children.iter().for_each(|c| walk(c, sid, out)),
        // A limit under `not` bounds the other side; leave it out rather than draw it wrong.
        Node::Not(_) | Node::Const(_) => {}
        Node::Pred(p) if p.negated => {}
        Node::Pred(p) => {
            if let (Some(field), Check::Num(op, value)) = (charted(p.field), &p.check) {
                if let Some(op) = op_str(*op) {
                    let t = Threshold { sid, field: field.to_string(), op: op.to_string(), value: *value };
                    if !out.contains(&t) {
                        out.push(t);
                    }
                }
            }
        }
    }
}

/// The charted limits of every alert rule, in rule load order.
pub fn thresholds(rules: &RuleSet) -> Vec<Threshold> {
    let mut out = Vec::new();
    for rule in rules.rules().iter().filter(|r| r.action == Action::Alert) {
        walk(&rule.cond, rule.sid, &mut out);
    }
    out
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::load::{self, RuleSource};

    #[test]
    fn default_rules_give_their_variables() {
        let rules = load::load(&[RuleSource::Defaults], &[]).unwrap();
        let t = thresholds(&rules);
        let find = |sid, field: &str| t.iter().find(|t| t.sid == sid && t.field == field).map(|t| t.value);
        assert_eq!(find(7100001, "payload.len"), Some(32.0));
        assert_eq!(find(7100001, "payload.entropy"), Some(5.8));
        assert_eq!(find(7100101, "dns.qname.len"), Some(25.0));
        assert_eq!(find(7100101, "dns.qname.entropy"), Some(3.5));
    }

    #[test]
    fn negated_limits_are_left_out() {
        let text =
            "alert icmp any any -> any any { id 1 msg \"x\" when not payload.len > 10 and payload.entropy >= 2 }";
        let rules = load::compile_texts(vec![("t.rules".into(), text.into())], &[]).unwrap();
        let t = thresholds(&rules);
        assert_eq!(t, vec![Threshold { sid: 1, field: "payload.entropy".into(), op: ">=".into(), value: 2.0 }]);
    }
}
