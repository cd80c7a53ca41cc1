//! Content matching with Suricata's positions: a sequence of byte patterns and
//! regexes found in order in one buffer, each placed by `offset`/`depth` (from
//! the buffer's start) or by `distance`/`within` (from the end of the previous
//! match), possibly negated.
//!
//! Suricata searches each pattern from the left and, when a later pattern
//! placed relative to it fails, tries the pattern's next occurrence; this
//! module does the same, bounded by [`RECURSION_LIMIT`] searches per buffer
//! (Suricata's default inspection recursion limit), so no payload can make a
//! rule slow. Matching allocates nothing.

use std::fmt;

use regex::bytes::Regex;

/// Most pattern searches one buffer may cost one rule.
pub const RECURSION_LIMIT: u32 = 3000;

/// What one step looks for.
#[derive(Clone, Debug)]
pub enum Needle {
    /// Bytes; with `nocase`, stored lowercased and compared ignoring ASCII case.
    Bytes {
        /// The bytes.
        bytes: Vec<u8>,
        /// ASCII case ignored.
        nocase: bool,
    },
    /// A regex (searched from the previous match's end when `relative`).
    Regex(Regex),
}

/// One pattern and where it may be.
#[derive(Clone, Debug)]
pub struct Step {
    /// The pattern.
    pub needle: Needle,
    /// It must not be found in its window.
    pub negated: bool,
    /// Placed from the end of the previous match (distance/within, pcre `R`).
    pub relative: bool,
    /// Where the window starts: `offset`, or `distance` when relative.
    pub start: i64,
    /// Window length from its start (`depth`, or `within` when relative); `None`: to the end.
    pub len: Option<i64>,
    /// The match must end at the end of the buffer.
    pub endswith: bool,
}

/// A compiled `has [...]` test.
#[derive(Clone)]
pub struct ContentSeq {
    steps: Vec<Step>,
    /// The canonical text, for `explain` and fingerprints.
    text: String,
}

impl fmt::Debug for ContentSeq {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "ContentSeq({})", self.text)
    }
}

impl fmt::Display for ContentSeq {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(&self.text)
    }
}

impl ContentSeq {
    /// A sequence of steps; `text` is how it is shown.
    pub fn new(steps: Vec<Step>, text: String) -> ContentSeq {
        ContentSeq { steps, text }
    }

    /// Number of steps.
    pub fn len(&self) -> usize {
        self.steps.len()
    }

    /// True when there is no step (always matches).
    pub fn is_empty(&self) -> bool {
        self.steps.is_empty()
    }

    /// True if every step holds in `buf`.
    pub fn matches(&self, buf: &[u8]) -> bool {
        let mut budget = RECURSION_LIMIT;
        self.run(buf, 0, 0, &mut budget)
    }

    fn run(&self, buf: &[u8], index: usize, prev_end: usize, budget: &mut u32) -> bool {
        let Some(step) = self.steps.get(index) else { return true };
        if *budget == 0 {
            return false;
        }
        let Some((lo, hi)) = step.window(buf.len(), prev_end) else {
            // The window lies outside the buffer: a negated pattern cannot be there.
            return step.negated && self.run(buf, index + 1, prev_end, budget);
        };
        if step.negated {
            *budget -= 1;
            return step.find(buf, lo, hi, prev_end).is_none() && self.run(buf, index + 1, prev_end, budget);
        }
        let retry = self.steps.get(index + 1).is_some_and(|next| next.relative);
        let mut from = lo;
        loop {
            if *budget == 0 {
                return false;
            }
            *budget -= 1;
            let Some((start, end)) = step.find(buf, from, hi, prev_end) else { return false };
            if self.run(buf, index + 1, end, budget) {
                return true;
            }
            if !retry {
                return false;
            }
            from = start + 1;
        }
    }
}

impl Step {
    /// The byte range `[lo, hi)` the match must lie in, or `None` when empty.
    fn window(&self, len: usize, prev_end: usize) -> Option<(usize, usize)> {
        let base = if self.relative { prev_end as i64 } else { 0 };
        let lo = (base + self.start).max(0);
        let hi = match self.len {
            Some(n) => (base + self.start + n).min(len as i64),
            None => len as i64,
        };
        (lo <= hi).then_some((lo as usize, hi as usize))
    }

