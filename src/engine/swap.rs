//! What a rule swap keeps: which rules of a new set are the old ones unchanged.
//!
//! Why it exists: a sensor reloads its rules while traffic flows, and a
//! threshold that has counted 9 of 10 matches must not forget them because
//! another file changed. A rule is "unchanged" when its id, revision, action,
//! protocol, header, compiled condition (variables resolved, per network) and
//! stateful clauses are; only those rules keep their state.

use std::collections::HashMap;
use std::hash::{Hash, Hasher};

use super::ruleset::{CompiledRule, RuleSet};

/// What a swap did.
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq)]
pub struct Swapped {
    /// Rules in the new set.
    pub rules: usize,
    /// Rules of the new set identical to one of the old.
    pub unchanged: usize,
    /// Stateful rules in the new set.
    pub stateful: usize,
    /// Stateful rules that kept their state.
    pub state_kept: usize,
    /// Old rules with no identical rule in the new set (removed or changed).
    pub removed: usize,
}

/// What decides whether a rule is unchanged: everything that affects matching and state.
pub fn fingerprint(rule: &CompiledRule) -> u64 {
    let text = format!(
        "{}|{}|{:?}|{:?}|{:?}|{:?}|{:?}|{:?}",
        rule.sid, rule.rev, rule.action, rule.proto, rule.header, rule.cond, rule.state, rule.scoped
    );
    // A fixed-key hasher: fingerprints are compared within one process only.
    let mut h = std::hash::DefaultHasher::new();
    text.hash(&mut h);
    h.finish()
}

/// For each rule of `new`, the index of the identical rule in `old`, if any.
pub fn unchanged(old: &RuleSet, new: &RuleSet) -> Vec<Option<u32>> {
    let by_sid: HashMap<u64, (u32, u64)> = old
        .rules()
        .iter()
        .enumerate()
        .filter_map(|(i, r)| Some((r.sid, (u32::try_from(i).ok()?, fingerprint(r)))))
        .collect();
    new.rules().iter().map(|r| by_sid.get(&r.sid).filter(|(_, f)| *f == fingerprint(r)).map(|(i, _)| *i)).collect()
}
