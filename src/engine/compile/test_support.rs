//! Helpers shared by the compiler's unit tests: compile rule text, expect success or exactly
//! one error, show a rule's condition tree, and build a bare [`RuleCx`] for one part.

use std::collections::HashMap;

use crate::engine::predicate::Node;
use crate::engine::ruleset::{CompiledRule, RuleSet};
use crate::rules::ast::{Proto, Value};
use crate::rules::diag::Diagnostic;
use crate::rules::parse::parse_rule_file;

use super::vars::Scope;
use super::{compile, ParsedFile, RuleCx, VarLayers};

/// A rule of protocol `proto` with header `src -> dst`, id 1 and option lines `body`.
pub(super) fn rule(proto: &str, header: &str, body: &str) -> String {
    format!("alert {proto} {header} {{\n    id 1\n    {body}\n}}\n")
}

/// Compiles `text` as one file (which must parse) with `layers`.
pub(super) fn compile_with(text: &str, layers: &VarLayers) -> Result<RuleSet, Vec<Diagnostic>> {
    let (ast, diags) = parse_rule_file(text);
    assert!(diags.is_empty(), "{text:?} does not parse: {diags:#?}");
    let file = ParsedFile { path: "t.rules".into(), text: text.into(), ast };
    compile(&[file], layers).map_err(|errors| errors.into_iter().map(|e| e.diag).collect())
}

/// Compiles `text`, which must have no errors.
pub(super) fn ok(text: &str) -> RuleSet {
    compile_with(text, &VarLayers::default()).unwrap_or_else(|d| panic!("{text:?}: {d:#?}"))
}

/// The only rule of a rule set.
pub(super) fn only(set: &RuleSet) -> &CompiledRule {
    match set.rules() {
        [one] => one,
        other => panic!("expected one rule, got {}", other.len()),
    }
}

/// A condition tree as `explain` prints it.
pub(super) fn tree_of(node: &Node) -> String {
    let mut out = String::new();
    node.write_tree(&mut out, 0).unwrap();
    out
}

/// The condition tree of the only rule of `text`.
pub(super) fn tree(text: &str) -> String {
    tree_of(&only(&ok(text)).cond)
}

/// Compiles `text` expecting exactly one error, and returns it.
pub(super) fn error_with(text: &str, layers: &VarLayers) -> Diagnostic {
    match compile_with(text, layers) {
        Ok(_) => panic!("{text:?} compiled"),
        Err(d) if d.len() == 1 => d.into_iter().next().unwrap(),
        Err(d) => panic!("expected one error for {text:?}, got {d:#?}"),
    }
}

/// Compiles `text` expecting exactly one error, and returns it.
pub(super) fn error(text: &str) -> Diagnostic {
    error_with(text, &VarLayers::default())
}

/// The text a diagnostic's span covers.
pub(super) fn covered<'t>(text: &'t str, d: &Diagnostic) -> &'t str {
    &text[d.span.start..d.span.end]
}

/// Runs `f` with a rule context for `proto` with no variables but the built-ins.
pub(super) fn with_cx<T>(proto: Proto, f: impl FnOnce(&mut RuleCx<'_>) -> T) -> T {
    let vars: HashMap<String, Value> = super::builtin_vars().into_iter().collect();
    let scope = Scope { vars: &vars, config: &[], overrides: &[], network: &[] };
    let mut cx = RuleCx { scope, proto, diags: Vec::new(), networks: &[] };
    f(&mut cx)
}
