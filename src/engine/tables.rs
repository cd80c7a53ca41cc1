//! State tables for stateful clauses: `threshold`, `rate`, `distinct`, `limit`.
//!
//! Each clause of each rule owns one table keyed by the clause's `by` key
//! (hashed to a `u64`: addresses, ports and field values, DNS names without
//! case). Tables are bounded: at most [`TableLimits::max_entries`] keys and
//! [`TableLimits::memcap_bytes`] bytes (a Suricata-style memcap: the keys, their
//! slots and what their windows hold on the heap), the least recently seen
//! evicted first when either is reached (counted apart), and keys idle longer
//! than `max(idle, window)` of packet time dropped (counted as expirations).
//! Time comes only from packet timestamps. On a full table a new key takes
//! over the state of the key evicted for it, cleared in place
//! ([`Footprint::recycle`]), so a flood of new keys reuses memory instead of
//! freeing and allocating per key.
//!
//! A matching rule fires when every trigger clause agrees (`threshold`: at
//! least N matches in the window; `rate`: more than N per T; `distinct`: more
//! than N distinct values), and `limit` then allows at most N alerts per key
//! per window.

use std::collections::VecDeque;
use std::hash::{Hash, Hasher};
use std::net::IpAddr;

use crate::decode::features::{Features, FieldValue};
use crate::engine::alert::{KeyText, StateReport};
use crate::engine::field::{self, FieldType};
use crate::engine::keymap::KeyMap;
use crate::engine::predicate::Field;
use crate::engine::ruleset::{CompiledRule, RuleSet};
use crate::engine::state::{KeyItem, Window};
use crate::engine::template::write_value;
use crate::engine::window::{DistinctCount, WindowCount, WindowView};
use crate::rules::ast::FixedKind;

/// Size and expiry limits of every state table.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct TableLimits {
    /// Most keys one table holds; the least recently seen is evicted beyond this.
    pub max_entries: usize,
    /// A key idle this long (ns of packet time, at least the clause's window) is dropped.
    pub idle_nanos: u64,
    /// Most bytes one table holds (keys, slots and their windows' heap); the
    /// least recently seen keys are evicted beyond this.
    pub memcap_bytes: usize,
}

/// Default [`TableLimits::memcap_bytes`]: 64 MiB per table, room for the
/// default 100,000 keys of a counting clause (about 300 bytes each) and for
/// about 12,000 distinct-count keys at their exact limit (about 5 KiB each).
pub const DEFAULT_MEMCAP_BYTES: usize = 64 << 20;

impl Default for TableLimits {
    fn default() -> Self {
        TableLimits { max_entries: 100_000, idle_nanos: 300_000_000_000, memcap_bytes: DEFAULT_MEMCAP_BYTES }
    }
}

/// Heap bytes a key's state holds beyond its slot, and how that state
/// starts over for another key.
pub trait Footprint: Default {
    /// Bytes on the heap.
    fn heap_bytes(&self) -> usize;

    /// Makes this the state of a new key. A full table calls it on the state
    /// of the key it evicts and hands that state to the new key, so a new key
    /// on a full table need not allocate. Types with heap buffers clear them
    /// in place, keeping at most [`RECYCLE_MAX_BYTES`]; the default starts
    /// over from `Self::default()`.
    fn recycle(&mut self) {
        *self = Self::default();
    }
}

/// Most heap bytes an evicted key's state hands on to the new key that takes
/// its place. Larger buffers (a busy key's window, a long distinct list) are
/// freed, so a flood of new keys does not keep a busy key's memory.
pub const RECYCLE_MAX_BYTES: usize = 256;

impl Footprint for u64 {
    fn heap_bytes(&self) -> usize {
        0
    }
}

impl Footprint for u32 {
    fn heap_bytes(&self) -> usize {
        0
    }
}

impl Footprint for WindowCount {
    fn heap_bytes(&self) -> usize {
        WindowCount::heap_bytes(self)
    }
    fn recycle(&mut self) {
        self.reset(RECYCLE_MAX_BYTES);
    }
}

impl Footprint for DistinctCount {
    fn heap_bytes(&self) -> usize {
        DistinctCount::heap_bytes(self)
    }
    fn recycle(&mut self) {
        self.reset(RECYCLE_MAX_BYTES);
    }
}

/// What the state says about a rule match.
#[derive(Clone, Debug, PartialEq)]
pub enum Decision {
    /// Raise the alert, with what the state saw (for stateful rules).
    Fire(Option<StateReport>),
    /// Hold it back (below threshold, rate or distinct count).
    Hold,
    /// It would fire, but the rule's `limit` has raised its alerts for the key
    /// and window already.
    Limited,
    /// It would fire, but a `suppress` entry drops the alert. The trigger
    /// clauses have counted the match; the `limit` has not (no alert was raised).
    Suppress,
}

