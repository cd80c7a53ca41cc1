//! The report as one self-contained HTML file.
//!
//! Everything is inline: the style sheet, the SVG charts, no script at all.
//! A Content-Security-Policy forbids any fetch, so the file shows the same on
//! an air-gapped analyst machine as anywhere, and a browser would report any
//! attempt to load something as an error (the browser test looks for those).
//! The print style drops the navigation, keeps figures and table rows whole,
//! repeats table headers on each page and prints in black on white.

use std::fmt::Write;

use super::doc::{Align, Block, Document, Span};
use super::svg::esc;

const CSS: &str = r#"
:root { --ink: #1c2833; --muted: #5d6d7e; --line: #d5d8dc; --head: #f2f4f4; --accent: #1f6f8b; }
* { box-sizing: border-box; }
body { margin: 0; color: var(--ink); background: #fbfcfc;
  font: 15px/1.5 system-ui, -apple-system, "Segoe UI", Roboto, "Noto Sans", "DejaVu Sans", sans-serif; }
header { background: var(--accent); color: #fff; padding: 24px 0 18px; }
header .wrap p { color: #e8f1f4; margin: 6px 0 0; }
header code { background: rgba(255,255,255,0.15); color: #fff; }
.wrap { max-width: 1040px; margin: 0 auto; padding: 0 24px; }
h1 { margin: 0; font-size: 26px; font-weight: 650; }
h2 { font-size: 20px; margin: 36px 0 10px; padding-bottom: 4px; border-bottom: 2px solid var(--accent); }
h3 { font-size: 16px; margin: 22px 0 8px; }
nav { margin: 16px 0 0; font-size: 14px; display: flex; flex-wrap: wrap; gap: 4px 16px; }
nav a { color: var(--accent); text-decoration: none; white-space: nowrap; }
code { font: 13px/1.4 ui-monospace, "DejaVu Sans Mono", monospace; background: #eef1f2; padding: 1px 4px; border-radius: 3px; }
table { border-collapse: collapse; width: 100%; margin: 8px 0 6px; font-size: 13.5px; }
th, td { border: 1px solid var(--line); padding: 5px 8px; text-align: left; vertical-align: top; }
th { background: var(--head); font-weight: 600; }
td.num, th.num { text-align: right; font-variant-numeric: tabular-nums; white-space: nowrap; }
tbody tr:nth-child(even) td { background: #f7f9f9; }
.table-wrap { overflow-x: auto; }
figure { margin: 14px 0 18px; padding: 12px; background: #fff; border: 1px solid var(--line); border-radius: 6px; }
figure svg { display: block; width: 100%; max-width: 760px; height: auto; margin: 0 auto; }
figcaption, .note { color: var(--muted); font-size: 13px; margin-top: 6px; }
.cards { display: flex; flex-wrap: wrap; gap: 12px; margin: 10px 0 14px; }
.card { flex: 1 1 180px; background: #fff; border: 1px solid var(--line); border-left: 4px solid var(--accent); border-radius: 6px; padding: 10px 14px; }
.card .label { color: var(--muted); font-size: 12px; text-transform: uppercase; letter-spacing: 0.04em; }
.card .value { font-size: 24px; font-weight: 650; }
.sev { display: inline-block; padding: 0 7px; border-radius: 10px; font-size: 12px; font-weight: 600; color: #fff; background: #7f8c8d; }
.sev-critical { background: #922b21; } .sev-high { background: #ba4a00; } .sev-medium { background: #b7950b; }
.sev-low { background: #1f618d; } .sev-info { background: #616a6b; }
footer { color: var(--muted); font-size: 12px; margin: 40px 0 30px; }
@media print {
  @page { margin: 14mm 12mm; }
  body { background: #fff; font-size: 10pt; }
  header { background: none; color: #000; padding: 0 0 8px; border-bottom: 2px solid #000; }
  header .wrap p, header code { color: #000; background: none; }
  .wrap { max-width: none; padding: 0; }
  nav { display: none; }
  h2 { break-after: avoid; border-color: #000; }
  h3 { break-after: avoid; }
  figure, .cards, tr { break-inside: avoid; }
  figure { border: none; padding: 0; }
  figure svg { max-width: 160mm; }
  thead { display: table-header-group; }
  table { font-size: 8.5pt; }
  th, td { padding: 3px 5px; }
  .table-wrap { overflow: visible; }
  .sev { color: #000; background: none; border: 1px solid #000; }
  .card { border-color: #000; }
  a { color: #000; text-decoration: none; }
}
"#;

fn spans(out: &mut String, spans: &[Span]) {
    for s in spans {
        match s {
            Span::Text(x) => out.push_str(&esc(x)),
            Span::Strong(x) => {
                let _ = write!(out, "<strong>{}</strong>", esc(x));
            }
            Span::Code(x) => {
                let _ = write!(out, "<code>{}</code>", esc(x));
            }
        }
    }
}

fn cell(out: &mut String, title: &str, value: &str, align: Align) {
    let class = if align == Align::Right { r#" class="num""# } else { "" };
    if title == "Severity" && !value.is_empty() {
        let _ = write!(out, r#"<td{class}><span class="sev sev-{0}">{0}</span></td>"#, esc(value));
    } else {
        let _ = write!(out, "<td{class}>{}</td>", esc(value));
    }
}

fn block(out: &mut String, b: &Block) {
    match b {
        Block::Heading(h) => {
            let _ = writeln!(out, "<h3>{}</h3>", esc(h));
        }
        Block::Para(p) => {
            out.push_str("<p>");
            spans(out, p);
            out.push_str("</p>\n");
        }
        Block::Note(p) => {
            out.push_str(r#"<p class="note">"#);
            spans(out, p);
            out.push_str("</p>\n");
        }
        Block::List(items) => {
            out.push_str("<ul>\n");
            for item in items {
                out.push_str("<li>");
                spans(out, item);
                out.push_str("</li>\n");
            }
            out.push_str("</ul>\n");
        }
        Block::KeyFigures(cards) => {
            out.push_str(r#"<div class="cards">"#);
            for (label, value) in cards {
                let _ = write!(
                    out,
                    r#"<div class="card"><div class="label">{}</div><div class="value">{}</div></div>"#,
                    esc(label),
                    esc(value)
                );
            }
            out.push_str("</div>\n");
        }
        Block::Table { id, head, rows } => {
            let _ = write!(out, r#"<div class="table-wrap"><table id="{id}"><thead><tr>"#);
            for (title, align) in head {
                let class = if *align == Align::Right { r#" class="num""# } else { "" };
                let _ = write!(out, "<th{class}>{}</th>", esc(title));
            }
            out.push_str("</tr></thead>\n<tbody>\n");
            for row in rows {
                out.push_str("<tr>");
                for (i, value) in row.iter().enumerate() {
                    let (title, align) = head.get(i).copied().unwrap_or(("", Align::Left));
                    cell(out, title, value, align);
                }
                out.push_str("</tr>\n");
            }
            out.push_str("</tbody></table></div>\n");
        }
        Block::Figure { svg, caption } => {
            let _ = writeln!(out, "<figure>{svg}<figcaption>{}</figcaption></figure>", esc(caption));
        }
    }
}

/// Renders the document as a complete HTML page.
pub fn render(doc: &Document, generator: &str) -> String {
    let mut out = String::with_capacity(64 * 1024);
    out.push_str("<!DOCTYPE html>\n<html lang=\"en\">\n<head>\n<meta charset=\"utf-8\">\n");
    out.push_str(
        "<meta http-equiv=\"Content-Security-Policy\" content=\"default-src 'none'; style-src 'unsafe-inline'; img-src data:\">\n",
    );
    out.push_str("<meta name=\"viewport\" content=\"width=device-width, initial-scale=1\">\n");
    let _ = writeln!(out, "<meta name=\"generator\" content=\"{}\">", esc(generator));
    let _ = writeln!(out, "<title>{}</title>", esc(&doc.title));
    let _ = writeln!(out, "<style>{CSS}</style>\n</head>\n<body>");
    let _ = writeln!(out, "<header><div class=\"wrap\"><h1>{}</h1>", esc(&doc.title));
    for b in &doc.intro {
        block(&mut out, b);
    }
    out.push_str("</div></header>\n<main class=\"wrap\">\n<nav>");
    for s in &doc.sections {
        let _ = write!(out, "<a href=\"#{}\">{}</a>", s.id, esc(&s.title));
    }
    out.push_str("</nav>\n");
    for s in &doc.sections {
        let _ = writeln!(out, "<section id=\"{}\">\n<h2>{}</h2>", s.id, esc(&s.title));
        for b in &s.blocks {
            block(&mut out, b);
        }
        out.push_str("</section>\n");
    }
    let _ = writeln!(
        out,
        "<footer>Written by {}. Every number comes from the alerts and run statistics of the scan.</footer>",
        esc(generator)
    );
    out.push_str("</main>\n</body>\n</html>\n");
    out
}
