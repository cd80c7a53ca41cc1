//! Values: lists, negation, variables, strings with escapes, regex literals, numbers with units,
//! IP addresses and networks, port ranges and `file("...")`. Also the `--var NAME=VALUE` grammar.

use std::net::IpAddr;

use nom::character::complete::hex_digit1;
use nom::Err;

use crate::rules::ast::{IpNet, Value, ValueKind};
use crate::rules::span::Span;

use super::expect::{describe, did_you_mean, fail, fail_help, failure, found_token, PError, PResult, Tok};
use super::lex::{
    decimal_run, hspace, ip_run, is_reserved, is_word_char, split_while, value_unit, word, ws, DURATION_UNITS,
    SIZE_UNITS,
};
use super::{Cx, MAX_LITERAL};

impl<'s> Cx<'s> {
    /// A value; `allow_not` permits a leading `!` (variables and list elements).
    pub(super) fn value(&self, i: &'s str, depth: usize, allow_not: bool) -> PResult<'s, Value> {
        let at = ws(i);
        if at.starts_with('[') {
            let (rest, items) =
                self.nested(at, depth, |d| self.list(at, Tok::Value, &mut |i| self.value(i, d, true)))?;
            return Ok((rest, Value { kind: ValueKind::List(items), span: self.span(at, rest) }));
        }
        if let Some(inner_at) = at.strip_prefix('!') {
            if !allow_not {
                return fail_help(
                    at,
                    1,
                    "'!' is not allowed here",
                    "unexpected '!'",
                    "'!' negates elements of a list; to negate a test use 'not' or '!='",
                );
            }
            let (rest, inner) = self.nested(at, depth, |d| {
                let r = self.value(inner_at, d, true);
                self.cut_after(r, inner_at, Tok::Value, "!")
            })?;
            return Ok((rest, Value { kind: ValueKind::Not(Box::new(inner)), span: self.span(at, rest) }));
        }
        let (rest, low) = self.scalar(at)?;
        if matches!(low.kind, ValueKind::Range(..)) {
            return Ok((rest, low));
        }
        let dots = ws(rest);
        let Some(high_at) = dots.strip_prefix("..") else {
            return Ok((rest, low));
        };
        let r = self.scalar(ws(high_at));
        let (rest, high) = self.cut_after(r, high_at, Tok::Value, "..")?;
        let span = self.span(at, rest);
        Ok((rest, Value { kind: ValueKind::Range(Box::new(low), Box::new(high)), span }))
    }

    /// A value that is not a list, negation or `..` range.
    pub(super) fn scalar(&self, at: &'s str) -> PResult<'s, Value> {
        let Some(c) = at.chars().next() else {
            return self.expected(at, Tok::Value);
        };
        let (rest, kind) = match c {
            '"' => {
                let (rest, s) = self.string(at)?;
                (rest, ValueKind::Str(s))
            }
            '/' => self.regex(at)?,
            '$' => match self.var_ref(at)? {
                Some((rest, name)) => (rest, ValueKind::Var(name.node)),
                None => return self.expected(at, Tok::Value),
            },
            _ if (c == ':' || c.is_ascii_hexdigit()) && at.get(..ip_run(at)).is_some_and(|r| r.contains(':')) => {
                return self.colon_value(at);
            }
            '-' | '0'..='9' => return self.number_or_ipv4(at),
            _ => match word(at) {
                Some(("true", rest)) => (rest, ValueKind::Bool(true)),
                Some(("false", rest)) => (rest, ValueKind::Bool(false)),
                Some(("file", rest)) if rest.starts_with('(') => return self.file_value(at, rest),
                Some((w, rest)) if !is_reserved(w) => {
                    if rest.starts_with('.') && rest.get(1..).is_some_and(|r| r.starts_with(is_word_char)) {
                        let len = w.len() + split_while(rest, |c| is_word_char(c) || c == '.').0.len();
                        let text = at.get(..len).unwrap_or("");
                        return fail_help(
                            at,
                            len,
                            format!("unquoted text '{text}'"),
                            "not a value",
                            format!("write text in double quotes: \"{text}\""),
                        );
                    }
                    (rest, ValueKind::Word(w.to_string()))
                }
                _ => return self.expected(at, Tok::Value),
            },
        };
        Ok((rest, Value { kind, span: self.span(at, rest) }))
    }

    /// `file("path")`: the lines of a data file, read by the loader; `open` starts at `(`.
    pub(super) fn file_value(&self, at: &'s str, open: &'s str) -> PResult<'s, Value> {
        let path_at = ws(open.get(1..).unwrap_or(""));
        if !path_at.starts_with('"') {
            let (span, raw) = found_token(path_at, 0);
            let e = PError::message(
                path_at,
                span.end,
                format!("expected a quoted path after 'file(', found {}", describe(raw)),
                "expected a string",
            );
            return Err(Err::Failure(e.help("write file(\"data/list.txt\"), relative to the rule file")));
        }
        let (rest, path) = self.string(path_at)?;
        let close_at = ws(rest);
        let Some(rest) = close_at.strip_prefix(')') else {
            let (span, raw) = found_token(close_at, 0);
            let e = PError::message(
                close_at,
                span.end,
                format!("expected ')' after the file path, found {}", describe(raw)),
                "expected ')'",
            );
            return Err(Err::Failure(e));
        };
        Ok((rest, Value { kind: ValueKind::File(path), span: self.span(at, rest) }))
    }

    /// A value whose text contains `:`: an IPv6 address/network, or a Suricata-style port range
    /// (`1024:65535`, `1024:`, `:1023`) read as the range `low..high`.
    pub(super) fn colon_value(&self, at: &'s str) -> PResult<'s, Value> {
        let run = at.get(..ip_run(at)).unwrap_or("");
        if let Some((low, high)) = run.split_once(':') {
            let all_digits = |s: &str| s.bytes().all(|b| b.is_ascii_digit());
            if !high.contains(':') && all_digits(low) && all_digits(high) && !(low.is_empty() && high.is_empty()) {
                return self.port_range_value(at, low, high);
            }
        }
        let (rest, net) = self.ip_net(at)?;
        self.boundary(rest, at, "address")?;
        Ok((rest, Value { kind: ValueKind::Net(net), span: self.span(at, rest) }))
    }

    pub(super) fn port_range_value(&self, at: &'s str, low: &str, high: &str) -> PResult<'s, Value> {
        let high_at = at.get(low.len() + 1..).unwrap_or("");
        let low_port = if low.is_empty() { 0 } else { self.port_number(at, low)? };
        let high_port = if high.is_empty() { 65535 } else { self.port_number(high_at, high)? };
        let rest = high_at.get(high.len()..).unwrap_or("");
        self.check_port_order(at, rest, Some(low_port), Some(high_port))?;
        self.boundary(rest, at, "port range")?;
        let whole = self.span(at, rest);
        // A missing bound has no text: its span is empty, where it would have been written.
        let bound = |port: u16, text: &str, from: &'s str| {
            let span = Span::new(self.offset(from), self.offset(from) + text.len());
            Box::new(Value { kind: ValueKind::Number(f64::from(port)), span })
        };
        let kind = ValueKind::Range(bound(low_port, low, at), bound(high_port, high, high_at));
        Ok((rest, Value { kind, span: whole }))
    }

    /// A number (decimal or `0x` hex, optional `-`, optional unit) or an IPv4 address/network.
    pub(super) fn number_or_ipv4(&self, at: &'s str) -> PResult<'s, Value> {
        let negative = at.starts_with('-');
        let body = if negative { at.get(1..).unwrap_or("") } else { at };
        if let Some(hex) = body.strip_prefix("0x").or_else(|| body.strip_prefix("0X")) {
            return self.hex_number(at, hex, negative);
        }
        let run_len = decimal_run(body);
        let (run, rest) = body.split_at_checked(run_len).unwrap_or((body, ""));
        if run.is_empty() {
            return Err(Err::Failure(PError::expected(body, Tok::Number.bit(), Some("-"))));
        }
        let number_text = at.get(..at.len() - rest.len()).unwrap_or(run);
        match run.matches('.').count() {
            0 | 1 => self.decimal_with_unit(at, number_text, rest),
            3 if !negative => {
                let addr = IpAddr::V4(self.ipv4(at, run)?);
                let (rest, prefix) = self.prefix(rest, addr)?;
                self.boundary(rest, at, "address")?;
                let kind = ValueKind::Net(IpNet { addr, prefix });
                Ok((rest, Value { kind, span: self.span(at, rest) }))
            }
            _ => fail(
                at,
                number_text.len(),
                format!("invalid number or address '{number_text}'"),
                "neither a number nor an IPv4 address",
            ),
        }
    }

    pub(super) fn hex_number(&self, at: &'s str, hex: &'s str, negative: bool) -> PResult<'s, Value> {
        let digits: PResult<&str> = hex_digit1(hex);
        let Ok((rest, d)) = digits else {
            return fail(at, at.len() - hex.len(), "expected hex digits after '0x'", "incomplete hex number");
        };
        self.boundary(rest, at, "hex number")?;
        let Ok(n) = u64::from_str_radix(d, 16) else {
            return fail(at, at.len() - rest.len(), "number out of range", "too large");
        };
        let v = n as f64;
        let kind = ValueKind::Number(if negative { -v } else { v });
        Ok((rest, Value { kind, span: self.span(at, rest) }))
    }

    /// A decimal number (text `number_text` at `at`) and its optional unit starting at `rest`.
    pub(super) fn decimal_with_unit(&self, at: &'s str, number_text: &str, rest: &'s str) -> PResult<'s, Value> {
        let Ok(mut v) = number_text.parse::<f64>() else {
            return fail(at, number_text.len(), format!("invalid number '{number_text}'"), "not a number");
        };
        let attached = split_while(rest, |c| c.is_ascii_alphabetic()).0;
        let spaced_at = hspace(rest);
        let spaced = split_while(spaced_at, |c| c.is_ascii_alphabetic()).0;
        let after_spaced = spaced_at.get(spaced.len()..).unwrap_or("");
        let mut end = rest;
        let exponent = rest.get(attached.len()..).unwrap_or("");
        if matches!(attached, "e" | "E") && exponent.starts_with(|c: char| c.is_ascii_digit() || c == '-' || c == '+') {
            let digits = split_while(exponent.get(1..).unwrap_or(""), |c| c.is_ascii_digit()).0;
            let len = at.len() - exponent.len() + 1 + digits.len();
            let text = at.get(..len).unwrap_or("");
            return fail(at, len, format!("invalid number '{text}'"), "exponents (1e6) are not supported");
        }
        if !attached.is_empty() {
            let Some(factor) = value_unit(attached) else {
                let units: Vec<&str> = DURATION_UNITS.iter().chain(SIZE_UNITS.iter()).map(|(n, _)| *n).collect();
                let help = did_you_mean(attached, units.iter().copied())
                    .map(|c| format!("did you mean '{c}'?"))
                    .unwrap_or_else(|| "units are B, bytes, KiB, MiB, GiB, ns, us, ms, s, m, min, h".into());
                return fail_help(rest, attached.len(), format!("unknown unit '{attached}'"), "unknown unit", help);
            };
            v *= factor as f64;
            end = rest.get(attached.len()..).unwrap_or("");
        } else if let Some(factor) = value_unit(spaced).filter(|_| !after_spaced.starts_with(is_word_char)) {
            v *= factor as f64;
            end = after_spaced;
        }
        self.boundary(end, at, "number")?;
        if !v.is_finite() {
            return fail(at, at.len() - end.len(), "number out of range", "too large");
        }
        Ok((end, Value { kind: ValueKind::Number(v), span: self.span(at, end) }))
    }

    /// `"..."` with escapes; `at` starts with the opening quote.
    pub(super) fn string(&self, at: &'s str) -> PResult<'s, String> {
        let mut out = String::new();
        let mut i = at.get(1..).unwrap_or("");
        loop {
            let stop = i.find(['"', '\\', '\n']).unwrap_or(i.len());
            let (chunk, rest) = i.split_at_checked(stop).unwrap_or((i, ""));
            out.push_str(chunk);
            if at.len() - rest.len() > MAX_LITERAL + 1 {
                return fail(at, 1, format!("string longer than {MAX_LITERAL} bytes"), "string starts here");
            }
            if let Some(after) = rest.strip_prefix('"') {
                return Ok((after, out));
            }
            let Some(escape) = rest.strip_prefix('\\') else {
                let line_len = at.find(['\n', '\r']).unwrap_or(at.len());
                return fail(at, line_len, "unterminated string", "missing closing '\"'");
            };
            let (c, after) = self.escape(rest, escape)?;
            out.push(c);
            i = after;
        }
    }

    /// One escape; `backslash` starts at `\`, `escape` just after it.
    pub(super) fn escape(&self, backslash: &'s str, escape: &'s str) -> Result<(char, &'s str), Err<PError>> {
        let c = match escape.chars().next() {
            Some(c) if c != '\n' && c != '\r' => c,
            _ => return Err(failure(backslash, 1, "unterminated string", "missing closing '\"'")),
        };
        let after = escape.get(c.len_utf8()..).unwrap_or("");
        let simple = match c {
            '"' => Some('"'),
            '\\' => Some('\\'),
            'n' => Some('\n'),
            't' => Some('\t'),
            'r' => Some('\r'),
            _ => None,
        };
        if let Some(v) = simple {
            return Ok((v, after));
        }
        if c == 'x' {
            let hex = after.get(..2).filter(|h| h.bytes().all(|b| b.is_ascii_hexdigit()));
            if let Some(byte) = hex.and_then(|h| u8::from_str_radix(h, 16).ok()) {
                return Ok((char::from(byte), after.get(2..).unwrap_or("")));
            }
            let len = 2 + split_while(after, |c| c.is_ascii_hexdigit()).0.len().min(2);
            let text = backslash.get(..len).unwrap_or("\\x");
            let e = PError::message(backslash, len, format!("invalid escape '{text}'"), "invalid escape");
            return Err(Err::Failure(e.help("write \\xHH with two hex digits")));
        }
        let len = 1 + c.len_utf8();
        let text = backslash.get(..len).unwrap_or("\\");
        let e = PError::message(backslash, len, format!("unknown escape '{text}' in string"), "unknown escape");
        Err(Err::Failure(e.help("escapes are \\\" \\\\ \\n \\t \\r \\xHH")))
    }

    /// `/pattern/flags`; `at` starts with the opening slash.
    pub(super) fn regex(&self, at: &'s str) -> PResult<'s, ValueKind> {
        let mut pattern = String::new();
        let mut i = at.get(1..).unwrap_or("");
        loop {
            let stop = i.find(['/', '\\', '\n']).unwrap_or(i.len());
            let (chunk, rest) = i.split_at_checked(stop).unwrap_or((i, ""));
            pattern.push_str(chunk);
            if at.len() - rest.len() > MAX_LITERAL + 1 {
                return fail(at, 1, format!("regex longer than {MAX_LITERAL} bytes"), "regex starts here");
            }
            if let Some(after) = rest.strip_prefix('/') {
                i = after;
                break;
            }
            let Some(escaped) = rest.strip_prefix('\\').and_then(|e| e.chars().next()).filter(|&c| c != '\n') else {
                let line_len = at.find(['\n', '\r']).unwrap_or(at.len());
                return fail(at, line_len, "unterminated regex", "missing closing '/'");
            };
            if escaped != '/' {
                pattern.push('\\');
            }
            pattern.push(escaped);
            i = rest.get(1 + escaped.len_utf8()..).unwrap_or("");
        }
        let (flags, rest) = split_while(i, |c| c.is_ascii_alphanumeric() || c == '_');
        if let Some(pos) = flags.find(|c: char| !"imsx".contains(c)) {
            let flag_at = i.get(pos..).unwrap_or(i);
            let bad = flag_at.chars().next().unwrap_or('?');
            return fail_help(
                flag_at,
                bad.len_utf8(),
                format!("unknown regex flag '{bad}'"),
                "unknown flag",
                "regex flags are i (ignore case), m (multi-line), s (dot matches newline), x (verbose)",
            );
        }
        Ok((rest, ValueKind::Regex { pattern, flags: flags.to_string() }))
    }
}

#[cfg(test)]
mod tests {
    use crate::rules::ast::{Expr, RuleOption, TestOp, ValueKind};

    use crate::rules::parse::test_support::*;
    use crate::rules::parse::{parse_expr, parse_value, MAX_LITERAL};
    use crate::rules::span::Span;

    #[test]
    fn numbers_and_units() {
        assert_eq!(value("64"), num(64.0));
        assert_eq!(value("5.8"), num(5.8));
        assert_eq!(value("0x1f"), num(31.0));
        assert_eq!(value("0XFF"), num(255.0));
        assert_eq!(value("-3"), num(-3.0));
        assert_eq!(value("-0x10"), num(-16.0));
        assert_eq!(value("-2.5"), num(-2.5));
        assert_eq!(value("64KiB"), num(65536.0));
        assert_eq!(value("1.5KiB"), num(1536.0));
        assert_eq!(value("2MiB"), num(2_097_152.0));
        assert_eq!(value("1GiB"), num(1_073_741_824.0));
        assert_eq!(value("100B"), num(100.0));
        assert_eq!(value("100 bytes"), num(100.0));
        assert_eq!(value("10s"), num(1e10));
        assert_eq!(value("5 ms"), num(5e6));
        assert_eq!(value("1m"), num(6e10));
        assert_eq!(value("1min"), num(6e10));
        assert_eq!(value("2h"), num(7.2e12));
        assert_eq!(value("3us"), num(3e3));
        assert_eq!(value("7ns"), num(7.0));
        assert_eq!(parse_value("64KiB").unwrap().span, Span::new(0, 5));
        assert_eq!(parse_value("5 ms").unwrap().span, Span::new(0, 4));
    }

    #[test]
    fn addresses_numbers_and_ranges_are_told_apart() {
        assert_eq!(value("10.0.0.1"), net("10.0.0.1", 32));
        assert_eq!(value("10.0.0.0/8"), net("10.0.0.0", 8));
        assert_eq!(value("::1"), net("::1", 128));
        assert_eq!(value("fe80::1/64"), net("fe80::1", 64));
        assert_eq!(value("::ffff:1.2.3.4"), net("::ffff:1.2.3.4", 128));
        let ValueKind::Range(a, b) = value("1..5") else { panic!() };
        assert_eq!((a.kind, b.kind), (num(1.0), num(5.0)));
        assert_eq!((a.span, b.span), (Span::new(0, 1), Span::new(3, 4)));
        let ValueKind::Range(a, b) = value("1.5..2.5") else { panic!() };
        assert_eq!((a.kind, b.kind), (num(1.5), num(2.5)));
        let ValueKind::Range(a, b) = value("-5 .. -1") else { panic!() };
        assert_eq!((a.kind, b.kind), (num(-5.0), num(-1.0)));
        let ValueKind::Range(a, b) = value("10.0.0.1..10.0.0.9") else { panic!() };
        assert_eq!((a.kind, b.kind), (net("10.0.0.1", 32), net("10.0.0.9", 32)));
        let ValueKind::Range(a, b) = value("::1..::9") else { panic!() };
        assert_eq!((a.kind, b.kind), (net("::1", 128), net("::9", 128)));
        let ValueKind::Range(a, b) = value("1s..2s") else { panic!() };
        assert_eq!((a.kind, b.kind), (num(1e9), num(2e9)));
    }

    #[test]
    fn suricata_style_port_ranges_are_ranges() {
        let ValueKind::Range(a, b) = value("1024:65535") else { panic!() };
        assert_eq!((a.kind, b.kind), (num(1024.0), num(65535.0)));
        let ValueKind::Range(a, b) = value("1024:") else { panic!() };
        assert_eq!((a.kind, b.kind), (num(1024.0), num(65535.0)));
        let ValueKind::Range(a, b) = value(":1023") else { panic!() };
        assert_eq!((a.kind, b.kind), (num(0.0), num(1023.0)));
        assert_eq!(kinds(value("[53, 1024:]")).len(), 2);
    }

    #[test]
    fn strings_and_escapes() {
        assert_eq!(value(r#""a\"b\\c\nd\te\rf\x41\x7e""#), ValueKind::Str("a\"b\\c\nd\te\rfA~".into()));
        assert_eq!(value(r#""\xff""#), ValueKind::Str("\u{ff}".into()));
        assert_eq!(value(r#""""#), ValueKind::Str(String::new()));
        assert_eq!(value("\"héllo → ok\""), ValueKind::Str("héllo → ok".into()));
    }

    #[test]
    fn words_vars_bools_lists_and_negation() {
        assert_eq!(value("TXT"), ValueKind::Word("TXT".into()));
        assert_eq!(value("echo-request"), ValueKind::Word("echo-request".into()));
        assert_eq!(value("NXDOMAIN"), ValueKind::Word("NXDOMAIN".into()));
        assert_eq!(value("dead"), ValueKind::Word("dead".into()));
        assert_eq!(value("$HOME_NET"), ValueKind::Var("HOME_NET".into()));
        assert_eq!(value("true"), ValueKind::Bool(true));
        assert_eq!(value("false"), ValueKind::Bool(false));
        assert_eq!(value("[]"), ValueKind::List(vec![]));
        let items = kinds(value("[1, [2, 3], \"x\", !10.0.0.0/8,\n ]"));
        assert_eq!(items.len(), 4);
        assert!(matches!(&items[1], ValueKind::List(inner) if inner.len() == 2));
        assert!(matches!(&items[3], ValueKind::Not(inner) if inner.kind == net("10.0.0.0", 8)));
        assert!(matches!(value("!53"), ValueKind::Not(_)));
        let v = parse_value(" [1, 2] ").unwrap();
        assert_eq!(v.span, Span::new(1, 7));
    }

    #[test]
    fn file_values() {
        assert_eq!(value("file(\"data/list.txt\")"), ValueKind::File("data/list.txt".into()));
        assert_eq!(value("file( \"a b\\x41\" )"), ValueKind::File("a bA".into()));
        let items = kinds(value("[file(\"a.txt\"), $LOCAL, \"x.example\"]"));
        assert_eq!(items[0], ValueKind::File("a.txt".into()));
        // Without a parenthesis `file` is an ordinary word.
        assert_eq!(value("file"), ValueKind::Word("file".into()));
        let v = parse_value("  file(\"x\")").unwrap();
        assert_eq!(v.span, Span::new(2, 11));
        let Expr::Test(t) = parse_expr("dns.qname under file(\"allow.txt\")").unwrap() else { panic!() };
        assert_eq!(t.op.node, TestOp::Under);
        assert_eq!(t.value.kind, ValueKind::File("allow.txt".into()));
    }

    #[test]
    fn error_file_values() {
        error_in(
            "when dns.qname under file(allow.txt)",
            "expected a quoted path after 'file(', found 'allow.txt'",
            "allow.txt",
        );
        error_in("when dns.qname under file(\"a.txt\" x", "expected ')' after the file path, found 'x'", "x");
    }

    #[test]
    fn regex_literals() {
        assert_eq!(value(r"/a\/b\d+\\/msx"), ValueKind::Regex { pattern: r"a/b\d+\\".into(), flags: "msx".into() });
        assert_eq!(value("//"), ValueKind::Regex { pattern: String::new(), flags: String::new() });
    }

    #[test]
    fn error_unterminated_string_and_regex() {
        error_in("msg \"abc", "unterminated string", "\"abc");
        error_in("msg \"abc\\", "unterminated string", "\\");
        error_in("when a matches /abc\n", "unterminated regex", "/abc");
    }

    #[test]
    fn error_values() {
        let d = error_in("when x > 5kb", "unknown unit 'kb'", "kb");
        assert!(d.help.is_some());
        let d = error_in("when x > 5KB", "unknown unit 'KB'", "KB");
        assert_eq!(d.help.as_deref(), Some("did you mean 'KiB'?"));
        error_in("when x > 5.", "invalid number '5.'", "5.");
        error_in("when x > 0x", "expected hex digits after '0x'", "0x");
        error_in("when x > 0x1g", "invalid hex number '0x1g'", "0x1g");
        error_in("when x > 0x1ffffffffffffffff", "number out of range", "0x1ffffffffffffffff");
        error_in("when x > -", "expected a number after '-', found end of line", "\n");
        let d = error_in("when dns.qname == example.com", "unquoted text 'example.com'", "example.com");
        assert_eq!(d.help.as_deref(), Some("write text in double quotes: \"example.com\""));
        error_in("when x == $", "expected a variable name after '$', found end of line", "\n");
        error_in("when x == $ X", "expected a variable name after '$', found whitespace", " ");
        error_in("msg \"bad \\q\"", "unknown escape '\\q' in string", "\\q");
        error_in("msg \"bad \\x4\"", "invalid escape '\\x4'", "\\x4");
        error_in("when x in [1..]", "expected a value after '..', found ']'", "]");
        error_in("when x > 1e400", "invalid number '1e400'", "1e400");
    }

    #[test]
    fn error_literals_too_long() {
        let long = "a".repeat(MAX_LITERAL + 10);
        error_in(&format!("msg \"{long}\""), &format!("string longer than {MAX_LITERAL} bytes"), "\"");
        error_in(&format!("when x matches /{long}/"), &format!("regex longer than {MAX_LITERAL} bytes"), "/");
        let ok = "a".repeat(MAX_LITERAL);
        assert!(matches!(&options(&format!("msg \"{ok}\""))[0], RuleOption::Msg(m) if m.node.len() == MAX_LITERAL));
    }
}
