//! Payload generators: what real ping tools send, and bytes of a chosen entropy.
//!
//! Detection rules for covert channels key on payload length and Shannon
//! entropy, so tests need payloads whose entropy is known to two decimals
//! ([`with_entropy`], [`name_with_entropy`]) next to the benign payloads that
//! real operating systems put in pings, which the rules must not flag.

use super::rng::Rng;
use ferret::decode::entropy::shannon;

const NANOS_PER_SEC: i64 = 1_000_000_000;

/// `len` bytes whose Shannon entropy rounds to `target_bits` at 2 decimals.
///
/// A byte histogram reaching the target is searched (a greedy walk from a
/// near-uniform histogram, then, if that stalls, an exact pruned search over
/// partitions of `len`), assigned to randomly chosen byte values and shuffled,
/// all driven by `seed`. Any target up to `log2(min(len, 256)) - 0.01` that
/// some histogram reaches is hit (checked exhaustively for short lengths);
/// otherwise the closest entropy found is returned. Short lengths have gaps:
/// 56 bytes reach 5.81 (all distinct) and 5.77 but nothing in between.
pub fn with_entropy(len: usize, target_bits: f64, seed: u64) -> Vec<u8> {
    let mut rng = Rng::new(seed);
    let counts = histogram_for_entropy(len, target_bits, &mut rng);
    let mut symbols: Vec<u8> = (0..=255).collect();
    rng.shuffle(&mut symbols);
    let mut out = Vec::with_capacity(len);
    for (&symbol, &count) in symbols.iter().zip(&counts) {
        out.extend(std::iter::repeat_n(symbol, count));
    }
    rng.shuffle(&mut out);
    out
}

/// True when `value` and `target` are equal once rounded to 2 decimals.
pub fn rounds_to(value: f64, target: f64) -> bool {
    (value * 100.0).round() == (target * 100.0).round()
}

/// Linux (iputils) ping payload of `len` bytes sent at `ts_nanos`.
///
/// iputils fills the data with `i as u8` at offset `i`, then, when the data
/// holds at least 16 bytes, overwrites the start with the sender's native
/// `struct timeval` (8-byte seconds, 8-byte microseconds; little endian on
/// x86-64/arm64). The classic 56 bytes score about 5.3 bits/byte.
pub fn linux_ping(len: usize, ts_nanos: i64) -> Vec<u8> {
    let mut out = incrementing(len, 0);
    if len >= 16 {
        let secs = ts_nanos.div_euclid(NANOS_PER_SEC);
        let usecs = ts_nanos.rem_euclid(NANOS_PER_SEC) / 1000;
        let mut stamp = [0u8; 16];
        let (sec_part, usec_part) = stamp.split_at_mut(8);
        sec_part.copy_from_slice(&secs.to_le_bytes());
        usec_part.copy_from_slice(&usecs.to_le_bytes());
        overwrite_prefix(&mut out, &stamp);
    }
    out
}

/// macOS / BSD ping payload of `len` bytes sent at `ts_nanos`.
///
/// BSD `ping.c` stores a `struct tv32` (32-bit seconds, 32-bit microseconds,
/// both converted with `htonl`, i.e. big endian) in the first 8 bytes when
/// the data holds at least 8 bytes, and fills the rest with the offset
/// (`0x08, 0x09, ...`, wrapping), so byte `i` is `i as u8` after the stamp.
pub fn macos_ping(len: usize, ts_nanos: i64) -> Vec<u8> {
    let mut out = incrementing(len, 0);
    if len >= 8 {
        let secs = ts_nanos.div_euclid(NANOS_PER_SEC);
        let usecs = ts_nanos.rem_euclid(NANOS_PER_SEC) / 1000;
        let mut stamp = [0u8; 8];
        let (sec_part, usec_part) = stamp.split_at_mut(4);
        sec_part.copy_from_slice(&(secs as u32).to_be_bytes());
        usec_part.copy_from_slice(&(usecs as u32).to_be_bytes());
        overwrite_prefix(&mut out, &stamp);
    }
    out
}

