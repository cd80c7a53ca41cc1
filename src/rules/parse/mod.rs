//! Parser for ferret's rule language: text in, [`RuleFile`] and [`Diagnostic`]s out.
//!
//! Users read every error this parser produces, so it is built around three promises:
//!
//! * **Errors point at the offending token** and say what was expected there. Parsers that fail
//!   at the same spot merge their "expected" sets (including the optional continuations that were
//!   tried and silently skipped, such as `and` after a complete test), so a message reads
//!   `expected one of '->', '<>', found 'to'`. Once a keyword is recognised the rest is parsed
//!   under nom's `cut`, so the error names the bad part, not the start of the rule.
//! * **One bad rule never hides the next**: after an error the parser skips to the end of that
//!   rule (its matching `}`) or to the next line starting with `alert`/`pass`/`var`.
//! * **No input can make it panic, recurse without bound or go quadratic**: nesting is capped at
//!   [`MAX_DEPTH`], literals at [`MAX_LITERAL`] bytes, and every parser only moves forward.
//!
//! Conventions: every parser skips its own leading whitespace and comments, never trailing ones,
//! so a node's span ends exactly where its text ends. Positions inside the parser are nom's
//! remaining inputs; a byte offset is the text's length minus the remaining length.
//!
//! The parser checks syntax only. Field names, variables, types and id uniqueness are the
//! compiler's business.
//!
//! One concept per file: `lex` (tokens and lexing helpers), `expect` (errors and the expected-token
//! sets), `recover` (resuming after an error), then the grammar top-down: this file (the file,
//! `var` declarations and rules), `header`, `options`, `expr` and `value`.

use std::cell::Cell;

use nom::combinator::cut;
use nom::{Err, Parser};

use crate::rules::ast::{Action, AddrSpec, Expr, Item, PortSpec, Rule, RuleFile, Spanned, Value, VarDecl};
use crate::rules::diag::Diagnostic;
use crate::rules::span::Span;

use self::expect::{fail_help, PError, PResult, Tok};
use self::lex::{ident, is_reserved, ws};
use self::recover::recover;

mod content;
mod expect;
mod expr;
mod header;
pub(crate) mod lex;
mod options;
mod recover;
#[cfg(test)]
mod test_support;
mod value;

/// Deepest nesting of parentheses / `not` in an expression, or of lists and `!` in a value or
/// header, before the parser gives up with an error instead of recursing further.
pub const MAX_DEPTH: usize = 64;

/// Longest string or regex literal, in bytes of source text.
pub const MAX_LITERAL: usize = 64 * 1024;

/// Parses a whole rule file. Returns every rule that parsed and every error (one bad rule never
/// hides the next: on an error, skip to the end of that rule — the matching `}` at brace depth 0
/// — or to the next line starting with `alert`/`pass`/`var`, and continue).
pub fn parse_rule_file(text: &str) -> (RuleFile, Vec<Diagnostic>) {
    let cx = Cx::new(text);
    let mut file = RuleFile::default();
    let mut diags = Vec::new();
    let mut input = ws(text.strip_prefix('\u{feff}').unwrap_or(text));
    while !input.is_empty() {
        let start = cx.offset(input);
        match cx.item(input) {
            Ok((rest, item)) => {
                let soft = cx.soft.take();
                if soft.is_empty() {
                    file.items.push(item);
                } else {
                    diags.extend(soft);
                }
                input = rest;
            }
            Err(err) => {
                diags.extend(cx.soft.take());
                diags.push(cx.diagnostic(err));
                input = text.get(recover(text, start)..).unwrap_or("");
            }
        }
        input = ws(input);
    }
    (file, diags)
}

/// Parses a single VALUE (used for `--var NAME=VALUE` on the command line).
pub fn parse_value(text: &str) -> Result<Value, Diagnostic> {
    let cx = Cx::new(text);
    cx.whole(text, |i| cx.value(i, 0, true))
}

/// Parses a single EXPR (used by tests and tools).
pub fn parse_expr(text: &str) -> Result<Expr, Diagnostic> {
    let cx = Cx::new(text);
    cx.whole(text, |i| cx.expr(i, 0))
}

/// Parses the header address set that starts at byte `at` of `text` (for
/// Suricata rules, whose address syntax is the same); returns it and the
/// offset just after it.
pub(crate) fn header_addr(text: &str, at: usize) -> Result<(AddrSpec, usize), Diagnostic> {
    header_part(text, at, |cx, i| cx.addr(i, 0))
}

