//! The rule header: address and port specs (literal, `$VAR`, lists with `!`) into
//! [`HeaderMatch`] sets, with Suricata's list semantics and the checks that the protocol has ports.

use crate::engine::header::{HeaderMatch, Net, PortRange, SetMatch};
use crate::rules::ast::{self, AddrSpec, PortSpec, Proto, Value, ValueKind};
use crate::rules::diag::Diagnostic;
use crate::rules::span::Span;

use super::condition::describe;
use super::vars::MAX_VAR_DEPTH;
use super::RuleCx;

impl RuleCx<'_> {
    pub(super) fn header(&mut self, rule: &ast::Rule) -> Option<HeaderMatch> {
        let src = self.addrs(&rule.src_addr, 0);
        let dst = self.addrs(&rule.dst_addr, 0);
        let src_ports = self.ports(&rule.src_port, 0);
        let dst_ports = self.ports(&rule.dst_port, 0);
        let header = HeaderMatch {
            src: src?,
            src_ports: src_ports?,
            dst: dst?,
            dst_ports: dst_ports?,
            both_directions: rule.direction.node == ast::Direction::Both,
        };
        if matches!(self.proto, Proto::Icmp | Proto::Icmp6 | Proto::Arp)
            && !(header.src_ports.is_any() && header.dst_ports.is_any())
        {
            let span = port_span(&rule.src_port).to(port_span(&rule.dst_port));
            self.diags.push(
                Diagnostic::new(format!("{} has no ports", self.proto.keyword()), span, "ports given here")
                    .with_help("write 'any' for both ports"),
            );
            return None;
        }
        Some(header)
    }

    pub(super) fn addrs(&mut self, spec: &AddrSpec, depth: usize) -> Option<SetMatch<Net>> {
        match spec {
            AddrSpec::Any(_) => Some(SetMatch::Any),
            AddrSpec::Net(n) => Some(SetMatch::One(Net::new(n.node.addr, n.node.prefix))),
            AddrSpec::Var(name) => {
                let v = self.resolve(&Value { kind: ValueKind::Var(name.node.clone()), span: name.span })?;
                self.addrs_from_value(&v, depth + 1)
            }
            AddrSpec::List(items) => {
                let (mut include, mut exclude) = (Vec::new(), Vec::new());
                for item in &items.node {
                    match item {
                        AddrSpec::Not(inner, _) => exclude.push(self.addrs(inner, depth + 1)?),
                        other => include.push(self.addrs(other, depth + 1)?),
                    }
                }
                Some(SetMatch::List { include, exclude })
            }
            AddrSpec::Not(inner, _) => Some(SetMatch::Not(Box::new(self.addrs(inner, depth + 1)?))),
        }
    }

    pub(super) fn addrs_from_value(&mut self, v: &Value, depth: usize) -> Option<SetMatch<Net>> {
        if depth > MAX_VAR_DEPTH {
            self.diags.push(Diagnostic::new("address list nested too deeply", v.span, "here"));
            return None;
        }
        match &v.kind {
            ValueKind::Word(w) if w == "any" => Some(SetMatch::Any),
            ValueKind::Net(n) => Some(SetMatch::One(Net::new(n.addr, n.prefix))),
            ValueKind::Var(_) => {
                let r = self.resolve(v)?;
                self.addrs_from_value(&r, depth + 1)
            }
            ValueKind::List(items) => {
                let (mut include, mut exclude) = (Vec::new(), Vec::new());
                for item in items {
                    match &item.kind {
                        ValueKind::Not(inner) => exclude.push(self.addrs_from_value(inner, depth + 1)?),
                        _ => include.push(self.addrs_from_value(item, depth + 1)?),
                    }
                }
                Some(SetMatch::List { include, exclude })
            }
            ValueKind::Not(inner) => Some(SetMatch::Not(Box::new(self.addrs_from_value(inner, depth + 1)?))),
            _ => {
                self.diags.push(Diagnostic::new(
                    "expected an address, network, list of them, or 'any'",
                    v.span,
                    format!("this is {}", describe(v)),
                ));
                None
            }
        }
    }

    pub(super) fn ports(&mut self, spec: &PortSpec, depth: usize) -> Option<SetMatch<PortRange>> {
        match spec {
            PortSpec::Any(_) => Some(SetMatch::Any),
            PortSpec::Port(p) => Some(SetMatch::One(PortRange { lo: p.node, hi: p.node })),
            PortSpec::Range(r) => {
                let (lo, hi) = (r.node.0.unwrap_or(0), r.node.1.unwrap_or(u16::MAX));
                if lo > hi {
                    self.diags.push(Diagnostic::new("port range is empty", r.span, "low end above high end"));
                    return None;
                }
                Some(SetMatch::One(PortRange { lo, hi }))
            }
            PortSpec::Var(name) => {
                let v = self.resolve(&Value { kind: ValueKind::Var(name.node.clone()), span: name.span })?;
                self.ports_from_value(&v, depth + 1)
            }
            PortSpec::List(items) => {
                let (mut include, mut exclude) = (Vec::new(), Vec::new());
                for item in &items.node {
                    match item {
                        PortSpec::Not(inner, _) => exclude.push(self.ports(inner, depth + 1)?),
                        other => include.push(self.ports(other, depth + 1)?),
                    }
                }
                Some(SetMatch::List { include, exclude })
            }
            PortSpec::Not(inner, _) => Some(SetMatch::Not(Box::new(self.ports(inner, depth + 1)?))),
        }
    }

    pub(super) fn ports_from_value(&mut self, v: &Value, depth: usize) -> Option<SetMatch<PortRange>> {
        if depth > MAX_VAR_DEPTH {
            self.diags.push(Diagnostic::new("port list nested too deeply", v.span, "here"));
            return None;
        }
        let port = |n: f64| (n.fract() == 0.0 && (0.0..=65535.0).contains(&n)).then_some(n as u16);
        match &v.kind {
            ValueKind::Word(w) if w == "any" => Some(SetMatch::Any),
            ValueKind::Number(n) if port(*n).is_some() => port(*n).map(|p| SetMatch::One(PortRange { lo: p, hi: p })),
            ValueKind::Range(a, b) => match (&a.kind, &b.kind) {
                (ValueKind::Number(a), ValueKind::Number(b)) if port(*a).is_some() && port(*b).is_some() && a <= b => {
                    Some(SetMatch::One(PortRange { lo: port(*a)?, hi: port(*b)? }))
                }
                _ => {
                    self.diags.push(Diagnostic::new("expected a port range like 1024..65535", v.span, "here"));
                    None
                }
            },
            ValueKind::Var(_) => {
                let r = self.resolve(v)?;
                self.ports_from_value(&r, depth + 1)
            }
            ValueKind::List(items) => {
                let (mut include, mut exclude) = (Vec::new(), Vec::new());
                for item in items {
                    match &item.kind {
                        ValueKind::Not(inner) => exclude.push(self.ports_from_value(inner, depth + 1)?),
                        _ => include.push(self.ports_from_value(item, depth + 1)?),
                    }
                }
                Some(SetMatch::List { include, exclude })
            }
            ValueKind::Not(inner) => Some(SetMatch::Not(Box::new(self.ports_from_value(inner, depth + 1)?))),
            _ => {
                self.diags.push(Diagnostic::new(
                    "expected a port (0-65535), a range, a list of them, or 'any'",
                    v.span,
                    format!("this is {}", describe(v)),
                ));
                None
            }
        }
    }
}

