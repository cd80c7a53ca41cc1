//! A Suricata rule's options, translated keyword by keyword into the native
//! rule's options and condition. Everything that decides which packets match
//! becomes a `when` test or a `has [...]` content test; the rest (`msg`,
//! `sid`, `classtype`, ...) becomes the matching native option. A keyword
//! ferret cannot honour exactly refuses the rule, naming it.

use crate::rules::ast::{
    ContentItem, ContentTest, Expr, FieldRef, Fixed, FixedKind, KeyPart, KeySpec, Pattern, Proto, RuleOption, Spanned,
    Test, TestOp, Value, ValueKind,
};
use crate::rules::diag::Diagnostic;
use crate::rules::span::Span;

use super::classification;
use super::content::{self, MAX_RELATIVE};
use super::lexer::RawOption;

/// A refusal: what is wrong, and where.
pub(super) type Refusal = Diagnostic;

/// One content group: the contents and pcres of one buffer, in order.
struct Group {
    field: &'static str,
    span: Span,
    items: Vec<ContentItem>,
}

/// Translates the options of a rule of native protocol `proto` into native
/// options, the condition last; `pre` are tests the header implies (they do
/// not make the rule inspect packets: a rule with no other test is IP-only
/// and matches the first packet of each flow direction).
pub(super) fn translate(
    raw: &[RawOption],
    proto: Proto,
    is_pass: bool,
    pre: Vec<Expr>,
) -> Result<Vec<RuleOption>, Refusal> {
    let mut t = Translator {
        proto,
        options: Vec::new(),
        tests: pre,
        groups: Vec::new(),
        buffer: "payload",
        last: None,
        has_match: false,
        dsize_max: None,
        sid: None,
        priority: None,
        fixed: false,
    };
    for opt in raw {
        t.option(opt)?;
    }
    let Some(sid_span) = t.sid else {
        let span = raw.first().map_or(Span::default(), |o| o.name_span);
        return Err(Diagnostic::new("rule has no sid", span, "options of a rule without 'sid'"));
    };
    if let Some((max, span)) = t.dsize_max {
        if let Some(g) = t.groups.iter().find(|g| g.field == "payload") {
            let need = content::required_len(&g.items);
            if need > max {
                return Err(Diagnostic::new(
                    format!("signature can't match as required content length {need} exceeds dsize value {max}"),
                    span,
                    "dsize",
                ));
            }
        }
    }
    if let Some(p) = t.priority {
        t.options.push(RuleOption::Severity(Spanned::new(classification::severity(p), sid_span)));
    }
    if is_pass {
        t.options.push(RuleOption::Applies(Spanned::new(crate::rules::ast::PassScope::Flow, sid_span)));
    }
    let ip_only = !t.has_match;
    let mut tests = std::mem::take(&mut t.tests);
    for g in std::mem::take(&mut t.groups) {
        let field = FieldRef { name: g.field.to_string(), span: g.span };
        tests.push(Expr::Content(ContentTest { field, items: g.items, span: g.span }));
    }
    if ip_only && proto != Proto::Dns {
        tests.push(flag("flow.first", true, sid_span));
    }
    let mut options = t.options;
    if let Some(when) = and(tests, sid_span) {
        options.push(RuleOption::When(when));
    }
    Ok(options)
}

struct Translator {
    proto: Proto,
    options: Vec<RuleOption>,
    tests: Vec<Expr>,
    groups: Vec<Group>,
    /// The field contents go to (a sticky buffer sets it).
    buffer: &'static str,
    /// The last content or pcre: (group, item).
    last: Option<(usize, usize)>,
    has_match: bool,
    dsize_max: Option<(i64, Span)>,
    sid: Option<Span>,
    priority: Option<u64>,
    fixed: bool,
}

fn refuse<T>(message: impl Into<String>, span: Span, label: &str) -> Result<T, Refusal> {
    Err(Diagnostic::new(message, span, label))
}

