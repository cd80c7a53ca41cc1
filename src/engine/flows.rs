//! Flows, as Suricata counts them for EVE: one id per flow for both
//! directions, and packets and bytes each way.
//!
//! A flow is the unordered 5-tuple (protocol, both addresses, both ports;
//! ICMP flows have no ports, so all ICMP between two hosts is one flow, as in
//! Suricata). The first packet seen decides which side is the client
//! (`toserver`). The table is bounded like every state table: at most
//! `max_entries` flows (fewer if the state memcap holds fewer), the least
//! recently seen evicted when full, flows idle for `idle` of packet time
//! forgotten (the next packet starts a new flow with a new id).
//!
//! The table is its own, made for churn: a scan of busy traffic starts a flow
//! on most packets, so a new flow on a full table must cost about what a
//! known one does. Flows live in one array of entries (key hash, counters and
//! their place in a recency list, in 80 bytes); a small open-addressing index
//! of `u64` words (the key's upper half as a tag, the entry's number) finds
//! them, with linear probing and backward-shift deletion (no tombstones, so
//! churn never degrades it). The recency list is exact LRU: a packet moves
//! its flow to the front, eviction and idle expiry take from the back, and an
//! evicted flow's entry is reused in place by the new one. The keys are
//! hashed with a per-run random seed (foldhash): the 5-tuple is
//! attacker-controlled. Counting a packet of a known flow allocates nothing,
//! and neither does a new flow on a full table (the index and the entries
//! grow, amortized, only until the bound).

use std::hash::Hasher;
use std::net::IpAddr;

use crate::decode::Packet;
use crate::engine::tables::{keyed_hasher, state_hasher, TableLimits};
use crate::prefetch::prefetch;

/// A flow id is kept below 2^51, so JSON readers that hold numbers as doubles read it exactly.
const ID_MASK: u64 = (1 << 51) - 1;

/// What a flow has counted, as the alert on one of its packets reports it.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct FlowInfo {
    /// The flow's id: positive, the same for both directions, stable within a run.
    pub id: u64,
    /// Time of the flow's first packet (ns since the epoch).
    pub start_nanos: i64,
    /// The client (the source of the flow's first packet) and its port.
    pub client: (IpAddr, Option<u16>),
    /// The server and its port.
    pub server: (IpAddr, Option<u16>),
    /// Packets and bytes (on the wire) from client to server, this packet included.
    pub pkts_toserver: u64,
    /// Bytes from client to server.
    pub bytes_toserver: u64,
    /// Packets from server to client.
    pub pkts_toclient: u64,
    /// Bytes from server to client.
    pub bytes_toclient: u64,
    /// True when this packet went from client to server.
    pub to_server: bool,
    /// True when this is the flow's first packet in its direction.
    pub first_in_direction: bool,
    /// True once a pass rule that applies to the flow has matched one of its packets.
    pub passed: bool,
    /// The flow's key in its table (for [`FlowTable::pass`]).
    pub key: u64,
}

/// One flow's counters.
#[derive(Clone, Copy, Debug, Default)]
struct FlowState {
    id: u64,
    start_nanos: i64,
    /// The client is the lower endpoint of the key (see [`FlowKey::of`]).
    client_is_low: bool,
    pkts: [u64; 2],
    bytes: [u64; 2],
    passed: bool,
}

/// "No entry": the end of the recency list or of the free list.
const NIL: u32 = u32::MAX;

/// A flow in the table.
#[derive(Clone, Copy, Debug)]
struct Entry {
    /// The hash of the flow's key: its identity.
    key: u64,
    /// Packet time (the table's clock) of its last packet.
    last_seen: i64,
    /// The next more recently seen flow ([`NIL`] for the newest).
    newer: u32,
    /// The next less recently seen flow ([`NIL`] for the oldest); chains
    /// the free list for a free entry.
    older: u32,
    state: FlowState,
}

/// An index word: the upper half of the key hash (the tag, whose low bits
/// pick the home bucket) and the entry's number + 1 (0 is an empty bucket).
fn word(key: u64, entry: u32) -> u64 {
    (key & !0xffff_ffff) | u64::from(entry.wrapping_add(1))
}

