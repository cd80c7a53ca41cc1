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
/// Counts the lines before `offset`: for many offsets into one text, use a [`LineIndex`].
pub fn locate(text: &str, offset: usize) -> (LineCol, std::ops::Range<usize>) {
    LineIndex::new(text).locate(text, offset)
}

/// Where each line of a text starts, found once, so that locating many
/// offsets (thousands of errors in one file) is not quadratic.
#[derive(Clone, Debug)]
pub struct LineIndex {
    starts: Vec<usize>,
}

impl LineIndex {
    /// Indexes the lines of `text`.
    pub fn new(text: &str) -> LineIndex {
        let newlines = memchr::memchr_iter(b'\n', text.as_bytes()).map(|i| i + 1);
        LineIndex { starts: std::iter::once(0).chain(newlines).collect() }
    }

    /// Where `offset` falls in `text` (the text indexed), plus the byte range
    /// of that line (without its newline).
    pub fn locate(&self, text: &str, offset: usize) -> (LineCol, std::ops::Range<usize>) {
        let offset = offset.min(text.len());
        let offset = (0..=offset).rev().find(|&o| text.is_char_boundary(o)).unwrap_or(0);
        // The number of line starts at or before `offset` is the 1-based line.
        let line = self.starts.partition_point(|&s| s <= offset).max(1);
        let line_start = self.starts.get(line - 1).copied().unwrap_or(0);
        let line_end = self.starts.get(line).map_or(text.len(), |next| next - 1);
        let col = text.get(line_start..offset).map_or(0, |s| s.chars().count()) + 1;
        (LineCol { line, col }, line_start..line_end)
    }
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
        assert_eq!(locate("a\n", 2).0, LineCol { line: 2, col: 1 });
        assert_eq!(locate("", 0).0, LineCol { line: 1, col: 1 });
    }
}
