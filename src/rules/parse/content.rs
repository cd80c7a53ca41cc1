//! `FIELD has [ITEM, ...]`: content matching in the native language, the form
//! Suricata's `content`/`pcre` keywords convert to. Each item is a string or a
//! regex, optionally negated with `!`, followed by position modifiers
//! (`nocase offset N depth N distance N within N startswith endswith relative
//! fast_pattern`). The parser checks only the shape; which combinations make
//! sense is the compiler's business.

use nom::character::complete::digit1;
use nom::Err;

use crate::rules::ast::{ContentItem, ContentTest, FieldRef, Pattern, ValueKind};

use super::expect::{describe, fail, fail_help, found_token, PResult};
use super::lex::{word, ws};
use super::Cx;

/// Modifiers that take a number.
const NUMERIC: [&str; 4] = ["offset", "depth", "distance", "within"];
/// Modifiers that stand alone.
const FLAGS: [&str; 5] = ["nocase", "startswith", "endswith", "relative", "fast_pattern"];

impl<'s> Cx<'s> {
    /// The list after `has`; `start` is where the test began, `i` just after `has`.
    pub(super) fn content_test(&self, start: &'s str, i: &'s str, field: FieldRef) -> PResult<'s, ContentTest> {
        let at = ws(i);
        let Some(mut i) = at.strip_prefix('[') else {
            let (span, raw) = found_token(at, 0);
            return fail_help(
                at,
                span.end.max(1),
                format!("expected '[' after 'has', found {}", describe(raw)),
                "expected a list of patterns",
                "write has [\"text\" depth 4, /regex/i relative]",
            );
        };
        let mut items = Vec::new();
        loop {
            let item_at = ws(i);
            let (rest, item) = self.content_item(item_at)?;
            items.push(item);
            let sep = ws(rest);
            if let Some(after) = sep.strip_prefix(',') {
                i = after;
                if let Some(end) = ws(i).strip_prefix(']') {
                    return Ok((end, ContentTest { field, items, span: self.span(start, end) }));
                }
                continue;
            }
            if let Some(end) = sep.strip_prefix(']') {
                return Ok((end, ContentTest { field, items, span: self.span(start, end) }));
            }
            return unexpected(sep, "expected a modifier, ',' or ']'", "not a content modifier");
        }
    }

    fn content_item(&self, at: &'s str) -> PResult<'s, ContentItem> {
        let (negated, p_at) = match at.strip_prefix('!') {
            Some(rest) => (true, ws(rest)),
            None => (false, at),
        };
        let (mut i, pattern) = if p_at.starts_with('"') {
            let (rest, s) = self.string(p_at)?;
            (rest, Pattern::Bytes(s))
        } else if p_at.starts_with('/') {
            match self.regex(p_at)? {
                (rest, ValueKind::Regex { pattern, flags }) => (rest, Pattern::Regex { pattern, flags }),
                (rest, _) => (rest, Pattern::default()),
            }
        } else {
            return unexpected(p_at, "expected a string or a /regex/", "expected a pattern");
        };
        let mut item = ContentItem { pattern, negated, ..ContentItem::default() };
        loop {
            let m_at = ws(i);
            let Some((name, rest)) = word(m_at) else { break };
            if FLAGS.contains(&name) {
                let flag = match name {
                    "nocase" => &mut item.nocase,
                    "startswith" => &mut item.startswith,
                    "endswith" => &mut item.endswith,
                    "relative" => &mut item.relative,
                    _ => &mut item.fast_pattern,
                };
                if *flag {
                    return fail(m_at, name.len(), format!("duplicate modifier '{name}'"), "already set");
                }
                *flag = true;
                i = rest;
                continue;
            }
            if !NUMERIC.contains(&name) {
                return fail_help(
                    m_at,
                    name.len(),
                    format!("unknown content modifier '{name}'"),
                    "not a modifier",
                    "modifiers are nocase, offset, depth, distance, within, startswith, endswith, relative, fast_pattern",
                );
            }
            let (after, n) = self.signed_int(rest, name)?;
            let slot = match name {
                "offset" => &mut item.offset,
                "depth" => &mut item.depth,
                "distance" => &mut item.distance,
                _ => &mut item.within,
            };
            if slot.is_some() {
                return fail(m_at, name.len(), format!("duplicate modifier '{name}'"), "already set");
            }
            *slot = Some(n);
            i = after;
        }
        item.span = self.span(at, i);
        Ok((i, item))
    }

    /// An integer with an optional leading `-`, within ±2^53.
    fn signed_int(&self, i: &'s str, after: &str) -> PResult<'s, i64> {
        let at = ws(i);
        let (neg, digits_at) = match at.strip_prefix('-') {
            Some(rest) => (true, rest),
            None => (false, at),
        };
        let digits: PResult<&str> = digit1(digits_at);
        let Ok((rest, d)) = digits else {
            return unexpected(at, &format!("expected a number after '{after}'"), "expected a number");
        };
        match d.parse::<i64>() {
            Ok(n) if n < (1 << 53) => Ok((rest, if neg { -n } else { n })),
            _ => Err(Err::Failure(super::expect::PError::message(
                at,
                at.len() - rest.len(),
                "number too large",
                "too large",
            ))),
        }
    }
}

/// "EXPECTED, found TOKEN" at `at`.
fn unexpected<'s, T>(at: &'s str, expected: &str, label: &str) -> PResult<'s, T> {
    let (span, raw) = found_token(at, 0);
    fail(at, span.end.max(1), format!("{expected}, found {}", describe(raw)), label)
}