pub(super) fn port_span(p: &PortSpec) -> Span {
    match p {
        PortSpec::Any(s) | PortSpec::Not(_, s) => *s,
        PortSpec::Port(x) => x.span,
        PortSpec::Range(x) => x.span,
        PortSpec::Var(x) => x.span,
        PortSpec::List(x) => x.span,
    }
}

#[cfg(test)]
mod tests {
    use crate::engine::compile::test_support::{covered, error, ok, only, rule, with_cx};
    use crate::rules::ast::{PortSpec, Proto, Spanned};
    use crate::rules::span::Span;

    fn header(text: &str) -> String {
        only(&ok(text)).header.to_string()
    }

    #[test]
    fn addresses_and_ports_resolve_variables() {
        let text =
            format!("var SERVERS = [10.0.0.1, 10.0.0.2]\nvar P = 53\n{}", rule("udp", "any any -> $SERVERS $P", ""));
        let h = header(&text);
        assert!(h.contains("10.0.0.1") && h.contains("10.0.0.2") && h.contains("53"), "{h}");
        assert!(only(&ok(&rule("ip", "any any -> any any", ""))).header.is_any());
    }

    #[test]
    fn protocols_without_ports_refuse_them() {
        let text = rule("icmp", "any 80 -> any any", "");
        let d = error(&text);
        assert_eq!(d.message, "icmp has no ports");
        assert_eq!(d.label, "ports given here");
        assert!(covered(&text, &d).starts_with("80 -> "));
    }

    #[test]
    fn an_empty_port_range_is_an_error() {
        let text = format!("var P = 90..80\n{}", rule("udp", "any any -> any $P", ""));
        assert_eq!(error(&text).message, "expected a port range like 1024..65535");
        // The parser refuses `90:80` in a header; the compiler checks again.
        let spec = PortSpec::Range(Spanned::new((Some(90), Some(80)), Span::default()));
        let diags = with_cx(Proto::Udp, |cx| {
            assert!(cx.ports(&spec, 0).is_none());
            cx.diags.clone()
        });
        assert_eq!(diags[0].message, "port range is empty");
    }

    #[test]
    fn a_variable_of_the_wrong_kind_is_an_error() {
        let text = format!("var P = \"x\"\n{}", rule("udp", "any any -> any $P", ""));
        let d = error(&text);
        assert_eq!(d.label, "this is the string \"x\"");
        let text = format!("var A = 5\n{}", rule("udp", "$A any -> any any", ""));
        assert_eq!(error(&text).label, "this is the number 5");
    }
}
