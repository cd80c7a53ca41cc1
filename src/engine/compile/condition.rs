//! Condition typing: each test's field must exist and suit the rule's protocol, its operator must
//! suit the field's type, and its value must be of that type (numbers, word values, ranges,
//! address and string lists). The result is a predicate [`Node`] tree.

use crate::engine::content::{ContentSeq, Needle, Step};
use crate::engine::field::{self, FieldInfo, FieldType};
use crate::engine::header::Net;
use crate::engine::predicate::{Check, CmpOp, DomainSet, Node, Predicate};
use crate::rules::ast::{self, Expr, Test, TestOp, Value, ValueKind};
use crate::rules::diag::Diagnostic;

use super::vars::MAX_VAR_DEPTH;
use super::RuleCx;

impl RuleCx<'_> {
    pub(super) fn field(&mut self, f: &ast::FieldRef) -> Option<&'static FieldInfo> {
        let Some(info) = field::lookup(&f.name) else {
            let d = Diagnostic::new(format!("unknown field '{}'", f.name), f.span, "unknown field");
            self.diags.push(match field::suggest(&f.name) {
                Some(s) => d.with_help(format!("did you mean '{s}'?")),
                None => d.with_help("`ferret explain --fields` lists every field"),
            });
            return None;
        };
        if !info.layer.allowed_in(self.proto) {
            self.diags.push(Diagnostic::new(
                format!("field '{}' is not available in {} rules", info.name, self.proto.keyword()),
                f.span,
                format!("{} packets never have it", self.proto.keyword()),
            ));
            return None;
        }
        Some(info)
    }

    /// Compiles a condition; on error records it and returns a placeholder.
    pub(super) fn expr(&mut self, e: &Expr, depth: usize) -> Node {
        if depth > 256 {
            self.diags.push(Diagnostic::new("condition nested too deeply", e.span(), "here"));
            return Node::Const(false);
        }
        match e {
            Expr::And(items, _) => Node::And(items.iter().map(|i| self.expr(i, depth + 1)).collect()),
            Expr::Or(items, _) => Node::Or(items.iter().map(|i| self.expr(i, depth + 1)).collect()),
            Expr::Not(inner, _) => Node::Not(Box::new(self.expr(inner, depth + 1))),
            Expr::Bool(b) => Node::Const(b.node),
            Expr::Field(f) => match self.field(f) {
                Some(info) if info.ty == FieldType::Bool => Node::Pred(Predicate::new(info.field, Check::Bool(true))),
                Some(info) => {
                    self.diags.push(
                        Diagnostic::new(
                            format!("'{}' is a {}, not a condition", info.name, info.ty.name()),
                            f.span,
                            "needs a comparison",
                        )
                        .with_help(format!(
                            "compare it, e.g. `{} {}`",
                            info.name,
                            example_test(info.ty)
                        )),
                    );
                    Node::Const(false)
                }
                None => Node::Const(false),
            },
            Expr::Test(t) => self.test(t).unwrap_or(Node::Const(false)),
            Expr::Content(c) => self.content(c).unwrap_or(Node::Const(false)),
        }
    }

    /// `FIELD has [...]`: a content sequence over a bytes or text field.
    fn content(&mut self, c: &ast::ContentTest) -> Option<Node> {
        let info = self.field(&c.field)?;
        if !matches!(info.ty, FieldType::Str | FieldType::Bytes) {
            self.diags.push(Diagnostic::new(
                format!("'has' needs a bytes or text field; '{}' is a {}", info.name, info.ty.name()),
                c.field.span,
                "not a buffer",
            ));
            return None;
        }
        let mut steps = Vec::with_capacity(c.items.len());
        for item in &c.items {
            steps.push(self.content_step(item)?);
        }
        let text: Vec<String> = c.items.iter().map(ToString::to_string).collect();
        let seq = ContentSeq::new(steps, format!("[{}]", text.join(", ")));
        Some(Node::Pred(Predicate::new(info.field, Check::Content(Box::new(seq)))))
    }

    fn content_step(&mut self, item: &ast::ContentItem) -> Option<Step> {
        let absolute = item.offset.is_some() || item.depth.is_some();
        let placed = item.distance.is_some() || item.within.is_some();
        let problem = if absolute && placed {
            Some("offset/depth cannot be combined with distance/within")
        } else if item.startswith && (absolute || placed) {
            Some("startswith cannot be combined with offset, depth, distance or within")
        } else if item.relative && placed {
            Some("relative cannot be combined with distance or within")
        } else if item.depth.is_some_and(|d| d <= 0) || item.offset.is_some_and(|o| o < 0) {
            Some("offset must be at least 0 and depth at least 1")
        } else {
            None
        };
        if let Some(problem) = problem {
            self.diags.push(Diagnostic::new(problem.to_string(), item.span, "in this pattern"));
            return None;
        }
        let needle = match &item.pattern {
            ast::Pattern::Bytes(s) => {
                let bytes = literal_bytes(s);
                if bytes.is_empty() {
                    self.diags.push(Diagnostic::new("empty content pattern", item.span, "nothing to find"));
                    return None;
                }
                Needle::Bytes { bytes, nocase: item.nocase }
            }
            ast::Pattern::Regex { pattern, flags } => {
                if item.nocase || absolute || placed || item.startswith {
                    self.diags.push(
                        Diagnostic::new(
                            "a regex takes only the 'relative' and 'endswith' modifiers",
                            item.span,
                            "here",
                        )
                        .with_help("use the i flag for case, and ^ or \\A to anchor"),
                    );
                    return None;
                }
                Needle::Regex(self.regex(pattern, flags, item.span)?)
            }
        };
        let len = match &needle {
            Needle::Bytes { bytes, .. } => bytes.len() as i64,
            Needle::Regex(_) => 0,
        };
        let (start, window) = if item.startswith {
            (0, Some(len))
        } else if placed {
            (item.distance.unwrap_or(0), item.within)
        } else {
            (item.offset.unwrap_or(0), item.depth)
        };
        Some(Step {
            needle,
            negated: item.negated,
            relative: placed || item.relative,
            start,
            len: window,
            endswith: item.endswith,
        })
    }

    pub(super) fn test(&mut self, t: &Test) -> Option<Node> {
        let info = self.field(&t.field)?;
        let value = self.resolve(&t.value)?;
        let op = t.op.node;
        let pred = |check| Node::Pred(Predicate::new(info.field, check));
        // `!=` and `not in` hold when the field is present and differs: a test of a
        // field the packet lacks is false whatever the operator (`not (...)` is
        // the way to say "absent or different").
        let member = |check| {
            let negated = matches!(op, TestOp::Ne | TestOp::NotIn);
            Node::Pred(Predicate { field: info.field, check, negated })
        };
        let node = match (info.ty, op) {
            (FieldType::Num, TestOp::Eq | TestOp::Ne | TestOp::Lt | TestOp::Le | TestOp::Gt | TestOp::Ge) => {
                let n = self.number(info, &value)?;
                let cmp = match op {
                    TestOp::Eq => CmpOp::Eq,
                    TestOp::Ne => CmpOp::Ne,
                    TestOp::Lt => CmpOp::Lt,
                    TestOp::Le => CmpOp::Le,
                    TestOp::Gt => CmpOp::Gt,
                    _ => CmpOp::Ge,
                };
                pred(Check::Num(cmp, n))
            }
            (FieldType::Num, TestOp::In | TestOp::NotIn) => member(self.num_set(info, &value)?),
            (FieldType::Bool, TestOp::Eq | TestOp::Ne) => match value.kind {
                ValueKind::Bool(b) => pred(Check::Bool(b == (op == TestOp::Eq))),
                _ => return self.mismatch(&value, "true or false"),
            },
            (FieldType::Ip, TestOp::Eq | TestOp::Ne | TestOp::In | TestOp::NotIn) => {
                let mut nets = Vec::new();
                self.nets(&value, &mut nets, 0)?;
                member(Check::IpIn(nets))
            }
            (FieldType::Str | FieldType::Bytes, TestOp::Eq | TestOp::Ne | TestOp::In | TestOp::NotIn) => {
                let nocase = info.ty == FieldType::Str;
                let mut values = Vec::new();
                self.strings(&value, &mut values, 0)?;
                if nocase {
                    values.iter_mut().for_each(|v| v.make_ascii_lowercase());
                }
                member(Check::BytesIn { values, nocase })
            }
            (FieldType::Str | FieldType::Bytes, TestOp::Contains | TestOp::StartsWith | TestOp::EndsWith) => {
                let ValueKind::Str(s) = &value.kind else {
                    return self.mismatch(&value, "a quoted string");
                };
                let nocase = info.ty == FieldType::Str;
                let needle = if nocase { s.to_ascii_lowercase().into_bytes() } else { literal_bytes(s) };
                pred(match op {
                    TestOp::Contains => Check::Contains { needle, nocase },
                    TestOp::StartsWith => Check::StartsWith { needle, nocase },
                    _ => Check::EndsWith { needle, nocase },
                })
            }
            (FieldType::Str, TestOp::Under) => {
                let mut values = Vec::new();
                self.strings(&value, &mut values, 0)?;
                pred(Check::Under(DomainSet::new(values.iter().map(Vec::as_slice))))
            }
            (FieldType::Str | FieldType::Bytes, TestOp::Matches) => {
                let ValueKind::Regex { pattern, flags } = &value.kind else {
                    return self.mismatch(&value, "a regex like /pattern/i");
                };
                pred(Check::Regex(self.regex(pattern, flags, value.span)?))
            }
            (ty, _) => {
                let ops = match ty {
                    FieldType::Num => "==, !=, <, <=, >, >=, in, not in",
                    FieldType::Bool => "== or !=, or the field on its own",
                    FieldType::Ip => "==, !=, in, not in",
                    FieldType::Str => "==, !=, in, not in, contains, starts_with, ends_with, matches, under",
                    FieldType::Bytes => "==, !=, in, not in, contains, starts_with, ends_with, matches",
                };
                self.diags.push(
                    Diagnostic::new(
                        format!("'{}' cannot be used on {} (a {})", op.as_str(), info.name, ty.name()),
                        t.op.span,
                        format!("not an operator for a {}", ty.name()),
                    )
                    .with_help(format!("a {} takes {ops}", ty.name())),
                );
                return None;
            }
        };
        Some(node)
    }

    pub(super) fn mismatch<T>(&mut self, value: &Value, expected: &str) -> Option<T> {
        self.diags.push(Diagnostic::new(
            format!("expected {expected}, found {}", describe(value)),
            value.span,
            format!("expected {expected}"),
        ));
        None
    }

    pub(super) fn number(&mut self, info: &FieldInfo, value: &Value) -> Option<f64> {
        match &value.kind {
            ValueKind::Number(n) => Some(*n),
            ValueKind::Word(w) => match field::word_value(info.field, w) {
                Some(n) => Some(n),
                None => {
                    self.diags.push(Diagnostic::new(
                        format!("unknown value '{w}' for {}", info.name),
                        value.span,
                        "not a known name",
                    ));
                    None
                }
            },
            _ => self.mismatch(value, "a number"),
        }
    }

    /// The check of `in` with a range or a list of numbers, words and ranges (nested lists
    /// flattened): one value is `==`, one range a range, anything else a set.
    pub(super) fn num_set(&mut self, info: &FieldInfo, value: &Value) -> Option<Check> {
        if !matches!(value.kind, ValueKind::Range(..) | ValueKind::List(_)) {
            return self.mismatch(value, "a list [a, b] or a range a..b");
        }
        let (mut values, mut ranges) = (Vec::new(), Vec::new());
        self.num_items(info, value, &mut values, &mut ranges, 0)?;
        values.sort_by(f64::total_cmp);
        values.dedup();
        Some(match (values.as_slice(), ranges.as_slice()) {
            ([v], []) => Check::Num(CmpOp::Eq, *v),
            ([], [(lo, hi)]) => Check::NumRange(*lo, *hi),
            _ => Check::NumSet { values, ranges },
        })
    }

    fn num_items(
        &mut self,
        info: &FieldInfo,
        value: &Value,
        values: &mut Vec<f64>,
        ranges: &mut Vec<(f64, f64)>,
        depth: usize,
    ) -> Option<()> {
        if depth > MAX_VAR_DEPTH {
            return self.mismatch(value, "a shallower list");
        }
        match &value.kind {
            ValueKind::Range(a, b) => {
                let (lo, hi) = (self.number(info, a)?, self.number(info, b)?);
                if lo > hi {
                    self.diags.push(Diagnostic::new("range is empty", value.span, "low end above high end"));
                    return None;
                }
                ranges.push((lo, hi));
            }
            ValueKind::List(items) => {
                for item in items {
                    let item = self.resolve(item)?;
                    self.num_items(info, &item, values, ranges, depth + 1)?;
                }
            }
            _ => values.push(self.number(info, value)?),
        }
        Some(())
    }

    pub(super) fn nets(&mut self, value: &Value, out: &mut Vec<Net>, depth: usize) -> Option<()> {
        if depth > MAX_VAR_DEPTH {
            return self.mismatch(value, "a shallower list");
        }
        match &value.kind {
            ValueKind::Net(n) => out.push(Net::new(n.addr, n.prefix)),
            ValueKind::List(items) => {
                for item in items {
                    let item = self.resolve(item)?;
                    self.nets(&item, out, depth + 1)?;
                }
            }
            ValueKind::Not(_) => {
                self.diags.push(
                    Diagnostic::new("'!' is not allowed in a condition's address list", value.span, "negated")
                        .with_help("use `not in` or `!=` instead"),
                );
                return None;
            }
            _ => return self.mismatch(value, "an address, a network or a list of them"),
        }
        Some(())
    }

    pub(super) fn strings(&mut self, value: &Value, out: &mut Vec<Vec<u8>>, depth: usize) -> Option<()> {
        if depth > MAX_VAR_DEPTH {
            return self.mismatch(value, "a shallower list");
        }
        match &value.kind {
            ValueKind::Str(s) => out.push(literal_bytes(s)),
            ValueKind::List(items) => {
                for item in items {
                    let item = self.resolve(item)?;
                    self.strings(&item, out, depth + 1)?;
                }
            }
            _ => return self.mismatch(value, "a quoted string or a list of them"),
        }
        Some(())
    }
}

