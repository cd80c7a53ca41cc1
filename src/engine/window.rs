//! Counting over sliding windows of packet time, for one state key.
//!
//! [`WindowCount`] counts matches in the window `(now - T, now]`. It keeps at
//! most [`MAX_BUCKETS`] buckets. While the matches inside the window fall on
//! fewer than that many distinct timestamps, every bucket is one timestamp and
//! the count is exact. When a key gets busier, it switches to buckets of
//! `T / MAX_BUCKETS` and a match may leave the window up to that much early.
//!
//! [`DistinctCount`] counts distinct values in the window: exactly (a small
//! list of value hashes, sliding) up to [`DISTINCT_EXACT`] values, then with a
//! HyperLogLog of [`HLL_PRECISION`] bits (standard error 1.04/√1024 ≈ 3.3%)
//! over a tumbling window that restarts every `T`.
//!
//! Time never runs backwards for a key: a packet older than the key's newest
//! counts as happening at the newest time.

use std::collections::VecDeque;

use hyperloglockless::HyperLogLog;

/// Buckets one key keeps at most.
pub const MAX_BUCKETS: usize = 32;
/// Distinct values counted exactly per key before switching to HyperLogLog.
pub const DISTINCT_EXACT: usize = 128;
/// HyperLogLog precision (2^10 one-byte registers).
pub const HLL_PRECISION: u8 = 10;

#[derive(Clone, Copy, Debug, PartialEq, Eq)]
struct Bucket {
    /// Time of the first match in the bucket.
    ts: i64,
    /// Packet number of that match.
    first_packet: u64,
    /// Matches in the bucket.
    count: u64,
}

/// What a window holds after recording a match.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct WindowView {
    /// Matches (or distinct values) in the window, this one included.
    pub count: u64,
    /// Packet number of the oldest match still in the window.
    pub first_packet: u64,
}

/// The buckets of one key, oldest first. The first is held inline: a key
/// that has seen one timestamp (or one bucket's worth) in its window, as
/// most keys of a big table have, keeps its window in the table's slot, so
/// counting it costs no second cache miss and creating it no allocation. A
/// second bucket moves them to a ring on the heap, which the key keeps (and
/// hands on when its state is recycled for another key).
#[derive(Clone, Debug)]
enum Buckets {
    Inline(Option<Bucket>),
    Heap(VecDeque<Bucket>),
}

/// Buckets a ring starts with when a key's window first needs two.
const RING_START: usize = 4;

impl Buckets {
    fn iter(&self) -> impl Iterator<Item = &Bucket> {
        let (a, b) = match self {
            Buckets::Inline(b) => (b.as_slice(), &[][..]),
            Buckets::Heap(v) => v.as_slices(),
        };
        a.iter().chain(b)
    }

    fn len(&self) -> usize {
        match self {
            Buckets::Inline(b) => usize::from(b.is_some()),
            Buckets::Heap(v) => v.len(),
        }
    }

    fn front(&self) -> Option<&Bucket> {
        match self {
            Buckets::Inline(b) => b.as_ref(),
            Buckets::Heap(v) => v.front(),
        }
    }

    fn back(&self) -> Option<&Bucket> {
        match self {
            Buckets::Inline(b) => b.as_ref(),
            Buckets::Heap(v) => v.back(),
        }
    }

    fn back_mut(&mut self) -> Option<&mut Bucket> {
        match self {
            Buckets::Inline(b) => b.as_mut(),
            Buckets::Heap(v) => v.back_mut(),
        }
    }

    fn pop_front(&mut self) -> Option<Bucket> {
        match self {
            Buckets::Inline(b) => b.take(),
            Buckets::Heap(v) => v.pop_front(),
        }
    }

    fn push_back(&mut self, bucket: Bucket) {
        match self {
            Buckets::Inline(b @ None) => *b = Some(bucket),
            Buckets::Inline(Some(first)) => {
                let mut ring = VecDeque::with_capacity(RING_START);
                ring.extend([*first, bucket]);
                *self = Buckets::Heap(ring);
            }
            Buckets::Heap(v) => v.push_back(bucket),
        }
    }

    fn clear(&mut self) {
        match self {
            Buckets::Inline(b) => *b = None,
            Buckets::Heap(v) => v.clear(),
        }
    }

    fn heap_bytes(&self) -> usize {
        match self {
            Buckets::Inline(_) => 0,
            Buckets::Heap(v) => v.capacity() * std::mem::size_of::<Bucket>(),
        }
    }
}

/// Sliding-window match counter for one key.
#[derive(Clone, Debug)]
pub struct WindowCount {
    buckets: Buckets,
    /// 0 while exact; otherwise the bucket width in ns.
    quantum: u64,
    newest: i64,
    /// Sum of the buckets' counts (kept so a view does not add them up).
    total: u64,
}