/// Windows ping payload: `abcdefghijklmnopqrstuvw` repeated (32 bytes by default).
pub fn windows_ping(len: usize) -> Vec<u8> {
    const PATTERN: &[u8] = b"abcdefghijklmnopqrstuvw";
    PATTERN.iter().copied().cycle().take(len).collect()
}

/// `len` zero bytes (traceroute probes, padding).
pub fn zeros(len: usize) -> Vec<u8> {
    vec![0; len]
}

/// `len` bytes of English-like printable ASCII prose (about 4 bits/byte).
pub fn text(len: usize, seed: u64) -> Vec<u8> {
    const WORDS: &[&str] = &[
        "the", "of", "and", "to", "in", "a", "is", "that", "for", "it", "as", "was", "with", "be", "by", "on", "not",
        "he", "this", "are", "or", "his", "from", "at", "which", "but", "have", "an", "had", "they", "you", "were",
        "their", "one", "all", "we", "can", "her", "has", "there", "been", "if", "more", "when", "will", "would",
        "who", "so", "no", "network", "report", "server", "meeting", "please", "update", "office", "printer",
        "schedule", "review", "thanks", "project", "customer", "morning", "weekly", "team",
    ];
    let mut rng = Rng::new(seed);
    let mut out = Vec::with_capacity(len + 16);
    let mut sentence_start = true;
    while out.len() < len {
        let word = rng.pick(WORDS).copied().unwrap_or("the");
        push_word(&mut out, word, sentence_start);
        sentence_start = rng.chance(120);
        out.extend_from_slice(if sentence_start { b". " } else { b" " });
    }
    out.truncate(len);
    out
}

/// `len` uniformly random bytes (encrypted-looking data).
pub fn random(len: usize, seed: u64) -> Vec<u8> {
    let mut out = vec![0; len];
    Rng::new(seed).fill(&mut out);
    out
}

/// `start, start+1, ...` wrapping at 255: maximal entropy yet fully predictable.
pub fn incrementing(len: usize, start: u8) -> Vec<u8> {
    (0..len).map(|i| start.wrapping_add(i as u8)).collect()
}

/// A DNS name of exactly `len` characters, `<label>.<domain>`, whose character
/// entropy rounds to `target_bits` at 2 decimals, or `None` if the label would
/// not be 1..=63 characters or no label was found.
///
/// The label is lowercase letters and digits, like the base32 labels DNS
/// tunnels use; it is hill-climbed from a random start (seeded) by swapping in
/// fresh characters to raise the entropy or repeated ones to lower it.
pub fn name_with_entropy(len: usize, target_bits: f64, domain: &str, seed: u64) -> Option<String> {
    let label_len = len.checked_sub(domain.len() + 1)?;
    if !(1..=63).contains(&label_len) {
        return None;
    }
    let mut rng = Rng::new(seed);
    for _restart in 0..200 {
        if let Some(name) = climb_label(label_len, target_bits, domain, &mut rng) {
            return Some(name);
        }
    }
    None
}

fn climb_label(label_len: usize, target: f64, domain: &str, rng: &mut Rng) -> Option<String> {
    const ALPHABET: &[u8] = b"abcdefghijklmnopqrstuvwxyz0123456789";
    let mut name: Vec<u8> = (0..label_len).map(|_| rng.pick(ALPHABET).copied().unwrap_or(b'a')).collect();
    name.push(b'.');
    name.extend_from_slice(domain.as_bytes());
    let mut entropy = shannon(&name);
    for _step in 0..400 {
        if rounds_to(entropy, target) {
            return String::from_utf8(name).ok();
        }
        let position = rng.index(label_len);
        let replacement =
            if entropy > target { name.get(rng.index(label_len)).copied() } else { rng.pick(ALPHABET).copied() };
        let (Some(slot), Some(new)) = (name.get_mut(position), replacement) else {
            continue;
        };
        let old = std::mem::replace(slot, new);
        let candidate = shannon(&name);
        if (candidate - target).abs() <= (entropy - target).abs() {
            entropy = candidate;
        } else if let Some(slot) = name.get_mut(position) {
            *slot = old;
        }
    }
    None
}

fn push_word(out: &mut Vec<u8>, word: &str, capitalize: bool) {
    let mut bytes = word.bytes();
    if let Some(first) = bytes.next() {
        out.push(if capitalize { first.to_ascii_uppercase() } else { first });
    }
    out.extend(bytes);
}