/// The entry a non-empty index word points at.
fn entry_of(word: u64) -> u32 {
    (word as u32).wrapping_sub(1)
}

/// The home bucket of a key or index word in an index of `mask + 1` buckets.
fn home(key_or_word: u64, mask: usize) -> usize {
    (key_or_word >> 32) as usize & mask
}

/// The flows of a run.
pub struct FlowTable {
    /// Seed of the key hashes, random per table.
    seed: u64,
    /// The index: a power of two of words (see [`word`]), at most half full.
    buckets: Vec<u64>,
    entries: Vec<Entry>,
    /// The most recently seen flow.
    newest: u32,
    /// The least recently seen flow: the next to be evicted or expired.
    oldest: u32,
    /// Entries freed by expiry, chained by `older`.
    free: u32,
    /// Flows held.
    len: usize,
    /// Most flows held.
    capacity: usize,
    idle: u64,
    /// The latest packet time seen.
    clock: i64,
}

type Endpoint = (IpAddr, Option<u16>);

/// A packet's flow: its endpoints, lower first, and the words that identify it.
struct FlowKey {
    /// Protocol, address family, ports or not, and the ports.
    head: u64,
    /// The addresses (IPv4: both in `addrs[0]`).
    addrs: [u128; 2],
    low: Endpoint,
    high: Endpoint,
    /// The packet's source is the lower endpoint.
    src_is_low: bool,
}

impl FlowKey {
    /// The flow of `pkt`; None for packets without IP. Endpoints are ordered
    /// as `(IpAddr, Option<u16>)` orders them (the address, then the port).
    fn of(pkt: &Packet<'_>) -> Option<FlowKey> {
        let ip = pkt.ip()?;
        let ports = pkt.ports();
        let (sport, dport) = ports.unwrap_or((0, 0));
        let src = (ip.src, ports.map(|p| p.0));
        let dst = (ip.dst, ports.map(|p| p.1));
        let (v6, s, d) = match (ip.src, ip.dst) {
            (IpAddr::V4(s), IpAddr::V4(d)) => (false, u128::from(u32::from(s)), u128::from(u32::from(d))),
            // (A mixed pair never comes from decoding; the family bit keeps
            // it apart from IPv4 pairs anyway.)
            (s, d) => (true, addr_bits(s), addr_bits(d)),
        };
        let src_is_low = (s, sport) <= (d, dport);
        let (low, high, lo_port, hi_port, lo_addr, hi_addr) =
            if src_is_low { (src, dst, sport, dport, s, d) } else { (dst, src, dport, sport, d, s) };
        let head = u64::from(ip.proto) << 40
            | u64::from(v6) << 33
            | u64::from(ports.is_some()) << 32
            | u64::from(lo_port) << 16
            | u64::from(hi_port);
        let addrs = if v6 { [lo_addr, hi_addr] } else { [lo_addr << 32 | hi_addr, 0] };
        Some(FlowKey { head, addrs, low, high, src_is_low })
    }

    /// The key's hash under `seed`: what identifies the flow in its table.
    fn hash(&self, seed: u64) -> u64 {
        let mut h = keyed_hasher(seed);
        h.write_u64(self.head);
        h.write_u128(self.addrs[0]);
        if self.head & 1 << 33 != 0 {
            h.write_u128(self.addrs[1]);
        }
        h.finish()
    }
}

/// An address as a number.
fn addr_bits(a: IpAddr) -> u128 {
    match a {
        IpAddr::V4(a) => u128::from(u32::from(a)),
        IpAddr::V6(a) => u128::from(a),
    }
}

impl FlowTable {
    /// Bytes one flow costs: its entry and, at most, four index words (the
    /// index is a power of two at most half full). The memcap bounds the flow
    /// count by it.
    const FLOW_BYTES: usize = std::mem::size_of::<Entry>() + 4 * std::mem::size_of::<u64>();

    /// The smallest index.
    const MIN_BUCKETS: usize = 16;

