//! Flows, as Suricata counts them for EVE: one id per flow for both
//! directions, and packets and bytes each way.
//!
//! A flow is the unordered 5-tuple (protocol, both addresses, both ports;
//! ICMP flows have no ports, so all ICMP between two hosts is one flow, as in
//! Suricata). The first packet seen decides which side is the client
//! (`toserver`). The table is bounded like every state table: at most
//! `max_entries` flows (fewer if the state memcap holds fewer); a flow idle
//! for `idle` of packet time is forgotten (its next packet starts a new flow
//! with a new id).
//!
//! The table is its own, made for churn: a scan of busy traffic starts a flow
//! on most packets, so a new flow on a full table must cost about what a
//! known one does, and both must touch as few cache lines as they can, for
//! the table is larger than the caches. Each flow is one 64-byte entry (key
//! hash, counters, flags) of one dense array; a compact open-addressing index
//! of tagged words (`engine::keymap`'s, with linear probing and
//! backward-shift deletion, so churn never degrades it) finds it: finding a
//! flow reads one index line and its entry's line. A full table evicts by
//! the CLOCK policy, an approximation of least recently seen: a hand walks
//! the entries in order, sparing once each flow seen again since it last
//! passed and evicting the first flow that was not or is idle; the new flow
//! takes the evicted entry in place. The hand's walk is sequential, so what
//! it will touch is asked for ahead, where an exact recency list touched two
//! more random lines per packet and chained the victim's misses. The scan
//! loop asks for the next packet's index line ahead too
//! ([`FlowTable::prefetch_frame`]). Idle flows are forgotten when their next
//! packet or the hand finds them. The keys are hashed with a per-run random
//! seed (foldhash): the 5-tuple is attacker-controlled. Counting a packet
//! allocates nothing; the table doubles, amortized, only until its bound.
//! Counting returns only where the packet fell in its flow ([`FlowSeen`]);
//! the counters an alert carries ([`FlowInfo`]) are read from the entry,
//! still in cache, only for a packet that raises one.

use std::hash::Hasher;
use std::net::IpAddr;

use crate::decode::Packet;
use crate::engine::keymap::{bucket_of, find, home, place, unindex, word};
use crate::engine::tables::{keyed_hasher, state_hasher, TableLimits};
use crate::prefetch::prefetch;

/// A flow id is kept below 2^51, so JSON readers that hold numbers as doubles read it exactly.
const ID_MASK: u64 = (1 << 51) - 1;

/// What a flow has counted, as the alert on one of its packets reports it.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct FlowInfo {
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

impl FlowInfo {
    /// The flow's id: positive, the same for both directions, stable within
    /// a run (its key and start time hashed, so only an alert computes it).
    pub fn id(&self) -> u64 {
        flow_id(self.key, self.start_nanos)
    }
}

/// Where a packet fell in its flow: what the engine and the rules read of
/// every packet. The flow's counters ([`FlowInfo`]) are read only for a
/// packet that raises an alert ([`FlowTable::info`]): building them for
/// every packet was a tenth of counting it.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct FlowSeen {
    /// The flow's entry in its table.
    entry: u32,
    /// The flow's key in its table (for [`FlowTable::pass`]).
    pub key: u64,
    /// The packet went from client to server.
    pub to_server: bool,
    /// It is the flow's first packet in its direction.
    pub first_in_direction: bool,
    /// Both directions have been seen, this packet included.
    pub established: bool,
    /// A pass rule that applies to the flow has matched one of its packets.
    pub passed: bool,
}

/// An entry's flags.
const CLIENT_IS_LOW: u8 = 1;
const PASSED: u8 = 2;
/// Seen again since the clock hand last passed: spared once by eviction.
const REFERENCED: u8 = 4;