impl Translator {
    fn option<'o>(&mut self, o: &'o RawOption) -> Result<(), Refusal> {
        let name = o.name.as_str();
        let span = o.name_span;
        let vspan = if o.value.is_some() { o.value_span } else { span };
        let value = o.value.as_deref().map(str::trim);
        let need = |v: Option<&'o str>| -> Result<&'o str, Refusal> {
            v.filter(|v| !v.is_empty())
                .ok_or_else(|| Diagnostic::new(format!("'{name}' needs a value"), span, "no value"))
        };
        match name {
            "msg" => {
                let (_, text) = content::quoted(need(value)?, "msg").map_err(|e| Diagnostic::new(e, vspan, "msg"))?;
                let escaped = text.replace('{', "{{").replace('}', "}}");
                self.options.push(RuleOption::Msg(Spanned::new(escaped, vspan)));
            }
            "sid" => {
                let n = whole(need(value)?, name, vspan)?;
                self.sid = Some(vspan);
                self.options.insert(0, RuleOption::Id(Spanned::new(n, vspan)));
            }
            "rev" => self.options.push(RuleOption::Rev(Spanned::new(whole(need(value)?, name, vspan)?, vspan))),
            "gid" => self.options.push(RuleOption::Gid(Spanned::new(whole(need(value)?, name, vspan)?, vspan))),
            "priority" => {
                let p = whole(need(value)?, name, vspan)?;
                if !(1..=255).contains(&p) {
                    return refuse(format!("priority {p} is out of range 1-255"), vspan, "priority");
                }
                self.priority = Some(p);
            }
            "classtype" => {
                let class = need(value)?;
                let Some(p) = classification::priority(class) else {
                    return refuse(format!("unknown classtype '{class}'"), vspan, "not in the classification table");
                };
                self.priority.get_or_insert(p);
                self.options.push(RuleOption::Class(Spanned::new(class.to_string(), vspan)));
            }
            "reference" => self.options.push(RuleOption::Reference(Spanned::new(need(value)?.to_string(), vspan))),
            // Accepted, with no effect on matching: ferret keeps no metadata and steers no prefilter.
            "metadata" | "target" => {}
            "noalert" => self.options.push(RuleOption::Noalert(span)),
            "flow" => self.flow(need(value)?, vspan)?,
            "dsize" => {
                let (expr, max) = numeric("payload.len", need(value)?, vspan, u64::from(u16::MAX))?;
                if let Some(m) = max {
                    self.dsize_max = Some((m, vspan));
                }
                // Suricata's `dsize:!N` does not match packets without payload (observed with 8.0.6).
                let negated = matches!(&expr, Expr::Test(t) if t.op.node == TestOp::Ne);
                self.test(expr);
                if negated {
                    self.test(cmp("payload.len", TestOp::Gt, 0.0, vspan));
                }
            }
            "itype" => self.numeric_test("icmp.type", value, vspan, 255)?,
            "icode" => self.numeric_test("icmp.code", value, vspan, 255)?,
            "icmp_id" => self.numeric_test("icmp.id", value, vspan, 65535)?,
            "icmp_seq" => self.numeric_test("icmp.seq", value, vspan, 65535)?,
            "ttl" => self.numeric_test("ip.ttl", value, vspan, 255)?,
            "id" => self.numeric_test("ip.id", value, vspan, 65535)?,
            "ip_proto" => {
                let expr = ip_proto(need(value)?, vspan)?;
                self.test(expr);
            }
            "dns.opcode" => self.numeric_test("dns.opcode", value, vspan, 15)?,
            "dns.rrtype" => self.numeric_test("dns.qtype", value, vspan, 65535)?,
            "dns.query" | "dns_query" => {
                // Suricata fills these buffers from requests only.
                if self.buffer != "dns.qname" {
                    self.test(flag("dns.is_response", false, span));
                }
                self.buffer = "dns.qname";
            }
            "dns.queries.rrname" => {
                self.has_match = true;
                self.buffer = "dns.qname";
            }
            "pkt_data" => self.buffer = "payload",
            "bsize" => {
                if self.buffer == "payload" {
                    return refuse("bsize needs a sticky buffer such as dns.query", span, "no buffer");
                }
                let (expr, _) = numeric("dns.qname.len", need(value)?, vspan, u64::from(u16::MAX))?;
                self.test(expr);
            }
            "entropy" => self.entropy(need(value)?, vspan)?,
            "threshold" | "detection_filter" => self.threshold(name, need(value)?, vspan)?,
            "content" => {
                let (negated, text) =
                    content::quoted(need(value)?, "content").map_err(|e| Diagnostic::new(e, vspan, "content"))?;
                let bytes = content::content_bytes(&text).map_err(|e| Diagnostic::new(e, vspan, "content"))?;
                if bytes.is_empty() {
                    return refuse("content is empty", vspan, "content");
                }
                let item = ContentItem {
                    pattern: Pattern::Bytes(content::bytes_text(&bytes)),
                    negated,
                    span: vspan,
                    ..ContentItem::default()
                };
                self.push_item(item, vspan);
            }
            "pcre" => {
                let mut item = content::pcre(need(value)?).map_err(|e| Diagnostic::new(e, vspan, "pcre"))?;
                item.span = vspan;
                self.push_item(item, vspan);
            }
            "nocase" | "startswith" | "endswith" | "fast_pattern" | "rawbytes" | "depth" | "offset" | "distance"
            | "within" => self.modifier(name, value, span, vspan)?,
            "" => return refuse("unknown rule keyword ''", span, "empty option (two ';' in a row?)"),
            other => {
                return Err(Diagnostic::new(
                    format!("unsupported keyword '{other}'"),
                    span,
                    "ferret cannot load this keyword",
                )
                .with_help("see \"Bring your Suricata rules\" in the README for the keywords ferret loads"))
            }
        }
        Ok(())
    }

    fn test(&mut self, e: Expr) {
        self.has_match = true;
        self.tests.push(e);
    }

    fn numeric_test(&mut self, field: &str, value: Option<&str>, span: Span, max: u64) -> Result<(), Refusal> {
        let v = value.filter(|v| !v.is_empty()).ok_or_else(|| Diagnostic::new("missing value", span, "here"))?;
        let (expr, _) = numeric(field, v, span, max)?;
        self.test(expr);
        Ok(())
    }

    fn push_item(&mut self, item: ContentItem, span: Span) {
        self.has_match = true;
        let index = match self.groups.iter().position(|g| g.field == self.buffer) {
            Some(i) => i,
            None => {
                self.groups.push(Group { field: self.buffer, span, items: Vec::new() });
                self.groups.len() - 1
            }
        };
        if let Some(g) = self.groups.get_mut(index) {
            g.items.push(item);
            self.last = Some((index, g.items.len() - 1));
        }
    }

    fn modifier(&mut self, name: &str, value: Option<&str>, span: Span, vspan: Span) -> Result<(), Refusal> {
        let Some(item) = self.last.and_then(|(g, i)| self.groups.get_mut(g)?.items.get_mut(i)) else {
            return refuse(format!("{name} needs a preceding content"), span, "no content before it");
        };
        let is_regex = matches!(item.pattern, Pattern::Regex { .. });
        let len = match &item.pattern {
            Pattern::Bytes(s) => s.chars().count() as i64,
            Pattern::Regex { .. } => 0,
        };
        if is_regex && !matches!(name, "fast_pattern" | "rawbytes") {
            return refuse(format!("{name} after pcre is not supported"), span, "applies to a pcre");
        }
        let number = |v: Option<&str>| -> Result<i64, Refusal> {
            let v = v.map(str::trim).unwrap_or("");
            v.parse::<i64>()
                .map_err(|_| Diagnostic::new(format!("invalid value for {name}: '{v}'"), vspan, "not a number"))
        };
        match name {
            "nocase" => item.nocase = true,
            "fast_pattern" => item.fast_pattern = true,
            "rawbytes" => {}
            "startswith" => {
                if item.offset.is_some() || item.depth.is_some() || item.is_relative() {
                    return refuse("startswith cannot be mixed with depth, offset, within or distance", span, name);
                }
                item.startswith = true;
            }
            "endswith" => item.endswith = true,
            _ => {
                let n = number(value)?;
                let relative = matches!(name, "distance" | "within");
                let mixed = if relative { item.offset.is_some() || item.depth.is_some() } else { item.is_relative() };
                if mixed {
                    return refuse(
                        "can't use a relative keyword like within/distance with an absolute one like depth/offset",
                        span,
                        name,
                    );
                }
                if item.startswith {
                    return refuse("startswith cannot be mixed with depth, offset, within or distance", span, name);
                }
                let slot = match name {
                    "depth" => &mut item.depth,
                    "offset" => &mut item.offset,
                    "within" => &mut item.within,
                    _ => &mut item.distance,
                };
                if slot.is_some() {
                    return refuse(format!("can't use multiple {name}s for the same content"), span, name);
                }
                let valid = match name {
                    "depth" => (len..=MAX_RELATIVE).contains(&n),
                    "offset" => (0..=MAX_RELATIVE).contains(&n),
                    "within" => n.abs() <= MAX_RELATIVE && !(0..len).contains(&n),
                    _ => n.abs() <= MAX_RELATIVE,
                };
                if !valid {
                    return refuse(format!("invalid value for {name}: {n}"), vspan, name);
                }
                *slot = Some(n);
            }
        }
        let positional = item.offset.is_some() || item.depth.is_some() || item.is_relative();
        if item.negated && item.fast_pattern && positional {
            return refuse("can't have a relative negated keyword set along with 'fast_pattern'", span, name);
        }
        Ok(())
    }

    fn flow(&mut self, value: &str, span: Span) -> Result<(), Refusal> {
        for part in value.split(',').map(str::trim) {
            let test = match part {
                "to_server" | "from_client" => Some(flag("flow.to_server", true, span)),
                "to_client" | "from_server" => Some(flag("flow.to_server", false, span)),
                "established" | "not_established" if self.proto == Proto::Tcp => {
                    return refuse(
                        format!("flow:{part} on TCP needs TCP session tracking, which ferret does not do"),
                        span,
                        "flow",
                    )
                }
                "established" => Some(flag("flow.established", true, span)),
                "not_established" => Some(flag("flow.established", false, span)),
                "stateless" => None,
                other => return refuse(format!("flow option '{other}' is not supported"), span, "flow"),
            };
            if let Some(t) = test {
                self.test(t);
            } else {
                self.has_match = true;
            }
        }
        Ok(())
    }

    fn entropy(&mut self, value: &str, span: Span) -> Result<(), Refusal> {
        if self.buffer != "payload" {
            return refuse("entropy is supported on the payload only", span, "entropy");
        }
        let mut test = None;
        for part in value.split(',').map(str::trim) {
            let Some(v) = part.strip_prefix("value") else {
                return refuse(format!("entropy '{part}' is not supported (only 'value')"), span, "entropy");
            };
            let v = v.trim();
            let (op, n) = [
                ("<=", TestOp::Le),
                (">=", TestOp::Ge),
                ("!=", TestOp::Ne),
                ("<", TestOp::Lt),
                (">", TestOp::Gt),
                ("=", TestOp::Eq),
            ]
            .into_iter()
            .find_map(|(s, op)| v.strip_prefix(s).map(|n| (op, n.trim())))
            .unwrap_or((TestOp::Eq, v));
            let x: f64 =
                n.parse().map_err(|_| Diagnostic::new(format!("invalid entropy value '{n}'"), span, "entropy"))?;
            if !(0.0..=8.0).contains(&x) {
                return refuse(format!("entropy value {x} is outside 0-8"), span, "entropy");
            }
            test = Some(cmp("payload.entropy", op, x, span));
        }
        let Some(t) = test else { return refuse("entropy needs a value", span, "entropy") };
        self.test(t);
        Ok(())
    }

    fn threshold(&mut self, name: &str, value: &str, span: Span) -> Result<(), Refusal> {
        if self.fixed {
            return refuse("only one threshold or detection_filter per rule", span, name);
        }
        self.fixed = true;
        let mut kind = (name == "detection_filter").then_some(FixedKind::DetectionFilter);
        let (mut track, mut count, mut seconds) = (None, None, None);
        for part in value.split(',').map(str::trim) {
            let (k, v) = part.split_once(char::is_whitespace).map(|(k, v)| (k, v.trim())).unwrap_or((part, ""));
            match (k, v) {
                ("type", "limit") if name == "threshold" => kind = Some(FixedKind::Limit),
                ("type", "threshold") if name == "threshold" => kind = Some(FixedKind::Threshold),
                ("type", "both") if name == "threshold" => kind = Some(FixedKind::Both),
                ("track", "by_src") => track = Some(KeyPart::Src),
                ("track", "by_dst") => track = Some(KeyPart::Dst),
                ("track", "by_both") => track = Some(KeyPart::Pair),
                ("track", "by_rule") => track = Some(KeyPart::Rule),
                ("count", n) => count = n.parse::<u64>().ok(),
                ("seconds", n) => seconds = n.parse::<u64>().ok(),
                _ => return refuse(format!("{name} '{part}' is not supported"), span, name),
            }
        }
        let (Some(kind), Some(track), Some(count), Some(seconds)) = (kind, track, count, seconds) else {
            return refuse(format!("{name} needs type, track, count and seconds"), span, name);
        };
        if seconds == 0 {
            return refuse(format!("{name}: seconds must be more than 0"), span, name);
        }
        let key = KeySpec { parts: vec![Spanned::new(track, span)], span };
        self.options.push(RuleOption::Fixed(Fixed {
            kind: Spanned::new(kind, span),
            count: Spanned::new(count, span),
            window: Spanned::new(seconds.saturating_mul(1_000_000_000), span),
            key,
            span,
        }));
        Ok(())
    }
}