fn overwrite_prefix(out: &mut [u8], prefix: &[u8]) {
    for (dst, &src) in out.iter_mut().zip(prefix) {
        *dst = src;
    }
}

/// Counts per symbol (at most `min(len, 256)` of them) whose entropy rounds to
/// `target`, or the closest the search found.
///
/// A greedy walk from a near-uniform histogram finds natural-looking counts for
/// most targets quickly; when it stalls, an exact depth-first search over
/// partitions of `len` (pruned by convexity bounds) settles the rest.
fn histogram_for_entropy(len: usize, target: f64, rng: &mut Rng) -> Vec<usize> {
    if len < 2 {
        return vec![len];
    }
    let (greedy, greedy_gap) = greedy_histogram(len, target, rng);
    let window = EntropyWindow::new(len, target);
    if window.contains_gap(greedy_gap) {
        return greedy;
    }
    match PartitionSearch::new(len, window).run() {
        Some(parts) => parts,
        None => greedy,
    }
}

/// Greedy search from the uniform histogram; returns the best counts and their entropy gap.
fn greedy_histogram(len: usize, target: f64, rng: &mut Rng) -> (Vec<usize>, f64) {
    let mut hist = Histogram::uniform(len, start_symbols(len, target));
    let mut best = hist.counts.clone();
    let mut best_gap = hist.entropy() - target;
    for _step in 0..GREEDY_STEPS {
        if best_gap.abs() < 0.001 {
            break;
        }
        if !hist.greedy_step(target) {
            let moves = 1 + rng.index(3);
            hist.random_moves(rng, moves);
        }
        let gap = hist.entropy() - target;
        if gap.abs() < best_gap.abs() {
            best_gap = gap;
            best.clone_from(&hist.counts);
        }
    }
    (best, best_gap)
}

const GREEDY_STEPS: usize = 3_000;
const SEARCH_NODES: usize = 2_000_000;

/// The range of `sum(c * log2 c)` whose entropy rounds to the target.
#[derive(Debug, Clone, Copy)]
struct EntropyWindow {
    target: f64,
    n: f64,
    lo: f64,
    hi: f64,
}

impl EntropyWindow {
    fn new(len: usize, target: f64) -> Self {
        const EPS: f64 = 1e-9;
        let n = len as f64;
        let rounded = (target * 100.0).round() / 100.0;
        let h_hi = rounded + 0.005 - EPS;
        let h_lo = rounded - 0.005 + EPS;
        Self { target, n, lo: n * (n.log2() - h_hi), hi: n * (n.log2() - h_lo) }
    }

    /// Whether an entropy `gap` from the target still rounds to it.
    fn contains_gap(&self, gap: f64) -> bool {
        let sum = self.n * (self.n.log2() - (self.target + gap));
        self.lo <= sum && sum <= self.hi
    }
}

/// Depth-first search for a partition of `len` into at most 256 parts
/// (non-increasing) whose `sum(c * log2 c)` lies in the window.
struct PartitionSearch {
    len: usize,
    window: EntropyWindow,
    c_log_c: Vec<f64>,
    parts: Vec<usize>,
    nodes_left: usize,
}

impl PartitionSearch {
    fn new(len: usize, window: EntropyWindow) -> Self {
        let c_log_c = (0..=len).map(c_log2_c).collect();
        Self { len, window, c_log_c, parts: Vec::new(), nodes_left: SEARCH_NODES }
    }

    fn run(mut self) -> Option<Vec<usize>> {
        let slots = self.len.min(256);
        if self.descend(self.len, self.len, slots, 0.0) {
            Some(self.parts)
        } else {
            None
        }
    }

    fn f(&self, count: usize) -> f64 {
        self.c_log_c.get(count).copied().unwrap_or(0.0)
    }

