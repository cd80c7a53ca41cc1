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

use std::cell::Cell;
use std::net::{IpAddr, Ipv4Addr, Ipv6Addr};

use nom::bytes::complete::tag;
use nom::character::complete::{char as one_char, digit1, hex_digit1};
use nom::combinator::cut;
use nom::error::{ErrorKind, ParseError};
use nom::{Err, IResult, Parser};

use crate::rules::ast::ScopeSide;
use crate::rules::ast::{
    Action, AddrSpec, Direction, Distinct, Expr, FieldRef, IpNet, Item, KeyPart, KeySpec, Limit, PortSpec, Proto, Rate,
    Rule, RuleFile, RuleOption, Severity, Spanned, Test, TestOp, Threshold, Value, ValueKind, VarDecl,
};
use crate::rules::diag::Diagnostic;
use crate::rules::span::Span;

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

// ---------------------------------------------------------------------------------------------
// Errors
// ---------------------------------------------------------------------------------------------

type PResult<'a, T> = IResult<&'a str, T, PError>;

/// A parse failure. `rem` is the remaining input length where it happened (nom's own errors only
/// see the input, so positions are kept in that form and turned into offsets at the end).
#[derive(Debug)]
struct PError {
    rem: usize,
    len: usize,
    kind: Kind,
}

#[derive(Debug)]
enum Kind {
    /// A nom primitive failed and nothing more specific is known.
    Nom,
    /// One of a set of tokens ([`Tok`] bits) was expected, optionally "after 'x'".
    Expected { set: u64, after: Option<&'static str> },
    /// A specific complaint with its own wording.
    Message(Box<Message>),
}

#[derive(Debug)]
struct Message {
    text: String,
    label: String,
    help: Option<String>,
}

impl Kind {
    fn rank(&self) -> u8 {
        match self {
            Kind::Nom => 0,
            Kind::Expected { .. } => 1,
            Kind::Message(_) => 2,
        }
    }
}

impl ParseError<&str> for PError {
    fn from_error_kind(input: &str, _kind: ErrorKind) -> Self {
        PError { rem: input.len(), len: 0, kind: Kind::Nom }
    }

    fn append(_input: &str, _kind: ErrorKind, other: Self) -> Self {
        other
    }

    /// Keeps the error that got furthest; at the same spot, unions what was expected.
    fn or(self, other: Self) -> Self {
        if self.rem != other.rem {
            return if self.rem < other.rem { self } else { other };
        }
        match (self.kind, other.kind) {
            (Kind::Expected { set: a, after: x }, Kind::Expected { set: b, after: y }) => {
                PError { rem: self.rem, len: 0, kind: Kind::Expected { set: a | b, after: x.or(y) } }
            }
            (a, b) if b.rank() > a.rank() => PError { rem: other.rem, len: other.len, kind: b },
            (a, _) => PError { rem: self.rem, len: self.len, kind: a },
        }
    }
}

impl PError {
    fn message(at: &str, len: usize, text: impl Into<String>, label: impl Into<String>) -> Self {
        let message = Message { text: text.into(), label: label.into(), help: None };
        PError { rem: at.len(), len, kind: Kind::Message(Box::new(message)) }
    }

    fn help(mut self, help: impl Into<String>) -> Self {
        if let Kind::Message(m) = &mut self.kind {
            m.help = Some(help.into());
        }
        self
    }

    fn expected(at: &str, set: u64, after: Option<&'static str>) -> Self {
        PError { rem: at.len(), len: 0, kind: Kind::Expected { set, after } }
    }
}

/// A non-backtracking failure with a specific message covering `len` bytes from `at`.
fn failure(at: &str, len: usize, text: impl Into<String>, label: impl Into<String>) -> Err<PError> {
    Err::Failure(PError::message(at, len, text, label))
}

/// Fails (without backtracking) with a specific message covering `len` bytes from `at`.
fn fail<T>(at: &str, len: usize, text: impl Into<String>, label: impl Into<String>) -> PResult<'_, T> {
    Err(failure(at, len, text, label))
}

/// Fails (without backtracking) with a message and a help line.
fn fail_help<'a, T>(
    at: &'a str,
    len: usize,
    text: impl Into<String>,
    label: impl Into<String>,
    help: impl Into<String>,
) -> PResult<'a, T> {
    Err(Err::Failure(PError::message(at, len, text, label).help(help)))
}

/// Things the parser may expect at a position; their order is the order they are listed in.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
enum Tok {
    Alert,
    Pass,
    Var,
    Protocol,
    Address,
    Port,
    Arrow,
    BothArrow,
    LBrace,
    Expr,
    Field,
    Operator,
    Value,
    Regex,
    And,
    Or,
    RParen,
    Comma,
    RBracket,
    Option,
    RBrace,
    Number,
    WholeNumber,
    Duration,
    Str,
    Word,
    VarName,
    Equals,
    Greater,
    Slash,
    Within,
    Per,
    By,
    Key,
    In,
    End,
}

const ALL_TOKS: [Tok; 36] = [
    Tok::Alert,
    Tok::Pass,
    Tok::Var,
    Tok::Protocol,
    Tok::Address,
    Tok::Port,
    Tok::Arrow,
    Tok::BothArrow,
    Tok::LBrace,
    Tok::Expr,
    Tok::Field,
    Tok::Operator,
    Tok::Value,
    Tok::Regex,
    Tok::And,
    Tok::Or,
    Tok::RParen,
    Tok::Comma,
    Tok::RBracket,
    Tok::Option,
    Tok::RBrace,
    Tok::Number,
    Tok::WholeNumber,
    Tok::Duration,
    Tok::Str,
    Tok::Word,
    Tok::VarName,
    Tok::Equals,
    Tok::Greater,
    Tok::Slash,
    Tok::Within,
    Tok::Per,
    Tok::By,
    Tok::Key,
    Tok::In,
    Tok::End,
];

impl Tok {
    fn bit(self) -> u64 {
        1u64 << (self as u32)
    }

    fn name(self) -> &'static str {
        match self {
            Tok::Alert => "'alert'",
            Tok::Pass => "'pass'",
            Tok::Var => "'var'",
            Tok::Protocol => "a protocol",
            Tok::Address => "an address",
            Tok::Port => "a port",
            Tok::Arrow => "'->'",
            Tok::BothArrow => "'<>'",
            Tok::LBrace => "'{'",
            Tok::Expr => "an expression",
            Tok::Field => "a field",
            Tok::Operator => "an operator",
            Tok::Value => "a value",
            Tok::Regex => "a regex literal (/pattern/flags)",
            Tok::And => "'and'",
            Tok::Or => "'or'",
            Tok::RParen => "')'",
            Tok::Comma => "','",
            Tok::RBracket => "']'",
            Tok::Option => "an option",
            Tok::RBrace => "'}'",
            Tok::Number => "a number",
            Tok::WholeNumber => "a whole number",
            Tok::Duration => "a duration",
            Tok::Str => "a string",
            Tok::Word => "a word",
            Tok::VarName => "a variable name",
            Tok::Equals => "'='",
            Tok::Greater => "'>'",
            Tok::Slash => "'/'",
            Tok::Within => "'within'",
            Tok::Per => "'per'",
            Tok::By => "'by'",
            Tok::Key => "a key (src, dst, pair, flow, rule or a field)",
            Tok::In => "'in'",
            Tok::End => "end of input",
        }
    }
}

