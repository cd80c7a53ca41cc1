//! Tokens and lexing helpers: the keyword tables (options, reserved words, protocols,
//! severities, units) and plain functions over `&str` that recognise identifiers, words, field
//! names and number-like runs. None of them can fail; they return `None` or an empty run.

use crate::rules::ast::{Proto, Severity};

/// Option keys, in the order the reference documents them.
pub(super) const OPTION_KEYS: [&str; 18] = [
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
    "gid",
    "noalert",
    "applies",
    "fixed",
];

/// Words that are never a field or a bare-word value, so that an expression or value that runs
/// into the next option (or keyword) stops there instead of swallowing it.
pub(super) const RESERVED: [&str; 15] = [
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
    "has",
    "alert",
    "pass",
    "var",
];

/// Whether `word` is a keyword or option key (never a field, name or bare word).
pub(crate) fn is_reserved(word: &str) -> bool {
    RESERVED.contains(&word) || OPTION_KEYS.contains(&word)
}

pub(super) const PROTOCOLS: [(&str, Proto); 7] = [
    ("ip", Proto::Ip),
    ("icmp", Proto::Icmp),
    ("icmp6", Proto::Icmp6),
    ("tcp", Proto::Tcp),
    ("udp", Proto::Udp),
    ("dns", Proto::Dns),
    ("arp", Proto::Arp),
];

pub(super) const SEVERITIES: [(&str, Severity); 5] = [
    ("info", Severity::Info),
    ("low", Severity::Low),
    ("medium", Severity::Medium),
    ("high", Severity::High),
    ("critical", Severity::Critical),
];

/// Duration units and their length in nanoseconds.
pub(super) const DURATION_UNITS: [(&str, u64); 7] = [
    ("ns", 1),
    ("us", 1_000),
    ("ms", 1_000_000),
    ("s", 1_000_000_000),
    ("m", 60_000_000_000),
    ("min", 60_000_000_000),
    ("h", 3_600_000_000_000),
];

/// Size units and their length in bytes.
pub(super) const SIZE_UNITS: [(&str, u64); 5] =
    [("B", 1), ("bytes", 1), ("KiB", 1 << 10), ("MiB", 1 << 20), ("GiB", 1 << 30)];

pub(super) fn duration_unit(unit: &str) -> Option<u64> {
    DURATION_UNITS.iter().find(|(name, _)| *name == unit).map(|&(_, ns)| ns)
}

pub(super) fn value_unit(unit: &str) -> Option<u64> {
    duration_unit(unit).or_else(|| SIZE_UNITS.iter().find(|(n, _)| *n == unit).map(|&(_, b)| b))
}

/// Skips whitespace and `#` comments.
pub(super) fn ws(mut i: &str) -> &str {
    loop {
        let t = i.trim_start_matches([' ', '\t', '\n', '\r', '\x0c']);
        match t.strip_prefix('#') {
            Some(comment) => i = comment.find('\n').and_then(|n| comment.get(n..)).unwrap_or(""),
            None => return t,
        }
    }
}

/// Skips spaces and tabs only (a unit may follow its number on the same line).
pub(super) fn hspace(i: &str) -> &str {
    i.trim_start_matches([' ', '\t'])
}

/// Splits off the longest prefix whose characters satisfy `f`: `(prefix, rest)`.
pub(super) fn split_while(i: &str, f: impl Fn(char) -> bool) -> (&str, &str) {
    let n = i.find(|c: char| !f(c)).unwrap_or(i.len());
    i.split_at_checked(n).unwrap_or((i, ""))
}

pub(super) fn is_ident_char(c: char) -> bool {
    c.is_ascii_alphanumeric() || c == '_'
}

pub(super) fn is_word_char(c: char) -> bool {
    is_ident_char(c) || c == '-'
}

pub(super) fn starts_ident(i: &str) -> bool {
    i.starts_with(|c: char| c.is_ascii_alphabetic() || c == '_')
}

/// `[A-Za-z_][A-Za-z0-9_]*`: variable names and keywords.
pub(super) fn ident(i: &str) -> Option<(&str, &str)> {
    starts_ident(i).then(|| split_while(i, is_ident_char))
}

/// `[A-Za-z_][A-Za-z0-9_-]*`: bare words such as `echo-request` or `covert-channel`.
pub(super) fn word(i: &str) -> Option<(&str, &str)> {
    starts_ident(i).then(|| split_while(i, is_word_char))
}

/// `i` without the keyword `kw`, if it starts with it as a whole word.
pub(super) fn keyword<'a>(i: &'a str, kw: &str) -> Option<&'a str> {
    i.strip_prefix(kw).filter(|rest| !rest.starts_with(is_ident_char))
}

/// `[a-z_][a-z0-9_]*(\.[a-z0-9_]+)*`: a field name, as `(name, rest)`.
pub(super) fn field_name(i: &str) -> Option<(&str, &str)> {
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
pub(super) fn decimal_run(i: &str) -> usize {
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
pub(super) fn ip_run(i: &str) -> usize {
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