/// Counters of one state table, for the summary.
#[derive(Clone, Debug, Default, PartialEq, Eq, serde::Serialize)]
pub struct TableStats {
    /// The rule's signature id.
    pub sid: u64,
    /// The clause the table serves.
    pub clause: &'static str,
    /// Keys held now.
    pub entries: usize,
    /// Most keys held at once.
    pub peak: usize,
    /// Keys created.
    pub inserted: u64,
    /// Keys evicted because the table was full.
    pub evicted: u64,
    /// Keys dropped after being idle.
    pub expired: u64,
    /// Keys evicted because the table reached its byte budget.
    pub memcap_evicted: u64,
    /// Bytes held now (keys, slots, windows).
    pub bytes: usize,
    /// Most bytes held at once.
    pub peak_bytes: usize,
    /// Times a known key's state grew a heap buffer (a window's second
    /// bucket moving it to a ring, a ring or distinct list doubling): what a
    /// packet that creates no key may allocate, at most a few times per key.
    #[serde(skip)]
    pub grown: u64,
}

/// The hasher for distinct values and echo payloads: foldhash's quality
/// variant with a fixed seed. These hashes are compared and counted (the
/// HyperLogLog estimate beyond the exact range depends on them, and stays
/// the same from run to run), never used to place entries in a map.
pub(crate) fn state_hasher() -> impl Hasher {
    keyed_hasher(0x6665_7272_6574)
}

/// The hasher for the keys of one table, seeded by [`random_seed`].
pub(crate) fn keyed_hasher(seed: u64) -> impl Hasher {
    use std::hash::BuildHasher;
    foldhash::quality::FixedState::with_seed(seed).build_hasher()
}

/// A seed no one outside the process can know (std's per-instance random
/// SipHash keys). Key hashes are the tables' map keys: with a public seed,
/// spoofed sources chosen to collide would build long probe chains. Output
/// does not depend on it: eviction and expiry follow time, not hash order.
fn random_seed() -> u64 {
    use std::hash::BuildHasher;
    std::collections::hash_map::RandomState::new().hash_one(0x6665_7272_6574_u64)
}

pub(crate) struct Slot<V> {
    value: V,
    last_seen: i64,
}

/// A bounded map from key hash to per-key state.
pub(crate) struct Table<V> {
    /// Seed of this table's key hashes ([`keyed_hasher`]).
    pub(crate) seed: u64,
    map: KeyMap<Slot<V>>,
    /// Keys in the order they were last queued; an entry whose slot was seen
    /// later is re-queued instead of dropped (second chance).
    order: VecDeque<(u64, i64)>,
    max_entries: usize,
    memcap: usize,
    idle: u64,
    clock: i64,
    pub(crate) stats: TableStats,
}

impl<V: Footprint> Table<V> {
    /// What one key costs besides its state's heap: its entry (key and
    /// value; counted twice, for the entries grow by doubling), its index
    /// words and its place in the eviction queue.
    const SLOT_BYTES: usize = 2 * std::mem::size_of::<(u64, Slot<V>)>()
        + KeyMap::<Slot<V>>::WORDS_PER_KEY * std::mem::size_of::<u64>()
        + std::mem::size_of::<(u64, i64)>();

    pub(crate) fn new(sid: u64, clause: &'static str, limits: TableLimits, window: Window) -> Self {
        Table {
            seed: random_seed(),
            map: KeyMap::default(),
            order: VecDeque::new(),
            max_entries: limits.max_entries.max(1),
            memcap: limits.memcap_bytes,
            idle: limits.idle_nanos.max(window.nanos),
            clock: i64::MIN,
            stats: TableStats { sid, clause, ..TableStats::default() },
        }
    }

    /// The state of `key` at time `ts`, looked up without creating it.
    pub(crate) fn get(&mut self, key: u64, ts: i64) -> Option<&V> {
        self.clock = self.clock.max(ts);
        self.expire();
        self.map.get(&key).map(|s| &s.value)
    }