/// Option keys, in the order the reference documents them.
const OPTION_KEYS: [&str; 14] = [
    "id",
    "rev",
    "msg",
    "severity",
    "class",
    "tags",
    "reference",
    "recommend",
    "when",
    "threshold",
    "rate",
    "limit",
    "distinct",
    "scope",
];

/// Words that are never a field or a bare-word value, so that an expression or value that runs
/// into the next option (or keyword) stops there instead of swallowing it.
const RESERVED: [&str; 14] = [
    "and",
    "or",
    "not",
    "in",
    "true",
    "false",
    "contains",
    "starts_with",
    "ends_with",
    "matches",
    "under",
    "alert",
    "pass",
    "var",
];

fn is_reserved(word: &str) -> bool {
    RESERVED.contains(&word) || OPTION_KEYS.contains(&word)
}

const PROTOCOLS: [(&str, Proto); 7] = [
    ("ip", Proto::Ip),
    ("icmp", Proto::Icmp),
    ("icmp6", Proto::Icmp6),
    ("tcp", Proto::Tcp),
    ("udp", Proto::Udp),
    ("dns", Proto::Dns),
    ("arp", Proto::Arp),
];

const SEVERITIES: [(&str, Severity); 5] = [
    ("info", Severity::Info),
    ("low", Severity::Low),
    ("medium", Severity::Medium),
    ("high", Severity::High),
    ("critical", Severity::Critical),
];

/// Duration units and their length in nanoseconds.
const DURATION_UNITS: [(&str, u64); 7] = [
    ("ns", 1),
    ("us", 1_000),
    ("ms", 1_000_000),
    ("s", 1_000_000_000),
    ("m", 60_000_000_000),
    ("min", 60_000_000_000),
    ("h", 3_600_000_000_000),
];

/// Size units and their length in bytes.
const SIZE_UNITS: [(&str, u64); 5] = [("B", 1), ("bytes", 1), ("KiB", 1 << 10), ("MiB", 1 << 20), ("GiB", 1 << 30)];

fn duration_unit(unit: &str) -> Option<u64> {
    DURATION_UNITS.iter().find(|(name, _)| *name == unit).map(|&(_, ns)| ns)
}

fn value_unit(unit: &str) -> Option<u64> {
    duration_unit(unit).or_else(|| SIZE_UNITS.iter().find(|(n, _)| *n == unit).map(|&(_, b)| b))
}

// ---------------------------------------------------------------------------------------------
// Lexical helpers (plain functions over &str; none can fail)
// ---------------------------------------------------------------------------------------------

/// Skips whitespace and `#` comments.
fn ws(mut i: &str) -> &str {
    loop {
        let t = i.trim_start_matches([' ', '\t', '\n', '\r', '\x0c']);
        match t.strip_prefix('#') {
            Some(comment) => i = comment.find('\n').and_then(|n| comment.get(n..)).unwrap_or(""),
            None => return t,
        }
    }
}

/// Skips spaces and tabs only (a unit may follow its number on the same line).
fn hspace(i: &str) -> &str {
    i.trim_start_matches([' ', '\t'])
}

/// Splits off the longest prefix whose characters satisfy `f`: `(prefix, rest)`.
fn split_while(i: &str, f: impl Fn(char) -> bool) -> (&str, &str) {
    let n = i.find(|c: char| !f(c)).unwrap_or(i.len());
    i.split_at_checked(n).unwrap_or((i, ""))
}

fn is_ident_char(c: char) -> bool {
    c.is_ascii_alphanumeric() || c == '_'
}

fn is_word_char(c: char) -> bool {
    is_ident_char(c) || c == '-'
}

fn starts_ident(i: &str) -> bool {
    i.starts_with(|c: char| c.is_ascii_alphabetic() || c == '_')
}

/// `[A-Za-z_][A-Za-z0-9_]*`: variable names and keywords.
fn ident(i: &str) -> Option<(&str, &str)> {
    starts_ident(i).then(|| split_while(i, is_ident_char))
}

/// `[A-Za-z_][A-Za-z0-9_-]*`: bare words such as `echo-request` or `covert-channel`.
fn word(i: &str) -> Option<(&str, &str)> {
    starts_ident(i).then(|| split_while(i, is_word_char))
}

/// `i` without the keyword `kw`, if it starts with it as a whole word.
fn keyword<'a>(i: &'a str, kw: &str) -> Option<&'a str> {
    i.strip_prefix(kw).filter(|rest| !rest.starts_with(is_ident_char))
}

/// `[a-z_][a-z0-9_]*(\.[a-z0-9_]+)*`: a field name, as `(name, rest)`.
fn field_name(i: &str) -> Option<(&str, &str)> {
    let lower_start = |c: char| c.is_ascii_lowercase() || c == '_';
    let seg_char = |c: char| c.is_ascii_lowercase() || c.is_ascii_digit() || c == '_';
    if !i.starts_with(lower_start) {
        return None;
    }
    let mut len = split_while(i, seg_char).0.len();
    loop {
        let after_dot = i.get(len..).and_then(|r| r.strip_prefix('.')).unwrap_or("");
        let seg = split_while(after_dot, seg_char).0;
        if seg.is_empty() {
            break;
        }
        len += 1 + seg.len();
    }
    i.split_at_checked(len)
}

/// Length of a run of decimal digits with single dots between them (`10.0.0.1`, `5.8`); a dot
/// followed by another dot (a range `1..5`) or by a non-digit ends the run.
fn decimal_run(i: &str) -> usize {
    let b = i.as_bytes();
    let mut n = 0;
    while let Some(&c) = b.get(n) {
        let dot_then_digit = c == b'.' && b.get(n + 1).is_some_and(u8::is_ascii_digit);
        if !(c.is_ascii_digit() || dot_then_digit) {
            break;
        }
        n += 1;
    }
    n
}

/// Length of a run that may be an IP address: hex digits, `:` and dots followed by a digit.
fn ip_run(i: &str) -> usize {
    let b = i.as_bytes();
    let mut n = 0;
    while let Some(&c) = b.get(n) {
        let dot_then_digit = c == b'.' && b.get(n + 1).is_some_and(u8::is_ascii_digit);
        if !(c.is_ascii_hexdigit() || c == b':' || dot_then_digit) {
            break;
        }
        n += 1;
    }
    n
}

