//! Reports people read: the incident report, computed from a scan, with charts.
//!
//! The hand-written incident reports ferret replaces contradicted their own
//! numbers. Here nothing is narrated that was not counted: a report is built
//! from EVE alert records and the run statistics ([`input`]) into a model
//! ([`model`]) whose every figure traces to alerts and packet numbers, then
//! laid out as one document ([`doc`]) in Markdown, HTML with inline SVG charts
//! ([`svg`]) or as JSON. `ferret scan --report` builds it at the end of a
//! scan; `ferret report` builds the same from saved EVE and stats files,
//! and merges the EVE of several sensors ([`source`], [`merge`]).
//! During the scan, [`collect::Collector`] gathers what alerts cannot say
//! (protocol counts, a sample of inspected payloads, flagged frames for
//! `--extract`).

pub mod collect;
pub mod doc;
pub mod extract;
pub mod files;
pub mod html;
pub mod input;
pub mod markdown;
pub mod merge;
pub mod model;
pub mod redis;
pub mod source;
pub mod svg;
pub mod thresholds;

use std::path::Path;

pub use model::{build, Report, Sources};

/// A report's file format.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Format {
    /// GitHub-flavoured Markdown.
    Markdown,
    /// One self-contained HTML page.
    Html,
    /// The model as JSON.
    Json,
}

impl Format {
    /// The format named by a file's extension (`.md`, `.html`/`.htm`, `.json`).
    pub fn from_path(path: &Path) -> Option<Format> {
        let ext = path.extension()?.to_str()?.to_ascii_lowercase();
        Format::from_name(&ext)
    }

    /// The format by name: `md`/`markdown`, `html`/`htm`, `json`.
    pub fn from_name(name: &str) -> Option<Format> {
        match name {
            "md" | "markdown" => Some(Format::Markdown),
            "html" | "htm" => Some(Format::Html),
            "json" => Some(Format::Json),
            _ => None,
        }
    }
}

/// Renders a report.
pub fn render(report: &Report, format: Format) -> String {
    match format {
        Format::Markdown => {
            let mut s = markdown::render(&doc::document(report));
            s.push('\n');
            s
        }
        Format::Html => html::render(&doc::document(report), &report.generator),
        Format::Json => {
            let mut s = serde_json::to_string_pretty(report).unwrap_or_else(|e| format!("{{\"error\": \"{e}\"}}"));
            s.push('\n');
            s
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn formats_follow_extensions() {
        assert_eq!(Format::from_path(Path::new("r.HTML")), Some(Format::Html));
        assert_eq!(Format::from_path(Path::new("a/r.md")), Some(Format::Markdown));
        assert_eq!(Format::from_path(Path::new("r.json")), Some(Format::Json));
        assert_eq!(Format::from_path(Path::new("r.pdf")), None);
        assert_eq!(Format::from_path(Path::new("report")), None);
    }
}