    /// Applies `update` to the state of `key` at time `ts` (created if new),
    /// then keeps the table within its byte budget.
    pub(crate) fn update<R>(&mut self, key: u64, ts: i64, update: impl FnOnce(&mut V) -> R) -> R {
        self.clock = self.clock.max(ts);
        self.expire();
        // A key already held: one lookup, and nothing to evict unless its
        // window grew past the byte budget.
        if let Some(slot) = self.map.get_mut(&key) {
            slot.last_seen = self.clock;
            let before = Self::SLOT_BYTES + slot.value.heap_bytes();
            let result = update(&mut slot.value);
            let after = Self::SLOT_BYTES + slot.value.heap_bytes();
            if after != before {
                self.stats.grown += u64::from(after > before);
                self.stats.bytes = (self.stats.bytes + after).saturating_sub(before);
                self.keep_within_memcap();
            }
            return result;
        }
        // A new key. On a full table it takes over the state of the least
        // recently seen key, recycled (cleared, small buffers kept).
        let full = self.map.len() >= self.max_entries;
        let evicted = if full { self.evict_one() } else { None };
        let mut value = evicted.map_or_else(V::default, |mut v| {
            v.recycle();
            v
        });
        let result = update(&mut value);
        self.stats.bytes += Self::SLOT_BYTES + value.heap_bytes();
        // `key` was not found above: one lookup, not two.
        self.map.insert_absent(key, Slot { value, last_seen: self.clock });
        self.order.push_back((key, self.clock));
        self.stats.inserted += 1;
        let held = self.map.len();
        self.stats.entries = held;
        self.stats.peak = self.stats.peak.max(held);
        self.keep_within_memcap();
        result
    }

    /// Looks `key` up ahead of an [`Table::update`] soon after, so that the
    /// misses of several tables' lookups overlap, and asks for the rest of
    /// its slot.
    pub(crate) fn prefetch(&self, key: u64) {
        self.map.prefetch(key);
    }

    /// Over budget: evicts the least recently seen keys, the one just
    /// updated last; then notes the table's size.
    fn keep_within_memcap(&mut self) {
        while self.stats.bytes > self.memcap && self.map.len() > 1 {
            if self.evict_one().is_none() {
                break;
            }
            self.stats.evicted -= 1;
            self.stats.memcap_evicted += 1;
        }
        self.stats.entries = self.map.len();
        self.stats.peak_bytes = self.stats.peak_bytes.max(self.stats.bytes);
    }

    /// Removes `key`, giving back its bytes; returns its state.
    fn remove(&mut self, key: u64) -> Option<V> {
        let slot = self.map.remove(&key)?;
        self.stats.bytes = self.stats.bytes.saturating_sub(Self::SLOT_BYTES + slot.value.heap_bytes());
        Some(slot.value)
    }

    fn expire(&mut self) {
        while let Some(&(key, queued)) = self.order.front() {
            if (self.clock.saturating_sub(queued) as u64) < self.idle {
                break;
            }
            self.order.pop_front();
            match self.map.get(&key) {
                Some(slot) if slot.last_seen > queued => self.order.push_back((key, slot.last_seen)),
                Some(_) => {
                    self.remove(key);
                    self.stats.expired += 1;
                    self.stats.entries = self.map.len();
                }
                None => {}
            }
        }
    }

    /// Evicts the least recently seen key (counted as evicted) and returns
    /// its state; None if there is none.
    fn evict_one(&mut self) -> Option<V> {
        while let Some((key, queued)) = self.order.pop_front() {
            match self.map.get(&key) {
                Some(slot) if slot.last_seen > queued => self.order.push_back((key, slot.last_seen)),
                Some(_) => {
                    self.stats.evicted += 1;
                    return self.remove(key);
                }
                None => {}
            }
        }
        None
    }
}

/// One trigger clause with its table.
enum Trigger {
    Threshold { count: u64, window: Window, key: Vec<KeyItem>, table: Table<WindowCount> },
    Rate { count: f64, window: Window, key: Vec<KeyItem>, table: Table<WindowCount> },
    Distinct { field: Field, count: u64, window: Window, key: Vec<KeyItem>, table: Table<DistinctCount> },
    Fixed { kind: FixedKind, count: u64, window: Window, key: Vec<KeyItem>, table: Table<FixedCount> },
}

/// A key's fixed window (Suricata's threshold entry): when it opened and the matches in it.
#[derive(Clone, Copy, Debug, Default)]
pub(crate) struct FixedCount {
    open: bool,
    start: i64,
    count: u64,
    first_packet: u64,
}

impl Footprint for FixedCount {
    fn heap_bytes(&self) -> usize {
        0
    }
}

impl FixedCount {
    /// Counts a match at `ts` and says whether it alerts, as Suricata's
    /// threshold types do: the window opens at a key's first match and the
    /// next match at or after `start + window` opens a new one.
    fn record(&mut self, kind: FixedKind, count: u64, window: u64, ts: i64, number: u64) -> (bool, WindowView) {
        let within = self.open && ts.saturating_sub(self.start) < window as i64;
        if within {
            self.count += 1;
        } else {
            *self = FixedCount { open: true, start: ts, count: 1, first_packet: number };
        }
        let fire = match kind {
            FixedKind::Limit => self.count <= count,
            FixedKind::Threshold => self.count >= count,
            FixedKind::Both => self.count == count,
            FixedKind::DetectionFilter => self.count > count,
        };
        let view = WindowView { count: self.count, first_packet: self.first_packet };
        if fire && kind == FixedKind::Threshold {
            // Counting starts again within the same window.
            self.count = 0;
        }
        (fire, view)
    }
}