#[cfg(test)]
mod tests {
    use crate::rules::ast::{Expr, Pattern, RuleOption};
    use crate::rules::parse::{parse_expr, parse_rule_file};

    #[test]
    fn content_lists_parse_with_their_modifiers() {
        let Expr::Content(c) =
            parse_expr(r#"payload has ["ab" nocase offset 2 depth 4, !"c" distance -1 within 3, /x/i relative]"#)
                .unwrap()
        else {
            panic!("not a content test")
        };
        assert_eq!(c.field.name, "payload");
        assert_eq!(c.items.len(), 3);
        assert_eq!((c.items[0].nocase, c.items[0].offset, c.items[0].depth), (true, Some(2), Some(4)));
        assert_eq!((c.items[1].negated, c.items[1].distance, c.items[1].within), (true, Some(-1), Some(3)));
        assert_eq!(c.items[2].pattern, Pattern::Regex { pattern: "x".into(), flags: "i".into() });
        assert!(c.items[2].relative);
    }

    #[test]
    fn content_errors_point_at_the_culprit() {
        let d = parse_expr(r#"payload has ["a" deep 3]"#).unwrap_err();
        assert_eq!(d.message, "unknown content modifier 'deep'");
        let d = parse_expr(r#"payload has ["a" depth 3 depth 4]"#).unwrap_err();
        assert_eq!(d.message, "duplicate modifier 'depth'");
        let d = parse_expr(r#"payload has "a""#).unwrap_err();
        assert!(d.message.starts_with("expected '[' after 'has'"), "{}", d.message);
    }

    #[test]
    fn new_options_parse_and_print_back() {
        let text = "pass ip any any -> any any {\n    id        1\n    gid       3\n    noalert\n    applies   flow\n}\n\nalert ip any any -> any any {\n    id        2\n    fixed     detection_filter 2 per 1m by src\n}\n";
        let (file, diags) = parse_rule_file(text);
        assert!(diags.is_empty(), "{diags:?}");
        assert_eq!(file.to_string(), text);
        let crate::rules::ast::Item::Rule(r) = &file.items[1] else { panic!() };
        assert!(matches!(&r.options[1], RuleOption::Fixed(f) if f.count.node == 2));
    }
}