    /// An empty table bounded by `limits`.
    pub fn new(limits: TableLimits) -> FlowTable {
        use std::hash::BuildHasher;
        // Seeded per run: flow keys are map keys an attacker must not steer.
        let seed = std::collections::hash_map::RandomState::new().hash_one(0x666c_6f77_u64);
        let by_bytes = (limits.memcap_bytes / Self::FLOW_BYTES).max(1);
        let capacity = limits.max_entries.min(by_bytes).clamp(1, (NIL - 1) as usize);
        FlowTable {
            seed,
            buckets: vec![0; Self::MIN_BUCKETS],
            entries: Vec::new(),
            newest: NIL,
            oldest: NIL,
            free: NIL,
            len: 0,
            capacity,
            idle: limits.idle_nanos.max(1),
            clock: i64::MIN,
        }
    }

    /// Flows held now.
    pub fn len(&self) -> usize {
        self.len
    }

    /// True when no flow is held.
    pub fn is_empty(&self) -> bool {
        self.len == 0
    }

    /// Counts `pkt` in its flow and returns the flow's counters (None for packets without IP).
    pub fn observe(&mut self, pkt: &Packet<'_>) -> Option<FlowInfo> {
        let flow = FlowKey::of(pkt)?;
        let key = flow.hash(self.seed);
        let ts = pkt.ts_nanos;
        self.advance(ts);
        self.preload(key);
        let index = match self.find(key) {
            Some(i) => {
                self.touch(i);
                i
            }
            None => {
                let mut h = state_hasher();
                h.write_u64(key);
                h.write_i64(ts);
                let state = FlowState {
                    id: (h.finish() & ID_MASK).max(1),
                    start_nanos: ts,
                    client_is_low: flow.src_is_low,
                    ..FlowState::default()
                };
                self.insert(key, state)?
            }
        };
        let flow_state = &mut self.entries.get_mut(index as usize)?.state;
        let to_server = flow.src_is_low == flow_state.client_is_low;
        let side = usize::from(!to_server);
        let first_in_direction = flow_state.pkts.get(side) == Some(&0);
        if let (Some(p), Some(b)) = (flow_state.pkts.get_mut(side), flow_state.bytes.get_mut(side)) {
            *p += 1;
            *b += u64::from(pkt.wire_len);
        }
        let (client, server) = if flow_state.client_is_low { (flow.low, flow.high) } else { (flow.high, flow.low) };
        let [pkts_toserver, pkts_toclient] = flow_state.pkts;
        let [bytes_toserver, bytes_toclient] = flow_state.bytes;
        Some(FlowInfo {
            id: flow_state.id,
            start_nanos: flow_state.start_nanos,
            client,
            server,
            pkts_toserver,
            bytes_toserver,
            pkts_toclient,
            bytes_toclient,
            to_server,
            first_in_direction,
            passed: flow_state.passed,
            key,
        })
    }

    /// Marks the flow `key` (from [`FlowInfo::key`]) passed: later packets of
    /// it, both ways, raise no alerts.
    pub fn pass(&mut self, key: u64, ts: i64) {
        self.advance(ts);
        if let Some(i) = self.find(key) {
            self.touch(i);
            if let Some(e) = self.entries.get_mut(i as usize) {
                e.state.passed = true;
            }
        }
    }

    /// Moves the clock to `ts` (never back) and forgets the flows idle since.
    fn advance(&mut self, ts: i64) {
        self.clock = self.clock.max(ts);
        while let Some(oldest) = self.entries.get(self.oldest as usize) {
            if (self.clock.saturating_sub(oldest.last_seen) as u64) < self.idle {
                break;
            }
            let i = self.oldest;
            self.unlink(i);
            self.unindex(i);
            if let Some(e) = self.entries.get_mut(i as usize) {
                e.older = self.free;
            }
            self.free = i;
            self.len -= 1;
        }
    }

    /// Loads the index words a packet of `key` may need before it needs
    /// them: its home bucket, and on a full table that of the flow a new one
    /// would evict, so the two cache misses of a new flow overlap instead of
    /// following one another (the table is larger than the caches; under
    /// churn this is most of its cost).
    fn preload(&self, key: u64) {
        let mask = self.buckets.len() - 1;
        let victim = match self.entries.get(self.oldest as usize) {
            Some(e) if self.len == self.capacity => home(e.key, mask),
            _ => 0,
        };
        std::hint::black_box((self.buckets.get(home(key, mask)).copied(), self.buckets.get(victim).copied()));
    }