struct LimitState {
    count: u64,
    window: Window,
    key: Vec<KeyItem>,
    table: Table<WindowCount>,
}

#[derive(Default)]
struct RuleState {
    triggers: Vec<Trigger>,
    limit: Option<LimitState>,
    /// Its keys' hashes on the packet of pass `hashed_in` ([`StateTables::prefetch`]).
    hashes: KeyHashes,
    hashed_in: u64,
}

impl RuleState {
    /// See [`StateTables::prefetch`]; `pass` is the packet's.
    fn prefetch(&mut self, pass: u64, f: &mut Features<'_, '_>) {
        let mut hashes = KeyHashes::default();
        for trigger in &self.triggers {
            let k = match trigger {
                Trigger::Threshold { key, table, .. } | Trigger::Rate { key, table, .. } => {
                    let k = key_hash(table.seed, key, f);
                    table.prefetch(k);
                    k
                }
                Trigger::Distinct { key, table, .. } => {
                    let k = key_hash(table.seed, key, f);
                    table.prefetch(k);
                    k
                }
                Trigger::Fixed { key, table, .. } => {
                    let k = key_hash(table.seed, key, f);
                    table.prefetch(k);
                    k
                }
            };
            hashes.push(k);
        }
        if let (true, Some(limit)) = (self.triggers.is_empty(), &self.limit) {
            let k = key_hash(limit.table.seed, &limit.key, f);
            limit.table.prefetch(k);
            hashes.push(k);
        }
        self.hashes = hashes;
        self.hashed_in = pass;
    }
}

/// All state tables of a rule set, indexed like its rules.
#[derive(Default)]
pub struct StateTables {
    rules: Vec<Option<RuleState>>,
    /// The packet being matched ([`StateTables::next_packet`]): decide
    /// uses the hashes prefetch computed in this pass only.
    pass: u64,
}

impl std::fmt::Debug for StateTables {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("StateTables").field("tables", &self.stats().len()).finish()
    }
}

impl StateTables {
    /// Tables for the stateful rules of `rules`.
    pub fn new(rules: &RuleSet, limits: TableLimits) -> StateTables {
        let rules = rules
            .rules()
            .iter()
            .map(|r| {
                let s = &r.state;
                if !s.is_stateful() {
                    return None;
                }
                let mut state = RuleState::default();
                if let Some((count, window, key)) = &s.threshold {
                    let table = Table::new(r.sid, "threshold", limits, *window);
                    state.triggers.push(Trigger::Threshold { count: *count, window: *window, key: key.clone(), table });
                }
                if let Some((count, window, key)) = &s.rate {
                    let table = Table::new(r.sid, "rate", limits, *window);
                    state.triggers.push(Trigger::Rate { count: *count, window: *window, key: key.clone(), table });
                }
                if let Some((field, count, window, key)) = &s.distinct {
                    let table = Table::new(r.sid, "distinct", limits, *window);
                    state.triggers.push(Trigger::Distinct {
                        field: *field,
                        count: *count,
                        window: *window,
                        key: key.clone(),
                        table,
                    });
                }
                if let Some((kind, count, window, key)) = &s.fixed {
                    let table = Table::new(r.sid, kind.keyword(), limits, *window);
                    state.triggers.push(Trigger::Fixed {
                        kind: *kind,
                        count: *count,
                        window: *window,
                        key: key.clone(),
                        table,
                    });
                }
                if let Some((count, window, key)) = &s.limit {
                    let table = Table::new(r.sid, "limit", limits, *window);
                    state.limit = Some(LimitState { count: *count, window: *window, key: key.clone(), table });
                }
                Some(state)
            })
            .collect();
        StateTables { rules, pass: 0 }
    }

    /// Tables for a new rule set `rules`: rule `i` takes over the state of
    /// old rule `keep[i]` when that is set, and starts fresh otherwise.
    /// Returns the tables and how many rules kept their state.
    pub fn carry_over(mut self, rules: &RuleSet, limits: TableLimits, keep: &[Option<u32>]) -> (StateTables, usize) {
        let mut fresh = StateTables::new(rules, limits);
        // The pass goes on: a kept rule's hashes are of an earlier packet.
        fresh.pass = self.pass;
        let mut kept = 0;
        for (slot, old) in fresh.rules.iter_mut().zip(keep) {
            let Some(old) = old.and_then(|j| self.rules.get_mut(j as usize)) else { continue };
            if slot.is_some() && old.is_some() {
                *slot = old.take();
                kept += 1;
            }
        }
        (fresh, kept)
    }