    /// The first match `(start, end)` starting at or after `from` and ending by `hi`.
    fn find(&self, buf: &[u8], from: usize, hi: usize, prev_end: usize) -> Option<(usize, usize)> {
        let window = buf.get(..hi)?;
        match &self.needle {
            Needle::Bytes { bytes, nocase } => {
                let n = bytes.len();
                if self.endswith {
                    let start = hi.checked_sub(n).filter(|s| *s >= from && hi == buf.len())?;
                    let hay = window.get(start..)?;
                    return eq(hay, bytes, *nocase).then_some((start, hi));
                }
                let hay = window.get(from..)?;
                let at = if *nocase {
                    hay.windows(n.max(1)).position(|w| w.eq_ignore_ascii_case(bytes))
                } else {
                    memchr::memmem::find(hay, bytes)
                };
                at.map(|p| (from + p, from + p + n))
            }
            Needle::Regex(re) => {
                let base = if self.relative { prev_end.min(buf.len()) } else { 0 };
                let hay = buf.get(base..)?;
                let m = re.find_at(hay, from.saturating_sub(base))?;
                let (start, end) = (base + m.start(), base + m.end());
                if self.endswith && end != buf.len() {
                    return None;
                }
                Some((start, end))
            }
        }
    }
}

fn eq(a: &[u8], b: &[u8], nocase: bool) -> bool {
    if nocase {
        a.eq_ignore_ascii_case(b)
    } else {
        a == b
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn bytes(s: &str) -> Step {
        Step {
            needle: Needle::Bytes { bytes: s.as_bytes().to_vec(), nocase: false },
            negated: false,
            relative: false,
            start: 0,
            len: None,
            endswith: false,
        }
    }

    fn seq(steps: Vec<Step>) -> ContentSeq {
        ContentSeq::new(steps, String::new())
    }

    #[test]
    fn offset_and_depth_bound_the_match() {
        let s = seq(vec![Step { start: 2, len: Some(4), ..bytes("cd") }]);
        assert!(s.matches(b"abcdef"));
        assert!(!s.matches(b"cdabef"), "before the offset");
        let s = seq(vec![Step { start: 0, len: Some(3), ..bytes("cd") }]);
        assert!(!s.matches(b"abcdef"), "ends past the depth");
    }

    #[test]
    fn relative_steps_retry_earlier_occurrences() {
        // "a" then "b" exactly one byte after: the first "a" fails, the second succeeds.
        let s = seq(vec![bytes("a"), Step { relative: true, start: 1, len: Some(1), ..bytes("b") }]);
        assert!(s.matches(b"aa_axb"));
        assert!(!s.matches(b"ab"));
    }

    #[test]
    fn within_counts_from_the_distance() {
        let s = seq(vec![bytes("x"), Step { relative: true, start: 2, len: Some(3), ..bytes("yyy") }]);
        assert!(s.matches(b"x__yyy"));
        assert!(!s.matches(b"x___yyy"));
    }

    #[test]
    fn negated_and_endswith() {
        let s = seq(vec![bytes("ab"), Step { negated: true, relative: true, start: 0, len: Some(2), ..bytes("c") }]);
        assert!(s.matches(b"abxxc"));
        assert!(!s.matches(b"abxc"));
        let s = seq(vec![Step { endswith: true, ..bytes("end") }]);
        assert!(s.matches(b"the end"));
        assert!(!s.matches(b"the end."));
    }

    #[test]
    fn nocase_and_relative_regex() {
        let s = seq(vec![
            Step { needle: Needle::Bytes { bytes: b"google".to_vec(), nocase: true }, ..bytes("") },
            Step { needle: Needle::Regex(Regex::new(r"^\.[a-z]{2,3}$").unwrap()), relative: true, ..bytes("") },
        ]);
        assert!(s.matches(b"www.GOOGLE.com"));
        assert!(!s.matches(b"www.google.co.uk"));
    }

    #[test]
    fn backtracking_is_bounded() {
        let s = seq(vec![bytes("a"), Step { relative: true, ..bytes("a") }, Step { relative: true, ..bytes("b") }]);
        let hay = vec![b'a'; 10_000];
        let start = std::time::Instant::now();
        assert!(!s.matches(&hay));
        assert!(start.elapsed() < std::time::Duration::from_secs(1));
    }
}