/// One flow, in one cache line.
#[derive(Clone, Copy, Debug, Default)]
#[repr(align(64))]
struct Entry {
    /// The hash of the flow's key: its identity (never 0).
    key: u64,
    /// Packet time (the table's clock) of its last packet.
    last_seen: i64,
    /// Time of its first packet (which, with the key, gives its id).
    start_nanos: i64,
    /// Packets and bytes, client to server then server to client.
    pkts: [u64; 2],
    bytes: [u64; 2],
    /// [`CLIENT_IS_LOW`], [`PASSED`], [`REFERENCED`]. The client is the
    /// lower endpoint of the key when `CLIENT_IS_LOW` (see [`FlowKey::new`]).
    flags: u8,
}

// One cache line: finding a flow reads its index word and this line only.
const _: () = assert!(std::mem::size_of::<Entry>() == 64);

impl Entry {
    /// A flow whose first packet, at `ts`, came from the lower endpoint if `src_is_low`.
    fn new(key: u64, ts: i64, src_is_low: bool) -> Entry {
        let flags = if src_is_low { CLIENT_IS_LOW } else { 0 };
        Entry { key, last_seen: ts, start_nanos: ts, flags, ..Entry::default() }
    }
}

/// A flow's id: its key and start time, hashed (kept below 2^51, never 0).
fn flow_id(key: u64, start_nanos: i64) -> u64 {
    let mut h = state_hasher();
    h.write_u64(key);
    h.write_i64(start_nanos);
    (h.finish() & ID_MASK).max(1)
}

/// How many entries ahead of the clock hand eviction starts loading what
/// evicting them would touch.
const HAND_AHEAD: usize = 8;

/// The flows of a run.
pub struct FlowTable {
    /// Seed of the key hashes, random per table.
    seed: u64,
    /// The index: a power of two of words (see [`word`]), at most half full.
    buckets: Vec<u64>,
    /// The flows, dense: a full table has `capacity` of them.
    entries: Vec<Entry>,
    /// Most flows held.
    capacity: usize,
    idle: u64,
    /// The latest packet time seen.
    clock: i64,
    /// The clock hand: the next entry eviction looks at.
    hand: usize,
    /// Flows evicted to make room.
    evicted: u64,
}

/// A packet's flow: its endpoints, lower first, and the words that identify it.
struct FlowKey {
    /// Protocol, address family, ports or not, and the ports.
    head: u64,
    /// The addresses (IPv4: both in `addrs[0]`).
    addrs: [u128; 2],
    /// The packet's source is the lower endpoint.
    src_is_low: bool,
}

impl FlowKey {
    /// The flow of `pkt`; None for packets without IP (as
    /// [`FlowTable::observe`] keys it).
    #[cfg(test)]
    fn of(pkt: &Packet<'_>) -> Option<FlowKey> {
        let ip = pkt.ip()?;
        Some(FlowKey::new(ip.proto, ip.src, ip.dst, pkt.ports()))
    }

    /// The flow of the packet a source holds next, read straight from its
    /// bytes in the common cases (Ethernet, VLAN-tagged or not, or raw IP;
    /// IPv4 unfragmented, IPv6 without extension headers; TCP, UDP or
    /// ICMP): a hint for [`FlowTable::prefetch_frame`], at a fraction of a
    /// decode. None for anything else.
    fn of_frame(link_type: u32, frame: &[u8]) -> Option<FlowKey> {
        let be16 = |at: usize| frame.get(at..at + 2).and_then(|b| <[u8; 2]>::try_from(b).ok()).map(u16::from_be_bytes);
        let mut at = match link_type {
            1 => {
                let mut at = 12;
                while matches!(be16(at)?, 0x8100 | 0x88a8 | 0x9100) {
                    at += 4;
                }
                at + 2
            }
            t if crate::decode::is_raw_ip(t) => 0,
            _ => return None,
        };
        let version = frame.get(at)? >> 4;
        let (proto, src, dst) = if version == 4 {
            let ihl = usize::from(frame.get(at)? & 0x0f) * 4;
            // Fragments (more to come, or an offset) are left to the decoder.
            if ihl < 20 || be16(at + 6)? & 0x3fff != 0 {
                return None;
            }
            let addr = |o: usize| frame.get(o..o + 4).and_then(|b| <[u8; 4]>::try_from(b).ok());
            let (src, dst) = (addr(at + 12)?, addr(at + 16)?);
            let proto = *frame.get(at + 9)?;
            at += ihl;
            (proto, IpAddr::from(src), IpAddr::from(dst))
        } else if version == 6 {
            let addr = |o: usize| frame.get(o..o + 16).and_then(|b| <[u8; 16]>::try_from(b).ok());
            let (src, dst) = (addr(at + 8)?, addr(at + 24)?);
            let proto = *frame.get(at + 6)?;
            at += 40;
            (proto, IpAddr::from(src), IpAddr::from(dst))
        } else {
            return None;
        };
        let ports = match proto {
            6 | 17 => Some((be16(at)?, be16(at + 2)?)),
            1 | 58 => None,
            _ => return None,
        };
        Some(FlowKey::new(proto, src, dst, ports))
    }