    /// Counters of every table.
    pub fn stats(&self) -> Vec<TableStats> {
        let mut out = Vec::new();
        for state in self.rules.iter().flatten() {
            for t in &state.triggers {
                out.push(match t {
                    Trigger::Threshold { table, .. } | Trigger::Rate { table, .. } => table.stats.clone(),
                    Trigger::Distinct { table, .. } => table.stats.clone(),
                    Trigger::Fixed { table, .. } => table.stats.clone(),
                });
            }
            if let Some(l) = &state.limit {
                out.push(l.table.stats.clone());
            }
        }
        out
    }

    /// Starts the matching of another packet (or of a DNS message out of
    /// a TCP segment): hashes [`StateTables::prefetch`] computed before are
    /// not used again.
    pub fn next_packet(&mut self) {
        self.pass += 1;
    }

    /// Hashes the keys [`StateTables::decide`] will look up for a match of
    /// rule `index` on this packet (its trigger clauses', or, without any,
    /// its `limit`'s) and starts loading their table slots. A packet's rules
    /// call this first, then decide, so that the lookups' cache misses
    /// overlap; decide uses the hashes, so no key is hashed twice.
    #[inline]
    pub fn prefetch(&mut self, index: u32, f: &mut Features<'_, '_>) {
        let pass = self.pass;
        if let Some(Some(state)) = self.rules.get_mut(index as usize) {
            state.prefetch(pass, f);
        }
    }

    /// Records a match of rule `index` and decides whether it fires, or
    /// would fire but is suppressed.
    pub fn decide(&mut self, index: u32, rule: &CompiledRule, f: &mut Features<'_, '_>) -> Decision {
        let suppressed = !rule.suppress.is_empty() && rule.is_suppressed(f.packet());
        let Some(Some(state)) = self.rules.get_mut(index as usize) else {
            return if suppressed { Decision::Suppress } else { Decision::Fire(None) };
        };
        let pkt = f.packet();
        let (ts, number) = (pkt.ts_nanos, pkt.number);
        // The hashes prefetch computed for this packet, if it did.
        let hashes = (state.hashed_in == self.pass).then_some(state.hashes);
        // What the first clause saw; rendered only if the rule fires, so a
        // held match allocates nothing.
        let mut seen: Option<Seen<'_>> = None;
        let mut fire = true;
        let hash = |i: usize, seed: u64, key: &[KeyItem], f: &mut Features<'_, '_>| {
            hashes.and_then(|h| h.get(i)).unwrap_or_else(|| key_hash(seed, key, f))
        };
        let triggers = state.triggers.len();
        for (i, trigger) in state.triggers.iter_mut().enumerate() {
            let (clause, view, window, key, ok, rate) = match trigger {
                Trigger::Threshold { count, window, key, table } => {
                    let k = hash(i, table.seed, key, f);
                    let v = table.update(k, ts, |w| w.record(ts, number, window.nanos));
                    ("threshold", v, *window, &*key, v.count >= *count, false)
                }
                Trigger::Rate { count, window, key, table } => {
                    let k = hash(i, table.seed, key, f);
                    let v = table.update(k, ts, |w| w.record(ts, number, window.nanos));
                    ("rate", v, *window, &*key, v.count as f64 > *count, true)
                }
                Trigger::Distinct { field, count, window, key, table } => {
                    let k = hash(i, table.seed, key, f);
                    let Some(value) = value_hash(*field, f) else {
                        fire = false;
                        continue;
                    };
                    let v = table.update(k, ts, |d| d.record(value, ts, number, window.nanos));
                    ("distinct", v, *window, &*key, v.count > *count, false)
                }
                Trigger::Fixed { kind, count, window, key, table } => {
                    let k = hash(i, table.seed, key, f);
                    let (ok, v) = table.update(k, ts, |c| c.record(*kind, *count, window.nanos, ts, number));
                    (kind.keyword(), v, *window, &*key, ok, false)
                }
            };
            fire &= ok;
            seen.get_or_insert(Seen { clause, view, window, key, rate });
        }
        if !fire {
            return Decision::Hold;
        }
        if suppressed {
            return Decision::Suppress;
        }
        if let Some(LimitState { count, window, key, table }) = &mut state.limit {
            let k = hash(triggers, table.seed, key, f);
            let (count, nanos) = (*count, window.nanos);
            let allowed =
                table.update(k, ts, |w| (w.peek(ts, nanos).count < count).then(|| w.record(ts, number, nanos)));
            let Some(view) = allowed else {
                return Decision::Limited;
            };
            seen.get_or_insert(Seen { clause: "limit", view, window: *window, key, rate: false });
        }
        Decision::Fire(seen.map(|seen| seen.report(number, f)))
    }
}

