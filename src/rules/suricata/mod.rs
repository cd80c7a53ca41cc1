//! Suricata rule files: `action proto src sport -> dst dport (options;)`,
//! read into the same [`RuleFile`] syntax tree the native parser builds, so
//! the compiler, the engine and `ferret explain` treat both alike and
//! `ferret convert` can print the native form of any rule it loads.
//!
//! Detection engineers bring years of Suricata rules; ferret loads those whose
//! keywords fit what it inspects (see the README, "Bring your Suricata rules")
//! with Suricata's meaning, not an approximation: content positions and
//! relative matches (`has [...]`), IP-only rules matching once per flow
//! direction (`flow.first`), `pass` silencing the rest of the flow (`applies
//! flow`), thresholds counted in Suricata's fixed windows (`fixed ...`). A rule
//! with any other keyword is *refused*, with `file:line:col` and the keyword
//! named, and the rest of the file loads. Spans point into the Suricata text.
//!
//! One concept per file: `lexer` (rules, header words, options), `content`
//! (content strings, pcre, Suricata's load-time checks), `options` (keyword
//! by keyword into native options and tests), `classification` (classtype
//! priorities), `convert` (the native text of a file).

use crate::rules::ast::{Action, Direction, Item, Proto, Rule, RuleFile, Spanned};
use crate::rules::diag::Diagnostic;
use crate::rules::parse::{header_addr, header_port};
use crate::rules::span::Span;

pub mod classification;
pub mod content;
pub mod convert;
pub mod lexer;
mod options;

/// A Suricata rule file, read.
#[derive(Clone, Debug, Default)]
pub struct SuricataFile {
    /// The rules that load, as native rules.
    pub ast: RuleFile,
    /// Rules refused, one diagnostic each (the rule's keyword or part at fault).
    pub refused: Vec<Diagnostic>,
    /// What loads with a changed meaning (`drop` loads as `alert`).
    pub notes: Vec<Diagnostic>,
}

impl SuricataFile {
    /// Number of rules in the file (loaded and refused).
    pub fn rule_count(&self) -> usize {
        self.ast.items.len() + self.refused.len()
    }
}

/// True when a rule file is in Suricata's syntax: its first rule (the first
/// line that is neither blank nor a `#` comment) has a `(` before any `{`.
/// A file is one syntax or the other, never both.
pub fn is_suricata(text: &str) -> bool {
    let text = text.strip_prefix('\u{feff}').unwrap_or(text);
    let Some(line) = text.lines().map(str::trim).find(|l| !l.is_empty() && !l.starts_with('#')) else {
        return false;
    };
    if line.starts_with("var ") {
        return false;
    }
    match (line.find('('), line.find('{')) {
        (Some(p), Some(b)) => p < b,
        (Some(_), None) => true,
        _ => false,
    }
}

/// Reads a Suricata rule file: every rule loads or is refused on its own.
pub fn parse(text: &str) -> SuricataFile {
    let mut file = SuricataFile::default();
    for r in lexer::rules(text) {
        match rule(text, r) {
            Ok((rule, note)) => {
                file.notes.extend(note);
                file.ast.items.push(Item::Rule(rule));
            }
            Err(d) => file.refused.push(d),
        }
    }
    file
}

fn rule(text: &str, r: lexer::RuleText) -> Result<(Rule, Option<Diagnostic>), Diagnostic> {
    let word = |at: usize, what: &str| {
        lexer::word(text, at, r.end).ok_or_else(|| {
            Diagnostic::new(format!("expected {what}"), Span::new(at.min(r.end), r.end), format!("missing {what}"))
        })
    };
    let slice = |s: Span| text.get(s.start..s.end).unwrap_or("");
    let action_span = word(r.start, "an action")?;
    let (action, note) = match slice(action_span) {
        "alert" => (Action::Alert, None),
        "pass" => (Action::Pass, None),
        a @ ("drop" | "reject" | "rejectsrc" | "rejectdst" | "rejectboth") => (
            Action::Alert,
            Some(Diagnostic::new(format!("'{a}' loads as 'alert'"), action_span, "ferret only watches")),
        ),
        other => {
            return Err(Diagnostic::new(
                format!("unsupported action '{other}'"),
                action_span,
                "not an action ferret has",
            )
            .with_help("actions are alert, pass, drop and reject (these two load as alert)"))
        }
    };
    let proto_span = word(action_span.end, "a protocol")?;
    let (proto, icmp_any) = match slice(proto_span) {
        "ip" => (Proto::Ip, false),
        "icmp" => (Proto::Ip, true),
        "icmpv6" | "icmp6" => (Proto::Icmp6, false),
        "udp" => (Proto::Udp, false),
        "tcp" => (Proto::Tcp, false),
        "dns" => (Proto::Dns, false),
        other => {
            return Err(Diagnostic::new(format!("unsupported protocol '{other}'"), proto_span, "not loaded by ferret")
                .with_help("protocols are ip, icmp, icmpv6, udp, tcp and dns"))
        }
    };
    let within = |d: Diagnostic| -> Diagnostic {
        if d.span.start > r.end {
            Diagnostic::new("incomplete rule header", Span::new(r.start, r.end), "this rule")
        } else {
            d
        }
    };
    let (src_addr, at) = header_addr(text, proto_span.end).map_err(within)?;
    let (src_port, at) = header_port(text, at).map_err(within)?;
    let dir_span = word(at, "'->' or '<>'")?;
    let direction = match slice(dir_span) {
        "->" => Direction::ToDst,
        "<>" => Direction::Both,
        other => return Err(Diagnostic::new(format!("expected '->' or '<>', found '{other}'"), dir_span, "direction")),
    };
    let (dst_addr, at) = header_addr(text, dir_span.end).map_err(within)?;
    let (dst_port, at) = header_port(text, at).map_err(within)?;
    let open = lexer::skip_ws(text, at, r.end);
    if text.as_bytes().get(open) != Some(&b'(') || open >= r.end {
        return Err(Diagnostic::new(
            "expected '(' before the rule options",
            Span::new(open, (open + 1).min(r.end.max(open + 1))),
            "expected '('",
        ));
    }
    let raw = lexer::options(text, open, r.end)?;
    // Suricata's `icmp` is ICMP of either IP version.
    let pre = if icmp_any { vec![options::one_of("ip.proto", &[1.0, 58.0], proto_span)] } else { Vec::new() };
    let opts = options::translate(&raw, proto, action == Action::Pass, pre)?;
    let rule = Rule {
        action: Spanned::new(action, action_span),
        proto: Spanned::new(proto, proto_span),
        src_addr,
        src_port,
        direction: Spanned::new(direction, dir_span),
        dst_addr,
        dst_port,
        options: opts,
        span: Span::new(r.start, r.end),
    };
    Ok((rule, note))
}

#[cfg(test)]
mod tests;
