//! Helpers shared by the parser's unit tests: build a rule around a body, parse and expect
//! success or exactly one error at an exact span.

use crate::rules::ast::{Expr, IpNet, Item, Rule, RuleFile, RuleOption, ValueKind};
use crate::rules::diag::Diagnostic;
use crate::rules::span::Span;

use super::{parse_rule_file, parse_value};

pub(super) fn rule_src(body: &str) -> String {
    format!("alert ip any any -> any any {{\n    {body}\n}}\n")
}

pub(super) fn parse_ok(text: &str) -> RuleFile {
    let (file, diags) = parse_rule_file(text);
    assert!(diags.is_empty(), "unexpected diagnostics for {text:?}: {diags:#?}");
    file
}

pub(super) fn only_rule(text: &str) -> Rule {
    match parse_ok(text).items.as_slice() {
        [Item::Rule(r)] => r.clone(),
        other => panic!("expected one rule, got {other:#?}"),
    }
}

pub(super) fn options(body: &str) -> Vec<RuleOption> {
    only_rule(&rule_src(body)).options
}

pub(super) fn when(cond: &str) -> Expr {
    match options(&format!("when {cond}")).as_slice() {
        [RuleOption::When(e)] => e.clone(),
        other => panic!("{other:#?}"),
    }
}

pub(super) fn at(text: &str, span: Span) -> &str {
    &text[span.start..span.end]
}

/// Parses `text`, expects exactly one diagnostic, checks its message and the text it covers.
pub(super) fn error(text: &str, message: &str, covered: &str) -> Diagnostic {
    let (_, diags) = parse_rule_file(text);
    assert_eq!(diags.len(), 1, "for {text:?}: {diags:#?}");
    let d = diags[0].clone();
    assert_eq!(d.message, message, "for {text:?}");
    assert_eq!(at(text, d.span), covered, "span of {d:?}");
    d
}

pub(super) fn error_in(body: &str, message: &str, covered: &str) -> Diagnostic {
    error(&rule_src(body), message, covered)
}

pub(super) fn value(text: &str) -> ValueKind {
    parse_value(text).unwrap_or_else(|d| panic!("{text:?}: {d:?}")).kind
}

pub(super) fn num(v: f64) -> ValueKind {
    ValueKind::Number(v)
}

pub(super) fn net(text: &str, prefix: u8) -> ValueKind {
    ValueKind::Net(IpNet { addr: text.parse().unwrap(), prefix })
}

pub(super) fn kinds(v: ValueKind) -> Vec<ValueKind> {
    match v {
        ValueKind::List(items) => items.into_iter().map(|v| v.kind).collect(),
        other => panic!("not a list: {other:?}"),
    }
}

pub(super) const EXAMPLE: &str = r#"# comment to end of line (not inside strings/regex)
var HOME_NET = [192.168.0.0/16, 10.0.0.0/8, !10.9.0.0/16]
var ICMP_MIN = 64

alert icmp $HOME_NET any -> any any {
id        1000001
rev       1
msg       "Potential ICMP tunneling detected (byte length={payload.len}, entropy={payload.entropy:.2})"
severity  critical
class     covert-channel
tags      [icmp, tunnel]
reference "https://attack.mitre.org/techniques/T1095/"
recommend "Isolate {src} and {dst} for forensic analysis"
when      icmp.type in [echo-request, 0] and payload.len > $ICMP_MIN
          and (payload.entropy > 5.8 or payload.entropy.norm >= 0.9)
threshold 5 within 10s by pair
rate      > 3/s by src
limit     1 per 60s by src
distinct  dns.subdomain > 100 within 1m by src, dns.domain
}
"#;
