//! Fuzzes the rule language front to back: parser, diagnostics rendering, printer round
//! trip and the compiler (`load::compile_texts`, the path `ferret check` takes).
//!
//! Why: rule files are written by people and shared between teams; a typo, a paste of
//! binary garbage or a deeply nested expression must give an error pointing at the text,
//! never a panic, a hang or unbounded memory. The round trip guards the printer: a file
//! that parses cleanly must print to text that parses cleanly again.

use std::hint::black_box;

use ferret::load::{compile_texts, parse_var_override};
use ferret::rules::ast::RuleFile;
use ferret::rules::parse::{parse_expr, parse_rule_file, parse_value};

/// The name diagnostics are rendered with.
const PATH: &str = "fuzz.rules";

/// One input, as the fuzz target runs it: panics on a broken promise.
pub fn run(data: &[u8]) {
    let Ok(text) = std::str::from_utf8(data) else { return };
    let (file, diags) = parse_rule_file(text);
    for diag in &diags {
        black_box(diag.render(PATH, text).to_string());
        black_box(diag.location(PATH, text));
    }
    if diags.is_empty() {
        round_trip(&file);
    }
    // Compile errors are rendered inside compile_texts.
    let _ = black_box(compile_texts(vec![(PATH.into(), text.into())], &[]).map(|rules| rules.rules().len()));
    // The single-value and single-expression entry points (`--var`, tools) see the same text.
    let _ = black_box(parse_value(text).map_err(|d| d.render("--var", text).to_string()));
    let _ = black_box(parse_expr(text).map_err(|d| d.render("expr", text).to_string()));
    let _ = black_box(parse_var_override(text).map_err(|f| f.problems));
}

/// Prints a cleanly parsed file (`Display for RuleFile`, src/rules/print.rs) and asserts the
/// printer's promises: the text parses without diagnostics, to the same tree (spans aside),
/// and printing that tree again gives the same text (canonical form is a fixed point).
fn round_trip(file: &RuleFile) {
    let printed = file.to_string();
    let (reparsed, diags) = parse_rule_file(&printed);
    assert!(diags.is_empty(), "printed text does not parse:\n{printed}\n{diags:#?}");
    assert_eq!(without_spans(&reparsed), without_spans(file), "tree changed; printed:\n{printed}");
    assert_eq!(reparsed.to_string(), printed, "printing is not a fixed point");
}

/// The tree's `Debug` text with every `Span { start: .., end: .. }` reduced to `Span`, so two
/// trees compare equal when only their positions differ.
fn without_spans(file: &RuleFile) -> String {
    const OPEN: &str = "Span { start: ";
    let debug = format!("{file:?}");
    let mut out = String::with_capacity(debug.len());
    let mut rest = debug.as_str();
    while let Some(at) = rest.find(OPEN) {
        out.push_str(&rest[..at]);
        out.push_str("Span");
        let after = &rest[at + OPEN.len()..];
        rest = after.find(" }").map_or("", |close| &after[close + 2..]);
    }
    out.push_str(rest);
    out
}