/// Parses the header port set that starts at byte `at` of `text`, as [`header_addr`].
pub(crate) fn header_port(text: &str, at: usize) -> Result<(PortSpec, usize), Diagnostic> {
    header_part(text, at, |cx, i| cx.port(i, 0))
}

fn header_part<'s, T>(
    text: &'s str,
    at: usize,
    part: impl FnOnce(&Cx<'s>, &'s str) -> PResult<'s, T>,
) -> Result<(T, usize), Diagnostic> {
    let cx = Cx::new(text);
    match part(&cx, text.get(at..).unwrap_or("")) {
        Ok((rest, spec)) => Ok((spec, cx.offset(rest))),
        Err(e) => Err(cx.diagnostic(e)),
    }
}

/// Parsing context: the whole text (to turn positions into offsets), the furthest point where
/// something was expected (to merge "expected" sets), and non-fatal diagnostics.
struct Cx<'s> {
    text: &'s str,
    /// `(remaining length, Tok bits)` of the furthest position where a token was expected.
    furthest: Cell<(usize, u64)>,
    /// Problems that do not stop the parse (duplicate options); the item is dropped.
    soft: Cell<Vec<Diagnostic>>,
}

impl<'s> Cx<'s> {
    fn new(text: &'s str) -> Self {
        Cx { text, furthest: Cell::new((usize::MAX, 0)), soft: Cell::new(Vec::new()) }
    }

    fn offset(&self, i: &str) -> usize {
        self.text.len().saturating_sub(i.len())
    }

    /// Span from the start of `from` to the start of `to` (both suffixes of the text).
    fn span(&self, from: &str, to: &str) -> Span {
        Span::new(self.offset(from), self.offset(to))
    }

    /// Remembers that `tok` would have been accepted at `i`.
    fn note(&self, i: &str, tok: Tok) {
        let (rem, set) = self.furthest.get();
        if i.len() < rem {
            self.furthest.set((i.len(), tok.bit()));
        } else if i.len() == rem {
            self.furthest.set((rem, set | tok.bit()));
        }
    }

    /// A backtrackable "expected `tok`" error at `i`.
    fn expected<T>(&self, i: &'s str, tok: Tok) -> PResult<'s, T> {
        self.note(i, tok);
        Err(Err::Error(PError::expected(i, tok.bit(), None)))
    }

    fn push_soft(&self, d: Diagnostic) {
        let mut soft = self.soft.take();
        soft.push(d);
        self.soft.set(soft);
    }

    /// Runs a parser that must consume the whole (trimmed) text.
    fn whole<T>(&self, text: &'s str, p: impl FnOnce(&'s str) -> PResult<'s, T>) -> Result<T, Diagnostic> {
        let result = p(text).and_then(|(rest, v)| {
            let rest = ws(rest);
            if rest.is_empty() {
                Ok((rest, v))
            } else {
                self.note(rest, Tok::End);
                Err(Err::Failure(PError::expected(rest, Tok::End.bit(), None)))
            }
        });
        result.map(|(_, v)| v).map_err(|e| self.diagnostic(e))
    }