fn whole(v: &str, name: &str, span: Span) -> Result<u64, Refusal> {
    v.trim().parse::<u64>().map_err(|_| Diagnostic::new(format!("invalid {name} '{v}'"), span, "not a whole number"))
}

/// `field OP n` as an expression.
pub(super) fn cmp(field: &str, op: TestOp, n: f64, span: Span) -> Expr {
    Expr::Test(Test {
        field: FieldRef { name: field.to_string(), span },
        op: Spanned::new(op, span),
        value: Value { kind: ValueKind::Number(n), span },
        span,
    })
}

/// `field == true|false`.
pub(super) fn flag(field: &str, b: bool, span: Span) -> Expr {
    Expr::Test(Test {
        field: FieldRef { name: field.to_string(), span },
        op: Spanned::new(TestOp::Eq, span),
        value: Value { kind: ValueKind::Bool(b), span },
        span,
    })
}

/// `field in [n, ...]`.
pub(super) fn one_of(field: &str, values: &[f64], span: Span) -> Expr {
    let list = values.iter().map(|&n| Value { kind: ValueKind::Number(n), span }).collect();
    Expr::Test(Test {
        field: FieldRef { name: field.to_string(), span },
        op: Spanned::new(TestOp::In, span),
        value: Value { kind: ValueKind::List(list), span },
        span,
    })
}

