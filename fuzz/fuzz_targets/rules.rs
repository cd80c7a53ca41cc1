//! Fuzzes the rule language front to back: parser, diagnostics rendering, printer round
//! trip and the compiler (`load::compile_texts`, the path `ferret check` takes).
//!
//! Why: rule files are written by people and shared between teams; a typo, a paste of
//! binary garbage or a deeply nested expression must give an error pointing at the text,
//! never a panic, a hang or unbounded memory. The round trip guards the printer: a file
//! that parses cleanly must print to text that parses cleanly again.
#![no_main]

use std::hint::black_box;

use ferret::load::{compile_texts, parse_var_override};
use ferret::rules::ast::RuleFile;
use ferret::rules::parse::{parse_expr, parse_rule_file, parse_value};
use libfuzzer_sys::fuzz_target;

/// The name diagnostics are rendered with.
const PATH: &str = "fuzz.rules";

fuzz_target!(|data: &[u8]| {
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
});

/// Prints a cleanly parsed file and asserts the printed text parses cleanly too.
fn round_trip(file: &RuleFile) {
    // Filled in once `rules::print` has its API (see README.md).
    black_box(file);
}