/// The key hashes of one rule's clauses on one packet, in clause order
/// (triggers, then `limit`): what [`StateTables::prefetch`] computed, for
/// [`StateTables::decide`] to use.
#[derive(Clone, Copy, Debug, Default)]
struct KeyHashes {
    hashes: [u64; 5],
    len: u8,
}

impl KeyHashes {
    /// Adds the next clause's hash (beyond room for a rule's five clauses, nothing).
    fn push(&mut self, hash: u64) {
        if let Some(h) = self.hashes.get_mut(usize::from(self.len)) {
            *h = hash;
            self.len += 1;
        }
    }

    /// The hash of clause `i`, if computed.
    fn get(&self, i: usize) -> Option<u64> {
        self.hashes.get(..usize::from(self.len))?.get(i).copied()
    }
}

/// What the deciding clause saw, kept unrendered until the rule fires.
struct Seen<'k> {
    clause: &'static str,
    view: WindowView,
    window: Window,
    key: &'k [KeyItem],
    /// The clause is a rate: the report gives matches per second.
    rate: bool,
}

impl Seen<'_> {
    fn report(&self, number: u64, f: &mut Features<'_, '_>) -> StateReport {
        StateReport {
            clause: self.clause,
            key: render_key(self.key, f),
            count: self.view.count,
            window_nanos: self.window.nanos,
            rate_per_sec: self.rate.then(|| self.view.count as f64 / (self.window.nanos as f64 / 1e9)),
            first_packet: self.view.first_packet,
            last_packet: number,
        }
    }
}

/// Hashes the key parts of the packet with a table's `seed`.
fn key_hash(seed: u64, key: &[KeyItem], f: &mut Features<'_, '_>) -> u64 {
    let mut h = keyed_hasher(seed);
    let pkt = f.packet();
    let addrs = pkt.ip().map(|ip| (ip.src, ip.dst));
    for item in key {
        match item {
            KeyItem::Src => hash_ip(addrs.map(|a| a.0), &mut h),
            KeyItem::Dst => hash_ip(addrs.map(|a| a.1), &mut h),
            KeyItem::Pair => {
                let pair = addrs.map(|(s, d)| if ip_order(s) <= ip_order(d) { (s, d) } else { (d, s) });
                hash_ip(pair.map(|p| p.0), &mut h);
                hash_ip(pair.map(|p| p.1), &mut h);
            }
            KeyItem::Flow => {
                (addrs, pkt.ports(), pkt.ip().map(|ip| ip.proto)).hash(&mut h);
            }
            KeyItem::Rule => 0u8.hash(&mut h),
            KeyItem::Field(field) => hash_value(*field, f, &mut h),
        }
    }
    h.finish()
}

/// An address as a value that orders as `IpAddr` does (IPv4 before IPv6,
/// then by number), compared in one or two instructions: `IpAddr`'s own
/// comparison goes through IPv6 segments, and cost the `by pair` key more
/// than the rest of its hash.
fn ip_order(ip: IpAddr) -> (bool, u128) {
    match ip {
        IpAddr::V4(v4) => (false, u128::from(v4.to_bits())),
        IpAddr::V6(v6) => (true, v6.to_bits()),
    }
}

/// Hashes an address in one write (an IPv4 address and its tag in one
/// word), instead of `Hash`'s discriminants, length prefix and bytes.
fn hash_ip(ip: Option<IpAddr>, h: &mut impl Hasher) {
    match ip {
        Some(IpAddr::V4(v4)) => h.write_u64(1 << 32 | u64::from(v4.to_bits())),
        Some(IpAddr::V6(v6)) => {
            h.write_u64(2 << 32);
            h.write_u128(v6.to_bits());
        }
        None => h.write_u64(0),
    }
}

fn value_hash(field: Field, f: &mut Features<'_, '_>) -> Option<u64> {
    let mut h = crate::engine::tables::state_hasher();
    f.get(field)?;
    hash_value(field, f, &mut h);
    Some(h.finish())
}

fn hash_value(field: Field, f: &mut Features<'_, '_>, h: &mut impl Hasher) {
    let nocase = field::info(field).ty == FieldType::Str;
    match f.get(field) {
        None => 0u8.hash(h),
        Some(FieldValue::Num(n)) => (1u8, n.to_bits()).hash(h),
        Some(FieldValue::Bool(b)) => (2u8, b).hash(h),
        Some(FieldValue::Ip(ip)) => (3u8, ip).hash(h),
        Some(FieldValue::Bytes(bytes)) => {
            4u8.hash(h);
            bytes.len().hash(h);
            if nocase {
                // Lowered a chunk at a time on the stack and hashed in one
                // call per chunk: a `write_u8` per byte cost a DNS packet's
                // `by dns.domain` key and `distinct dns.subdomain` value
                // more than the rest of its state.
                let mut lower = [0u8; 64];
                for chunk in bytes.chunks(lower.len()) {
                    lower.iter_mut().zip(chunk).for_each(|(d, s)| *d = s.to_ascii_lowercase());
                    h.write(lower.get(..chunk.len()).unwrap_or_default());
                }
            } else {
                h.write(bytes);
            }
        }
    }
}