/// Conjunction of the tests, if any.
pub(super) fn and(mut tests: Vec<Expr>, span: Span) -> Option<Expr> {
    match tests.len() {
        0 => None,
        1 => tests.pop(),
        _ => Some(Expr::And(tests, span)),
    }
}

/// Suricata's unsigned-number forms (`N`, `<N`, `>N`, `<=N`, `>=N`, `N<>M`,
/// `N-M`, `!N`) as a test of `field`; also the largest value it allows.
fn numeric(field: &str, v: &str, span: Span, max: u64) -> Result<(Expr, Option<i64>), Refusal> {
    let v = v.trim();
    let num = |s: &str| -> Result<f64, Refusal> {
        match s.trim().parse::<u64>() {
            Ok(n) if n <= max => Ok(n as f64),
            _ => refuse(format!("invalid value '{}' (0 to {max})", s.trim()), span, "value"),
        }
    };
    let range = v.split_once("<>").or_else(|| v.split_once('-').filter(|(a, _)| !a.trim().is_empty()));
    if let Some((lo, hi)) = range {
        let (lo, hi) = (num(lo)?, num(hi)?);
        if lo >= hi {
            return refuse(format!("range {lo}<>{hi} is empty"), span, "range");
        }
        let e = Expr::And(vec![cmp(field, TestOp::Gt, lo, span), cmp(field, TestOp::Lt, hi, span)], span);
        return Ok((e, Some(hi as i64)));
    }
    for (prefix, op) in
        [("<=", TestOp::Le), (">=", TestOp::Ge), ("<", TestOp::Lt), (">", TestOp::Gt), ("!", TestOp::Ne)]
    {
        if let Some(rest) = v.strip_prefix(prefix) {
            let n = num(rest)?;
            let bound = matches!(op, TestOp::Le | TestOp::Lt).then_some(n as i64);
            return Ok((cmp(field, op, n, span), bound));
        }
    }
    let n = num(v.strip_prefix('=').unwrap_or(v))?;
    Ok((cmp(field, TestOp::Eq, n, span), Some(n as i64)))
}

