//! Diagnostics: an error message anchored to a span of a named source text,
//! rendered the way compilers do.
//!
//! ```text
//! error: unknown field 'payload.lenght' (did you mean 'payload.len'?)
//!   --> rules/local.rules:3:10
//!    |
//!  3 |     when payload.lenght > 5
//!    |          ^^^^^^^^^^^^^^ unknown field
//! ```

use std::fmt;

use crate::rules::span::{locate, LineIndex, Span};

/// One problem found in a rule file (or config), with where it is.
#[derive(Clone, Debug, PartialEq)]
pub struct Diagnostic {
    /// The headline, e.g. "unknown field 'payload.lenght'".
    pub message: String,
    /// The text it points at.
    pub span: Span,
    /// A short label printed after the carets, e.g. "expected a number".
    pub label: String,
    /// An optional hint printed below, e.g. "did you mean 'payload.len'?".
    pub help: Option<String>,
}

impl Diagnostic {
    /// A diagnostic with a message, a span and a label.
    pub fn new(message: impl Into<String>, span: Span, label: impl Into<String>) -> Self {
        Diagnostic { message: message.into(), span, label: label.into(), help: None }
    }

    /// Adds a help line.
    pub fn with_help(mut self, help: impl Into<String>) -> Self {
        self.help = Some(help.into());
        self
    }

    /// Renders the diagnostic against the text it came from.
    pub fn render<'a>(&'a self, path: &'a str, text: &'a str) -> Rendered<'a> {
        Rendered { diag: self, path, text, lines: None }
    }

    /// Renders the diagnostic against the text it came from, whose lines are indexed.
    pub fn render_indexed<'a>(&'a self, path: &'a str, text: &'a str, lines: &'a LineIndex) -> Rendered<'a> {
        Rendered { diag: self, path, text, lines: Some(lines) }
    }

    /// `path:line:col` of the diagnostic's start.
    pub fn location(&self, path: &str, text: &str) -> String {
        let (lc, _) = locate(text, self.span.start);
        format!("{path}:{}:{}", lc.line, lc.col)
    }
}

/// A diagnostic ready to print with `Display`.
pub struct Rendered<'a> {
    diag: &'a Diagnostic,
    path: &'a str,
    text: &'a str,
    lines: Option<&'a LineIndex>,
}

impl fmt::Display for Rendered<'_> {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        let d = self.diag;
        let (lc, line_range) = match self.lines {
            Some(lines) => lines.locate(self.text, d.span.start),
            None => locate(self.text, d.span.start),
        };
        let line_text = self.text.get(line_range.clone()).unwrap_or("");
        let gutter = lc.line.to_string().len();
        writeln!(f, "error: {}", d.message)?;
        writeln!(f, "{:gutter$}--> {}:{}:{}", "", self.path, lc.line, lc.col)?;
        writeln!(f, "{:gutter$} |", "")?;
        writeln!(f, "{} | {}", lc.line, line_text.replace('\t', " "))?;
        // Carets cover the span, clipped to the first line; at least one.
        let end = d.span.end.clamp(d.span.start, line_range.end);
        let width = self.text.get(d.span.start.min(end)..end).map_or(0, |s| s.chars().count()).max(1);
        let pad = lc.col - 1;
        write!(f, "{:gutter$} | {}{}", "", " ".repeat(pad), "^".repeat(width))?;
        if !d.label.is_empty() {
            write!(f, " {}", d.label)?;
        }
        writeln!(f)?;
        if let Some(help) = &d.help {
            writeln!(f, "{:gutter$} = help: {help}", "")?;
        }
        Ok(())
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn renders_location_line_and_caret() {
        let text = "alert icmp any any -> any any {\n    when payload.lenght > 5\n}\n";
        let start = text.find("payload.lenght").unwrap();
        let d = Diagnostic::new("unknown field 'payload.lenght'", Span::new(start, start + 14), "unknown field")
            .with_help("did you mean 'payload.len'?");
        let out = d.render("local.rules", text).to_string();
        assert_eq!(
            out,
            "error: unknown field 'payload.lenght'\n \
             --> local.rules:2:10\n  |\n\
             2 |     when payload.lenght > 5\n  \
             |          ^^^^^^^^^^^^^^ unknown field\n  \
             = help: did you mean 'payload.len'?\n"
        );
    }
}