fn render_key(key: &[KeyItem], f: &mut Features<'_, '_>) -> KeyText {
    use std::fmt::Write;
    let pkt = f.packet();
    let src = pkt.ip().map(|ip| ip.src);
    let dst = pkt.ip().map(|ip| ip.dst);
    let addr = |out: &mut KeyText, ip: Option<IpAddr>| match ip {
        Some(ip) => push_ip(out, ip),
        None => out.push_str("-"),
    };
    // One text written in place (inline while short): no part strings joined afterwards.
    let mut out = KeyText::default();
    for (i, item) in key.iter().enumerate() {
        if i > 0 {
            out.push_str(", ");
        }
        match item {
            KeyItem::Src => addr(&mut out, src),
            KeyItem::Dst => addr(&mut out, dst),
            KeyItem::Pair => {
                let (a, b) = if src.map(ip_order) <= dst.map(ip_order) { (src, dst) } else { (dst, src) };
                addr(&mut out, a);
                out.push_str(" <-> ");
                addr(&mut out, b);
            }
            KeyItem::Flow => {
                addr(&mut out, src);
                match pkt.ports() {
                    Some((sp, dp)) => {
                        let _ = write!(out, ":{sp} -> ");
                        addr(&mut out, dst);
                        let _ = write!(out, ":{dp}");
                    }
                    None => {
                        out.push_str(" -> ");
                        addr(&mut out, dst);
                    }
                }
            }
            KeyItem::Rule => out.push_str("rule"),
            KeyItem::Field(field) => {
                out.push_str(field::info(*field).name);
                out.push_str("=");
                match f.get(*field) {
                    Some(v) => write_value(&mut out, v, None),
                    None => out.push_str("-"),
                }
            }
        }
    }
    out
}