/// The bytes a string literal stands for when compared with packet bytes:
/// characters U+0000..=U+00FF (which is what `\xHH` escapes produce) are
/// single bytes, so `"\xde\xad"` matches those two raw bytes; a string with
/// any character beyond U+00FF is taken as UTF-8.
pub(super) fn literal_bytes(s: &str) -> Vec<u8> {
    if s.chars().all(|c| u32::from(c) <= 0xff) {
        s.chars().map(|c| u32::from(c) as u8).collect()
    } else {
        s.as_bytes().to_vec()
    }
}

pub(super) fn example_test(ty: FieldType) -> &'static str {
    match ty {
        FieldType::Num => "> 0",
        FieldType::Ip => "in 10.0.0.0/8",
        _ => "contains \"x\"",
    }
}

pub(super) fn describe(v: &Value) -> String {
    match &v.kind {
        ValueKind::Number(n) => format!("the number {n}"),
        ValueKind::Str(s) => format!("the string {s:?}"),
        ValueKind::Net(n) => format!("the address {}/{}", n.addr, n.prefix),
        ValueKind::Word(w) => format!("the word '{w}'"),
        ValueKind::Var(n) => format!("the variable ${n}"),
        ValueKind::List(_) => "a list".into(),
        ValueKind::Range(..) => "a range".into(),
        ValueKind::Regex { .. } => "a regex".into(),
        ValueKind::Bool(b) => format!("{b}"),
        ValueKind::Not(_) => "a negation".into(),
        ValueKind::File(path) => format!("file({path:?}), which was not read"),
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::engine::compile::test_support::{covered, error, rule, tree};
    use crate::rules::span::Span;

    fn when(proto: &str, cond: &str) -> String {
        rule(proto, "any any -> any any", &format!("when {cond}"))
    }

    #[test]
    fn unknown_fields_suggest_a_close_name() {
        let text = when("ip", "payload.lenght > 5");
        let d = error(&text);
        assert_eq!(d.message, "unknown field 'payload.lenght'");
        assert_eq!(covered(&text, &d), "payload.lenght");
        assert_eq!(d.help.as_deref(), Some("did you mean 'payload.len'?"));
    }

    #[test]
    fn fields_must_suit_the_protocol() {
        assert_eq!(
            error(&when("icmp", "dns.qname.len > 5")).message,
            "field 'dns.qname.len' is not available in icmp rules"
        );
        let t = tree(&when("icmp", "icmp.type == echo-request"));
        assert!(t.contains("icmp.type == 8"), "{t}");
    }

    #[test]
    fn operators_must_suit_the_type() {
        let d = error(&when("ip", "payload.len matches /a/"));
        assert_eq!(d.message, "'matches' cannot be used on payload.len (a number)");
        assert!(d.help.is_some());
    }

    #[test]
    fn values_must_suit_the_type() {
        assert_eq!(error(&when("ip", "payload.len > \"big\"")).message, "expected a number, found the string \"big\"");
        assert_eq!(
            error(&when("icmp", "icmp.type == echo-reqest")).message,
            "unknown value 'echo-reqest' for icmp.type"
        );
        assert_eq!(error(&when("ip", "payload.len in 9..3")).message, "range is empty");
        assert_eq!(
            error(&when("ip", "ip.src in [!10.0.0.0/8]")).message,
            "'!' is not allowed in a condition's address list"
        );
    }

    #[test]
    fn a_non_boolean_field_is_not_a_condition() {
        assert_eq!(error(&when("ip", "payload.len")).message, "'payload.len' is a number, not a condition");
    }

    #[test]
    fn tests_compile_to_predicates() {
        assert!(tree(&when("ip", "payload.len in [1, 2]")).contains("payload.len in [1, 2]"));
        assert!(tree(&when("ip", "ip.src in [10.0.0.0/8]")).contains("ip.src in [10.0.0.0/8]"));
        assert!(tree(&when("dns", "dns.qname ends_with \".example\"")).contains("dns.qname ends_with"));
    }

    #[test]
    fn string_literals_up_to_u_00ff_are_raw_bytes() {
        assert_eq!(literal_bytes("\u{de}\u{ad}"), [0xde, 0xad]);
        assert_eq!(literal_bytes("ab"), b"ab");
        assert_eq!(literal_bytes("\u{2603}"), "\u{2603}".as_bytes());
    }

    #[test]
    fn values_are_described_by_kind() {
        let v = |kind| Value { kind, span: Span::default() };
        assert_eq!(describe(&v(ValueKind::Number(5.0))), "the number 5");
        assert_eq!(describe(&v(ValueKind::Word("x".into()))), "the word 'x'");
    }
}