/// The closest candidate to `word` if it is a plausible typo (small edit distance).
fn did_you_mean<'c>(word: &str, candidates: impl IntoIterator<Item = &'c str>) -> Option<&'c str> {
    if word.len() > 32 {
        return None;
    }
    let lower = word.to_ascii_lowercase();
    let max = if word.len() >= 5 { 2 } else { 1 };
    candidates
        .into_iter()
        .map(|c| (edit_distance(&lower, &c.to_ascii_lowercase()), c))
        .filter(|&(d, c)| d <= max && c != word)
        .min_by_key(|&(d, c)| (d, !c.get(..1).is_some_and(|f| lower.starts_with(&f.to_ascii_lowercase()))))
        .map(|(_, c)| c)
}

/// Levenshtein distance (inputs are short identifiers).
fn edit_distance(a: &str, b: &str) -> usize {
    let b: Vec<char> = b.chars().collect();
    let mut prev: Vec<usize> = (0..=b.len()).collect();
    for (i, ca) in a.chars().enumerate() {
        let mut cur = Vec::with_capacity(b.len() + 1);
        cur.push(i + 1);
        for (j, cb) in b.iter().enumerate() {
            let substitute = prev.get(j).map_or(usize::MAX, |&p| p + usize::from(ca != *cb));
            let delete = prev.get(j + 1).map_or(usize::MAX, |&p| p + 1);
            let insert = cur.last().map_or(usize::MAX, |&p| p + 1);
            cur.push(substitute.min(delete).min(insert));
        }
        prev = cur;
    }
    prev.last().copied().unwrap_or(0)
}