    /// The entry of `key`, if held.
    fn find(&self, key: u64) -> Option<u32> {
        let mask = self.buckets.len() - 1;
        let tag = key & !0xffff_ffff;
        let mut pos = home(key, mask);
        // At most one pass over the index (it always has an empty bucket).
        for _ in 0..self.buckets.len() {
            let w = *self.buckets.get(pos)?;
            if w == 0 {
                return None;
            }
            if w & !0xffff_ffff == tag {
                let i = entry_of(w);
                if self.entries.get(i as usize).is_some_and(|e| e.key == key) {
                    return Some(i);
                }
            }
            pos = (pos + 1) & mask;
        }
        None
    }

    /// Makes entry `i` the newest; `last_seen` becomes the clock.
    fn touch(&mut self, i: u32) {
        if self.newest != i {
            self.unlink(i);
            self.link_newest(i);
        }
        if let Some(e) = self.entries.get_mut(i as usize) {
            e.last_seen = self.clock;
        }
    }

    /// A new flow: in a free entry, a new one, or (full) the oldest flow's,
    /// evicted. Returns its entry.
    fn insert(&mut self, key: u64, state: FlowState) -> Option<u32> {
        let entry = Entry { key, last_seen: self.clock, newer: NIL, older: NIL, state };
        let i = if let Some(free) = self.entries.get(self.free as usize) {
            let i = self.free;
            self.free = free.older;
            *self.entries.get_mut(i as usize)? = entry;
            i
        } else if self.entries.len() < self.capacity {
            if self.entries.len() == self.entries.capacity() {
                // Doubling, but never past the bound.
                let more = self.entries.len().max(8).min(self.capacity - self.entries.len());
                self.entries.reserve_exact(more);
            }
            self.entries.push(entry);
            (self.entries.len() - 1) as u32
        } else {
            // Full: the least recently seen flow makes room.
            let i = self.oldest;
            self.entries.get(i as usize)?;
            self.unlink(i);
            self.unindex(i);
            self.len -= 1;
            *self.entries.get_mut(i as usize)? = entry;
            i
        };
        self.len += 1;
        self.link_newest(i);
        self.index(key, i);
        self.prefetch_next_victim();
        Some(i)
    }

    /// On a full table, starts loading what evicting the oldest flow for the
    /// next new one will touch: its index word and the entry after it in the
    /// recency list. The oldest entry itself is in the cache already (the
    /// eviction just now unlinked the flow before it). The loads then overlap
    /// this packet's matching and output instead of stalling the next packet.
    fn prefetch_next_victim(&self) {
        if self.len < self.capacity {
            return;
        }
        let Some(oldest) = self.entries.get(self.oldest as usize) else { return };
        if let Some(word) = self.buckets.get(home(oldest.key, self.buckets.len() - 1)) {
            prefetch(word);
        }
        if let Some(next) = self.entries.get(oldest.newer as usize) {
            prefetch(next);
        }
    }

    /// Takes entry `i` out of the recency list.
    fn unlink(&mut self, i: u32) {
        let Some(&Entry { newer, older, .. }) = self.entries.get(i as usize) else { return };
        match self.entries.get_mut(newer as usize) {
            Some(e) => e.older = older,
            None => self.newest = older,
        }
        match self.entries.get_mut(older as usize) {
            Some(e) => e.newer = newer,
            None => self.oldest = newer,
        }
    }

    /// Puts entry `i` (out of the list) at the front of the recency list.
    fn link_newest(&mut self, i: u32) {
        let old_newest = self.newest;
        if let Some(e) = self.entries.get_mut(i as usize) {
            e.newer = NIL;
            e.older = old_newest;
        }
        match self.entries.get_mut(old_newest as usize) {
            Some(e) => e.newer = i,
            None => self.oldest = i,
        }
        self.newest = i;
    }

    /// Files entry `i` under `key` in the index, first doubling the index if
    /// it would be more than half full.
    fn index(&mut self, key: u64, i: u32) {
        if 2 * self.len > self.buckets.len() {
            self.grow();
        }
        place(&mut self.buckets, word(key, i));
    }