/// Writes `ip` as its `Display` does, IPv4 through [`crate::ascii`]: every
/// alert of a stateful rule renders its key, and the formatter's padding
/// machinery cost more than the rest of the key.
fn push_ip(out: &mut KeyText, ip: IpAddr) {
    match ip {
        IpAddr::V4(v4) => {
            let (text, len) = crate::ascii::ipv4_text(v4);
            out.push_ascii(text.get(..len).unwrap_or_default());
        }
        IpAddr::V6(v6) => {
            use std::fmt::Write;
            let _ = write!(out, "{v6}");
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn keys_render_addresses_as_display_does() {
        let octets = [0u8, 1, 9, 10, 42, 99, 100, 199, 200, 255];
        for (i, &a) in octets.iter().enumerate() {
            let ip = IpAddr::from([a, octets[(i + 3) % 10], octets[(i + 5) % 10], octets[9 - i]]);
            let mut out = KeyText::default();
            push_ip(&mut out, ip);
            assert_eq!(out.as_str(), ip.to_string());
        }
        for n in 0..=255u8 {
            let ip = IpAddr::from([n, 255 - n, n / 2, n]);
            let mut out = KeyText::default();
            push_ip(&mut out, ip);
            assert_eq!(out.as_str(), ip.to_string());
        }
        let v6: IpAddr = "2001:db8::1".parse().unwrap();
        let mut out = KeyText::default();
        push_ip(&mut out, v6);
        assert_eq!(out.as_str(), "2001:db8::1");
    }

    #[test]
    fn addresses_order_as_ip_addr_does() {
        let addrs: Vec<IpAddr> =
            ["0.0.0.0", "10.0.0.1", "10.0.0.2", "255.255.255.255", "::", "::1", "2001:db8::1", "ff02::1"]
                .iter()
                .map(|a| a.parse().unwrap())
                .collect();
        for a in &addrs {
            for b in &addrs {
                assert_eq!(ip_order(*a).cmp(&ip_order(*b)), a.cmp(b), "{a} {b}");
            }
        }
    }

    #[test]
    fn decide_uses_only_the_hashes_prefetch_computed_for_this_packet() {
        use crate::decode::Packet;
        let text = "alert ip any any -> any any { id 1  when ip.ttl > 0  threshold 2 within 10s by src }\n";
        let rules = crate::load::compile_texts(vec![("t.rules".into(), text.into())], &[]).unwrap();
        let rule = &rules.rules()[0];
        let mut tables = StateTables::new(&rules, TableLimits::default());
        let a = ferret_synth::frame::udp([10, 0, 0, 1].into(), [10, 0, 0, 9].into(), 1, 2, b"x");
        let b = ferret_synth::frame::udp([10, 0, 0, 2].into(), [10, 0, 0, 9].into(), 1, 2, b"x");
        let (pa, pb) = (Packet::decode(1, &a, 1, 0, 60), Packet::decode(1, &b, 2, 1, 60));
        tables.next_packet();
        let mut f = Features::new(&pa);
        tables.prefetch(0, &mut f);
        assert_eq!(tables.decide(0, rule, &mut f), Decision::Hold);
        // Not prefetched: b's own key, not a's hashes left from before.
        tables.next_packet();
        assert_eq!(tables.decide(0, rule, &mut Features::new(&pb)), Decision::Hold);
        tables.next_packet();
        let mut f = Features::new(&pa);
        tables.prefetch(0, &mut f);
        assert!(matches!(tables.decide(0, rule, &mut f), Decision::Fire(Some(_))), "a's second match");
    }

    #[test]
    fn table_evicts_least_recently_seen_and_expires_idle_keys() {
        let limits = TableLimits { max_entries: 2, idle_nanos: 100, ..TableLimits::default() };
        let mut t: Table<u32> = Table::new(1, "threshold", limits, Window { nanos: 10 });
        let bump = |v: &mut u32| *v += 1;
        t.update(1, 0, bump);
        t.update(2, 1, bump);
        t.update(1, 2, bump); // key 1 seen again: key 2 is now the oldest
        t.update(3, 3, bump); // full: evicts key 2
        assert!(t.map.contains_key(&1) && t.map.contains_key(&3) && !t.map.contains_key(&2));
        assert_eq!(t.stats.evicted, 1);
        t.update(4, 1000, bump); // everything else idle for >= 100 ns
        assert_eq!(t.map.len(), 1);
        assert_eq!(t.stats.expired, 2);
        assert_eq!(t.stats.peak, 2);
    }

    #[test]
    fn a_new_key_on_a_full_table_takes_over_the_evicted_state_cleared() {
        let limits = TableLimits { max_entries: 2, ..TableLimits::default() };
        let window = 1_000_000_000;
        let mut t: Table<WindowCount> = Table::new(1, "threshold", limits, Window { nanos: window });
        for (key, ts) in [(2, 0), (2, 1), (2, 2), (1, 3), (1, 4)] {
            t.update(key, ts, |w| w.record(ts, ts as u64, window));
        }
        let v = t.update(3, 5, |w| w.record(5, 50, window)); // full: evicts key 2 and takes its ring
        assert_eq!((v.count, v.first_packet), (1, 50), "nothing of key 2 counts for key 3");
        assert!(!t.map.contains_key(&2) && t.map.contains_key(&1) && t.map.contains_key(&3));
        assert!(t.map.get(&3).is_some_and(|s| s.value.heap_bytes() > 0), "key 2's ring is reused");
        let held: usize = t.map.values().map(|s| Table::<WindowCount>::SLOT_BYTES + s.value.heap_bytes()).sum();
        assert_eq!(held, t.stats.bytes, "the count matches what is held");
        assert_eq!((t.stats.evicted, t.stats.inserted), (1, 3));
    }

    #[test]
    fn table_stays_within_its_byte_budget() {
        let slot = Table::<DistinctCount>::SLOT_BYTES;
        let limits = TableLimits { memcap_bytes: 64 << 10, ..TableLimits::default() };
        let mut t: Table<DistinctCount> = Table::new(1, "distinct", limits, Window { nanos: 1_000_000 });
        for key in 0..1000u64 {
            for value in 0..100u64 {
                t.update(key, (key * 100 + value) as i64, |d| d.record(value, 0, 1, 1_000_000));
            }
            assert!(t.stats.bytes <= 64 << 10, "{} bytes at key {key}", t.stats.bytes);
        }
        // Each key holds 100 values (24 bytes each, and spare capacity).
        assert!(t.stats.memcap_evicted > 900, "{:?}", t.stats);
        assert_eq!(t.stats.evicted, 0);
        assert!(t.stats.bytes > slot && t.stats.peak_bytes <= 64 << 10);
        let held: usize = t.map.values().map(|s| slot + s.value.heap_bytes()).sum();
        assert_eq!(held, t.stats.bytes, "the count matches what is held");
    }

    #[test]
    fn tables_hash_keys_with_their_own_random_seed() {
        let limits = TableLimits::default();
        let seeds: Vec<u64> = (0..4).map(|_| Table::<u32>::new(1, "rate", limits, Window { nanos: 1 }).seed).collect();
        assert!(seeds.windows(2).all(|w| w[0] != w[1]), "{seeds:x?}");
        let hash = |seed| {
            let mut h = keyed_hasher(seed);
            h.write_u64(42);
            h.finish()
        };
        assert_ne!(hash(seeds[0]), hash(seeds[1]));
    }
}