impl WindowCount {
    /// Bytes its buckets hold on the heap.
    pub fn heap_bytes(&self) -> usize {
        self.buckets.heap_bytes()
    }

    /// An empty counter.
    pub fn new() -> WindowCount {
        WindowCount { buckets: Buckets::Inline(None), quantum: 0, newest: i64::MIN, total: 0 }
    }

    /// Empties the counter for another key, as [`WindowCount::new`] would,
    /// keeping its bucket ring if that holds at most `keep_bytes`.
    pub fn reset(&mut self, keep_bytes: usize) {
        if self.heap_bytes() > keep_bytes {
            *self = WindowCount::new();
            return;
        }
        self.buckets.clear();
        self.quantum = 0;
        self.newest = i64::MIN;
        self.total = 0;
    }

    /// Drops what left the window ending at `now` and returns the clamped time.
    fn advance(&mut self, ts: i64, window: u64) -> i64 {
        let now = ts.max(self.newest);
        self.newest = now;
        while let Some(b) = self.buckets.front() {
            if now.saturating_sub(b.ts) as u64 >= window {
                self.total -= b.count;
                self.buckets.pop_front();
            } else {
                break;
            }
        }
        now
    }

    /// Matches in the window ending at `ts`, without recording anything.
    pub fn peek(&mut self, ts: i64, window: u64) -> WindowView {
        self.advance(ts, window);
        self.view(0)
    }

    fn view(&self, fallback_packet: u64) -> WindowView {
        WindowView { count: self.total, first_packet: self.buckets.front().map_or(fallback_packet, |b| b.first_packet) }
    }

    /// Records a match at `ts` (packet `packet`) and returns the window's content.
    pub fn record(&mut self, ts: i64, packet: u64, window: u64) -> WindowView {
        let now = self.advance(ts, window);
        let same_bucket = self.buckets.back().is_some_and(|b| {
            if self.quantum == 0 {
                b.ts == now
            } else {
                b.ts.div_euclid(self.quantum as i64) == now.div_euclid(self.quantum as i64)
            }
        });
        self.total += 1;
        if same_bucket {
            if let Some(b) = self.buckets.back_mut() {
                b.count += 1;
            }
        } else {
            if self.buckets.len() >= MAX_BUCKETS {
                self.coarsen(window);
            }
            if self.buckets.len() >= MAX_BUCKETS {
                // Still full after coarsening (cannot happen with MAX_BUCKETS + 1
                // quanta per window, but never grow past the bound).
                if let Some(b) = self.buckets.pop_front() {
                    self.total -= b.count;
                }
            }
            let merged = self.quantum != 0
                && self
                    .buckets
                    .back()
                    .is_some_and(|b| b.ts.div_euclid(self.quantum as i64) == now.div_euclid(self.quantum as i64));
            match self.buckets.back_mut() {
                Some(b) if merged => b.count += 1,
                _ => self.buckets.push_back(Bucket { ts: now, first_packet: packet, count: 1 }),
            }
        }
        self.view(packet)
    }

    /// Switches to buckets of `window / MAX_BUCKETS`, merging existing ones.
    fn coarsen(&mut self, window: u64) {
        let q = (window / MAX_BUCKETS as u64).max(1);
        if self.quantum == q {
            return;
        }
        self.quantum = q;
        let q = q as i64;
        let mut merged: VecDeque<Bucket> = VecDeque::with_capacity(MAX_BUCKETS);
        for &b in self.buckets.iter() {
            match merged.back_mut() {
                Some(last) if last.ts.div_euclid(q) == b.ts.div_euclid(q) => last.count += b.count,
                _ => merged.push_back(b),
            }
        }
        self.buckets = Buckets::Heap(merged);
    }

    /// True while counting is exact.
    pub fn is_exact(&self) -> bool {
        self.quantum == 0
    }
}

impl Default for WindowCount {
    fn default() -> Self {
        WindowCount::new()
    }
}

/// Distinct-value counter for one key.
#[derive(Clone, Debug)]
pub enum DistinctCount {
    /// Exact: `(value hash, last seen, first packet)` of each value in the window.
    Exact {
        /// The values.
        values: Vec<(u64, i64, u64)>,
        /// Newest time seen.
        newest: i64,
    },
    /// Estimated over a tumbling window starting at `started`.
    Estimated {
        /// The sketch.
        hll: Box<HyperLogLog>,
        /// Window start.
        started: i64,
        /// First packet of the window.
        first_packet: u64,
        /// Newest time seen.
        newest: i64,
    },
}

