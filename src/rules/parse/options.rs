//! The option block of a rule: `{ id 1; msg "..."; when ...; threshold ... }`, with each
//! option's own argument grammar (numbers, text, severities, tags, durations, rates, `by` keys)
//! and the suggestions for unknown option names.

use nom::character::complete::{char as one_char, digit1};
use nom::combinator::cut;
use nom::{Err, Parser};

use crate::rules::ast::{
    Distinct, Fixed, FixedKind, KeyPart, KeySpec, Limit, PassScope, Rate, RuleOption, ScopeSide, Severity, Spanned,
    Threshold,
};
use crate::rules::diag::Diagnostic;

use super::expect::{describe, did_you_mean, fail, fail_help, found_token, shorten, suggestion, PError, PResult, Tok};
use super::lex::{
    duration_unit, field_name, hspace, is_ident_char, is_reserved, keyword, split_while, word, ws, DURATION_UNITS,
    OPTION_KEYS, SEVERITIES,
};
use super::Cx;

impl<'s> Cx<'s> {
    /// Options up to the closing brace; `brace` starts at `{`, `i` just after it.
    pub(super) fn options(&self, brace: &'s str, mut i: &'s str) -> PResult<'s, Vec<RuleOption>> {
        let mut options = Vec::new();
        let mut seen = 0u32;
        let mut previous: Option<&str> = None;
        loop {
            let mut at = ws(i);
            while let Some(rest) = at.strip_prefix(';') {
                at = ws(rest);
            }
            if let Some(rest) = at.strip_prefix('}') {
                return Ok((rest, options));
            }
            let starts_item = ["alert", "pass", "var"].iter().any(|k| keyword(at, k).is_some());
            if at.is_empty() || starts_item {
                return fail(brace, 1, "missing '}' at end of rule", "this '{' is never closed");
            }
            let Some((key, rest)) = word(at) else {
                self.note(at, Tok::Option);
                self.note(at, Tok::RBrace);
                let set = Tok::Option.bit() | Tok::RBrace.bit();
                return Err(Err::Failure(PError::expected(at, set, None)));
            };
            let Some(index) = OPTION_KEYS.iter().position(|k| *k == key) else {
                return Err(Err::Failure(self.unknown_option(at, key, rest, previous)));
            };
            let repeatable = matches!(key, "tags" | "reference" | "recommend");
            if !repeatable && seen & (1 << index) != 0 {
                self.push_soft(Diagnostic::new(
                    format!("duplicate option '{key}'"),
                    self.span(at, rest),
                    format!("'{key}' is already set in this rule"),
                ));
            }
            seen |= 1 << index;
            let (rest, option) = cut(|i: &'s str| self.option(key, at, i)).parse(rest)?;
            options.push(option);
            previous = Some(key);
            i = rest;
        }
    }

    pub(super) fn unknown_option(&self, at: &'s str, key: &str, rest: &str, previous: Option<&str>) -> PError {
        let looks_like_test = rest.starts_with('.')
            || hspace(rest).starts_with(['=', '<', '>', '!'])
            || ["in", "contains", "matches"].iter().any(|k| keyword(hspace(rest), k).is_some());
        let help = if let Some(s) = suggestion(key, &OPTION_KEYS) {
            Some(s)
        } else if previous == Some("when") {
            Some("a condition continues only after 'and' or 'or'".to_string())
        } else if looks_like_test {
            Some(format!("conditions start with 'when', e.g. 'when {key} ...'"))
        } else {
            None
        };
        let e = PError::message(at, key.len(), format!("unknown option '{key}'"), "unknown option");
        match help {
            Some(h) => e.help(h),
            None => e.help(format!("options are {}", OPTION_KEYS.join(", "))),
        }
    }

