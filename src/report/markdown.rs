//! The report as Markdown (GitHub flavour): headings, lists and pipe tables.
//!
//! Charts cannot live in plain Markdown without side files, so each figure is
//! replaced by one line naming it and pointing to the HTML report; every
//! number a chart shows is also in a table.

use std::fmt::Write;

use super::doc::{Align, Block, Document, Span};

/// Escapes Markdown's inline syntax.
fn esc(s: &str) -> String {
    let mut out = String::with_capacity(s.len());
    for ch in s.chars() {
        match ch {
            '\\' | '`' | '*' | '_' | '[' | ']' | '<' | '>' | '|' => {
                out.push('\\');
                out.push(ch);
            }
            '\n' | '\r' => out.push(' '),
            ch => out.push(ch),
        }
    }
    out
}

fn spans(out: &mut String, spans: &[Span]) {
    for s in spans {
        match s {
            Span::Text(x) => out.push_str(&esc(x)),
            Span::Strong(x) => {
                let _ = write!(out, "**{}**", esc(x));
            }
            Span::Code(x) => {
                // A code span needs a fence longer than any backtick run inside.
                let fence = if x.contains('`') { "`` " } else { "`" };
                let close = if x.contains('`') { " ``" } else { "`" };
                let _ = write!(out, "{fence}{}{close}", x.replace(['\n', '\r'], " "));
            }
        }
    }
}

fn block(out: &mut String, b: &Block) {
    match b {
        Block::Heading(h) => {
            let _ = writeln!(out, "### {}\n", esc(h));
        }
        Block::Para(p) => {
            spans(out, p);
            out.push_str("\n\n");
        }
        Block::Note(p) => {
            out.push('*');
            spans(out, p);
            out.push_str("*\n\n");
        }
        Block::List(items) => {
            for item in items {
                out.push_str("- ");
                spans(out, item);
                out.push('\n');
            }
            out.push('\n');
        }
        Block::Table { head, rows, .. } => {
            let titles: Vec<String> = head.iter().map(|(h, _)| esc(h)).collect();
            let _ = writeln!(out, "| {} |", titles.join(" | "));
            let rules: Vec<&str> = head.iter().map(|(_, a)| if *a == Align::Right { "---:" } else { "---" }).collect();
            let _ = writeln!(out, "|{}|", rules.join("|"));
            for row in rows {
                let cells: Vec<String> = row.iter().map(|c| esc(c)).collect();
                let _ = writeln!(out, "| {} |", cells.join(" | "));
            }
            out.push('\n');
        }
        Block::KeyFigures(_) => {}
        Block::Figure { caption, .. } => {
            let _ = writeln!(out, "*Chart (in the HTML report): {}*\n", esc(caption));
        }
    }
}

/// Renders the document.
pub fn render(doc: &Document) -> String {
    let mut out = String::new();
    let _ = writeln!(out, "# {}\n", esc(&doc.title));
    for b in &doc.intro {
        block(&mut out, b);
    }
    for s in &doc.sections {
        let _ = writeln!(out, "## {}\n", esc(&s.title));
        for b in &s.blocks {
            block(&mut out, b);
        }
    }
    while out.ends_with("\n\n") {
        out.pop();
    }
    out
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn table_cells_cannot_break_the_table() {
        let doc = Document {
            title: "t".into(),
            intro: vec![],
            sections: vec![super::super::doc::Section {
                id: "s",
                title: "1. S".into(),
                blocks: vec![Block::Table {
                    id: "x",
                    head: vec![("A", Align::Left), ("N", Align::Right)],
                    rows: vec![vec!["a|b\n*c*".into(), "1".into()]],
                }],
            }],
        };
        let md = render(&doc);
        assert!(md.contains("| a\\|b \\*c\\* | 1 |"), "{md}");
        assert!(md.contains("|---|---:|"));
    }
}
