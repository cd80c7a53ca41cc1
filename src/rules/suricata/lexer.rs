//! Suricata rule text into pieces: one logical rule per line (a `\` at the end
//! of a line continues it), `#` comment lines, then a rule's header words and
//! its `keyword[:value];` options. Values end at the first `;` not escaped
//! with `\`, as Suricata reads them; quotes do not protect a `;`.

use crate::rules::diag::Diagnostic;
use crate::rules::span::Span;

/// One rule's text: where it starts and ends in the file.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct RuleText {
    /// Byte offset of the rule's first character.
    pub start: usize,
    /// Byte offset just after its last character.
    pub end: usize,
}

/// The rules of a file, skipping blank lines and `#` comments.
pub fn rules(text: &str) -> Vec<RuleText> {
    let mut out = Vec::new();
    let bytes = text.as_bytes();
    let mut pos = 0;
    while pos < bytes.len() {
        // The logical line: up to a newline not preceded by a backslash.
        let mut end = pos;
        while end < bytes.len() {
            if bytes.get(end) == Some(&b'\n') {
                let continued = end > pos && bytes.get(end - 1) == Some(&b'\\')
                    || end > pos + 1 && bytes.get(end - 1) == Some(&b'\r') && bytes.get(end - 2) == Some(&b'\\');
                if !continued {
                    break;
                }
            }
            end += 1;
        }
        let line = text.get(pos..end).unwrap_or("");
        let trimmed = line.trim_start();
        let lead = line.len() - trimmed.len();
        let body = trimmed.trim_end();
        if !body.is_empty() && !body.starts_with('#') {
            out.push(RuleText { start: pos + lead, end: pos + lead + body.len() });
        }
        pos = end + 1;
    }
    out
}

/// Skips whitespace (and line continuations) from `at`.
pub fn skip_ws(text: &str, mut at: usize, end: usize) -> usize {
    let bytes = text.as_bytes();
    while at < end {
        match bytes.get(at) {
            Some(b' ' | b'\t' | b'\r' | b'\n') => at += 1,
            Some(b'\\') if matches!(bytes.get(at + 1), Some(b'\n' | b'\r')) => at += 1,
            _ => break,
        }
    }
    at
}

/// A header word from `at`: up to whitespace, outside brackets. Returns its span.
pub fn word(text: &str, at: usize, end: usize) -> Option<Span> {
    let at = skip_ws(text, at, end);
    let bytes = text.as_bytes();
    let mut i = at;
    let mut depth = 0i32;
    while i < end {
        match bytes.get(i) {
            Some(b'[') => depth += 1,
            Some(b']') => depth -= 1,
            Some(b' ' | b'\t' | b'\r' | b'\n' | b'(') if depth <= 0 => break,
            _ => {}
        }
        i += 1;
    }
    (i > at).then(|| Span::new(at, i))
}

/// One `keyword[:value]` option.
#[derive(Clone, Debug, PartialEq)]
pub struct RawOption {
    /// The keyword as written.
    pub name: String,
    /// Where the keyword is.
    pub name_span: Span,
    /// The value with line continuations removed, untrimmed (`None`: no `:`).
    pub value: Option<String>,
    /// Where the value is.
    pub value_span: Span,
}

/// The options between `(` (at `open`) and the rule's final `)`.
pub fn options(text: &str, open: usize, end: usize) -> Result<Vec<RawOption>, Diagnostic> {
    let bytes = text.as_bytes();
    let close = text
        .get(..end)
        .and_then(|t| t.trim_end().strip_suffix(')').map(str::len))
        .filter(|&c| c > open)
        .ok_or_else(|| {
            Diagnostic::new("rule options do not end with ')'", Span::new(end.saturating_sub(1), end), "expected ')'")
        })?;
    let mut out = Vec::new();
    let mut at = open + 1;
    loop {
        at = skip_ws(text, at, close);
        if at >= close {
            return Ok(out);
        }
        let name_start = at;
        while at < close && !matches!(bytes.get(at), Some(b':' | b';')) {
            at += 1;
        }
        let name_text = text.get(name_start..at).unwrap_or("");
        let name = name_text.trim_end().to_string();
        let name_span = Span::new(name_start, name_start + name.len());
        let mut value = None;
        let mut value_span = Span::new(at, at);
        if bytes.get(at) == Some(&b':') {
            let v_start = at + 1;
            let mut v = String::new();
            let mut i = v_start;
            while i < close {
                match bytes.get(i) {
                    Some(b';') => break,
                    Some(b'\\') => {
                        // Keep the escape for the keyword to read; a continuation is a space.
                        match bytes.get(i + 1) {
                            Some(b'\n') => {
                                v.push(' ');
                                i += 2;
                                continue;
                            }
                            Some(_) => {
                                let c = text.get(i..).and_then(|t| t.chars().nth(1)).unwrap_or(' ');
                                v.push('\\');
                                v.push(c);
                                i += 1 + c.len_utf8();
                                continue;
                            }
                            None => {}
                        }
                        v.push('\\');
                        i += 1;
                    }
                    Some(_) => {
                        let c = text.get(i..).and_then(|t| t.chars().next()).unwrap_or(' ');
                        v.push(c);
                        i += c.len_utf8();
                    }
                    None => break,
                }
            }
            value_span = Span::new(v_start, i);
            value = Some(v);
            at = i;
        }
        if bytes.get(at) == Some(&b';') {
            at += 1;
        } else if at < close || name.is_empty() {
            return Err(Diagnostic::new("expected ';' after an option", Span::new(at, at + 1), "expected ';'"));
        }
        out.push(RawOption { name, name_span, value, value_span });
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn rules_span_continued_lines_and_skip_comments() {
        let text =
            "# c\n\nalert ip any any -> any any (msg:\"a\"; \\\n sid:1;)\n  alert udp any any -> any any (sid:2;)  \n";
        let r = rules(text);
        assert_eq!(r.len(), 2);
        assert!(text[r[0].start..r[0].end].ends_with("sid:1;)"));
        assert_eq!(&text[r[1].start..r[1].end], "alert udp any any -> any any (sid:2;)");
    }

    #[test]
    fn options_end_at_unescaped_semicolons() {
        let text = r#"(msg:"a\;b"; reference:url,x.com/?a=1\;b; nocase; sid : 5;)"#;
        let o = options(text, 0, text.len()).unwrap();
        let names: Vec<&str> = o.iter().map(|o| o.name.as_str()).collect();
        assert_eq!(names, ["msg", "reference", "nocase", "sid"]);
        assert_eq!(o[0].value.as_deref(), Some(r#""a\;b""#));
        assert_eq!(o[2].value, None);
        assert_eq!(o[3].value.as_deref(), Some(" 5"));
    }

    #[test]
    fn an_empty_option_is_kept_for_the_caller_to_refuse() {
        let text = r#"(content:"AA";; sid:1;)"#;
        let o = options(text, 0, text.len()).unwrap();
        assert_eq!(o[1].name, "");
    }
}
