//! Errors and the "expected" machinery: [`PError`] (a failure and where it happened), the
//! [`Tok`] set of things the parser may expect at a position, and the step that turns a failure
//! into a [`Diagnostic`] reading `expected one of '->', '<>', found 'to'` with a help line.
//! Parsers that fail at the same spot merge their expected sets through [`Cx::note`].

use nom::error::{ErrorKind, ParseError};
use nom::{Err, IResult};

use crate::rules::diag::Diagnostic;
use crate::rules::span::Span;

use super::lex::split_while;
use super::Cx;

pub(super) type PResult<'a, T> = IResult<&'a str, T, PError>;

/// A parse failure. `rem` is the remaining input length where it happened (nom's own errors only
/// see the input, so positions are kept in that form and turned into offsets at the end).
#[derive(Debug)]
pub(super) struct PError {
    pub(super) rem: usize,
    pub(super) len: usize,
    pub(super) kind: Kind,
}

#[derive(Debug)]
pub(super) enum Kind {
    /// A nom primitive failed and nothing more specific is known.
    Nom,
    /// One of a set of tokens ([`Tok`] bits) was expected, optionally "after 'x'".
    Expected { set: u64, after: Option<&'static str> },
    /// A specific complaint with its own wording.
    Message(Box<Message>),
}

#[derive(Debug)]
pub(super) struct Message {
    text: String,
    label: String,
    help: Option<String>,
}

impl Kind {
    pub(super) fn rank(&self) -> u8 {
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
    pub(super) fn message(at: &str, len: usize, text: impl Into<String>, label: impl Into<String>) -> Self {
        let message = Message { text: text.into(), label: label.into(), help: None };
        PError { rem: at.len(), len, kind: Kind::Message(Box::new(message)) }
    }

    pub(super) fn help(mut self, help: impl Into<String>) -> Self {
        if let Kind::Message(m) = &mut self.kind {
            m.help = Some(help.into());
        }
        self
    }

    pub(super) fn expected(at: &str, set: u64, after: Option<&'static str>) -> Self {
        PError { rem: at.len(), len: 0, kind: Kind::Expected { set, after } }
    }
}

/// A non-backtracking failure with a specific message covering `len` bytes from `at`.
pub(super) fn failure(at: &str, len: usize, text: impl Into<String>, label: impl Into<String>) -> Err<PError> {
    Err::Failure(PError::message(at, len, text, label))
}

/// Fails (without backtracking) with a specific message covering `len` bytes from `at`.
pub(super) fn fail<T>(at: &str, len: usize, text: impl Into<String>, label: impl Into<String>) -> PResult<'_, T> {
    Err(failure(at, len, text, label))
}

/// Fails (without backtracking) with a message and a help line.
pub(super) fn fail_help<'a, T>(
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
pub(super) enum Tok {
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

pub(super) const ALL_TOKS: [Tok; 36] = [
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
    pub(super) fn bit(self) -> u64 {
        1u64 << (self as u32)
    }

    pub(super) fn name(self) -> &'static str {
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

/// The closest candidate to `word` if it is a plausible typo (small edit distance).
pub(super) fn did_you_mean<'c>(word: &str, candidates: impl IntoIterator<Item = &'c str>) -> Option<&'c str> {
    if word.len() > 32 {
        return None;
    }
    let lower = word.to_ascii_lowercase();
    let max = if word.len() >= 5 { 2 } else { 1 };
    candidates
        .into_iter()
        .map(|c| (strsim::levenshtein(&lower, &c.to_ascii_lowercase()), c))
        .filter(|&(d, c)| d <= max && c != word)
        .min_by_key(|&(d, c)| (d, !c.get(..1).is_some_and(|f| lower.starts_with(&f.to_ascii_lowercase()))))
        .map(|(_, c)| c)
}

pub(super) fn suggestion(word: &str, candidates: &[&'static str]) -> Option<String> {
    did_you_mean(word, candidates.iter().copied()).map(|c| format!("did you mean '{c}'?"))
}

impl<'s> Cx<'s> {
    pub(super) fn diagnostic(&self, err: Err<PError>) -> Diagnostic {
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

    pub(super) fn expected_diagnostic(&self, start: usize, set: u64, after: Option<&str>) -> Diagnostic {
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
}

/// The token at `at`: its span and text (empty at the end of input).
pub(super) fn found_token(text: &str, at: usize) -> (Span, &str) {
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
pub(super) fn shorten(token: &str) -> String {
    if token.chars().count() <= 40 {
        token.to_string()
    } else {
        format!("{}...", token.chars().take(37).collect::<String>())
    }
}

/// `'token'`, "end of line" or "end of input".
pub(super) fn describe(raw: &str) -> String {
    match raw {
        "" => "end of input".to_string(),
        "\n" | "\r" => "end of line".to_string(),
        " " | "\t" => "whitespace".to_string(),
        _ => format!("'{}'", shorten(raw)),
    }
}

/// A help line for an "expected ..." error, from what was found and what was expected.
pub(super) fn hint(found: &str, set: u64) -> Option<String> {
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

    use crate::rules::parse::expect::did_you_mean;
    use crate::rules::parse::lex::OPTION_KEYS;
    use crate::rules::parse::parse_rule_file;

    use crate::rules::parse::test_support::*;

    #[test]
    fn error_lists_alternatives_at_the_same_spot() {
        let d =
            error_in("when payload.len 5", "expected one of an operator, 'and', 'or', an option, '}', found '5'", "5");
        assert_eq!(d.label, "unexpected here");
        error_in("when x in [1, 2 3]", "expected one of ',', ']', found '3'", "3");
        error_in("when x in [1, ", "expected one of a value, ']', found '}'", "}");
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
    }
}