/// Protocol names `ip_proto` takes (case-sensitive, as in /etc/protocols).
const PROTOCOL_NAMES: [(&str, u8); 18] = [
    ("ip", 0),
    ("IP", 0),
    ("icmp", 1),
    ("ICMP", 1),
    ("igmp", 2),
    ("IGMP", 2),
    ("tcp", 6),
    ("TCP", 6),
    ("udp", 17),
    ("UDP", 17),
    ("gre", 47),
    ("GRE", 47),
    ("esp", 50),
    ("ah", 51),
    ("ipv6-icmp", 58),
    ("IPv6-ICMP", 58),
    ("sctp", 132),
    ("SCTP", 132),
];

fn ip_proto(v: &str, span: Span) -> Result<Expr, Refusal> {
    let (op, rest) = [("<", TestOp::Lt), (">", TestOp::Gt), ("!", TestOp::Ne)]
        .into_iter()
        .find_map(|(p, op)| v.strip_prefix(p).map(|r| (op, r.trim())))
        .unwrap_or((TestOp::Eq, v));
    let n = if rest.starts_with(|c: char| c.is_ascii_digit()) {
        match rest.parse::<u64>() {
            Ok(n) if n <= 255 => n,
            _ => return refuse(format!("malformed protocol number: {rest}"), span, "ip_proto"),
        }
    } else {
        match PROTOCOL_NAMES.iter().find(|(name, _)| *name == rest) {
            Some((_, n)) => u64::from(*n),
            None => return refuse(format!("unknown protocol name: \"{rest}\""), span, "ip_proto"),
        }
    };
    Ok(cmp("ip.proto", op, n as f64, span))
}