    /// Places `left` more items in at most `slots` parts of at most `max_part` each.
    fn descend(&mut self, left: usize, max_part: usize, slots: usize, sum: f64) -> bool {
        if left == 0 {
            return self.window.lo <= sum && sum <= self.window.hi;
        }
        if self.nodes_left == 0 {
            return false;
        }
        self.nodes_left -= 1;
        let Some((min_add, max_add)) = self.bounds(left, max_part, slots) else {
            return false;
        };
        if sum + max_add < self.window.lo || sum + min_add > self.window.hi {
            return false;
        }
        // Parts are non-increasing, so the first must be at least an even share.
        let smallest = left.div_ceil(slots).max(1);
        for part in (smallest..=max_part.min(left)).rev() {
            if self.nodes_left == 0 {
                break;
            }
            self.parts.push(part);
            if self.descend(left - part, part, slots - 1, sum + self.f(part)) {
                return true;
            }
            self.parts.pop();
        }
        false
    }

    /// Smallest and largest `sum(c * log2 c)` of `left` items in at most
    /// `slots` parts of at most `max_part`; `None` if they cannot fit.
    /// `c * log2 c` is convex, so the even spread is the minimum and the
    /// fullest packing the maximum.
    fn bounds(&self, left: usize, max_part: usize, slots: usize) -> Option<(f64, f64)> {
        if slots == 0 || max_part == 0 || left > slots.saturating_mul(max_part) {
            return None;
        }
        let (q, r) = (left / slots, left % slots);
        let min = r as f64 * self.f(q + 1) + (slots - r) as f64 * self.f(q);
        let (full, rest) = (left / max_part, left % max_part);
        let max = full as f64 * self.f(max_part) + self.f(rest);
        Some((min, max))
    }
}

fn c_log2_c(count: usize) -> f64 {
    if count < 2 {
        0.0
    } else {
        count as f64 * (count as f64).log2()
    }
}

/// Number of equally frequent symbols to start from: just enough to reach the target.
fn start_symbols(len: usize, target: f64) -> usize {
    let max_symbols = len.min(256);
    let wanted = target.clamp(0.0, 8.0).exp2().ceil() as usize;
    wanted.clamp(1, max_symbols)
}

/// A byte histogram with its running `sum(c * log2 c)`, so that the entropy
/// of any one-count move is known in O(1).
struct Histogram {
    counts: Vec<usize>,
    c_log_c: Vec<f64>,
    sum: f64,
    n: f64,
}

impl Histogram {
    /// `len` items spread as evenly as possible over `used` of `min(len, 256)` slots.
    fn uniform(len: usize, used: usize) -> Self {
        let slots = len.min(256);
        let used = used.clamp(1, slots);
        let counts: Vec<usize> =
            (0..slots).map(|i| if i < used { len / used + usize::from(i < len % used) } else { 0 }).collect();
        let c_log_c: Vec<f64> = (0..=len).map(c_log2_c).collect();
        let sum = counts.iter().map(|&c| c_log_c.get(c).copied().unwrap_or(0.0)).sum();
        Self { counts, c_log_c, sum, n: len as f64 }
    }

    fn entropy(&self) -> f64 {
        self.n.log2() - self.sum / self.n
    }

    fn f(&self, count: usize) -> f64 {
        self.c_log_c.get(count).copied().unwrap_or(0.0)
    }

    /// Change of `sum` when one item moves from a slot holding `from` to one holding `to`.
    fn move_delta(&self, from: usize, to: usize) -> f64 {
        self.f(from - 1) - self.f(from) + self.f(to + 1) - self.f(to)
    }

    /// Applies the single move whose entropy lands closest to `target`;
    /// false (and no change) if no move gets closer than now.
    fn greedy_step(&mut self, target: f64) -> bool {
        let classes = self.count_classes();
        let now = (self.entropy() - target).abs();
        let mut best: Option<(f64, usize, usize)> = None;
        for &(from_count, from_slot, from_many) in &classes {
            if from_count == 0 {
                continue;
            }
            for &(to_count, to_slot, _) in &classes {
                if to_count == from_count && !from_many {
                    continue;
                }
                let to_slot =
                    if to_count == from_count { self.other_slot_with(to_count, from_slot) } else { Some(to_slot) };
                let Some(to_slot) = to_slot else { continue };
                let sum = self.sum + self.move_delta(from_count, to_count);
                let gap = (self.n.log2() - sum / self.n - target).abs();
                if gap < now && best.is_none_or(|(g, _, _)| gap < g) {
                    best = Some((gap, from_slot, to_slot));
                }
            }
        }
        match best {
            Some((_, from, to)) => {
                self.apply(from, to);
                true
            }
            None => false,
        }
    }

