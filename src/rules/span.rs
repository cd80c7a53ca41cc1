//! Byte spans into a source text, and turning them into line and column.
//!
//! Every diagnostic points at a span; line and column are computed only when an
//! error is shown, so the parser never tracks them.

/// A half-open byte range `start..end` into one source text.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash, Default)]
pub struct Span {
    /// First byte.
    pub start: usize,
    /// One past the last byte.
    pub end: usize,
}

impl Span {
    /// A span from `start` to `end`.
    pub fn new(start: usize, end: usize) -> Self {
        Span { start, end }
    }

    /// For a span of the config text (shifted by [`CONFIG_OFFSET`]), the span
    /// within the config; `None` for a span of a rule file.
    pub fn in_config(self) -> Option<Span> {
        (self.start >= CONFIG_OFFSET)
            .then(|| Span::new(self.start - CONFIG_OFFSET, self.end.saturating_sub(CONFIG_OFFSET)))
    }

    /// The smallest span covering both.
    pub fn to(self, other: Span) -> Span {
        Span::new(self.start.min(other.start), self.end.max(other.end))
    }
}

/// Spans of values read from the config file are shifted by this much, so
/// that a diagnostic about such a value, raised while compiling a rule that
/// uses it, is shown on the config line that set it (one offset space for
/// several texts, as rustc's `SourceMap` gives each file its own range).
pub const CONFIG_OFFSET: usize = 1 << (usize::BITS - 2);

/// A 1-based line and column (the column counts characters, not bytes).
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct LineCol {
    /// Line number, from 1.
    pub line: usize,
    /// Column number, from 1.
    pub col: usize,
}

/// Where `offset` falls in `text`, plus the byte range of that line (without its newline).
pub fn locate(text: &str, offset: usize) -> (LineCol, std::ops::Range<usize>) {
    let offset = offset.min(text.len());
    let offset = (0..=offset).rev().find(|&o| text.is_char_boundary(o)).unwrap_or(0);
    let line_start = text[..offset].rfind('\n').map_or(0, |i| i + 1);
    let line_end = text[offset..].find('\n').map_or(text.len(), |i| offset + i);
    let line = text[..line_start].matches('\n').count() + 1;
    let col = text[line_start..offset].chars().count() + 1;
    (LineCol { line, col }, line_start..line_end)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn locates_lines_and_columns() {
        let text = "ab\ncdé\nf";
        assert_eq!(locate(text, 0).0, LineCol { line: 1, col: 1 });
        assert_eq!(locate(text, 4).0, LineCol { line: 2, col: 2 });
        let (lc, range) = locate(text, 7);
        assert_eq!(lc, LineCol { line: 2, col: 4 });
        assert_eq!(&text[range], "cdé");
        assert_eq!(locate(text, 99).0, LineCol { line: 3, col: 2 });
    }
}
