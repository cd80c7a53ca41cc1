//! Conditions: `or` over `and` over `not`, parentheses, and tests `FIELD OP VALUE` with every
//! comparison, membership, substring and regex operator.

use nom::bytes::complete::tag;
use nom::Err;

use crate::rules::ast::{Expr, FieldRef, Spanned, Test, TestOp, Value};
use crate::rules::span::Span;

use super::expect::{describe, fail_help, found_token, PError, PResult, Tok};
use super::lex::{field_name, is_reserved, is_word_char, keyword, split_while, ws};
use super::Cx;

impl<'s> Cx<'s> {
    /// `or`-level expression (the lowest precedence).
    pub(super) fn expr(&self, i: &'s str, depth: usize) -> PResult<'s, Expr> {
        let start = ws(i);
        let (mut i, first) = self.and_expr(start, depth)?;
        let mut operands = vec![first];
        loop {
            let at = ws(i);
            let Some(rest) = keyword(at, "or") else {
                self.note(at, Tok::Or);
                break;
            };
            let r = self.and_expr(rest, depth);
            let (rest, next) = self.cut_after(r, rest, Tok::Expr, "or")?;
            operands.push(next);
            i = rest;
        }
        Ok((i, combine(operands, self.span(start, i), Expr::Or)))
    }

    pub(super) fn and_expr(&self, i: &'s str, depth: usize) -> PResult<'s, Expr> {
        let start = ws(i);
        let (mut i, first) = self.unary(start, depth)?;
        let mut operands = vec![first];
        loop {
            let at = ws(i);
            let Some(rest) = keyword(at, "and") else {
                self.note(at, Tok::And);
                break;
            };
            let r = self.unary(rest, depth);
            let (rest, next) = self.cut_after(r, rest, Tok::Expr, "and")?;
            operands.push(next);
            i = rest;
        }
        Ok((i, combine(operands, self.span(start, i), Expr::And)))
    }

    pub(super) fn unary(&self, i: &'s str, depth: usize) -> PResult<'s, Expr> {
        let at = ws(i);
        let Some(rest) = keyword(at, "not") else {
            return self.primary(at, depth);
        };
        let (rest, inner) = self.nested(at, depth, |d| {
            let r = self.unary(rest, d);
            self.cut_after(r, rest, Tok::Expr, "not")
        })?;
        Ok((rest, Expr::Not(Box::new(inner), self.span(at, rest))))
    }

    pub(super) fn primary(&self, at: &'s str, depth: usize) -> PResult<'s, Expr> {
        if let Some(inner_at) = at.strip_prefix('(') {
            let (rest, inner) = self.nested(at, depth, |d| {
                let r = self.expr(inner_at, d);
                self.cut_after(r, inner_at, Tok::Expr, "(")
            })?;
            let close = ws(rest);
            return match close.strip_prefix(')') {
                Some(after) => Ok((after, inner)),
                None => {
                    self.note(close, Tok::RParen);
                    Err(Err::Failure(PError::expected(close, Tok::RParen.bit(), None)))
                }
            };
        }
        for (kw, b) in [("true", true), ("false", false)] {
            if let Some(rest) = keyword(at, kw) {
                return Ok((rest, Expr::Bool(Spanned::new(b, self.span(at, rest)))));
            }
        }
        let (rest, field) = match self.field(at) {
            Ok(ok) => ok,
            Err(Err::Error(_)) => return self.expected(at, Tok::Expr),
            Err(e) => return Err(e),
        };
        self.test_rest(at, rest, field)
    }

    /// A field name (not a reserved word), checked for stray characters after it.
    pub(super) fn field(&self, at: &'s str) -> PResult<'s, FieldRef> {
        match field_name(at) {
            Some((name, rest)) if !is_reserved(name) => {
                self.field_boundary(at, rest)?;
                Ok((rest, FieldRef { name: name.to_string(), span: self.span(at, rest) }))
            }
            _ => Err(Err::Error(PError::expected(at, Tok::Field.bit(), None))),
        }
    }

    pub(super) fn field_boundary(&self, at: &'s str, rest: &'s str) -> Result<(), Err<PError>> {
        if rest.starts_with(|c: char| is_word_char(c) || c == '.') {
            let tail = split_while(rest, |c| is_word_char(c) || c == '.').0;
            let len = at.len() - rest.len() + tail.len();
            let text = at.get(..len).unwrap_or("");
            let e = PError::message(at, len, format!("invalid field name '{text}'"), "not a field name");
            let help = "field names are lowercase letters, digits and '_', joined by '.' (e.g. dns.qname.len)";
            return Err(Err::Failure(e.help(help)));
        }
        Ok(())
    }

    /// After a field: an operator and a value (a test), or nothing (a boolean field).
    pub(super) fn test_rest(&self, start: &'s str, i: &'s str, field: FieldRef) -> PResult<'s, Expr> {
        let op_at = ws(i);
        if let Some(rest) = keyword(op_at, "has") {
            return self.content_test(start, rest, field).map(|(r, c)| (r, Expr::Content(c)));
        }
        let (rest, op) = match self.test_op(op_at) {
            Ok(ok) => ok,
            Err(Err::Error(_)) => return Ok((i, Expr::Field(field))),
            Err(e) => return Err(e),
        };
        let op = Spanned::new(op, self.span(op_at, rest));
        let (rest, value) = if op.node == TestOp::Matches {
            self.regex_operand(rest)?
        } else {
            let r = self.value(rest, 0, false);
            self.cut_after(r, rest, Tok::Value, op.node.as_str())?
        };
        Ok((rest, Expr::Test(Test { field, op, value, span: self.span(start, rest) })))
    }

    pub(super) fn test_op(&self, at: &'s str) -> PResult<'s, TestOp> {
        const SYMBOLS: [(&str, TestOp); 6] = [
            ("==", TestOp::Eq),
            ("!=", TestOp::Ne),
            ("<=", TestOp::Le),
            (">=", TestOp::Ge),
            ("<", TestOp::Lt),
            (">", TestOp::Gt),
        ];
        const WORDS: [(&str, TestOp); 6] = [
            ("in", TestOp::In),
            ("contains", TestOp::Contains),
            ("starts_with", TestOp::StartsWith),
            ("ends_with", TestOp::EndsWith),
            ("matches", TestOp::Matches),
            ("under", TestOp::Under),
        ];
        for (sym, op) in SYMBOLS {
            let r: PResult<&str> = tag(sym)(at);
            if let Ok((rest, _)) = r {
                return Ok((rest, op));
            }
        }
        if let Some((op, help)) =
            [("=>", "did you mean '>='?"), ("=<", "did you mean '<='?")].into_iter().find(|(op, _)| at.starts_with(op))
        {
            return fail_help(at, 2, format!("unknown operator '{op}'"), "not an operator", help);
        }
        if at.starts_with('=') {
            return fail_help(at, 1, "unknown operator '='", "not an operator", "use '==' to test equality");
        }
        for (kw, op) in WORDS {
            if let Some(rest) = keyword(at, kw) {
                return Ok((rest, op));
            }
        }
        if let Some(rest) = keyword(at, "not") {
            let in_at = ws(rest);
            return match keyword(in_at, "in") {
                Some(after) => Ok((after, TestOp::NotIn)),
                None => Err(Err::Failure(PError::expected(in_at, Tok::In.bit(), Some("not")))),
            };
        }
        self.expected(at, Tok::Operator)
    }

    /// The operand of `matches`: a regex literal or a variable.
    pub(super) fn regex_operand(&self, i: &'s str) -> PResult<'s, Value> {
        let at = ws(i);
        if at.starts_with('/') || at.starts_with('$') {
            return self.scalar(at);
        }
        let (span, raw) = found_token(at, 0);
        let e = PError::message(
            at,
            span.end,
            format!("expected a regex literal after 'matches', found {}", describe(raw)),
            "expected /pattern/flags",
        );
        Err(Err::Failure(e.help("write the pattern between slashes, e.g. matches /^[a-z0-9]{32}\\./i")))
    }
}

/// One operand stays itself; several become `And`/`Or`.
pub(super) fn combine(mut operands: Vec<Expr>, span: Span, make: fn(Vec<Expr>, Span) -> Expr) -> Expr {
    if operands.len() == 1 {
        if let Some(only) = operands.pop() {
            return only;
        }
    }
    make(operands, span)
}

#[cfg(test)]
mod tests {

    use crate::rules::ast::{Expr, RuleOption, TestOp, ValueKind};

    use crate::rules::parse::parse_expr;
    use crate::rules::parse::test_support::*;
    use crate::rules::span::Span;

    #[test]
    fn precedence_is_or_and_not() {
        let e = parse_expr("a or b and not c").unwrap();
        let Expr::Or(ops, _) = &e else { panic!("{e:?}") };
        assert!(matches!(&ops[0], Expr::Field(f) if f.name == "a"));
        let Expr::And(inner, span) = &ops[1] else { panic!() };
        assert_eq!(*span, Span::new(5, 16));
        assert!(matches!(&inner[1], Expr::Not(x, s) if matches!(&**x, Expr::Field(_)) && *s == Span::new(11, 16)));
        let e = parse_expr("(a or b) and c").unwrap();
        let Expr::And(ops, span) = &e else { panic!() };
        assert_eq!(*span, Span::new(0, 14));
        assert!(matches!(&ops[0], Expr::Or(_, s) if *s == Span::new(1, 7)));
        assert!(matches!(parse_expr("not not true").unwrap(), Expr::Not(x, _) if matches!(*x, Expr::Not(..))));
        assert!(matches!(parse_expr("false").unwrap(), Expr::Bool(b) if !b.node));
    }

    #[test]
    fn a_chain_of_same_operators_is_flat() {
        let Expr::And(ops, _) = parse_expr("a and b and c and d").unwrap() else { panic!() };
        assert_eq!(ops.len(), 4);
    }

    #[test]
    fn expressions_span_lines_and_stop_at_the_next_option() {
        assert!(matches!(when("a\n and\n b"), Expr::And(..)));
        let o = options("when a > 1\n      and b\n      or c\n    threshold 5 within 10s by src");
        assert_eq!(o.len(), 2);
        assert!(matches!(&o[0], RuleOption::When(Expr::Or(..))));
    }

    #[test]
    fn every_operator() {
        let ops = [
            ("==", TestOp::Eq),
            ("!=", TestOp::Ne),
            ("<", TestOp::Lt),
            ("<=", TestOp::Le),
            (">", TestOp::Gt),
            (">=", TestOp::Ge),
            ("in", TestOp::In),
            ("not in", TestOp::NotIn),
            ("not   in", TestOp::NotIn),
            ("contains", TestOp::Contains),
            ("starts_with", TestOp::StartsWith),
            ("ends_with", TestOp::EndsWith),
            ("under", TestOp::Under),
        ];
        for (text, op) in ops {
            let src = format!("x.y {text} 5");
            let Expr::Test(t) = parse_expr(&src).unwrap() else { panic!("{src}") };
            assert_eq!(t.op.node, op, "{src}");
            assert_eq!(at(&src, t.op.span), text);
            assert_eq!(at(&src, t.field.span), "x.y");
            assert_eq!(at(&src, t.value.span), "5");
            assert_eq!(at(&src, t.span), src);
        }
        let Expr::Test(t) = parse_expr("dns.qname matches /^[a-z]{2}\\/x$/ix").unwrap() else { panic!() };
        assert_eq!(t.op.node, TestOp::Matches);
        assert_eq!(t.value.kind, ValueKind::Regex { pattern: "^[a-z]{2}/x$".into(), flags: "ix".into() });
        let Expr::Test(t) = parse_expr("dns.qname matches $RE").unwrap() else { panic!() };
        assert_eq!(t.value.kind, ValueKind::Var("RE".into()));
    }

    #[test]
    fn test_spans_in_a_rule() {
        let text = rule_src("when payload.entropy.norm >= 0.9");
        let RuleOption::When(Expr::Test(t)) = &only_rule(&text).options[0] else { panic!() };
        assert_eq!(at(&text, t.span), "payload.entropy.norm >= 0.9");
        assert_eq!(at(&text, t.field.span), "payload.entropy.norm");
    }

    #[test]
    fn error_missing_value_after_operator() {
        error_in("when payload.len >", "expected a value after '>', found '}'", "}");
        error_in("when payload.len in and", "expected a value after 'in', found 'and'", "and");
        error_in("when a == threshold", "expected a value after '==', found 'threshold'", "threshold");
    }

    #[test]
    fn error_expected_an_expression() {
        error_in("when", "expected an expression after 'when', found '}'", "}");
        error_in("when a and", "expected an expression after 'and', found '}'", "}");
        error_in("when a or )", "expected an expression after 'or', found ')'", ")");
        error_in("when not", "expected an expression after 'not', found '}'", "}");
        error_in("when (a or b", "expected one of an operator, 'and', 'or', ')', found '}'", "}");
        error_in("when Payload.len > 5", "expected an expression after 'when', found 'Payload.len'", "Payload.len");
        assert_eq!(parse_expr("").unwrap_err().message, "expected an expression, found end of input");
    }

    #[test]
    fn error_operators() {
        let d = error_in("when a = 5", "unknown operator '='", "=");
        assert_eq!(d.help.as_deref(), Some("use '==' to test equality"));
        let d = error_in("when a => 5", "unknown operator '=>'", "=>");
        assert_eq!(d.help.as_deref(), Some("did you mean '>='?"));
        error_in("when a not 5", "expected 'in' after 'not', found '5'", "5");
        error_in("when a matches \"x\"", "expected a regex literal after 'matches', found '\"x\"'", "\"x\"");
        error_in("when a matches /x/g", "unknown regex flag 'g'", "g");
        error_in("when a == !5", "'!' is not allowed here", "!");
    }
}