    /// One `(count, a slot holding it, more than one slot holds it)` per distinct count.
    fn count_classes(&self) -> Vec<(usize, usize, bool)> {
        let mut classes: Vec<(usize, usize, bool)> = Vec::new();
        for (slot, &count) in self.counts.iter().enumerate() {
            match classes.iter_mut().find(|(c, _, _)| *c == count) {
                Some(class) => class.2 = true,
                None => classes.push((count, slot, false)),
            }
        }
        classes
    }

    fn other_slot_with(&self, count: usize, not: usize) -> Option<usize> {
        self.counts.iter().enumerate().position(|(slot, &c)| c == count && slot != not)
    }

    fn random_moves(&mut self, rng: &mut Rng, moves: usize) {
        for _ in 0..moves {
            let from = rng.index(self.counts.len());
            let to = rng.index(self.counts.len());
            if from != to && self.counts.get(from).is_some_and(|&c| c > 0) {
                self.apply(from, to);
            }
        }
    }

    fn apply(&mut self, from: usize, to: usize) {
        let (Some(&from_count), Some(&to_count)) = (self.counts.get(from), self.counts.get(to)) else {
            return;
        };
        if from_count == 0 || from == to {
            return;
        }
        self.sum += self.move_delta(from_count, to_count);
        if let Some(c) = self.counts.get_mut(from) {
            *c -= 1;
        }
        if let Some(c) = self.counts.get_mut(to) {
            *c += 1;
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn assert_hits(len: usize, target: f64, seed: u64) {
        let bytes = with_entropy(len, target, seed);
        assert_eq!(bytes.len(), len);
        let got = shannon(&bytes);
        assert!(rounds_to(got, target), "len {len} target {target} got {got}");
    }

    /// Entropies (in hundredths) of every partition of `n`, by brute force.
    fn reachable_hundredths(n: usize) -> std::collections::BTreeSet<i64> {
        fn walk(left: usize, max: usize, sum: f64, n: f64, out: &mut std::collections::BTreeSet<i64>) {
            if left == 0 {
                out.insert(((n.log2() - sum / n) * 100.0).round() as i64);
                return;
            }
            for part in (1..=max.min(left)).rev() {
                walk(left - part, part, sum + c_log2_c(part), n, out);
            }
        }
        let mut out = std::collections::BTreeSet::new();
        walk(n, n, 0.0, n as f64, &mut out);
        out
    }

    #[test]
    fn report_targets_are_hit_exactly() {
        for (len, target) in [(159, 6.78), (70, 5.85), (233, 7.13), (496, 7.65), (528, 7.58)] {
            assert_hits(len, target, 1);
        }
        for target in [6.48, 6.49, 6.58, 6.46, 6.43, 6.53] {
            assert_hits(128, target, 2);
        }
    }

    #[test]
    fn every_reachable_target_of_small_lengths_is_hit() {
        for len in [20, 27, 33] {
            let reachable = reachable_hundredths(len);
            let top = ((len as f64).log2() * 100.0).floor() as i64 - 1;
            for hundredths in (0..=top).filter(|h| reachable.contains(h)) {
                assert_hits(len, hundredths as f64 / 100.0, hundredths as u64);
            }
        }
    }

    #[test]
    fn mid_range_targets_of_larger_lengths_are_hit() {
        for len in [56, 64, 100, 200, 300, 700, 1500] {
            let top = (len.min(256) as f64).log2() - 0.3;
            let mut target = 1.0;
            while target < top {
                assert_hits(len, (target * 100.0_f64).round() / 100.0, len as u64);
                target += 0.53;
            }
        }
        // Long payloads reach right up to the ceiling.
        assert_hits(1500, 7.99, 3);
        assert_hits(1000, 7.9, 3);
    }

    #[test]
    fn unreachable_targets_get_the_closest_entropy() {
        // 300 bytes over at most 256 symbols peak at 7.9355 bits.
        let bytes = with_entropy(300, 7.98, 1);
        assert!((shannon(&bytes) - 7.9355).abs() < 0.001);
        // 159 bytes: 0.07 lies between (158,1) = 0.055 and (157,2) = 0.098.
        assert!((shannon(&with_entropy(159, 0.07, 1)) - 0.055).abs() < 0.001);
        assert_eq!(with_entropy(0, 3.0, 1), Vec::<u8>::new());
        assert_eq!(with_entropy(1, 3.0, 1).len(), 1);
        assert_eq!(shannon(&with_entropy(50, 0.0, 1)), 0.0);
    }

    #[test]
    fn long_payloads_finish_and_hit() {
        let start = std::time::Instant::now();
        assert_hits(9000, 7.31, 4);
        assert_hits(9000, 1.07, 4);
        assert!(start.elapsed() < std::time::Duration::from_secs(20));
    }

    #[test]
    fn with_entropy_is_deterministic_and_seeded() {
        assert_eq!(with_entropy(200, 6.0, 9), with_entropy(200, 6.0, 9));
        assert_ne!(with_entropy(200, 6.0, 9), with_entropy(200, 6.0, 10));
    }

    #[test]
    fn linux_ping_layout_and_entropy() {
        let ts = 1_743_886_500_123_456_789;
        let p = linux_ping(56, ts);
        assert_eq!(p.len(), 56);
        assert_eq!(p[..8], 1_743_886_500i64.to_le_bytes());
        assert_eq!(p[8..16], 123_456i64.to_le_bytes());
        assert_eq!(p[16..], (0x10..0x38).collect::<Vec<u8>>()[..]);
        let h = shannon(&p);
        assert!((5.0..5.5).contains(&h), "{h}");
        // Too short for a timeval: the pattern only.
        assert_eq!(linux_ping(8, ts), (0..8).collect::<Vec<u8>>());
        assert_eq!(linux_ping(300, ts)[299], 43); // 299 wraps to 0x2b
    }

    #[test]
    fn macos_ping_layout() {
        let p = macos_ping(56, 1_743_886_500_000_250_000);
        assert_eq!(p[..4], 1_743_886_500u32.to_be_bytes());
        assert_eq!(p[4..8], 250u32.to_be_bytes());
        assert_eq!(p[8..], (0x08..0x38).collect::<Vec<u8>>()[..]);
    }

    #[test]
    fn windows_ping_pattern() {
        let p = windows_ping(32);
        assert_eq!(p, b"abcdefghijklmnopqrstuvwabcdefghi");
        assert!(shannon(&p) < 4.5);
    }

    #[test]
    fn simple_generators() {
        assert_eq!(zeros(5), vec![0; 5]);
        assert_eq!(incrementing(3, 254), vec![254, 255, 0]);
        let inc = incrementing(1000, 0);
        assert!(shannon(&inc) > 7.95);
        let rnd = random(1000, 5);
        assert!(shannon(&rnd) > 7.7);
        assert_eq!(rnd, random(1000, 5));
        assert_ne!(rnd, random(1000, 6));
    }

    #[test]
    fn text_is_printable_prose() {
        let t = text(600, 4);
        assert_eq!(t.len(), 600);
        assert!(t.iter().all(|b| b.is_ascii_graphic() || *b == b' '));
        let h = shannon(&t);
        assert!((3.6..4.5).contains(&h), "{h}");
        assert_eq!(t, text(600, 4));
        assert!(t.windows(2).any(|w| w == b". "));
    }

    #[test]
    fn names_hit_length_and_entropy() {
        for (len, target) in [(26, 3.84), (28, 3.53), (25, 4.00), (32, 3.80)] {
            let name = name_with_entropy(len, target, "t-exfil.net", 11).unwrap();
            assert_eq!(name.len(), len);
            assert!(rounds_to(shannon(name.as_bytes()), target), "{name}");
            assert!(name.ends_with(".t-exfil.net"));
            let label = name.split('.').next().unwrap();
            assert!(label.bytes().all(|b| b.is_ascii_lowercase() || b.is_ascii_digit()));
        }
        assert!(name_with_entropy(12, 3.0, "t-exfil.net", 1).is_none());
        assert!(name_with_entropy(100, 3.0, "x.io", 1).is_none());
    }
}