    /// The value of option `key`; `i` is just after the key.
    pub(super) fn option(&self, key: &str, start: &'s str, i: &'s str) -> PResult<'s, RuleOption> {
        match key {
            "id" => self.whole_number(i, "id").map(|(r, n)| (r, RuleOption::Id(n))),
            "rev" => self.whole_number(i, "rev").map(|(r, n)| (r, RuleOption::Rev(n))),
            "msg" => self.text_option(i, "msg").map(|(r, s)| (r, RuleOption::Msg(s))),
            "reference" => self.text_option(i, "reference").map(|(r, s)| (r, RuleOption::Reference(s))),
            "recommend" => self.text_option(i, "recommend").map(|(r, s)| (r, RuleOption::Recommend(s))),
            "severity" => self.severity(i).map(|(r, s)| (r, RuleOption::Severity(s))),
            "class" => self.bare_word(i, "class").map(|(r, w)| (r, RuleOption::Class(w))),
            "tags" => self.tags(i).map(|(r, t)| (r, RuleOption::Tags(t))),
            "when" => {
                let r = self.expr(i, 0);
                self.cut_after(r, i, Tok::Expr, "when").map(|(r, e)| (r, RuleOption::When(e)))
            }
            "threshold" => self.threshold(start, i).map(|(r, t)| (r, RuleOption::Threshold(t))),
            "rate" => self.rate(start, i).map(|(r, t)| (r, RuleOption::Rate(t))),
            "limit" => self.limit(start, i).map(|(r, t)| (r, RuleOption::Limit(t))),
            "scope" => self.scope(i).map(|(r, s)| (r, RuleOption::Scope(s))),
            "gid" => self.whole_number(i, "gid").map(|(r, n)| (r, RuleOption::Gid(n))),
            "noalert" => Ok((i, RuleOption::Noalert(self.span(start, i)))),
            "applies" => self.applies(i).map(|(r, s)| (r, RuleOption::Applies(s))),
            "fixed" => self.fixed(start, i).map(|(r, t)| (r, RuleOption::Fixed(t))),
            _ => self.distinct(start, i).map(|(r, t)| (r, RuleOption::Distinct(t))),
        }
    }

    /// A decimal integer that fits in `u64`.
    pub(super) fn whole_number(&self, i: &'s str, after: &'static str) -> PResult<'s, Spanned<u64>> {
        let at = ws(i);
        let digits: PResult<&str> = digit1(at);
        let Ok((rest, d)) = digits else {
            return Err(Err::Failure(PError::expected(at, Tok::WholeNumber.bit(), Some(after))));
        };
        if rest.starts_with('.') || rest.starts_with(is_ident_char) {
            let len = d.len() + split_while(rest, |c| is_ident_char(c) || c == '.').0.len();
            let text = at.get(..len).unwrap_or("");
            return fail(
                at,
                len,
                format!("expected a whole number after '{after}', found '{text}'"),
                "not a whole number",
            );
        }
        match d.parse::<u64>() {
            Ok(n) => Ok((rest, Spanned::new(n, self.span(at, rest)))),
            Err(_) => fail(at, d.len(), format!("number {d} is too large"), "the largest is 18446744073709551615"),
        }
    }

    pub(super) fn text_option(&self, i: &'s str, after: &'static str) -> PResult<'s, Spanned<String>> {
        let at = ws(i);
        if at.starts_with('"') {
            let (rest, s) = self.string(at)?;
            return Ok((rest, Spanned::new(s, self.span(at, rest))));
        }
        if word(at).is_some() {
            let (span, raw) = found_token(at, 0);
            return fail_help(
                at,
                span.end,
                format!("expected a string after '{after}', found '{}'", shorten(raw)),
                "expected a string",
                format!("put the text in double quotes: {after} \"...\""),
            );
        }
        Err(Err::Failure(PError::expected(at, Tok::Str.bit(), Some(after))))
    }

    pub(super) fn severity(&self, i: &'s str) -> PResult<'s, Spanned<Severity>> {
        let at = ws(i);
        let Some((w, rest)) = word(at) else {
            let set = Tok::Word.bit();
            return Err(Err::Failure(PError::expected(at, set, Some("severity"))));
        };
        match SEVERITIES.iter().find(|(name, _)| *name == w) {
            Some(&(_, s)) => Ok((rest, Spanned::new(s, self.span(at, rest)))),
            None => {
                let names: Vec<&str> = SEVERITIES.iter().map(|(n, _)| *n).collect();
                let help = did_you_mean(w, names.iter().copied())
                    .map(|c| format!("did you mean '{c}'?"))
                    .unwrap_or_else(|| format!("severities are {}", names.join(", ")));
                fail_help(at, w.len(), format!("unknown severity '{w}'"), "not a severity", help)
            }
        }
    }

    /// `scope src|dst|home`: which address picks the network for network-scoped variables.
    pub(super) fn scope(&self, i: &'s str) -> PResult<'s, Spanned<ScopeSide>> {
        const SIDES: [(&str, ScopeSide); 3] =
            [("src", ScopeSide::Src), ("dst", ScopeSide::Dst), ("home", ScopeSide::Home)];
        let at = ws(i);
        let Some((w, rest)) = word(at) else {
            return Err(Err::Failure(PError::expected(at, Tok::Word.bit(), Some("scope"))));
        };
        match SIDES.iter().find(|(name, _)| *name == w) {
            Some(&(_, side)) => Ok((rest, Spanned::new(side, self.span(at, rest)))),
            None => fail_help(
                at,
                w.len(),
                format!("unknown scope '{w}'"),
                "not a scope",
                "scope is src, dst or home (the side the header names $HOME_NET, else src)",
            ),
        }
    }

    pub(super) fn bare_word(&self, i: &'s str, after: &'static str) -> PResult<'s, Spanned<String>> {
        let at = ws(i);
        match word(at) {
            Some((w, rest)) if !is_reserved(w) => Ok((rest, Spanned::new(w.to_string(), self.span(at, rest)))),
            _ => Err(Err::Failure(PError::expected(at, Tok::Word.bit(), Some(after)))),
        }
    }

    pub(super) fn tags(&self, i: &'s str) -> PResult<'s, Vec<Spanned<String>>> {
        let at = ws(i);
        if !at.starts_with('[') {
            return self.bare_word(at, "tags").map(|(r, w)| (r, vec![w]));
        }
        let mut tag_word = |i: &'s str| match word(i) {
            Some((w, rest)) if !is_reserved(w) => Ok((rest, Spanned::new(w.to_string(), self.span(i, rest)))),
            _ => self.expected(i, Tok::Word),
        };
        self.list(at, Tok::Word, &mut tag_word)
    }

    /// `applies packet|flow`: what a matching pass rule silences.
    pub(super) fn applies(&self, i: &'s str) -> PResult<'s, Spanned<PassScope>> {
        let at = ws(i);
        match word(at) {
            Some(("packet", rest)) => Ok((rest, Spanned::new(PassScope::Packet, self.span(at, rest)))),
            Some(("flow", rest)) => Ok((rest, Spanned::new(PassScope::Flow, self.span(at, rest)))),
            Some((w, _)) => fail_help(
                at,
                w.len(),
                format!("unknown scope '{w}'"),
                "not packet or flow",
                "write 'applies packet' or 'applies flow'",
            ),
            None => Err(Err::Failure(PError::expected(at, Tok::Word.bit(), Some("applies")))),
        }
    }

    /// `fixed KIND N per DURATION by KEY`, KIND one of limit, threshold, both, detection_filter.
    pub(super) fn fixed(&self, start: &'s str, i: &'s str) -> PResult<'s, Fixed> {
        let at = ws(i);
        let Some((w, rest)) = word(at) else {
            return Err(Err::Failure(PError::expected(at, Tok::Word.bit(), Some("fixed"))));
        };
        let Some(kind) = FixedKind::ALL.into_iter().find(|k| k.keyword() == w) else {
            return fail_help(
                at,
                w.len(),
                format!("unknown fixed-window kind '{w}'"),
                "not a kind",
                "kinds are limit, threshold, both, detection_filter",
            );
        };
        let kind = Spanned::new(kind, self.span(at, rest));
        let (i, count) = self.whole_number(rest, "fixed")?;
        let (i, window) = self.keyword_then_duration(i, "per", Tok::Per)?;
        let (i, key) = self.key(i)?;
        Ok((i, Fixed { kind, count, window, key, span: self.span(start, i) }))
    }

    /// `threshold N within DURATION by KEY`
    pub(super) fn threshold(&self, start: &'s str, i: &'s str) -> PResult<'s, Threshold> {
        let (i, count) = self.whole_number(i, "threshold")?;
        let (i, window) = self.keyword_then_duration(i, "within", Tok::Within)?;
        let (i, key) = self.key(i)?;
        Ok((i, Threshold { count, window, key, span: self.span(start, i) }))
    }

    /// `limit N per DURATION by KEY`
    pub(super) fn limit(&self, start: &'s str, i: &'s str) -> PResult<'s, Limit> {
        let (i, count) = self.whole_number(i, "limit")?;
        let (i, window) = self.keyword_then_duration(i, "per", Tok::Per)?;
        let (i, key) = self.key(i)?;
        Ok((i, Limit { count, window, key, span: self.span(start, i) }))
    }

    /// `distinct FIELD > N within DURATION by KEY`
    pub(super) fn distinct(&self, start: &'s str, i: &'s str) -> PResult<'s, Distinct> {
        let at = ws(i);
        let r = self.field(at);
        let (i, field) = self.cut_after(r, at, Tok::Field, "distinct")?;
        let (i, _) = self.greater(i, "field")?;
        let (i, count) = self.whole_number(i, ">")?;
        let (i, window) = self.keyword_then_duration(i, "within", Tok::Within)?;
        let (i, key) = self.key(i)?;
        Ok((i, Distinct { field, count, window, key, span: self.span(start, i) }))
    }

    /// `rate > NUMBER/DURATION by KEY`
    pub(super) fn rate(&self, start: &'s str, i: &'s str) -> PResult<'s, Rate> {
        let (i, _) = self.greater(i, "rate")?;
        let at = ws(i);
        let (i, count) = match self.unsigned_decimal(at) {
            Some((rest, text)) => match text.parse::<f64>() {
                Ok(v) if v.is_finite() => (rest, Spanned::new(v, self.span(at, rest))),
                _ => return fail(at, text.len(), "number out of range", "too large"),
            },
            None => return Err(Err::Failure(PError::expected(at, Tok::Number.bit(), Some(">")))),
        };
        let slash = ws(i);
        let Some(after) = slash.strip_prefix('/') else {
            let (span, raw) = found_token(slash, 0);
            return fail_help(
                slash,
                span.end,
                format!("expected '/' after the rate count, found {}", describe(raw)),
                "expected '/'",
                "write a rate as COUNT/DURATION, e.g. 'rate > 3/s by src' or 'rate > 100/10s by src'",
            );
        };
        let (i, per) = self.per_duration(after)?;
        let (i, key) = self.key(i)?;
        Ok((i, Rate { count, per, key, span: self.span(start, i) }))
    }

    /// `>` (and a helpful error for `>=`).
    pub(super) fn greater(&self, i: &'s str, after: &'static str) -> PResult<'s, ()> {
        let at = ws(i);
        if at.starts_with(">=") {
            return fail_help(
                at,
                2,
                "expected '>', found '>='",
                "only '>' is allowed here",
                "write '> N' (N is exclusive)",
            );
        }
        let gt: PResult<char> = one_char('>')(at);
        match gt {
            Ok((rest, _)) => Ok((rest, ())),
            Err(_) => Err(Err::Failure(PError::expected(at, Tok::Greater.bit(), Some(after)))),
        }
    }

    pub(super) fn keyword_then_duration(&self, i: &'s str, kw: &'static str, tok: Tok) -> PResult<'s, Spanned<u64>> {
        let at = ws(i);
        let Some(rest) = keyword(at, kw) else {
            return Err(Err::Failure(PError::expected(at, tok.bit(), None)));
        };
        self.duration(rest, kw)
    }

    /// A duration with a unit: `10s`, `1500 ms`, `1.5h`; in nanoseconds.
    pub(super) fn duration(&self, i: &'s str, after: &'static str) -> PResult<'s, Spanned<u64>> {
        let at = ws(i);
        let Some((rest, number)) = self.unsigned_decimal(at) else {
            return Err(Err::Failure(PError::expected(at, Tok::Duration.bit(), Some(after))));
        };
        let attached = split_while(rest, |c| c.is_ascii_alphabetic()).0;
        let spaced_at = hspace(rest);
        let spaced = split_while(spaced_at, |c| c.is_ascii_alphabetic()).0;
        let (unit_at, unit) = if !attached.is_empty() {
            (rest, attached)
        } else if duration_unit(spaced).is_some()
            && !spaced_at.get(spaced.len()..).unwrap_or("").starts_with(is_ident_char)
        {
            (spaced_at, spaced)
        } else {
            return fail_help(
                at,
                number.len(),
                format!("missing unit on duration '{number}'"),
                "add a unit",
                "units are ns, us, ms, s, m, min, h (e.g. 10s)",
            );
        };
        let end = unit_at.get(unit.len()..).unwrap_or("");
        let Some(unit_ns) = duration_unit(unit) else {
            let units: Vec<&str> = DURATION_UNITS.iter().map(|(n, _)| *n).collect();
            let help = did_you_mean(unit, units.iter().copied())
                .map(|c| format!("did you mean '{c}'?"))
                .unwrap_or_else(|| "duration units are ns, us, ms, s, m, min, h".to_string());
            return fail_help(unit_at, unit.len(), format!("unknown duration unit '{unit}'"), "unknown unit", help);
        };
        self.boundary(end, at, "duration")?;
        let ns = exact_duration(number, unit_ns).map_err(|why| {
            Err::Failure(PError::message(at, at.len() - end.len(), format!("invalid duration: {why}"), why))
        })?;
        Ok((end, Spanned::new(ns, self.span(at, end))))
    }

    /// After `/` in a rate: a duration (`10s`) or a bare unit (`s`, meaning one second).
    pub(super) fn per_duration(&self, i: &'s str) -> PResult<'s, Spanned<u64>> {
        let at = ws(i);
        if at.starts_with(|c: char| c.is_ascii_digit()) {
            return self.duration(at, "/");
        }
        let unit = split_while(at, |c| c.is_ascii_alphabetic()).0;
        if unit.is_empty() {
            return Err(Err::Failure(PError::expected(at, Tok::Duration.bit(), Some("/"))));
        }
        let rest = at.get(unit.len()..).unwrap_or("");
        match duration_unit(unit) {
            Some(ns) if !rest.starts_with(is_ident_char) => Ok((rest, Spanned::new(ns, self.span(at, rest)))),
            _ => {
                let units: Vec<&str> = DURATION_UNITS.iter().map(|(n, _)| *n).collect();
                let help = did_you_mean(unit, units.iter().copied())
                    .map(|c| format!("did you mean '{c}'?"))
                    .unwrap_or_else(|| "duration units are ns, us, ms, s, m, min, h".to_string());
                fail_help(at, unit.len(), format!("unknown duration unit '{unit}'"), "unknown unit", help)
            }
        }
    }

    /// `DIGITS ('.' DIGITS)?` at `at`, as `(rest, text)`.
    pub(super) fn unsigned_decimal(&self, at: &'s str) -> Option<(&'s str, &'s str)> {
        let digits: PResult<&str> = digit1(at);
        let (rest, _) = digits.ok()?;
        let frac: PResult<&str> = digit1(rest.strip_prefix('.').unwrap_or(""));
        let rest = match frac {
            Ok((after, _)) => after,
            Err(_) => rest,
        };
        at.split_at_checked(at.len() - rest.len()).map(|(text, rest)| (rest, text))
    }

    /// `by PART, PART, ...`
    pub(super) fn key(&self, i: &'s str) -> PResult<'s, KeySpec> {
        let at = ws(i);
        let Some(mut i) = keyword(at, "by") else {
            return Err(Err::Failure(PError::expected(at, Tok::By.bit(), None)));
        };
        let mut parts = Vec::new();
        let mut after = "by";
        loop {
            let part_at = ws(i);
            let Some((name, rest)) = field_name(part_at) else {
                return Err(Err::Failure(PError::expected(part_at, Tok::Key.bit(), Some(after))));
            };
            let part = match name {
                "src" => KeyPart::Src,
                "dst" => KeyPart::Dst,
                "pair" => KeyPart::Pair,
                "flow" => KeyPart::Flow,
                "rule" => KeyPart::Rule,
                _ if is_reserved(name) => {
                    return Err(Err::Failure(PError::expected(part_at, Tok::Key.bit(), Some(after))))
                }
                _ => {
                    self.field_boundary(part_at, rest)?;
                    KeyPart::Field(name.to_string())
                }
            };
            parts.push(Spanned::new(part, self.span(part_at, rest)));
            i = rest;
            match ws(i).strip_prefix(',') {
                Some(next) => {
                    i = next;
                    after = ",";
                }
                None => return Ok((i, KeySpec { parts, span: self.span(at, i) })),
            }
        }
    }
}

/// `number` (digits with optional fraction) times `unit_ns`, exactly, as whole nanoseconds.
pub(super) fn exact_duration(number: &str, unit_ns: u64) -> Result<u64, &'static str> {
    let (int, frac) = number.split_once('.').unwrap_or((number, ""));
    if frac.len() > 18 {
        return Err("too many decimal places");
    }
    let scale = 10u128.pow(frac.len() as u32);
    let int: u128 = int.parse().map_err(|_| "number too large")?;
    let frac: u128 = if frac.is_empty() { 0 } else { frac.parse().map_err(|_| "bad fraction")? };
    let scaled = int
        .checked_mul(scale)
        .and_then(|v| v.checked_add(frac))
        .and_then(|v| v.checked_mul(u128::from(unit_ns)))
        .ok_or("too large")?;
    if scaled % scale != 0 {
        return Err("not a whole number of nanoseconds");
    }
    u64::try_from(scaled / scale).map_err(|_| "too large")
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::rules::ast::{KeyPart, RuleOption};

    use crate::rules::parse::parse_rule_file;

    use crate::rules::parse::test_support::*;

    #[test]
    fn tags_may_be_one_word_or_a_list_and_repeat() {
        let o = options(
            "tags dns\n tags [a-b, c_d,]\n reference \"x\"\n reference \"y\"\n recommend \"r\"\n recommend \"s\"",
        );
        assert!(matches!(&o[0], RuleOption::Tags(t) if t.len() == 1 && t[0].node == "dns"));
        assert!(matches!(&o[1], RuleOption::Tags(t) if t.len() == 2 && t[0].node == "a-b"));
        assert_eq!(o.len(), 6);
    }

    #[test]
    fn durations_and_rates() {
        let window = |d: &str| match &options(&format!("limit 1 per {d} by src"))[0] {
            RuleOption::Limit(l) => l.window.node,
            other => panic!("{other:?}"),
        };
        assert_eq!(window("10s"), 10_000_000_000);
        assert_eq!(window("1500ms"), 1_500_000_000);
        assert_eq!(window("250ns"), 250);
        assert_eq!(window("3us"), 3_000);
        assert_eq!(window("10 s"), 10_000_000_000);
        assert_eq!(window("1.5h"), 5_400_000_000_000);
        assert_eq!(window("2min"), 120_000_000_000);
        assert_eq!(window("2m"), 120_000_000_000);
        let rate = |r: &str| match &options(&format!("rate > {r} by rule"))[0] {
            RuleOption::Rate(r) => (r.count.node, r.per.node),
            other => panic!("{other:?}"),
        };
        assert_eq!(rate("3/s"), (3.0, 1_000_000_000));
        assert_eq!(rate("100/10s"), (100.0, 10_000_000_000));
        assert_eq!(rate("2.5/m"), (2.5, 60_000_000_000));
        assert_eq!(rate("1 / h"), (1.0, 3_600_000_000_000));
        assert_eq!(rate("7/250ms"), (7.0, 250_000_000));
    }

    #[test]
    fn key_parts() {
        let RuleOption::Threshold(t) = &options("threshold 2 within 1s by src, dst,pair , flow, rule, src.port")[0]
        else {
            panic!()
        };
        let parts: Vec<KeyPart> = t.key.parts.iter().map(|p| p.node.clone()).collect();
        assert_eq!(
            parts,
            [
                KeyPart::Src,
                KeyPart::Dst,
                KeyPart::Pair,
                KeyPart::Flow,
                KeyPart::Rule,
                KeyPart::Field("src.port".into())
            ]
        );
    }

    #[test]
    fn error_unknown_option_suggests() {
        let d = error_in("severty high", "unknown option 'severty'", "severty");
        assert_eq!(d.help.as_deref(), Some("did you mean 'severity'?"));
        let d = error_in("payload.len > 5", "unknown option 'payload'", "payload");
        assert!(d.help.unwrap().contains("'when'"));
        let d = error_in("when a > 5 foo", "unknown option 'foo'", "foo");
        assert!(d.help.unwrap().contains("'and' or 'or'"));
    }

    #[test]
    fn error_duplicate_option() {
        let d = error_in("msg \"a\"\n    msg \"b\"", "duplicate option 'msg'", "msg");
        assert_eq!(d.span.start, rule_src("").len() - 3 + 12);
        let text = rule_src("id 1\n id 2\n when a\n when b");
        let (file, diags) = parse_rule_file(&text);
        assert_eq!(diags.len(), 2);
        assert!(file.items.is_empty(), "a rule with errors is dropped");
    }

    #[test]
    fn error_option_values() {
        error_in("id 5.5", "expected a whole number after 'id', found '5.5'", "5.5");
        error_in("id x", "expected a whole number after 'id', found 'x'", "x");
        error_in("id 99999999999999999999", "number 99999999999999999999 is too large", "99999999999999999999");
        let d = error_in("msg hello", "expected a string after 'msg', found 'hello'", "hello");
        assert!(d.help.unwrap().contains("double quotes"));
        let d = error_in("severity hgh", "unknown severity 'hgh'", "hgh");
        assert_eq!(d.help.as_deref(), Some("did you mean 'high'?"));
        error_in("class 5", "expected a word after 'class', found '5'", "5");
        error_in("tags [a, 5]", "expected one of ']', a word, found '5'", "5");
        let d = error_in("threshold 5 within 10 by src", "missing unit on duration '10'", "10");
        assert!(d.help.unwrap().contains("10s"));
        error_in("threshold 5 within 10sec by src", "unknown duration unit 'sec'", "sec");
        error_in("threshold 5 in 10s by src", "expected 'within', found 'in'", "in");
        error_in("threshold 5 within 10s", "expected 'by', found '}'", "}");
        error_in(
            "threshold 5 within 10s by",
            "expected a key (src, dst, pair, flow, rule or a field) after 'by', found '}'",
            "}",
        );
        error_in(
            "threshold 5 within 10s by src,",
            "expected a key (src, dst, pair, flow, rule or a field) after ',', found '}'",
            "}",
        );
        error_in("limit 1 per 1.5ns by src", "invalid duration: not a whole number of nanoseconds", "1.5ns");
        error_in("limit 1 per 99999999999h by src", "invalid duration: too large", "99999999999h");
        let d = error_in("rate > 3 by src", "expected '/' after the rate count, found 'by'", "by");
        assert!(d.help.is_some());
        error_in("rate >= 3/s by src", "expected '>', found '>='", ">=");
        error_in("rate 3/s by src", "expected '>' after 'rate', found '3'", "3");
        error_in("rate > 3/sec by src", "unknown duration unit 'sec'", "sec");
        error_in("distinct > 5 within 1s by src", "expected a field after 'distinct', found '>'", ">");
        error_in("distinct x 5 within 1s by src", "expected '>' after 'field', found '5'", "5");
    }

    #[test]
    fn exact_duration_arithmetic() {
        assert_eq!(exact_duration("1.5", 1_000_000_000), Ok(1_500_000_000));
        assert_eq!(exact_duration("0.001", 1_000), Ok(1));
        assert!(exact_duration("0.0001", 1_000).is_err());
        assert_eq!(exact_duration("18446744073709551615", 1), Ok(u64::MAX));
        assert!(exact_duration("18446744073709551616", 1).is_err());
    }
}