fn suggestion(word: &str, candidates: &[&'static str]) -> Option<String> {
    did_you_mean(word, candidates.iter().copied()).map(|c| format!("did you mean '{c}'?"))
}

// ---------------------------------------------------------------------------------------------
// Recovery
// ---------------------------------------------------------------------------------------------

/// Where to resume after an error in the item starting at `from`: just past the `}` that closes
/// the rule's brace block, or the start of the next line beginning with `alert`/`pass`/`var`
/// (stray `}` outside any block are skipped over).
/// Strings, comments and regex literals (after `matches`) are skipped so braces inside them do
/// not count. Always returns an offset greater than `from` (or the end of the text).
fn recover(text: &str, from: usize) -> usize {
    let bytes = text.as_bytes();
    let mut pos = from;
    let mut depth = 0usize;
    let mut last_word_is_matches = false;
    while let Some(&b) = bytes.get(pos) {
        match b {
            b'"' => pos = skip_quoted(bytes, pos, b'"'),
            b'/' if last_word_is_matches => pos = skip_quoted(bytes, pos, b'/'),
            b'#' => pos = text.get(pos..).and_then(|r| r.find('\n')).map_or(text.len(), |n| pos + n),
            b'{' => {
                depth += 1;
                pos += 1;
            }
            b'}' => {
                if depth == 1 {
                    return pos + 1;
                }
                depth = depth.saturating_sub(1);
                pos += 1;
            }
            b'\n' => {
                pos += 1;
                let line = text.get(pos..).map(hspace).unwrap_or("");
                let starts_item = ["alert", "pass", "var"].iter().any(|k| keyword(line, k).is_some());
                if starts_item {
                    return text.len() - line.len();
                }
            }
            _ if b.is_ascii_alphabetic() || b == b'_' => {
                let w = text.get(pos..).map_or("", |r| split_while(r, is_ident_char).0);
                last_word_is_matches = w == "matches";
                pos += w.len().max(1);
                continue;
            }
            _ => pos += 1,
        }
        if !b.is_ascii_whitespace() {
            last_word_is_matches = false;
        }
    }
    text.len()
}

/// Index just past a `quote`-delimited literal starting at `start` (or of the line's end).
fn skip_quoted(bytes: &[u8], start: usize, quote: u8) -> usize {
    let mut pos = start + 1;
    while let Some(&b) = bytes.get(pos) {
        match b {
            b'\\' => pos += 2,
            b'\n' => return pos,
            _ if b == quote => return pos + 1,
            _ => pos += 1,
        }
    }
    bytes.len()
}

// ---------------------------------------------------------------------------------------------
// The parser proper
// ---------------------------------------------------------------------------------------------

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

    // ----- diagnostics -----

    fn diagnostic(&self, err: Err<PError>) -> Diagnostic {
        let e = match err {
            Err::Error(e) | Err::Failure(e) => e,
            Err::Incomplete(_) => PError::expected("", 0, None),
        };
        let start = self.text.len().saturating_sub(e.rem);
        match e.kind {
            Kind::Message(m) => {
                Diagnostic { message: m.text, span: Span::new(start, start + e.len), label: m.label, help: m.help }
            }
            Kind::Expected { set, after } => {
                let (rem, more) = self.furthest.get();
                let set = if after.is_none() && rem == e.rem { set | more } else { set };
                self.expected_diagnostic(start, set, after)
            }
            Kind::Nom => {
                let (rem, more) = self.furthest.get();
                self.expected_diagnostic(start, if rem == e.rem { more } else { 0 }, None)
            }
        }
    }

    fn expected_diagnostic(&self, start: usize, set: u64, after: Option<&str>) -> Diagnostic {
        let (span, raw) = found_token(self.text, start);
        let found = describe(raw);
        let names: Vec<&str> = ALL_TOKS.iter().filter(|t| set & t.bit() != 0).map(|t| t.name()).collect();
        let after = after.map(|a| format!(" after '{a}'")).unwrap_or_default();
        let (message, label) = match names.as_slice() {
            [] => (format!("unexpected {found}"), "unexpected here".to_string()),
            [one] => (format!("expected {one}{after}, found {found}"), format!("expected {one}")),
            many => (
                format!("expected one of {}{after}, found {found}", many.join(", ")),
                if many.len() <= 3 { format!("expected {}", many.join(" or ")) } else { "unexpected here".into() },
            ),
        };
        let diag = Diagnostic::new(message, span, label);
        match hint(raw, set) {
            Some(help) => diag.with_help(help),
            None => diag,
        }
    }

    // ----- top level -----

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

    fn proto(&self, i: &'s str) -> PResult<'s, Spanned<Proto>> {
        let at = ws(i);
        let Some((w, rest)) = word(at) else {
            return self.cut_after(self.expected(at, Tok::Protocol), at, Tok::Protocol, "alert");
        };
        match PROTOCOLS.iter().find(|(name, _)| *name == w) {
            Some(&(_, proto)) => Ok((rest, Spanned::new(proto, self.span(at, rest)))),
            None => {
                let names: Vec<&str> = PROTOCOLS.iter().map(|(n, _)| *n).collect();
                let help = did_you_mean(w, names.iter().copied())
                    .map(|c| format!("did you mean '{c}'?"))
                    .unwrap_or_else(|| format!("protocols are {}", names.join(", ")));
                fail_help(at, w.len(), format!("unknown protocol '{w}'"), "not a protocol", help)
            }
        }
    }

    fn direction(&self, i: &'s str) -> PResult<'s, Spanned<Direction>> {
        let at = ws(i);
        let arrow: PResult<&str> = tag("->")(at);
        let both: PResult<&str> = tag("<>")(at);
        match (arrow, both) {
            (Ok((rest, _)), _) => Ok((rest, Spanned::new(Direction::ToDst, self.span(at, rest)))),
            (_, Ok((rest, _))) => Ok((rest, Spanned::new(Direction::Both, self.span(at, rest)))),
            _ => {
                self.note(at, Tok::Arrow);
                self.note(at, Tok::BothArrow);
                let set = Tok::Arrow.bit() | Tok::BothArrow.bit();
                Err(Err::Failure(PError::expected(at, set, None)))
            }
        }
    }

    // ----- header addresses and ports -----

    fn addr(&self, i: &'s str, depth: usize) -> PResult<'s, AddrSpec> {
        let at = ws(i);
        if let Some(rest) = at.strip_prefix('!') {
            let (rest, inner) = self.nested(at, depth, |d| {
                let r = self.addr(rest, d);
                self.cut_after(r, rest, Tok::Address, "!")
            })?;
            return Ok((rest, AddrSpec::Not(Box::new(inner), self.span(at, rest))));
        }
        if at.starts_with('[') {
            let (rest, items) = self.nested(at, depth, |d| self.header_list(at, Tok::Address, |i| self.addr(i, d)))?;
            return Ok((rest, AddrSpec::List(Spanned::new(items, self.span(at, rest)))));
        }
        if let Some(rest) = keyword(at, "any") {
            return Ok((rest, AddrSpec::Any(self.span(at, rest))));
        }
        if let Some((rest, name)) = self.var_ref(at)? {
            return Ok((rest, AddrSpec::Var(name)));
        }
        let looks_like_ip =
            at.get(..ip_run(at)).is_some_and(|run| run.contains(':')) || at.starts_with(|c: char| c.is_ascii_digit());
        if looks_like_ip {
            let (rest, net) = self.ip_net(at)?;
            self.boundary(rest, at, "address")?;
            return Ok((rest, AddrSpec::Net(Spanned::new(net, self.span(at, rest)))));
        }
        self.expected(at, Tok::Address)
    }

    fn port(&self, i: &'s str, depth: usize) -> PResult<'s, PortSpec> {
        let at = ws(i);
        if let Some(rest) = at.strip_prefix('!') {
            let (rest, inner) = self.nested(at, depth, |d| {
                let r = self.port(rest, d);
                self.cut_after(r, rest, Tok::Port, "!")
            })?;
            return Ok((rest, PortSpec::Not(Box::new(inner), self.span(at, rest))));
        }
        if at.starts_with('[') {
            let (rest, items) = self.nested(at, depth, |d| self.header_list(at, Tok::Port, |i| self.port(i, d)))?;
            return Ok((rest, PortSpec::List(Spanned::new(items, self.span(at, rest)))));
        }
        if let Some(rest) = keyword(at, "any") {
            return Ok((rest, PortSpec::Any(self.span(at, rest))));
        }
        if let Some((rest, name)) = self.var_ref(at)? {
            return Ok((rest, PortSpec::Var(name)));
        }
        if !at.starts_with(|c: char| c.is_ascii_digit() || c == ':') {
            return self.expected(at, Tok::Port);
        }
        let (rest, low) = self.opt_port_number(at)?;
        let (rest, spec) = match rest.strip_prefix(':') {
            Some(after) => {
                let (after, high) = self.opt_port_number(after)?;
                if low.is_none() && high.is_none() {
                    return fail(at, 1, "expected a port before or after ':'", "empty port range");
                }
                self.check_port_order(at, after, low, high)?;
                (after, PortSpec::Range(Spanned::new((low, high), self.span(at, after))))
            }
            None => match low {
                Some(p) => (rest, PortSpec::Port(Spanned::new(p, self.span(at, rest)))),
                None => return self.expected(at, Tok::Port),
            },
        };
        self.boundary(rest, at, "port")?;
        Ok((rest, spec))
    }

    fn opt_port_number(&self, i: &'s str) -> PResult<'s, Option<u16>> {
        let digits: PResult<&str> = digit1(i);
        match digits {
            Ok((rest, d)) => self.port_number(i, d).map(|p| (rest, Some(p))),
            Err(_) => Ok((i, None)),
        }
    }

    /// A port number; `at` is where its digits `d` start.
    fn port_number(&self, at: &'s str, d: &str) -> Result<u16, Err<PError>> {
        match d.parse::<u32>() {
            Ok(p) if p <= 65535 => Ok(p as u16),
            _ => Err(Err::Failure(PError::message(
                at,
                d.len(),
                format!("port {d} out of range"),
                "ports are 0 to 65535",
            ))),
        }
    }

    fn check_port_order(
        &self,
        at: &'s str,
        end: &'s str,
        low: Option<u16>,
        high: Option<u16>,
    ) -> Result<(), Err<PError>> {
        match (low, high) {
            (Some(l), Some(h)) if l > h => Err(Err::Failure(PError::message(
                at,
                at.len() - end.len(),
                format!("empty port range {l}:{h}"),
                "the first port is greater than the second",
            ))),
            _ => Ok(()),
        }
    }

    /// `[item, item, ...]` in a rule header; at least one item, trailing comma allowed.
    fn header_list<T>(
        &self,
        at: &'s str,
        what: Tok,
        mut item: impl FnMut(&'s str) -> PResult<'s, T>,
    ) -> PResult<'s, Vec<T>> {
        let (rest, items) = self.list(at, what, &mut item)?;
        if items.is_empty() {
            let len = at.len() - rest.len();
            let label = format!("write at least one {}", if what == Tok::Port { "port" } else { "address" });
            return fail(at, len, "empty list in rule header", label);
        }
        Ok((rest, items))
    }

    /// `[item, item, ...]` (possibly empty, trailing comma allowed); `at` starts with `[`.
    fn list<T>(&self, at: &'s str, what: Tok, item: &mut impl FnMut(&'s str) -> PResult<'s, T>) -> PResult<'s, Vec<T>> {
        let mut i = at.get(1..).unwrap_or("");
        let mut items = Vec::new();
        loop {
            let next = ws(i);
            if let Some(rest) = next.strip_prefix(']') {
                return Ok((rest, items));
            }
            self.note(next, Tok::RBracket);
            let (rest, v) = match item(next) {
                Ok(ok) => ok,
                Err(Err::Error(e)) if e.rem == next.len() => {
                    let set = what.bit() | Tok::RBracket.bit();
                    return Err(Err::Failure(PError::expected(next, set, None)));
                }
                Err(Err::Error(e)) => return Err(Err::Failure(e)),
                Err(e) => return Err(e),
            };
            items.push(v);
            let sep = ws(rest);
            if let Some(rest) = sep.strip_prefix(',') {
                i = rest;
            } else if let Some(rest) = sep.strip_prefix(']') {
                return Ok((rest, items));
            } else {
                self.note(sep, Tok::Comma);
                self.note(sep, Tok::RBracket);
                let set = Tok::Comma.bit() | Tok::RBracket.bit();
                return Err(Err::Failure(PError::expected(sep, set, None)));
            }
        }
    }

    /// Runs `p` one level deeper, or fails cleanly at `at` past [`MAX_DEPTH`].
    fn nested<T>(&self, at: &'s str, depth: usize, p: impl FnOnce(usize) -> PResult<'s, T>) -> PResult<'s, T> {
        if depth >= MAX_DEPTH {
            return fail(
                at,
                1,
                format!("nested too deeply (more than {MAX_DEPTH} levels)"),
                "nesting limit reached here",
            );
        }
        p(depth + 1)
    }

    /// `$NAME`, if `at` starts with `$`.
    fn var_ref(&self, at: &'s str) -> Result<Option<(&'s str, Spanned<String>)>, Err<PError>> {
        let Some(after) = at.strip_prefix('$') else {
            return Ok(None);
        };
        match ident(after) {
            Some((name, rest)) => Ok(Some((rest, Spanned::new(name.to_string(), self.span(at, rest))))),
            None => Err(Err::Failure(PError::expected(after, Tok::VarName.bit(), Some("$")))),
        }
    }

    /// Fails if an address, port or number runs straight into more word characters.
    fn boundary(&self, rest: &'s str, at: &'s str, what: &str) -> Result<(), Err<PError>> {
        let stray_dot = rest.starts_with('.') && !rest.starts_with("..");
        if stray_dot || rest.starts_with(|c: char| is_word_char(c) || c == ':') {
            let tail = split_while(rest, |c| is_word_char(c) || c == '.' || c == ':').0;
            let len = at.len() - rest.len() + tail.len();
            let text = at.get(..len).unwrap_or("");
            return Err(failure(at, len, format!("invalid {what} '{text}'"), format!("not a valid {what}")));
        }
        Ok(())
    }

    /// An IPv4 or IPv6 address with an optional `/prefix`.
    fn ip_net(&self, at: &'s str) -> PResult<'s, IpNet> {
        let (run, rest) = at.split_at_checked(ip_run(at)).unwrap_or((at, ""));
        let addr = if run.contains(':') {
            match run.parse::<Ipv6Addr>() {
                Ok(a) => IpAddr::V6(a),
                Err(_) => return fail(at, run.len(), format!("invalid IPv6 address '{run}'"), "not an IPv6 address"),
            }
        } else {
            IpAddr::V4(self.ipv4(at, run)?)
        };
        let (rest, prefix) = self.prefix(rest, addr)?;
        Ok((rest, IpNet { addr, prefix }))
    }

    /// A dotted quad; `run` is the candidate text at `at`.
    fn ipv4(&self, at: &'s str, run: &str) -> Result<Ipv4Addr, Err<PError>> {
        let invalid = || {
            Err::Failure(PError::message(
                at,
                run.len(),
                format!("invalid IPv4 address '{run}'"),
                "expected four numbers 0-255 separated by '.'",
            ))
        };
        let mut octets = [0u8; 4];
        let mut parts = run.split('.');
        let mut offset = 0;
        for slot in &mut octets {
            let part = parts.next().ok_or_else(invalid)?;
            if part.is_empty() || !part.bytes().all(|b| b.is_ascii_digit()) {
                return Err(invalid());
            }
            *slot = match part.parse::<u32>() {
                Ok(v) if v <= 255 => v as u8,
                _ => {
                    let octet_at = at.get(offset..).unwrap_or(at);
                    return Err(Err::Failure(PError::message(
                        octet_at,
                        part.len(),
                        format!("invalid IPv4 address '{run}'"),
                        format!("{part} is greater than 255"),
                    )));
                }
            };
            offset += part.len() + 1;
        }
        if parts.next().is_some() {
            return Err(invalid());
        }
        Ok(Ipv4Addr::from(octets))
    }

    /// `/N` after an address (or nothing, meaning a single host).
    fn prefix(&self, i: &'s str, addr: IpAddr) -> PResult<'s, u8> {
        let max: u8 = if addr.is_ipv4() { 32 } else { 128 };
        let Some(after) = i.strip_prefix('/') else {
            return Ok((i, max));
        };
        let digits: PResult<&str> = digit1(after);
        let Ok((rest, d)) = digits else {
            return fail(i, 1, "expected a prefix length after '/'", "expected a number");
        };
        match d.parse::<u16>() {
            Ok(p) if p <= u16::from(max) => Ok((rest, p as u8)),
            _ => {
                let family = if addr.is_ipv4() { "IPv4" } else { "IPv6" };
                fail(
                    after,
                    d.len(),
                    format!("prefix length {d} out of range"),
                    format!("{family} prefixes are 0 to {max}"),
                )
            }
        }
    }

    // ----- options -----

    /// Options up to the closing brace; `brace` starts at `{`, `i` just after it.
    fn options(&self, brace: &'s str, mut i: &'s str) -> PResult<'s, Vec<RuleOption>> {
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

    fn unknown_option(&self, at: &'s str, key: &str, rest: &str, previous: Option<&str>) -> PError {
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
    fn option(&self, key: &str, start: &'s str, i: &'s str) -> PResult<'s, RuleOption> {
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
            _ => self.distinct(start, i).map(|(r, t)| (r, RuleOption::Distinct(t))),
        }
    }

    /// A decimal integer that fits in `u64`.
    fn whole_number(&self, i: &'s str, after: &'static str) -> PResult<'s, Spanned<u64>> {
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

    fn text_option(&self, i: &'s str, after: &'static str) -> PResult<'s, Spanned<String>> {
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

    fn severity(&self, i: &'s str) -> PResult<'s, Spanned<Severity>> {
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
    fn scope(&self, i: &'s str) -> PResult<'s, Spanned<ScopeSide>> {
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

    fn bare_word(&self, i: &'s str, after: &'static str) -> PResult<'s, Spanned<String>> {
        let at = ws(i);
        match word(at) {
            Some((w, rest)) if !is_reserved(w) => Ok((rest, Spanned::new(w.to_string(), self.span(at, rest)))),
            _ => Err(Err::Failure(PError::expected(at, Tok::Word.bit(), Some(after)))),
        }
    }

    fn tags(&self, i: &'s str) -> PResult<'s, Vec<Spanned<String>>> {
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

    /// `threshold N within DURATION by KEY`
    fn threshold(&self, start: &'s str, i: &'s str) -> PResult<'s, Threshold> {
        let (i, count) = self.whole_number(i, "threshold")?;
        let (i, window) = self.keyword_then_duration(i, "within", Tok::Within)?;
        let (i, key) = self.key(i)?;
        Ok((i, Threshold { count, window, key, span: self.span(start, i) }))
    }

    /// `limit N per DURATION by KEY`
    fn limit(&self, start: &'s str, i: &'s str) -> PResult<'s, Limit> {
        let (i, count) = self.whole_number(i, "limit")?;
        let (i, window) = self.keyword_then_duration(i, "per", Tok::Per)?;
        let (i, key) = self.key(i)?;
        Ok((i, Limit { count, window, key, span: self.span(start, i) }))
    }

    /// `distinct FIELD > N within DURATION by KEY`
    fn distinct(&self, start: &'s str, i: &'s str) -> PResult<'s, Distinct> {
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
    fn rate(&self, start: &'s str, i: &'s str) -> PResult<'s, Rate> {
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
    fn greater(&self, i: &'s str, after: &'static str) -> PResult<'s, ()> {
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

    fn keyword_then_duration(&self, i: &'s str, kw: &'static str, tok: Tok) -> PResult<'s, Spanned<u64>> {
        let at = ws(i);
        let Some(rest) = keyword(at, kw) else {
            return Err(Err::Failure(PError::expected(at, tok.bit(), None)));
        };
        self.duration(rest, kw)
    }

    /// A duration with a unit: `10s`, `1500 ms`, `1.5h`; in nanoseconds.
    fn duration(&self, i: &'s str, after: &'static str) -> PResult<'s, Spanned<u64>> {
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
    fn per_duration(&self, i: &'s str) -> PResult<'s, Spanned<u64>> {
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
    fn unsigned_decimal(&self, at: &'s str) -> Option<(&'s str, &'s str)> {
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
    fn key(&self, i: &'s str) -> PResult<'s, KeySpec> {
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

    // ----- expressions -----

    /// `or`-level expression (the lowest precedence).
    fn expr(&self, i: &'s str, depth: usize) -> PResult<'s, Expr> {
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

    fn and_expr(&self, i: &'s str, depth: usize) -> PResult<'s, Expr> {
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

    fn unary(&self, i: &'s str, depth: usize) -> PResult<'s, Expr> {
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

    fn primary(&self, at: &'s str, depth: usize) -> PResult<'s, Expr> {
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
    fn field(&self, at: &'s str) -> PResult<'s, FieldRef> {
        match field_name(at) {
            Some((name, rest)) if !is_reserved(name) => {
                self.field_boundary(at, rest)?;
                Ok((rest, FieldRef { name: name.to_string(), span: self.span(at, rest) }))
            }
            _ => Err(Err::Error(PError::expected(at, Tok::Field.bit(), None))),
        }
    }

    fn field_boundary(&self, at: &'s str, rest: &'s str) -> Result<(), Err<PError>> {
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
    fn test_rest(&self, start: &'s str, i: &'s str, field: FieldRef) -> PResult<'s, Expr> {
        let op_at = ws(i);
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

    fn test_op(&self, at: &'s str) -> PResult<'s, TestOp> {
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
    fn regex_operand(&self, i: &'s str) -> PResult<'s, Value> {
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

    // ----- values -----

    /// A value; `allow_not` permits a leading `!` (variables and list elements).
    fn value(&self, i: &'s str, depth: usize, allow_not: bool) -> PResult<'s, Value> {
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
    fn scalar(&self, at: &'s str) -> PResult<'s, Value> {
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
    fn file_value(&self, at: &'s str, open: &'s str) -> PResult<'s, Value> {
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
    fn colon_value(&self, at: &'s str) -> PResult<'s, Value> {
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

    fn port_range_value(&self, at: &'s str, low: &str, high: &str) -> PResult<'s, Value> {
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
    fn number_or_ipv4(&self, at: &'s str) -> PResult<'s, Value> {
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

    fn hex_number(&self, at: &'s str, hex: &'s str, negative: bool) -> PResult<'s, Value> {
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
    fn decimal_with_unit(&self, at: &'s str, number_text: &str, rest: &'s str) -> PResult<'s, Value> {
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
    fn string(&self, at: &'s str) -> PResult<'s, String> {
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
    fn escape(&self, backslash: &'s str, escape: &'s str) -> Result<(char, &'s str), Err<PError>> {
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
    fn regex(&self, at: &'s str) -> PResult<'s, ValueKind> {
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

/// One operand stays itself; several become `And`/`Or`.
fn combine(mut operands: Vec<Expr>, span: Span, make: fn(Vec<Expr>, Span) -> Expr) -> Expr {
    if operands.len() == 1 {
        if let Some(only) = operands.pop() {
            return only;
        }
    }
    make(operands, span)
}

/// `number` (digits with optional fraction) times `unit_ns`, exactly, as whole nanoseconds.
fn exact_duration(number: &str, unit_ns: u64) -> Result<u64, &'static str> {
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

/// The token at `at`: its span and text (empty at the end of input).
fn found_token(text: &str, at: usize) -> (Span, &str) {
    let rest = text.get(at..).unwrap_or("");
    let Some(c) = rest.chars().next() else {
        return (Span::new(at, at), "");
    };
    let len = if c.is_alphanumeric() || c == '_' || c == '$' {
        let mut n = 0;
        for (idx, ch) in rest.char_indices() {
            let arrow = ch == '-' && rest.get(idx + 1..).is_some_and(|r| r.starts_with('>'));
            if !(ch.is_alphanumeric() || "_$.-".contains(ch)) || arrow {
                break;
            }
            n = idx + ch.len_utf8();
        }
        n
    } else if c == '"' {
        let line = rest.find(['\n', '\r']).unwrap_or(rest.len());
        rest.get(1..line).and_then(|r| r.find('"')).map_or(line, |q| q + 2)
    } else if "=<>!-".contains(c) {
        split_while(rest, |ch| "=<>!-".contains(ch)).0.len().min(2)
    } else {
        c.len_utf8()
    };
    (Span::new(at, at + len), rest.get(..len).unwrap_or(""))
}

/// Shortens a token for display in a message.
fn shorten(token: &str) -> String {
    if token.chars().count() <= 40 {
        token.to_string()
    } else {
        format!("{}...", token.chars().take(37).collect::<String>())
    }
}

/// `'token'`, "end of line" or "end of input".
fn describe(raw: &str) -> String {
    match raw {
        "" => "end of input".to_string(),
        "\n" | "\r" => "end of line".to_string(),
        " " | "\t" => "whitespace".to_string(),
        _ => format!("'{}'", shorten(raw)),
    }
}

/// A help line for an "expected ..." error, from what was found and what was expected.
fn hint(found: &str, set: u64) -> Option<String> {
    let has = |t: Tok| set & t.bit() != 0;
    if has(Tok::Arrow) && ["to", ">", "=>", "-", "<-", "<", "=", "--"].contains(&found) {
        return Some("use '->' (source to destination) or '<>' (either direction)".into());
    }
    if (has(Tok::Port) || has(Tok::Address)) && ["->", "<>", "{"].contains(&found) {
        return Some(
            "a rule header reads: ACTION PROTO SRC_ADDR SRC_PORT -> DST_ADDR DST_PORT { ... }; \
             write 'any' for any address or port"
                .into(),
        );
    }
    if has(Tok::Alert) {
        if let Some(s) = suggestion(found, &["alert", "pass", "var"]) {
            return Some(s);
        }
        if ["drop", "reject", "log", "rule", "block"].contains(&found) {
            return Some("ferret rules start with 'alert' or 'pass'".into());
        }
    }
    if has(Tok::Operator) && found == "=" {
        return Some("use '==' to test equality".into());
    }
    if has(Tok::Value) && found == "!" {
        return Some("'!' negates list elements; to negate a test use 'not' or '!='".into());
    }
    None
}

#[cfg(test)]
mod tests {
    use super::*;

    // ----- helpers -----

    fn rule_src(body: &str) -> String {
        format!("alert ip any any -> any any {{\n    {body}\n}}\n")
    }

    fn parse_ok(text: &str) -> RuleFile {
        let (file, diags) = parse_rule_file(text);
        assert!(diags.is_empty(), "unexpected diagnostics for {text:?}: {diags:#?}");
        file
    }

    fn only_rule(text: &str) -> Rule {
        match parse_ok(text).items.as_slice() {
            [Item::Rule(r)] => r.clone(),
            other => panic!("expected one rule, got {other:#?}"),
        }
    }

    fn options(body: &str) -> Vec<RuleOption> {
        only_rule(&rule_src(body)).options
    }

    fn when(cond: &str) -> Expr {
        match options(&format!("when {cond}")).as_slice() {
            [RuleOption::When(e)] => e.clone(),
            other => panic!("{other:#?}"),
        }
    }

    fn at(text: &str, span: Span) -> &str {
        &text[span.start..span.end]
    }

    /// Parses `text`, expects exactly one diagnostic, checks its message and the text it covers.
    fn error(text: &str, message: &str, covered: &str) -> Diagnostic {
        let (_, diags) = parse_rule_file(text);
        assert_eq!(diags.len(), 1, "for {text:?}: {diags:#?}");
        let d = diags[0].clone();
        assert_eq!(d.message, message, "for {text:?}");
        assert_eq!(at(text, d.span), covered, "span of {d:?}");
        d
    }

    fn error_in(body: &str, message: &str, covered: &str) -> Diagnostic {
        error(&rule_src(body), message, covered)
    }

    fn value(text: &str) -> ValueKind {
        parse_value(text).unwrap_or_else(|d| panic!("{text:?}: {d:?}")).kind
    }

    fn num(v: f64) -> ValueKind {
        ValueKind::Number(v)
    }

    fn net(text: &str, prefix: u8) -> ValueKind {
        ValueKind::Net(IpNet { addr: text.parse().unwrap(), prefix })
    }

    fn kinds(v: ValueKind) -> Vec<ValueKind> {
        match v {
            ValueKind::List(items) => items.into_iter().map(|v| v.kind).collect(),
            other => panic!("not a list: {other:?}"),
        }
    }

    const EXAMPLE: &str = r#"# comment to end of line (not inside strings/regex)
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

    // ----- whole files -----

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

    // ----- header -----

    fn header(src: &str, dst: &str) -> (AddrSpec, PortSpec, String) {
        let text = format!("alert ip {src} -> {dst} {{}}");
        let rule = only_rule(&text);
        (rule.src_addr, rule.src_port, text)
    }

    #[test]
    fn header_addresses() {
        let (a, _, _) = header("10.0.0.1 any", "any any");
        assert!(matches!(a, AddrSpec::Net(n) if n.node == IpNet { addr: "10.0.0.1".parse().unwrap(), prefix: 32 }));
        let (a, _, t) = header("2001:db8::/32 any", "any any");
        let AddrSpec::Net(n) = a else { panic!() };
        assert_eq!(n.node.prefix, 32);
        assert_eq!(at(&t, n.span), "2001:db8::/32");
        let (a, _, _) = header("::1 any", "any any");
        assert!(matches!(a, AddrSpec::Net(n) if n.node.prefix == 128));
        let (a, _, t) = header("[10.0.0.0/8, ![192.168.0.0/16, $X], fe80::/10] any", "any any");
        let AddrSpec::List(list) = a else { panic!() };
        assert_eq!(at(&t, list.span), "[10.0.0.0/8, ![192.168.0.0/16, $X], fe80::/10]");
        let AddrSpec::Not(inner, span) = &list.node[1] else { panic!() };
        assert_eq!(at(&t, *span), "![192.168.0.0/16, $X]");
        let AddrSpec::List(inner) = &**inner else { panic!() };
        assert!(matches!(&inner.node[1], AddrSpec::Var(v) if v.node == "X" && at(&t, v.span) == "$X"));
        let (a, _, _) = header("!any any", "any any");
        assert!(matches!(a, AddrSpec::Not(b, _) if matches!(*b, AddrSpec::Any(_))));
    }

    #[test]
    fn header_ports() {
        let port = |p: &str| header(&format!("any {p}"), "any any").1;
        assert!(matches!(port("53"), PortSpec::Port(p) if p.node == 53));
        assert!(matches!(port("1024:65535"), PortSpec::Range(r) if r.node == (Some(1024), Some(65535))));
        assert!(matches!(port("1024:"), PortSpec::Range(r) if r.node == (Some(1024), None)));
        assert!(matches!(port(":1023"), PortSpec::Range(r) if r.node == (None, Some(1023))));
        assert!(matches!(port("$DNS_PORTS"), PortSpec::Var(v) if v.node == "DNS_PORTS"));
        assert!(matches!(port("!53"), PortSpec::Not(p, _) if matches!(*p, PortSpec::Port(_))));
        let (_, p, t) = header("any [53, [5353, 8000:8100],]", "any any");
        let PortSpec::List(list) = p else { panic!() };
        assert_eq!(list.node.len(), 2);
        assert_eq!(at(&t, list.span), "[53, [5353, 8000:8100],]");
    }

    // ----- options -----

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

    // ----- expressions -----

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

    // ----- values -----

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

    // ----- errors -----

    #[test]
    fn error_wrong_direction() {
        let d = error("alert icmp $HOME_NET any to any any {\n}\n", "expected one of '->', '<>', found 'to'", "to");
        assert!(d.help.unwrap().contains("'->'"));
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
    fn error_unterminated_string_and_regex() {
        error_in("msg \"abc", "unterminated string", "\"abc");
        error_in("msg \"abc\\", "unterminated string", "\\");
        error_in("when a matches /abc\n", "unterminated regex", "/abc");
    }

    #[test]
    fn error_ports_out_of_range() {
        error("alert udp any 70000 -> any any {}", "port 70000 out of range", "70000");
        error("alert udp any any -> any 1:99999 {}", "port 99999 out of range", "99999");
        error("alert udp any 200:100 -> any any {}", "empty port range 200:100", "200:100");
        error("alert udp any : -> any any {}", "expected a port before or after ':'", ":");
        error_in("when p in 70000:", "port 70000 out of range", "70000");
    }

    #[test]
    fn error_addresses() {
        let d = error("alert ip 10.0.300.1 any -> any any {}", "invalid IPv4 address '10.0.300.1'", "300");
        assert_eq!(d.label, "300 is greater than 255");
        error("alert ip 10.0.0 any -> any any {}", "invalid IPv4 address '10.0.0'", "10.0.0");
        let d = error("alert ip 10.0.0.0/33 any -> any any {}", "prefix length 33 out of range", "33");
        assert_eq!(d.label, "IPv4 prefixes are 0 to 32");
        error("alert ip ::/129 any -> any any {}", "prefix length 129 out of range", "129");
        error("alert ip 1:2:3 any -> any any {}", "invalid IPv6 address '1:2:3'", "1:2:3");
        error("alert ip 10.0.0.0/ any -> any any {}", "expected a prefix length after '/'", "/");
        error("alert ip [] any -> any any {}", "empty list in rule header", "[]");
        error("alert ip foo any -> any any {}", "expected an address, found 'foo'", "foo");
        error_in("when ip.src == 1.2.3.400", "invalid IPv4 address '1.2.3.400'", "400");
        error_in("when ip.src == 1.2.3", "invalid number or address '1.2.3'", "1.2.3");
    }

    #[test]
    fn error_missing_header_parts() {
        let d = error("alert icmp any -> any any {}", "expected a port, found '->'", "->");
        assert!(d.help.unwrap().contains("SRC_PORT"));
        error("alert icmp any any -> any any\n", "expected '{', found end of input", "");
        error("alert icmp any any -> any any id 5 }", "expected '{', found 'id'", "id");
        let d = error("alert icmpv6 any any -> any any {}", "unknown protocol 'icmpv6'", "icmpv6");
        assert_eq!(d.help.as_deref(), Some("did you mean 'icmp6'?"));
        let d = error("alrt ip any any -> any any {}", "expected one of 'alert', 'pass', 'var', found 'alrt'", "alrt");
        assert_eq!(d.help.as_deref(), Some("did you mean 'alert'?"));
    }

    #[test]
    fn error_missing_value_after_operator() {
        error_in("when payload.len >", "expected a value after '>', found '}'", "}");
        error_in("when payload.len in and", "expected a value after 'in', found 'and'", "and");
        error_in("when a == threshold", "expected a value after '==', found 'threshold'", "threshold");
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
    fn error_duplicate_option() {
        let d = error_in("msg \"a\"\n    msg \"b\"", "duplicate option 'msg'", "msg");
        assert_eq!(d.span.start, rule_src("").len() - 3 + 12);
        let text = rule_src("id 1\n id 2\n when a\n when b");
        let (file, diags) = parse_rule_file(&text);
        assert_eq!(diags.len(), 2);
        assert!(file.items.is_empty(), "a rule with errors is dropped");
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
    fn error_lists_alternatives_at_the_same_spot() {
        let d =
            error_in("when payload.len 5", "expected one of an operator, 'and', 'or', an option, '}', found '5'", "5");
        assert_eq!(d.label, "unexpected here");
        error_in("when x in [1, 2 3]", "expected one of ',', ']', found '3'", "3");
        error_in("when x in [1, ", "expected one of a value, ']', found '}'", "}");
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
    fn error_var_declarations() {
        error("var $X = 5", "variable names are declared without '$'", "$X");
        error("var X 5", "expected '=', found '5'", "5");
        error("var X =", "expected a value after '=', found end of input", "");
        error("var 5 = 5", "expected a variable name after 'var', found '5'", "5");
    }

    #[test]
    fn error_literals_too_long() {
        let long = "a".repeat(MAX_LITERAL + 10);
        error_in(&format!("msg \"{long}\""), &format!("string longer than {MAX_LITERAL} bytes"), "\"");
        error_in(&format!("when x matches /{long}/"), &format!("regex longer than {MAX_LITERAL} bytes"), "/");
        let ok = "a".repeat(MAX_LITERAL);
        assert!(matches!(&options(&format!("msg \"{ok}\""))[0], RuleOption::Msg(m) if m.node.len() == MAX_LITERAL));
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

    // ----- recovery and limits -----

    #[test]
    fn one_bad_rule_never_hides_the_next() {
        let text = "\
alert ip any any -> any any {
    id 1
    severity hgh
    msg \"braces { in strings } do not confuse recovery\"
}
alert ip any any -> any any {
    id 2
}
alert ip any any => any any {
    id 3
}
";
        let (file, diags) = parse_rule_file(text);
        assert_eq!(diags.len(), 2, "{diags:#?}");
        assert_eq!(diags[0].message, "unknown severity 'hgh'");
        assert_eq!(diags[1].message, "expected one of '->', '<>', found '=>'");
        let [Item::Rule(rule)] = file.items.as_slice() else { panic!("{file:#?}") };
        assert!(matches!(&rule.options[0], RuleOption::Id(n) if n.node == 2));
    }

    #[test]
    fn recovery_skips_regexes_with_braces_and_junk_lines() {
        let text = "junk here {\n}\nalert ip any any -> any any { when a matches /}/ and b = 1\n}\nvar X = 1\n";
        let (file, diags) = parse_rule_file(text);
        assert_eq!(diags.len(), 2, "{diags:#?}");
        assert!(matches!(file.items.as_slice(), [Item::Var(v)] if v.name.node == "X"));
        let (file, diags) = parse_rule_file("}}} garbage\n\nvar Y = 2");
        assert_eq!((file.items.len(), diags.len()), (1, 1));
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

    #[test]
    fn diagnostics_render_on_very_long_lines() {
        let text = format!("{}\nalert ip any any -> any any {{ {} severty x }}", "#".repeat(10), " ".repeat(70_000));
        let (_, diags) = parse_rule_file(&text);
        assert_eq!(diags.len(), 1);
        let out = diags[0].render("long.rules", &text).to_string();
        assert!(out.contains("long.rules:2:"));
    }

    #[test]
    fn did_you_mean_is_conservative() {
        assert_eq!(did_you_mean("severty", OPTION_KEYS), Some("severity"));
        assert_eq!(did_you_mean("Alert", ["alert"]), Some("alert"));
        assert_eq!(did_you_mean("xyz", OPTION_KEYS), None);
        assert_eq!(edit_distance("kitten", "sitting"), 3);
    }

    #[test]
    fn exact_duration_arithmetic() {
        assert_eq!(exact_duration("1.5", 1_000_000_000), Ok(1_500_000_000));
        assert_eq!(exact_duration("0.001", 1_000), Ok(1));
        assert!(exact_duration("0.0001", 1_000).is_err());
        assert_eq!(exact_duration("18446744073709551615", 1), Ok(u64::MAX));
        assert!(exact_duration("18446744073709551616", 1).is_err());
    }

    // ----- the shipped grammar docs -----

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