    /// Doubles the index.
    fn grow(&mut self) {
        let mut bigger = vec![0u64; self.buckets.len() * 2];
        for &w in self.buckets.iter().filter(|&&w| w != 0) {
            place(&mut bigger, w);
        }
        self.buckets = bigger;
    }

    /// Removes entry `i` from the index, shifting back the words after it
    /// that would not be found past the hole.
    fn unindex(&mut self, i: u32) {
        let Some(key) = self.entries.get(i as usize).map(|e| e.key) else { return };
        let mask = self.buckets.len() - 1;
        let target = word(key, i);
        let mut hole = home(key, mask);
        // Find the word (it is there: every held entry is indexed).
        loop {
            match self.buckets.get(hole) {
                Some(&w) if w == target => break,
                Some(&0) | None => return,
                Some(_) => hole = (hole + 1) & mask,
            }
        }
        let mut pos = hole;
        loop {
            pos = (pos + 1) & mask;
            let w = match self.buckets.get(pos) {
                Some(&w) if w != 0 => w,
                _ => break,
            };
            // `w` may fill the hole if its home is not after the hole, cyclically, up to `pos`.
            let from_home = pos.wrapping_sub(home(w, mask)) & mask;
            let from_hole = pos.wrapping_sub(hole) & mask;
            if from_home >= from_hole {
                if let Some(h) = self.buckets.get_mut(hole) {
                    *h = w;
                }
                hole = pos;
            }
        }
        if let Some(h) = self.buckets.get_mut(hole) {
            *h = 0;
        }
    }
}