    /// The flow of a packet from `src` to `dst`, with its ports if TCP or
    /// UDP. Endpoints are ordered by address, then port: the lower one is
    /// the key's first.
    fn new(proto: u8, src: IpAddr, dst: IpAddr, ports: Option<(u16, u16)>) -> FlowKey {
        let (sport, dport) = ports.unwrap_or((0, 0));
        let (v6, s, d) = match (src, dst) {
            (IpAddr::V4(s), IpAddr::V4(d)) => (false, u128::from(u32::from(s)), u128::from(u32::from(d))),
            // (A mixed pair never comes from decoding; the family bit keeps
            // it apart from IPv4 pairs anyway.)
            (s, d) => (true, addr_bits(s), addr_bits(d)),
        };
        let src_is_low = (s, sport) <= (d, dport);
        let (lo_port, hi_port, lo_addr, hi_addr) = if src_is_low { (sport, dport, s, d) } else { (dport, sport, d, s) };
        let head = u64::from(proto) << 40
            | u64::from(v6) << 33
            | u64::from(ports.is_some()) << 32
            | u64::from(lo_port) << 16
            | u64::from(hi_port);
        let addrs = if v6 { [lo_addr, hi_addr] } else { [lo_addr << 32 | hi_addr, 0] };
        FlowKey { head, addrs, src_is_low }
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
    /// index is a power of two at most half full). The memcap bounds the
    /// flow count by it.
    const FLOW_BYTES: usize = std::mem::size_of::<Entry>() + 4 * std::mem::size_of::<u64>();

    /// The smallest index.
    const MIN_BUCKETS: usize = 16;

    /// An empty table bounded by `limits`.
    pub fn new(limits: TableLimits) -> FlowTable {
        use std::hash::BuildHasher;
        // Seeded per run: flow keys are map keys an attacker must not steer.
        let seed = std::collections::hash_map::RandomState::new().hash_one(0x666c_6f77_u64);
        let by_bytes = (limits.memcap_bytes / Self::FLOW_BYTES).max(1);
        let capacity = limits.max_entries.min(by_bytes).clamp(1, (u32::MAX - 1) as usize);
        FlowTable {
            seed,
            buckets: vec![0; Self::MIN_BUCKETS],
            entries: Vec::new(),
            capacity,
            idle: limits.idle_nanos.max(1),
            clock: i64::MIN,
            hand: 0,
            evicted: 0,
        }
    }

    /// Flows held now, idle ones included until a new flow or their next
    /// packet reclaims them.
    pub fn len(&self) -> usize {
        self.entries.len()
    }

    /// True when no flow is held.
    pub fn is_empty(&self) -> bool {
        self.entries.is_empty()
    }

    /// Flows evicted so far to make room for new ones.
    pub fn evicted(&self) -> u64 {
        self.evicted
    }

    /// The table key of `flow`: its hash under this table's seed, never 0.
    fn key_of(&self, flow: &FlowKey) -> u64 {
        flow.hash(self.seed).max(1)
    }

    /// Counts `pkt` in its flow and says where it fell in it (None for
    /// packets without IP). The flow's counters, which an alert carries, are
    /// read by [`FlowTable::info`], only for packets that raise one.
    pub fn observe(&mut self, pkt: &Packet<'_>) -> Option<FlowSeen> {
        let ip = pkt.ip()?;
        let flow = FlowKey::new(ip.proto, ip.src, ip.dst, pkt.ports());
        let key = self.key_of(&flow);
        self.clock = self.clock.max(pkt.ts_nanos);
        let (clock, idle) = (self.clock, self.idle);
        let i = match self.find(key) {
            Some(i) => {
                let entry = self.entries.get_mut(i)?;
                if clock.saturating_sub(entry.last_seen) as u64 >= idle {
                    // Idle too long: forgotten, and this packet starts a new flow.
                    *entry = Entry::new(key, clock, flow.src_is_low);
                } else {
                    entry.flags |= REFERENCED;
                    entry.last_seen = clock;
                }
                i
            }
            None => self.insert(Entry::new(key, clock, flow.src_is_low))?,
        };
        let entry = self.entries.get_mut(i)?;
        let client_is_low = entry.flags & CLIENT_IS_LOW != 0;
        let to_server = flow.src_is_low == client_is_low;
        let side = usize::from(!to_server);
        let first_in_direction = entry.pkts.get(side) == Some(&0);
        if let (Some(p), Some(b)) = (entry.pkts.get_mut(side), entry.bytes.get_mut(side)) {
            *p += 1;
            *b += u64::from(pkt.wire_len);
        }
        Some(FlowSeen {
            entry: i as u32,
            key,
            to_server,
            first_in_direction,
            established: entry.pkts[0] > 0 && entry.pkts[1] > 0,
            passed: entry.flags & PASSED != 0,
        })
    }

    /// The counters of the flow `seen` (what [`FlowTable::observe`] said of
    /// `pkt`, the packet it counted last), as an alert on `pkt` carries them.
    /// None if `pkt` has no IP or the flow is no longer held (only another
    /// packet's `observe` can evict it).
    pub fn info(&self, seen: &FlowSeen, pkt: &Packet<'_>) -> Option<FlowInfo> {
        let ip = pkt.ip()?;
        let entry = self.entries.get(seen.entry as usize).filter(|e| e.key == seen.key)?;
        let ports = pkt.ports();
        let src = (ip.src, ports.map(|p| p.0));
        let dst = (ip.dst, ports.map(|p| p.1));
        let (client, server) = if seen.to_server { (src, dst) } else { (dst, src) };
        let [pkts_toserver, pkts_toclient] = entry.pkts;
        let [bytes_toserver, bytes_toclient] = entry.bytes;
        Some(FlowInfo {
            start_nanos: entry.start_nanos,
            client,
            server,
            pkts_toserver,
            bytes_toserver,
            pkts_toclient,
            bytes_toclient,
            to_server: seen.to_server,
            first_in_direction: seen.first_in_direction,
            passed: seen.passed,
            key: seen.key,
        })
    }

    /// [`FlowTable::observe`] then [`FlowTable::info`] (tests).
    #[cfg(test)]
    fn observe_info(&mut self, pkt: &Packet<'_>) -> Option<FlowInfo> {
        let seen = self.observe(pkt)?;
        self.info(&seen, pkt)
    }

    /// Starts loading the index word the flow of the packet in `frame`
    /// (captured on `link_type`) is found by, or would be, so that
    /// observing that packet soon after does not wait on memory: the miss
    /// of a new flow's home bucket was two fifths of counting it. A hint:
    /// changes nothing, and does nothing for frames it cannot read at a glance.
    pub fn prefetch_frame(&self, link_type: u32, frame: &[u8]) {
        if let Some(flow) = FlowKey::of_frame(link_type, frame) {
            let key = self.key_of(&flow);
            if let Some(word) = self.buckets.get(home(key, self.buckets.len() - 1)) {
                prefetch(word);
            }
        }
    }

    /// Marks the flow `key` (from [`FlowInfo::key`]) passed: later packets of
    /// it, both ways, raise no alerts.
    pub fn pass(&mut self, key: u64, ts: i64) {
        self.clock = self.clock.max(ts);
        if let Some(entry) = self.find(key).and_then(|i| self.entries.get_mut(i)) {
            entry.flags |= PASSED;
        }
    }

    /// The entry of `key`, if held.
    fn find(&self, key: u64) -> Option<usize> {
        let holds = |i: usize| self.entries.get(i).is_some_and(|e| e.key == key);
        find(&self.buckets, key, holds).map(|(_, i)| i)
    }

    /// A new flow: in a new entry, or (full) in the place of one evicted.
    /// Returns its entry.
    fn insert(&mut self, entry: Entry) -> Option<usize> {
        let key = entry.key;
        let i = if self.entries.len() < self.capacity {
            if self.entries.len() == self.entries.capacity() {
                // Doubling, but never past the bound.
                let more = self.entries.len().max(8).min(self.capacity - self.entries.len());
                self.entries.reserve_exact(more);
            }
            self.entries.push(entry);
            if 2 * self.entries.len() > self.buckets.len() {
                self.grow();
            }
            self.entries.len() - 1
        } else {
            let i = self.victim();
            self.unindex(i);
            *self.entries.get_mut(i)? = entry;
            self.evicted += 1;
            i
        };
        place(&mut self.buckets, word(key, i));
        Some(i)
    }

    /// The flow a full table evicts for a new one (the CLOCK policy, an
    /// approximation of least recently seen that walks the entries in
    /// order): the hand moves on from where it stopped; a flow seen again
    /// since it last passed loses that mark and is spared, and the first
    /// flow idle too long or not seen again is the victim. Within two turns
    /// of the hand there is one, since the first turn clears every mark.
    fn victim(&mut self) -> usize {
        let n = self.entries.len();
        let mask = self.buckets.len() - 1;
        for _ in 0..2 * n {
            let i = self.hand;
            self.hand = if i + 1 < n { i + 1 } else { 0 };
            // What evicting the entries further on would touch, in two
            // stages: the line of the entry twice as far ahead (the hand
            // moves one step a new flow, too slowly for the hardware to
            // see a stream), and the index word of the one half as far,
            // whose line was asked for that many steps ago.
            if let Some(far) = self.entries.get(wrap(i + 2 * HAND_AHEAD, n)) {
                prefetch(far);
            }
            if let Some(ahead) = self.entries.get(wrap(i + HAND_AHEAD, n)) {
                if let Some(word) = self.buckets.get(home(ahead.key, mask)) {
                    prefetch(word);
                }
            }
            let Some(entry) = self.entries.get_mut(i) else { break };
            let idle = self.clock.saturating_sub(entry.last_seen) as u64 >= self.idle;
            if entry.flags & REFERENCED != 0 && !idle {
                entry.flags &= !REFERENCED;
                continue;
            }
            return i;
        }
        self.hand
    }

    /// Doubles the index.
    fn grow(&mut self) {
        let mut bigger = vec![0u64; self.buckets.len() * 2];
        for &w in self.buckets.iter().filter(|&&w| w != 0) {
            place(&mut bigger, w);
        }
        self.buckets = bigger;
    }

    /// Removes entry `i` from the index.
    fn unindex(&mut self, i: usize) {
        let Some(key) = self.entries.get(i).map(|e| e.key) else { return };
        if let Some(bucket) = bucket_of(&self.buckets, word(key, i)) {
            unindex(&mut self.buckets, bucket);
        }
    }
}

/// `i` taken round `n` entries, without a division in the common case.
fn wrap(i: usize, n: usize) -> usize {
    if i < n {
        i
    } else {
        i % n
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use ferret_synth::frame;
    use proptest::prelude::*;
    use std::collections::HashMap;
    use std::net::{Ipv4Addr, Ipv6Addr};

    type Endpoint = (IpAddr, Option<u16>);

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
        let a = t.observe_info(&Packet::decode(1, &q, 1, 1_000, q.len() as u32)).unwrap();
        let b = t.observe_info(&Packet::decode(1, &r, 2, 2_000, r.len() as u32)).unwrap();
        let c = t.observe_info(&Packet::decode(1, &other, 3, 3_000, other.len() as u32)).unwrap();
        assert_eq!(a.id(), b.id());
        assert_ne!(a.id(), c.id());
        assert!(a.id() > 0 && a.id() <= ID_MASK);
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
    fn a_flow_seen_again_is_spared_by_eviction() {
        let mut t = FlowTable::new(limits(2, u64::MAX));
        let f = |port| udp([10, 0, 0, 1], port, [10, 0, 0, 2], 53);
        let (a, b, c) = (f(1), f(2), f(3));
        let see = |t: &mut FlowTable, frame: &[u8], ts| t.observe_info(&Packet::decode(1, frame, 1, ts, 60)).unwrap();
        let a1 = see(&mut t, &a, 1);
        see(&mut t, &b, 2);
        // `a` seen again: `b` is the one not seen since.
        assert_eq!(see(&mut t, &a, 3).pkts_toserver, 2);
        see(&mut t, &c, 4);
        assert_eq!((t.len(), t.evicted()), (2, 1));
        let a4 = see(&mut t, &a, 5);
        assert_eq!((a4.pkts_toserver, a4.id()), (3, a1.id()), "a was kept");
        let b2 = see(&mut t, &b, 6);
        assert_eq!((b2.pkts_toserver, b2.start_nanos), (1, 6), "b was evicted and starts over");
        assert_ne!(b2.id(), 0);
    }

    #[test]
    fn flows_that_keep_talking_outlive_churn() {
        // 20 long flows, each seen once a round, among 40 new one-packet
        // flows a round, on a table of 100: the long ones never start over.
        let mut t = FlowTable::new(limits(100, u64::MAX));
        let mut ts = 0;
        let mut ids = vec![None; 20];
        for round in 0..500u32 {
            for (host, id) in ids.iter_mut().enumerate() {
                ts += 1;
                let frame = udp([10, 1, 0, host as u8], 4000, [10, 9, 9, 9], 443);
                let info = t.observe_info(&Packet::decode(1, &frame, 1, ts, 60)).unwrap();
                assert_eq!(*id.get_or_insert(info.id()), info.id(), "flow {host} restarted in round {round}");
                assert_eq!(info.pkts_toserver, u64::from(round) + 1);
            }
            for k in 0..40u32 {
                ts += 1;
                let n = round * 40 + k;
                let frame = udp([10, 2, (n >> 8) as u8, n as u8], 5000 + (n >> 16) as u16, [10, 9, 9, 9], 53);
                t.observe_info(&Packet::decode(1, &frame, 1, ts, 60)).unwrap();
            }
            t.check();
        }
        assert_eq!(t.len(), 100);
        assert!(t.evicted() > 19_000);
    }

    #[test]
    fn idle_flows_expire_by_packet_time() {
        let mut t = FlowTable::new(limits(100, 10));
        let a = udp([10, 0, 0, 1], 1, [10, 0, 0, 2], 53);
        let b = udp([10, 0, 0, 3], 1, [10, 0, 0, 2], 53);
        t.observe_info(&Packet::decode(1, &a, 1, 100, 60)).unwrap();
        let before = t.observe_info(&Packet::decode(1, &b, 2, 105, 60)).unwrap().id();
        assert_eq!(t.observe_info(&Packet::decode(1, &a, 3, 109, 60)).unwrap().pkts_toserver, 2);
        // 10 ns after b's last packet: b has expired, a (seen at 109) has not.
        assert_eq!(t.observe_info(&Packet::decode(1, &a, 4, 115, 60)).unwrap().pkts_toserver, 3);
        let again = t.observe_info(&Packet::decode(1, &b, 5, 116, 60)).unwrap();
        assert_eq!((again.pkts_toserver, again.start_nanos), (1, 116));
        assert_ne!(again.id(), before);
        assert_eq!(t.len(), 2, "b's slot is reused, not doubled");
    }

    #[test]
    fn a_full_table_evicts_an_idle_flow_before_a_spared_one() {
        let mut t = FlowTable::new(limits(2, 10));
        let f = |port| udp([10, 0, 0, 1], port, [10, 0, 0, 2], 53);
        let (a, b, c) = (f(1), f(2), f(3));
        let see = |t: &mut FlowTable, frame: &[u8], ts| t.observe_info(&Packet::decode(1, frame, 1, ts, 60)).unwrap();
        see(&mut t, &a, 0);
        see(&mut t, &b, 1);
        // b seen again (marked), then idle; a seen again lately.
        see(&mut t, &b, 2);
        see(&mut t, &a, 5);
        see(&mut t, &a, 13);
        see(&mut t, &c, 14);
        assert_eq!(see(&mut t, &a, 15).pkts_toserver, 4, "a was kept");
        assert_eq!(see(&mut t, &b, 16).pkts_toserver, 1, "b, idle, was evicted");
        assert_eq!(t.evicted(), 2, "b, then c or a for b");
    }

    #[test]
    fn a_frame_read_at_a_glance_has_the_decoded_packets_flow() {
        let v4 = |h: u8| Ipv4Addr::new(10, 0, 0, h);
        let v6 = |h: u16| Ipv6Addr::new(0xfd00, 0, 0, 0, 0, 0, 0, h);
        let udp = frame::udp(v4(1), v4(2), 5555, 53, b"q");
        let mut tagged = udp.clone();
        tagged.splice(12..12, [0x81, 0x00, 0x00, 0x07]);
        let mut fragment = udp.clone();
        fragment[20] |= 0x20;
        let frames: Vec<(u32, Vec<u8>)> = vec![
            (1, udp.clone()),
            (1, frame::udp(v4(9), v4(2), 53, 5555, b"r")),
            (1, frame::tcp(v4(3), v4(4), 443, 40000, 0x18, 7, b"data")),
            (1, frame::icmp_echo(v4(5), v4(6), false, 1, 2, b"ping")),
            (1, frame::icmpv6_echo(v6(1), v6(2), true, 1, 2, b"ping")),
            (1, tagged),
            (101, udp[14..].to_vec()),
        ];
        let t = FlowTable::new(TableLimits::default());
        for (link, f) in &frames {
            let decoded = FlowKey::of(&Packet::decode(*link, f, 1, 1, f.len() as u32)).unwrap();
            let glance = FlowKey::of_frame(*link, f).expect("read at a glance");
            assert_eq!(
                (glance.head, glance.addrs, glance.src_is_low),
                (decoded.head, decoded.addrs, decoded.src_is_low)
            );
            assert_eq!(t.key_of(&glance), t.key_of(&decoded));
            // Cut anywhere, a frame never panics the glance.
            for cut in 0..f.len() {
                let _ = FlowKey::of_frame(*link, &f[..cut]);
            }
        }
        assert!(FlowKey::of_frame(1, &fragment).is_none(), "fragments are the decoder's");
        assert!(FlowKey::of_frame(1, &frame::arp_request(v4(1), v4(2))).is_none());
        assert!(FlowKey::of_frame(147, &udp).is_none(), "an unknown link type");
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
        let a = t.observe_info(&Packet::decode(1, &q, 1, 1, 60)).unwrap();
        assert!(!a.passed);
        t.pass(a.key, 1);
        assert!(t.observe_info(&Packet::decode(1, &r, 2, 2, 60)).unwrap().passed);
    }

    #[test]
    fn a_full_table_churns_within_its_bound_for_long() {
        // Many more flows than room, in random order: counts stay exact and
        // the table consistent through every eviction.
        let mut t = FlowTable::new(limits(500, u64::MAX));
        let mut model = Model::new(u64::MAX);
        let mut x = 0x9e37_79b9_7f4a_7c15_u64;
        for n in 0..60_000i64 {
            x ^= x << 13;
            x ^= x >> 7;
            x ^= x << 17;
            let src = [10, 0, (x % 7) as u8, (x >> 8) as u8 % 40];
            let frame = udp(src, 1000 + (x >> 16) as u16 % 3, [10, 9, 9, 9], 53);
            let pkt = Packet::decode(1, &frame, 1, n, 60);
            let got = t.observe_info(&pkt).unwrap();
            model.check(&pkt, got, t.evicted());
            assert!(t.len() <= 500);
            if n % 1000 == 0 {
                t.check();
            }
        }
        t.check();
        assert_eq!(t.len(), 500);
        assert!(t.evicted() > 10_000);
    }

    impl FlowTable {
        /// Panics unless the table is consistent: every entry indexed
        /// once and found from its home, keys unique, within bounds.
        fn check(&self) {
            let mask = self.buckets.len() - 1;
            let words = self.buckets.iter().filter(|&&w| w != 0).count();
            assert_eq!(words, self.entries.len());
            for (i, e) in self.entries.iter().enumerate() {
                assert_eq!(self.find(e.key), Some(i), "entry {i} unreachable or duplicated");
                let mut pos = home(e.key, mask);
                while self.buckets[pos] != word(e.key, i) {
                    assert_ne!(self.buckets[pos], 0, "an empty bucket before entry {i}'s word");
                    pos = (pos + 1) & mask;
                }
            }
            assert!(self.entries.len() <= self.capacity);
            assert!(2 * self.entries.len() <= self.buckets.len());
        }
    }

    /// The reference: flows by their endpoints. Eviction is the table's
    /// choice, so the model allows a flow to start over when it is idle or
    /// some flow was evicted since its last packet; otherwise its counts
    /// and id must go on exactly.
    struct Model {
        idle: u64,
        clock: i64,
        flows: HashMap<(u8, Endpoint, Endpoint), ModelFlow>,
    }

    struct ModelFlow {
        id: u64,
        start: i64,
        client: Endpoint,
        pkts: [u64; 2],
        bytes: [u64; 2],
        last_seen: i64,
        /// The table's eviction count at its last packet.
        evicted: u64,
    }

    impl Model {
        fn new(idle: u64) -> Model {
            Model { idle, clock: i64::MIN, flows: HashMap::new() }
        }

        fn check(&mut self, pkt: &Packet<'_>, got: FlowInfo, evicted: u64) {
            let ip = pkt.ip().unwrap();
            let ports = pkt.ports();
            let src = (ip.src, ports.map(|p| p.0));
            let dst = (ip.dst, ports.map(|p| p.1));
            let key = if src <= dst { (ip.proto, src, dst) } else { (ip.proto, dst, src) };
            self.clock = self.clock.max(pkt.ts_nanos);
            let restarted = got.pkts_toserver + got.pkts_toclient == 1;
            let fresh = ModelFlow {
                id: got.id(),
                start: self.clock,
                client: src,
                pkts: [0; 2],
                bytes: [0; 2],
                last_seen: 0,
                evicted,
            };
            let flow = match self.flows.get_mut(&key) {
                Some(flow) if restarted => {
                    let idle = (self.clock - flow.last_seen) as u64 >= self.idle;
                    assert!(idle || evicted > flow.evicted, "a held flow started over: {got:?}");
                    *flow = fresh;
                    flow
                }
                Some(flow) => flow,
                None => {
                    assert!(restarted, "an unknown flow went on: {got:?}");
                    self.flows.entry(key).or_insert(fresh)
                }
            };
            flow.last_seen = self.clock;
            flow.evicted = evicted;
            let side = usize::from(flow.client != src);
            let first = flow.pkts[side] == 0;
            flow.pkts[side] += 1;
            flow.bytes[side] += u64::from(pkt.wire_len);
            let server = if flow.client == src { dst } else { src };
            assert_eq!(got.id(), flow.id, "one id per flow");
            let want = FlowInfo {
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
        fn counts_evicts_and_expires_within_the_model(
            max in 1usize..8,
            idle in 1u64..30,
            packets in proptest::collection::vec((0u8..4, 0u8..4, 0u8..4, 0u16..3, 0u16..3, 0i64..4), 1..200),
        ) {
            let mut t = FlowTable::new(limits(max, idle));
            let mut model = Model::new(idle);
            let mut ts = 0i64;
            for (kind, a, b, pa, pb, dt) in packets {
                ts += dt;
                let frame = frame_of(kind, a, b, pa, pb);
                let pkt = Packet::decode(1, &frame, 1, ts, frame.len() as u32);
                let got = t.observe_info(&pkt).unwrap();
                model.check(&pkt, got, t.evicted());
                t.check();
                prop_assert!(t.len() <= max);
            }
        }
    }
}
