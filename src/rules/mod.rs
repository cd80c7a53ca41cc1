//! The rule language: syntax tree, parser, printer, spans and diagnostics.
//!
//! This module knows text, not packets: it turns rule files into
//! [`ast::RuleFile`]s and reports syntax errors with exact spans. Meaning
//! (fields, types, variables) is checked by `engine::compile`.

pub mod ast;
pub mod defaults;
pub mod diag;
pub mod parse;
pub mod print;
pub mod span;
pub mod suricata;