/// Puts index word `w` in the first free bucket from its home (there is one:
/// the index is never full).
fn place(buckets: &mut [u64], w: u64) {
    let mask = buckets.len() - 1;
    let mut pos = home(w, mask);
    while let Some(b) = buckets.get_mut(pos) {
        if *b == 0 {
            *b = w;
            return;
        }
        pos = (pos + 1) & mask;
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use ferret_synth::frame;
    use proptest::prelude::*;
    use std::collections::{BTreeMap, HashMap};
    use std::net::{Ipv4Addr, Ipv6Addr};

    fn udp(src: [u8; 4], sport: u16, dst: [u8; 4], dport: u16) -> Vec<u8> {
        frame::udp(src.into(), dst.into(), sport, dport, b"hello")
    }

    fn limits(max_entries: usize, idle_nanos: u64) -> TableLimits {
        TableLimits { max_entries, idle_nanos, ..TableLimits::default() }
    }

    #[test]
    fn both_directions_share_one_flow_and_count_apart() {
        let mut t = FlowTable::new(TableLimits::default());
        let q = udp([10, 0, 0, 1], 5555, [10, 0, 0, 2], 53);
        let r = udp([10, 0, 0, 2], 53, [10, 0, 0, 1], 5555);
        let other = udp([10, 0, 0, 1], 5556, [10, 0, 0, 2], 53);
        let a = t.observe(&Packet::decode(1, &q, 1, 1_000, q.len() as u32)).unwrap();
        let b = t.observe(&Packet::decode(1, &r, 2, 2_000, r.len() as u32)).unwrap();
        let c = t.observe(&Packet::decode(1, &other, 3, 3_000, other.len() as u32)).unwrap();
        assert_eq!(a.id, b.id);
        assert_ne!(a.id, c.id);
        assert!(a.id > 0 && a.id <= ID_MASK);
        assert!(a.to_server && !b.to_server);
        assert!(a.first_in_direction && b.first_in_direction);
        assert_eq!((b.pkts_toserver, b.pkts_toclient), (1, 1));
        assert_eq!((b.bytes_toserver, b.bytes_toclient), (q.len() as u64, r.len() as u64));
        assert_eq!(b.start_nanos, 1_000);
        assert_eq!(b.client.1, Some(5555));
        assert_eq!(b.server.1, Some(53));
        assert_eq!(t.len(), 2);
    }

    #[test]
    fn the_least_recently_seen_flow_is_evicted_and_comes_back_new() {
        let mut t = FlowTable::new(limits(2, u64::MAX));
        let f = |port| udp([10, 0, 0, 1], port, [10, 0, 0, 2], 53);
        let (a, b, c) = (f(1), f(2), f(3));
        let see = |t: &mut FlowTable, frame: &[u8], ts| t.observe(&Packet::decode(1, frame, 1, ts, 60)).unwrap();
        let a1 = see(&mut t, &a, 1);
        see(&mut t, &b, 2);
        // `a` seen again: `b` is now the least recently seen.
        assert_eq!(see(&mut t, &a, 3).pkts_toserver, 2);
        see(&mut t, &c, 4);
        assert_eq!(t.len(), 2);
        assert_eq!(see(&mut t, &a, 5).pkts_toserver, 3, "a was kept");
        let b2 = see(&mut t, &b, 6);
        assert_eq!((b2.pkts_toserver, b2.start_nanos), (1, 6), "b was evicted and starts over");
        // b's return evicted c (older than a).
        assert_eq!(see(&mut t, &a, 7).id, a1.id);
        assert_eq!(see(&mut t, &c, 8).pkts_toserver, 1);
    }

    #[test]
    fn idle_flows_expire_by_packet_time() {
        let mut t = FlowTable::new(limits(100, 10));
        let a = udp([10, 0, 0, 1], 1, [10, 0, 0, 2], 53);
        let b = udp([10, 0, 0, 3], 1, [10, 0, 0, 2], 53);
        t.observe(&Packet::decode(1, &a, 1, 100, 60)).unwrap();
        t.observe(&Packet::decode(1, &b, 2, 105, 60)).unwrap();
        assert_eq!(t.observe(&Packet::decode(1, &a, 3, 109, 60)).unwrap().pkts_toserver, 2);
        // 10 ns after b's last packet: b expires, a (seen at 109) does not.
        t.observe(&Packet::decode(1, &a, 4, 115, 60)).unwrap();
        assert_eq!(t.len(), 1);
        let again = t.observe(&Packet::decode(1, &b, 5, 116, 60)).unwrap();
        assert_eq!((again.pkts_toserver, again.start_nanos), (1, 116));
    }

    #[test]
    fn the_memcap_bounds_the_flow_count() {
        let t = FlowTable::new(TableLimits { memcap_bytes: 100 * FlowTable::FLOW_BYTES, ..TableLimits::default() });
        assert_eq!(t.capacity, 100);
    }

    #[test]
    fn a_passed_flow_stays_passed_both_ways() {
        let mut t = FlowTable::new(TableLimits::default());
        let q = udp([10, 0, 0, 1], 5555, [10, 0, 0, 2], 53);
        let r = udp([10, 0, 0, 2], 53, [10, 0, 0, 1], 5555);
        let a = t.observe(&Packet::decode(1, &q, 1, 1, 60)).unwrap();
        assert!(!a.passed);
        t.pass(a.key, 1);
        assert!(t.observe(&Packet::decode(1, &r, 2, 2, 60)).unwrap().passed);
    }

    #[test]
    fn a_full_table_churns_within_its_bound_for_long() {
        // Many more flows than room, in random order: the index stays
        // consistent through every eviction (checked against a model).
        let mut t = FlowTable::new(limits(500, u64::MAX));
        let mut model = Model::new(500, u64::MAX);
        let mut x = 0x9e37_79b9_7f4a_7c15_u64;
        for n in 0..60_000i64 {
            x ^= x << 13;
            x ^= x >> 7;
            x ^= x << 17;
            let src = [10, 0, (x % 7) as u8, (x >> 8) as u8 % 40];
            let frame = udp(src, 1000 + (x >> 16) as u16 % 3, [10, 9, 9, 9], 53);
            let pkt = Packet::decode(1, &frame, 1, n, 60);
            model.check(&pkt, t.observe(&pkt).unwrap());
            assert_eq!(t.len(), model.order.len());
        }
        assert_eq!(t.len(), 500);
    }

    /// The reference: flows by their endpoints, in recency order.
    struct Model {
        max: usize,
        idle: u64,
        clock: i64,
        touches: u64,
        flows: HashMap<(u8, Endpoint, Endpoint), ModelFlow>,
        order: BTreeMap<u64, (u8, Endpoint, Endpoint)>,
    }

    struct ModelFlow {
        id: Option<u64>,
        start: i64,
        client: Endpoint,
        pkts: [u64; 2],
        bytes: [u64; 2],
        last_seen: i64,
        touch: u64,
    }

    impl Model {
        fn new(max: usize, idle: u64) -> Model {
            Model { max, idle, clock: i64::MIN, touches: 0, flows: HashMap::new(), order: BTreeMap::new() }
        }

        fn check(&mut self, pkt: &Packet<'_>, got: FlowInfo) {
            let ip = pkt.ip().unwrap();
            let ports = pkt.ports();
            let src = (ip.src, ports.map(|p| p.0));
            let dst = (ip.dst, ports.map(|p| p.1));
            let key = if src <= dst { (ip.proto, src, dst) } else { (ip.proto, dst, src) };
            self.clock = self.clock.max(pkt.ts_nanos);
            while let Some((&touch, k)) = self.order.first_key_value() {
                if ((self.clock - self.flows[k].last_seen) as u64) < self.idle {
                    break;
                }
                let k = *k;
                self.order.remove(&touch);
                self.flows.remove(&k);
            }
            if !self.flows.contains_key(&key) && self.flows.len() == self.max {
                let (_, k) = self.order.pop_first().unwrap();
                self.flows.remove(&k);
            }
            self.touches += 1;
            let flow = self.flows.entry(key).or_insert(ModelFlow {
                id: None,
                start: pkt.ts_nanos,
                client: src,
                pkts: [0; 2],
                bytes: [0; 2],
                last_seen: 0,
                touch: 0,
            });
            self.order.remove(&flow.touch);
            flow.touch = self.touches;
            flow.last_seen = self.clock;
            self.order.insert(self.touches, key);
            let side = usize::from(flow.client != src);
            let first = flow.pkts[side] == 0;
            flow.pkts[side] += 1;
            flow.bytes[side] += u64::from(pkt.wire_len);
            assert_eq!(*flow.id.get_or_insert(got.id), got.id, "one id per flow");
            let server = if flow.client == src { dst } else { src };
            let want = FlowInfo {
                id: got.id,
                start_nanos: flow.start,
                client: flow.client,
                server,
                pkts_toserver: flow.pkts[0],
                bytes_toserver: flow.bytes[0],
                pkts_toclient: flow.pkts[1],
                bytes_toclient: flow.bytes[1],
                to_server: side == 0,
                first_in_direction: first,
                passed: false,
                key: got.key,
            };
            assert_eq!(got, want);
        }
    }

    /// A packet of a small world (few hosts and ports, so flows meet again).
    fn frame_of(kind: u8, a: u8, b: u8, pa: u16, pb: u16) -> Vec<u8> {
        let v4 = |h: u8| Ipv4Addr::new(10, 0, 0, h);
        let v6 = |h: u8| Ipv6Addr::new(0xfd00, 0, 0, 0, 0, 0, 0, u16::from(h));
        match kind {
            0 => frame::udp(v4(a), v4(b), pa, pb, b"x"),
            1 => frame::tcp(v4(a), v4(b), pa, pb, 0x10, 1, b"xy"),
            2 => frame::icmp_echo(v4(a), v4(b), false, pa, pb, b"xyz"),
            _ => frame::icmpv6_echo(v6(a), v6(b), false, pa, pb, b"xyzw"),
        }
    }

    proptest! {
        #[test]
        fn counts_evicts_and_expires_as_the_model(
            max in 1usize..8,
            idle in 1u64..30,
            packets in proptest::collection::vec((0u8..4, 0u8..4, 0u8..4, 0u16..3, 0u16..3, 0i64..4), 1..200),
        ) {
            let mut t = FlowTable::new(limits(max, idle));
            let mut model = Model::new(max, idle);
            let mut ts = 0i64;
            for (kind, a, b, pa, pb, dt) in packets {
                ts += dt;
                let frame = frame_of(kind, a, b, pa, pb);
                let pkt = Packet::decode(1, &frame, 1, ts, frame.len() as u32);
                model.check(&pkt, t.observe(&pkt).unwrap());
                prop_assert_eq!(t.len(), model.flows.len());
            }
        }
    }
}
