//! `contains` and `starts_with` needles of every indexed rule on one field.
//!
//! One Aho-Corasick automaton holds every rule's needle, so a single pass
//! over the payload or name finds every rule whose needle occurs, however
//! many rules there are. Needles that must start the value run in an
//! automaton of their own over the value's first bytes only (as many as the
//! longest such needle), keeping the matches at offset 0.
//! Case-insensitive needles (text fields) get automata of their own too.

use aho_corasick::{AhoCorasick, AhoCorasickBuilder, MatchKind};

/// One needle as a rule writes it.
#[derive(Clone, Debug)]
pub struct Needle {
    /// The bytes (lowercase when `nocase`).
    pub bytes: Vec<u8>,
    /// Compare ASCII case-insensitively.
    pub nocase: bool,
    /// Only at the start of the value (`starts_with`).
    pub prefix: bool,
    /// The rule.
    pub rule: u32,
}

/// One automaton and the rule of each of its patterns.
#[derive(Debug)]
struct Matcher {
    ac: AhoCorasick,
    /// For `starts_with` needles: the longest needle's length (only that much of the value is searched).
    prefix_len: Option<usize>,
    rules: Vec<u32>,
}

/// The needles of several rules on one field.
#[derive(Debug, Default)]
pub struct Patterns {
    matchers: Vec<Matcher>,
    needles: usize,
}

impl Patterns {
    /// Builds the automata over `needles` (empty needles are not indexed: the chooser never gives one).
    pub fn new(needles: &[Needle]) -> Patterns {
        let mut matchers = Vec::new();
        for (nocase, anchored) in [(false, false), (true, false), (false, true), (true, true)] {
            let chosen: Vec<&Needle> =
                needles.iter().filter(|n| n.nocase == nocase && n.prefix == anchored && !n.bytes.is_empty()).collect();
            if chosen.is_empty() {
                continue;
            }
            let built = AhoCorasickBuilder::new()
                .match_kind(MatchKind::Standard)
                .ascii_case_insensitive(nocase)
                .build(chosen.iter().map(|n| &n.bytes));
            let prefix_len = anchored.then(|| chosen.iter().map(|n| n.bytes.len()).max().unwrap_or(0));
            // Building fails only past aho-corasick's size limits; those rules
            // then stay out of the automaton and the caller keeps them as always-candidates.
            if let Ok(ac) = built {
                matchers.push(Matcher { ac, prefix_len, rules: chosen.iter().map(|n| n.rule).collect() });
            }
        }
        Patterns { matchers, needles: needles.len() }
    }

    /// True if every needle went into an automaton.
    pub fn complete(&self) -> bool {
        self.matchers.iter().map(|m| m.rules.len()).sum::<usize>() == self.needles
    }

    /// True when no needle is kept.
    pub fn is_empty(&self) -> bool {
        self.needles == 0
    }

    /// Number of needles.
    pub fn len(&self) -> usize {
        self.needles
    }

    /// Pushes every rule whose needle occurs in `hay` (at its start, for `starts_with`).
    pub fn lookup(&self, hay: &[u8], out: &mut Vec<u32>) {
        for m in &self.matchers {
            let hay = match m.prefix_len {
                Some(len) => hay.get(..len.min(hay.len())).unwrap_or_default(),
                None => hay,
            };
            for found in m.ac.find_overlapping_iter(hay) {
                if m.prefix_len.is_some() && found.start() != 0 {
                    continue;
                }
                if let Some(&rule) = m.rules.get(found.pattern().as_usize()) {
                    out.push(rule);
                }
            }
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn needle(bytes: &[u8], nocase: bool, prefix: bool, rule: u32) -> Needle {
        Needle { bytes: bytes.to_vec(), nocase, prefix, rule }
    }

    #[test]
    fn one_pass_finds_every_needle_with_case_and_anchoring() {
        let p = Patterns::new(&[
            needle(b"abc", false, false, 1),
            needle(b"bcd", false, false, 2),
            needle(b"xyz", true, false, 3),
            needle(b"ab", false, true, 4),
            needle(b"bc", false, true, 5),
            needle(b"ab", true, true, 6),
        ]);
        assert!(p.complete() && !p.is_empty() && Patterns::new(&[]).is_empty());
        let found = |hay: &[u8]| {
            let mut out = Vec::new();
            p.lookup(hay, &mut out);
            out.sort_unstable();
            out.dedup();
            out
        };
        assert_eq!(found(b"abcd"), [1, 2, 4, 6]);
        assert_eq!(found(b"ABcd-XyZ"), [3, 6]);
        assert_eq!(found(b"zbcd"), [2]);
        assert_eq!(found(b""), Vec::<u32>::new());
    }
}