    /// Turns an `Error` that happened right at `i` into a `Failure` "expected X after 'y'";
    /// errors further in become failures as they are (this is nom's `cut` plus a label).
    fn cut_after<T>(&self, r: PResult<'s, T>, i: &'s str, tok: Tok, after: &'static str) -> PResult<'s, T> {
        match r {
            Err(Err::Error(e)) if e.rem == ws(i).len() && e.kind.rank() < 2 => {
                Err(Err::Failure(PError::expected(ws(i), tok.bit(), Some(after))))
            }
            Err(Err::Error(e)) => Err(Err::Failure(e)),
            other => other,
        }
    }

    fn item(&self, i: &'s str) -> PResult<'s, Item> {
        match ident(i) {
            Some(("alert", rest)) => self.rule(i, rest, Action::Alert).map(|(r, v)| (r, Item::Rule(v))),
            Some(("pass", rest)) => self.rule(i, rest, Action::Pass).map(|(r, v)| (r, Item::Rule(v))),
            Some(("var", rest)) => self.var_decl(i, rest).map(|(r, v)| (r, Item::Var(v))),
            _ => {
                self.note(i, Tok::Alert);
                self.note(i, Tok::Pass);
                self.note(i, Tok::Var);
                let set = Tok::Alert.bit() | Tok::Pass.bit() | Tok::Var.bit();
                Err(Err::Failure(PError::expected(i, set, None)))
            }
        }
    }

    fn var_decl(&self, start: &'s str, i: &'s str) -> PResult<'s, VarDecl> {
        let name_at = ws(i);
        let (i, name) = match ident(name_at) {
            Some((name, rest)) if !is_reserved(name) => (rest, name),
            _ if name_at.starts_with('$') => {
                let len = 1 + ident(name_at.get(1..).unwrap_or("")).map_or(0, |(n, _)| n.len());
                return fail_help(
                    name_at,
                    len,
                    "variable names are declared without '$'",
                    "remove the '$'",
                    "write 'var NAME = VALUE' and use it as '$NAME'",
                );
            }
            _ => {
                let r = self.expected(name_at, Tok::VarName);
                return self.cut_after(r, name_at, Tok::VarName, "var");
            }
        };
        let name = Spanned::new(name.to_string(), self.span(name_at, i));
        let eq_at = ws(i);
        let Some(i) = eq_at.strip_prefix('=') else {
            return Err(Err::Failure(PError::expected(eq_at, Tok::Equals.bit(), None)));
        };
        let r = self.value(i, 0, true);
        let (i, value) = self.cut_after(r, i, Tok::Value, "=")?;
        Ok((i, VarDecl { name, value, span: self.span(start, i) }))
    }

    fn rule(&self, start: &'s str, i: &'s str, action: Action) -> PResult<'s, Rule> {
        let action = Spanned::new(action, self.span(start, i));
        let (i, proto) = self.proto(i)?;
        let (i, src_addr) = cut(|i: &'s str| self.addr(i, 0)).parse(i)?;
        let (i, src_port) = cut(|i: &'s str| self.port(i, 0)).parse(i)?;
        let (i, direction) = self.direction(i)?;
        let (i, dst_addr) = cut(|i: &'s str| self.addr(i, 0)).parse(i)?;
        let (i, dst_port) = cut(|i: &'s str| self.port(i, 0)).parse(i)?;
        let brace = ws(i);
        let Some(body) = brace.strip_prefix('{') else {
            let r = self.expected(brace, Tok::LBrace);
            return r.map_err(|e| match e {
                Err::Error(e) => Err::Failure(e),
                other => other,
            });
        };
        let (i, options) = self.options(brace, body)?;
        let rule = Rule {
            action,
            proto,
            src_addr,
            src_port,
            direction,
            dst_addr,
            dst_port,
            options,
            span: self.span(start, i),
        };
        Ok((i, rule))
    }
}

#[cfg(test)]
mod tests {
    use crate::rules::ast::{
        Action, AddrSpec, Direction, Expr, Item, KeyPart, PortSpec, Proto, RuleOption, Severity, ValueKind,
    };

    use crate::rules::parse::lex::{PROTOCOLS, SEVERITIES};

    use super::test_support::*;
    use crate::rules::parse::{parse_expr, parse_rule_file, parse_value, MAX_DEPTH};
    use crate::rules::span::Span;

    #[test]
    fn parses_the_reference_example() {
        let file = parse_ok(EXAMPLE);
        assert_eq!(file.items.len(), 3);
        let Item::Var(home) = &file.items[0] else { panic!() };
        assert_eq!(home.name.node, "HOME_NET");
        assert_eq!(at(EXAMPLE, home.span), "var HOME_NET = [192.168.0.0/16, 10.0.0.0/8, !10.9.0.0/16]");
        let elems = kinds(home.value.kind.clone());
        assert_eq!(elems[0], net("192.168.0.0", 16));
        let ValueKind::Not(negated) = &elems[2] else { panic!() };
        assert_eq!(negated.kind, net("10.9.0.0", 16));
        assert_eq!(at(EXAMPLE, negated.span), "10.9.0.0/16");
        let Item::Rule(rule) = &file.items[2] else { panic!() };
        assert_eq!(rule.action.node, Action::Alert);
        assert_eq!(rule.proto.node, Proto::Icmp);
        assert!(
            matches!(&rule.src_addr, AddrSpec::Var(v) if v.node == "HOME_NET" && at(EXAMPLE, v.span) == "$HOME_NET")
        );
        assert!(matches!(rule.dst_port, PortSpec::Any(_)));
        assert_eq!(rule.direction.node, Direction::ToDst);
        assert!(at(EXAMPLE, rule.span).starts_with("alert icmp") && at(EXAMPLE, rule.span).ends_with('}'));
        let o = &rule.options;
        assert_eq!(o.len(), 13);
        assert!(matches!(&o[0], RuleOption::Id(n) if n.node == 1_000_001));
        assert!(matches!(&o[1], RuleOption::Rev(n) if n.node == 1));
        assert!(matches!(&o[2], RuleOption::Msg(m) if m.node.ends_with("{payload.entropy:.2})")));
        assert!(matches!(&o[3], RuleOption::Severity(s) if s.node == Severity::Critical));
        assert!(matches!(&o[4], RuleOption::Class(c) if c.node == "covert-channel"));
        let RuleOption::Tags(tags) = &o[5] else { panic!() };
        assert_eq!(tags.iter().map(|t| t.node.as_str()).collect::<Vec<_>>(), ["icmp", "tunnel"]);
        assert!(matches!(&o[6], RuleOption::Reference(r) if r.node.starts_with("https://")));
        assert!(matches!(&o[7], RuleOption::Recommend(r) if r.node.contains("{src}")));
        let RuleOption::When(Expr::And(parts, span)) = &o[8] else { panic!("{:?}", o[8]) };
        assert_eq!(parts.len(), 3);
        assert!(at(EXAMPLE, *span).starts_with("icmp.type in"));
        assert!(at(EXAMPLE, *span).ends_with("payload.entropy.norm >= 0.9)"));
        let RuleOption::Threshold(t) = &o[9] else { panic!() };
        assert_eq!((t.count.node, t.window.node), (5, 10_000_000_000));
        assert_eq!(t.key.parts[0].node, KeyPart::Pair);
        assert_eq!(at(EXAMPLE, t.span), "threshold 5 within 10s by pair");
        assert_eq!(at(EXAMPLE, t.window.span), "10s");
        assert_eq!(at(EXAMPLE, t.key.span), "by pair");
        let RuleOption::Rate(r) = &o[10] else { panic!() };
        assert_eq!((r.count.node, r.per.node), (3.0, 1_000_000_000));
        assert_eq!(at(EXAMPLE, r.span), "rate      > 3/s by src");
        let RuleOption::Limit(l) = &o[11] else { panic!() };
        assert_eq!((l.count.node, l.window.node), (1, 60_000_000_000));
        let RuleOption::Distinct(d) = &o[12] else { panic!() };
        assert_eq!(d.field.name, "dns.subdomain");
        assert_eq!((d.count.node, d.window.node), (100, 60_000_000_000));
        assert_eq!(d.key.parts[1].node, KeyPart::Field("dns.domain".into()));
        assert_eq!(at(EXAMPLE, d.key.span), "by src, dns.domain");
    }

    #[test]
    fn empty_and_comment_only_files_are_fine() {
        assert!(parse_ok("").items.is_empty());
        assert!(parse_ok("  # just a comment\n\n# another\n").items.is_empty());
    }

    #[test]
    fn options_may_share_lines_and_use_semicolons() {
        let o = options("id 1; rev 2;; msg \"m\" severity low");
        assert_eq!(o.len(), 4);
        let rule = only_rule("pass udp any any <> any any { id 7 }");
        assert_eq!(rule.action.node, Action::Pass);
        assert_eq!(rule.direction.node, Direction::Both);
        assert!(only_rule("alert dns any any -> any any {}").options.is_empty());
    }

    #[test]
    fn every_protocol_and_severity_is_known() {
        for (name, proto) in PROTOCOLS {
            let rule = only_rule(&format!("alert {name} any any -> any any {{}}"));
            assert_eq!(rule.proto.node, proto);
        }
        for (name, sev) in SEVERITIES {
            assert!(matches!(&options(&format!("severity {name}"))[0], RuleOption::Severity(s) if s.node == sev));
        }
    }

    #[test]
    fn hash_inside_strings_and_regexes_is_not_a_comment() {
        let o = options("msg \"a # b\" # real comment\n when payload matches /a#b/");
        assert!(matches!(&o[0], RuleOption::Msg(m) if m.node == "a # b"));
        let RuleOption::When(Expr::Test(t)) = &o[1] else { panic!() };
        assert_eq!(t.value.kind, ValueKind::Regex { pattern: "a#b".into(), flags: String::new() });
    }

    #[test]
    fn error_missing_closing_brace_points_at_the_opening_one() {
        let text = "alert ip any any -> any any {\n    id 1\n\nalert ip any any -> any any { id 2 }\n";
        let (file, diags) = parse_rule_file(text);
        assert_eq!(diags.len(), 1);
        assert_eq!(diags[0].message, "missing '}' at end of rule");
        assert_eq!(diags[0].span, Span::new(28, 29));
        assert_eq!(file.items.len(), 1, "the next rule still parses");
        error("alert ip any any -> any any { id 1", "missing '}' at end of rule", "{");
    }

    #[test]
    fn error_var_declarations() {
        error("var $X = 5", "variable names are declared without '$'", "$X");
        error("var X 5", "expected '=', found '5'", "5");
        error("var X =", "expected a value after '=', found end of input", "");
        error("var 5 = 5", "expected a variable name after 'var', found '5'", "5");
    }

    #[test]
    fn trailing_text_after_a_single_value_or_expression() {
        let d = parse_value("5 6").unwrap_err();
        assert_eq!(d.message, "expected end of input, found '6'");
        assert_eq!(d.span, Span::new(2, 3));
        let d = parse_expr("a > 5 )").unwrap_err();
        assert_eq!(d.message, "expected one of 'and', 'or', end of input, found ')'");
        assert_eq!(parse_value("  # comment\n 5 # more").unwrap().kind, num(5.0));
    }

    #[test]
    fn deep_nesting_is_a_clean_error() {
        let start = std::time::Instant::now();
        let deep = format!("when {}a{}", "(".repeat(10_000), ")".repeat(10_000));
        let d = error_in(&deep, "nested too deeply (more than 64 levels)", "(");
        assert_eq!(d.span.start, rule_src("").len() - 3 + 5 + MAX_DEPTH);
        error_in(&format!("when {}a", "not ".repeat(10_000)), "nested too deeply (more than 64 levels)", "n");
        error_in(&format!("when x in {}", "[".repeat(10_000)), "nested too deeply (more than 64 levels)", "[");
        error(&format!("var X = {}", "!".repeat(10_000)), "nested too deeply (more than 64 levels)", "!");
        error(
            &format!("alert ip {}any any -> any any {{}}", "!".repeat(10_000)),
            "nested too deeply (more than 64 levels)",
            "!",
        );
        error(
            &format!("alert ip any {}53] -> any any {{}}", "[".repeat(10_000)),
            "nested too deeply (more than 64 levels)",
            "[",
        );
        assert!(parse_expr(&format!("{}a{}", "(".repeat(MAX_DEPTH), ")".repeat(MAX_DEPTH))).is_ok());
        assert!(start.elapsed() < std::time::Duration::from_secs(2));
    }

    #[test]
    fn big_files_parse_in_linear_time() {
        let copies = 2_000;
        let text = EXAMPLE.repeat(copies);
        let start = std::time::Instant::now();
        let (file, diags) = parse_rule_file(&text);
        assert!(diags.is_empty());
        assert_eq!(file.items.len(), 3 * copies);
        // ~1.3 MB; debug builds manage this in well under a second.
        assert!(start.elapsed() < std::time::Duration::from_secs(5));
    }

    fn grammar_dir() -> std::path::PathBuf {
        std::path::Path::new(env!("CARGO_MANIFEST_DIR")).join("grammar")
    }

    #[test]
    fn every_example_file_parses_cleanly() {
        let mut seen = 0;
        for entry in std::fs::read_dir(grammar_dir().join("examples")).unwrap() {
            let path = entry.unwrap().path();
            if path.extension().is_some_and(|e| e == "rules") {
                let text = std::fs::read_to_string(&path).unwrap();
                let (file, diags) = parse_rule_file(&text);
                let rendered: Vec<String> =
                    diags.iter().map(|d| d.render(&path.display().to_string(), &text).to_string()).collect();
                assert!(diags.is_empty(), "{}", rendered.join("\n"));
                assert!(!file.items.is_empty(), "{} is empty", path.display());
                seen += 1;
            }
        }
        assert!(seen >= 4, "expected at least 4 example files, found {seen}");
    }

    #[test]
    fn every_ferret_block_in_the_readme_parses() {
        let readme = std::fs::read_to_string(grammar_dir().join("README.md")).unwrap();
        let mut blocks = 0;
        let mut rest = readme.as_str();
        while let Some(start) = rest.find("```ferret\n") {
            let body = &rest[start + 10..];
            let end = body.find("```").expect("unclosed fence");
            let block = &body[..end];
            let (_, diags) = parse_rule_file(block);
            let rendered: Vec<String> = diags.iter().map(|d| d.render("README.md", block).to_string()).collect();
            assert!(diags.is_empty(), "README block {blocks}:\n{block}\n{}", rendered.join("\n"));
            blocks += 1;
            rest = &body[end + 3..];
        }
        assert!(blocks >= 5, "found only {blocks} ferret blocks");
    }
}