impl Default for DistinctCount {
    fn default() -> Self {
        DistinctCount::Exact { values: Vec::new(), newest: i64::MIN }
    }
}

impl DistinctCount {
    /// Bytes it holds on the heap: its value list, or its sketch (registers and the box).
    pub fn heap_bytes(&self) -> usize {
        match self {
            DistinctCount::Exact { values, .. } => values.capacity() * std::mem::size_of::<(u64, i64, u64)>(),
            DistinctCount::Estimated { .. } => std::mem::size_of::<HyperLogLog>() + (1usize << HLL_PRECISION),
        }
    }

    /// Empties the counter for another key, as `DistinctCount::default()`
    /// would, keeping its value list if that holds at most `keep_bytes` (a
    /// sketch is freed).
    pub fn reset(&mut self, keep_bytes: usize) {
        let keep = self.heap_bytes() <= keep_bytes;
        match self {
            DistinctCount::Exact { values, newest } if keep => {
                values.clear();
                *newest = i64::MIN;
            }
            _ => *self = DistinctCount::default(),
        }
    }

    /// Records `value_hash` at `ts` and returns the number of distinct values in the window.
    pub fn record(&mut self, value_hash: u64, ts: i64, packet: u64, window: u64) -> WindowView {
        match self {
            DistinctCount::Exact { values, newest } => {
                let now = ts.max(*newest);
                *newest = now;
                // One pass: drop what left the window, refresh the value if
                // present, and find the oldest packet still in the window.
                let mut found = false;
                let mut first_packet = u64::MAX;
                values.retain_mut(|(h, seen, first)| {
                    if (now.saturating_sub(*seen) as u64) >= window {
                        return false;
                    }
                    if *h == value_hash && !found {
                        *seen = now;
                        found = true;
                    }
                    first_packet = first_packet.min(*first);
                    true
                });
                if !found {
                    values.push((value_hash, now, packet));
                    first_packet = first_packet.min(packet);
                }
                if values.len() > DISTINCT_EXACT {
                    let mut hll = Box::new(HyperLogLog::seeded(HLL_PRECISION, 0x6665_7272_6574));
                    values.iter().for_each(|(h, _, _)| hll.insert_hash(*h));
                    let count = hll.count() as u64;
                    *self = DistinctCount::Estimated { hll, started: now, first_packet, newest: now };
                    return WindowView { count, first_packet };
                }
                WindowView { count: values.len() as u64, first_packet }
            }
            DistinctCount::Estimated { hll, started, first_packet, newest } => {
                let now = ts.max(*newest);
                *newest = now;
                if now.saturating_sub(*started) as u64 >= window {
                    *self = DistinctCount::default();
                    return self.record(value_hash, ts, packet, window);
                }
                hll.insert_hash(value_hash);
                WindowView { count: hll.count() as u64, first_packet: *first_packet }
            }
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    const S: i64 = 1_000_000_000;

    #[test]
    fn exact_window_edges() {
        let mut w = WindowCount::new();
        let t = 10 * S as u64;
        assert_eq!(w.record(0, 1, t).count, 1);
        assert_eq!(w.record(5 * S, 2, t).count, 2);
        // Just inside: 10 s minus 1 ns after the first match.
        assert_eq!(w.record(10 * S - 1, 3, t), WindowView { count: 3, first_packet: 1 });
        // Exactly T after the first match: it has left the window (t - T, t].
        assert_eq!(w.record(10 * S, 4, t), WindowView { count: 3, first_packet: 2 });
    }

    #[test]
    fn out_of_order_counts_at_the_newest_time() {
        let mut w = WindowCount::new();
        let t = 10 * S as u64;
        w.record(20 * S, 1, t);
        let v = w.record(5 * S, 2, t);
        assert_eq!(v.count, 2);
        assert_eq!(w.record(30 * S - 1, 3, t).count, 3);
        assert_eq!(w.record(30 * S, 4, t).count, 2);
    }

    #[test]
    fn a_window_of_one_bucket_stays_inline_and_a_second_moves_it_to_the_heap() {
        let mut w = WindowCount::new();
        w.record(10, 1, 100);
        w.record(10, 2, 100);
        assert_eq!(w.heap_bytes(), 0, "one timestamp: one inline bucket");
        assert_eq!(w.record(20, 3, 100), WindowView { count: 3, first_packet: 1 });
        assert!(w.heap_bytes() > 0);
        assert_eq!(w.record(115, 4, 100), WindowView { count: 2, first_packet: 3 });
        w.reset(256);
        assert_eq!(w.record(500, 5, 100), WindowView { count: 1, first_packet: 5 });
        assert!(w.heap_bytes() > 0, "a recycled key keeps its small ring");
    }

    #[test]
    fn busy_keys_switch_to_buckets_and_stay_bounded() {
        let mut w = WindowCount::new();
        let t = S as u64;
        for i in 0..10_000i64 {
            w.record(i * 10_000, i as u64 + 1, t);
        }
        assert!(!w.is_exact());
        assert!(w.buckets.len() <= MAX_BUCKETS);
        // 10,000 matches in 0.1 s, all inside a 1 s window.
        assert_eq!(w.peek(100_000_000, t).count, 10_000);
    }

    #[test]
    fn reset_starts_over() {
        let t = 10 * S as u64;
        let mut w = WindowCount::new();
        w.record(5 * S, 1, t);
        assert_eq!(w.record(6 * S, 2, t), WindowView { count: 2, first_packet: 1 });
        w.reset(usize::MAX);
        assert!(w.heap_bytes() > 0, "the ring is kept");
        assert_eq!(w.record(0, 9, t), WindowView { count: 1, first_packet: 9 }, "as new: no time clamped");
        w.reset(0);
        assert_eq!(w.heap_bytes(), 0, "a ring above the bound is freed");
        assert_eq!(w.peek(0, t).count, 0);
    }

    #[test]
    fn distinct_reset_starts_over() {
        let t = 60 * S as u64;
        let mut d = DistinctCount::default();
        for i in 0..5u64 {
            d.record(i, 10 * S, i + 1, t);
        }
        d.reset(usize::MAX);
        assert!(d.heap_bytes() > 0, "the list is kept");
        assert_eq!(d.record(7, 0, 20, t), WindowView { count: 1, first_packet: 20 });
        d.reset(0);
        assert_eq!(d.heap_bytes(), 0);
        for i in 0..200u64 {
            d.record(hash(i), 0, i, t);
        }
        assert!(matches!(d, DistinctCount::Estimated { .. }));
        d.reset(usize::MAX);
        assert!(matches!(d, DistinctCount::Exact { .. }), "a sketch is freed");
        assert_eq!(d.record(1, 0, 1, t).count, 1);
    }

    #[test]
    fn distinct_exact_then_estimated() {
        let mut d = DistinctCount::default();
        let t = 60 * S as u64;
        for i in 0..50u64 {
            d.record(i, 0, i + 1, t);
            d.record(i, 1, i + 1, t);
        }
        assert_eq!(d.record(49, 2, 100, t).count, 50);
        for i in 0..1000u64 {
            d.record(hash(i), 3, 200 + i, t);
        }
        let est = d.record(hash(5000), 4, 2000, t).count as f64;
        assert!(matches!(d, DistinctCount::Estimated { .. }));
        assert!((est - 1051.0).abs() / 1051.0 < 0.15, "estimate {est}");
        // A new window starts over exactly.
        assert_eq!(d.record(7, 100 * S, 3000, t).count, 1);
    }

    /// The counter against a plain list of every match, over random traffic
    /// (exact while the window has few distinct timestamps; bounded after).
    #[test]
    fn counts_match_a_list_of_every_match() {
        let mut seed = 0x2545_f491_4f6c_dd1d_u64;
        let mut next = move || {
            seed ^= seed << 13;
            seed ^= seed >> 7;
            seed ^= seed << 17;
            seed
        };
        for round in 0..200 {
            let t = 1 + next() % 1000;
            let mut w = WindowCount::new();
            let mut all: Vec<(i64, u64)> = Vec::new();
            let mut ts = 0i64;
            // Some rounds put more than MAX_BUCKETS timestamps in a window.
            let step = t / (1 + next() % 80) + 2;
            for packet in 1..300u64 {
                ts += (next() % step) as i64;
                let peek = next() % 5 == 0;
                let v = if peek { w.peek(ts, t) } else { w.record(ts, packet, t) };
                all.retain(|&(at, _)| ts - at < t as i64);
                if !peek {
                    all.push((ts, packet));
                }
                let sum: u64 = w.buckets.iter().map(|b| b.count).sum();
                assert_eq!(sum, w.total, "round {round}");
                assert!(w.buckets.len() <= MAX_BUCKETS);
                if w.is_exact() {
                    assert_eq!(v.count as usize, all.len(), "round {round} packet {packet}");
                    assert_eq!(v.first_packet, all.first().map_or(0, |a| a.1), "round {round}");
                } else {
                    assert!(v.count as usize <= all.len(), "round {round}");
                }
            }
        }
    }

    fn hash(i: u64) -> u64 {
        use std::hash::{Hash, Hasher};
        let mut h = std::hash::DefaultHasher::new();
        i.hash(&mut h);
        h.finish()
    }
}
