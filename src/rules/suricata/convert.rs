//! `ferret convert`: the native text of a Suricata rule file. Each rule that
//! loads prints in the native language (compiling it gives the very matcher
//! the Suricata rule compiles to); each refused rule prints as a comment with
//! the reason, so nothing is lost silently.

use std::fmt::Write;

use crate::rules::ast::Item;
use crate::rules::span::locate;

use super::SuricataFile;

/// The native form of `file` (read from `text`, shown as `path`): rules in
/// file order, refusals and notes as `#` comments where the rule stood.
pub fn to_native(file: &SuricataFile, path: &str, text: &str) -> String {
    let mut entries: Vec<(usize, String)> = Vec::new();
    for item in &file.ast.items {
        if let Item::Rule(rule) = item {
            entries.push((rule.span.start, format!("{rule}\n")));
        }
    }
    for (prefix, d) in file.refused.iter().map(|d| ("refused", d)).chain(file.notes.iter().map(|d| ("note", d))) {
        let (lc, _) = locate(text, d.span.start);
        let line = format!("# {prefix}: {path}:{}:{}: {}\n", lc.line, lc.col, d.message);
        entries.push((d.span.start, line));
    }
    entries.sort_by_key(|(at, _)| *at);
    let mut out = format!("# converted from {path} by ferret convert\n");
    for (_, e) in entries {
        let _ = write!(out, "\n{e}");
    }
    out
}
