//! IP defragmentation: IPv4 (RFC 791) and IPv6 (RFC 8200 §4.5) fragments
//! put back together so the datagram is decoded and matched as one packet.
//!
//! Fragments are kept per datagram (source, destination, identification and,
//! for IPv4, protocol) until the datagram is whole, then written into one
//! buffer this module owns: the first fragment's header (IPv4 with its
//! options; IPv6 with the extension headers before the Fragment header,
//! which is removed) followed by the payload. The engine decodes that buffer
//! as a raw IP packet and matches it like any other.
//!
//! **Overlap policy: BSD** (Suricata's default, after Novak's "Target-Based
//! Fragmentation Reassembly"): where fragments overlap, the bytes of the
//! fragment that starts lower win; between fragments with the same start,
//! the one that came first. An overlap whose bytes differ is what evasion
//! looks like (each target OS keeps different bytes, so a sensor cannot know
//! which the host saw): it is flagged (`ip.frag.overlap`) and counted.
//!
//! **Bounds.** At most `max_datagrams` datagrams in flight, `max_bytes` of
//! fragment data held in all, `max_fragments` per datagram, a datagram's
//! payload within 65,535 bytes, and `timeout` of packet time from its first
//! fragment (60 s, as Suricata). What breaks a bound is given up and counted
//! in [`DefragStats`]. Buffers of finished datagrams are kept for reuse (up to
//! [`POOL`] of them, each under [`KEEP_CAPACITY`] bytes), so a steady stream
//! of fragments stops allocating; packets that are not fragments never get here.

use std::net::IpAddr;

use crate::decode::features::FragStatus;
use crate::decode::fragment::Fragment;
use crate::decode::Packet;

use super::slots::Slots;

/// Bounds of the reassembler.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct DefragLimits {
    /// Datagrams being reassembled at once; a fragment of a new datagram beyond it is dropped.
    pub max_datagrams: usize,
    /// Bytes of fragment data held over all datagrams.
    pub max_bytes: usize,
    /// Fragments one datagram may have.
    pub max_fragments: usize,
    /// How long (packet time, ns) a datagram may take from its first fragment.
    pub timeout_nanos: i64,
}

impl Default for DefragLimits {
    fn default() -> Self {
        DefragLimits { max_datagrams: 4096, max_bytes: 32 << 20, max_fragments: 256, timeout_nanos: 60_000_000_000 }
    }
}

/// What the reassembler did, for the summary and the stats file.
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq, serde::Serialize)]
pub struct DefragStats {
    /// Fragments seen.
    pub fragments: u64,
    /// Datagrams reassembled and matched.
    pub reassembled: u64,
    /// Fragments overlapping an earlier one of their datagram.
    pub overlaps: u64,
    /// Of those, overlaps whose bytes differ (evasion; `ip.frag.overlap`).
    pub overlap_conflicts: u64,
    /// First fragments too short to hold their transport header (`ip.frag.tiny`).
    pub tiny_first: u64,
    /// Datagrams given up: more than `max_fragments` fragments.
    pub too_many_fragments: u64,
    /// Datagrams given up: payload beyond 65,535 bytes.
    pub too_large: u64,
    /// Datagrams given up: not complete within the timeout.
    pub timeouts: u64,
    /// Datagrams given up or not started: `max_datagrams` or `max_bytes` reached.
    pub no_room: u64,
}

/// Buffers of finished datagrams kept for reuse.
pub const POOL: usize = 64;
/// A kept buffer larger than this is freed instead.
pub const KEEP_CAPACITY: usize = 1 << 17;

#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash)]
struct Key {
    src: IpAddr,
    dst: IpAddr,
    id: u32,
    /// IPv4's protocol (part of its datagram key); 0 for IPv6.
    proto: u8,
}

/// One fragment's bytes: `len` bytes at `offset` of the payload, stored at `at` of the store.
#[derive(Clone, Copy, Debug)]
struct Piece {
    offset: u32,
    len: u32,
    at: u32,
}

#[derive(Debug, Default)]
struct Datagram {
    key: Option<Key>,
    first_ts: i64,
    /// Sorted by offset; equal offsets in arrival order.
    pieces: Vec<Piece>,
    store: Vec<u8>,
    /// The first fragment's header (empty until it arrives).
    header: Vec<u8>,
    next_header_at: usize,
    proto: u8,
    /// Payload length, known once the last fragment arrived.
    total: Option<u32>,
    status: FragStatus,
}

/// The result of one fragment.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct Outcome {
    /// What this fragment showed.
    pub status: FragStatus,
    /// Its datagram is whole: [`Defrag::take_datagram`] has it, with its status.
    pub complete: Option<FragStatus>,
}

/// The reassembler (one per engine, created at the first fragment).
#[derive(Debug)]
pub struct Defrag {
    limits: DefragLimits,
    /// Datagrams in flight by key; finished ones' slots kept for reuse.
    slots: Slots<Key, Datagram>,
    bytes: usize,
    /// No datagram can time out before this packet time.
    next_expiry: i64,
    out: Vec<u8>,
}

impl Defrag {
    /// An empty reassembler.
    pub fn new(limits: DefragLimits) -> Defrag {
        Defrag { limits, slots: Slots::new(), bytes: 0, next_expiry: i64::MAX, out: Vec::new() }
    }

    /// Datagrams in flight.
    pub fn in_flight(&self) -> usize {
        self.slots.len()
    }

    /// Bytes of fragment data held.
    pub fn bytes(&self) -> usize {
        self.bytes
    }

    /// Adds `frag`, a fragment of `pkt`.
    pub fn insert(&mut self, pkt: &Packet<'_>, frag: &Fragment<'_>, stats: &mut DefragStats) -> Outcome {
        stats.fragments += 1;
        let mut outcome = Outcome { status: FragStatus::default(), complete: None };
        let Some(ip) = pkt.ip() else { return outcome };
        if pkt.ts_nanos >= self.next_expiry {
            self.expire(pkt.ts_nanos, stats);
        }
        let key = Key { src: ip.src, dst: ip.dst, id: frag.id, proto: if ip.version == 4 { frag.proto } else { 0 } };
        let end = u64::from(frag.offset) + frag.data.len() as u64;
        // IPv4 counts its header in the 65,535; IPv6 only what follows the fixed header.
        let counted_header = if ip.version == 4 { frag.header.len() } else { frag.header.len().saturating_sub(40) };
        let slot = self.slots.find(&key);
        if end + counted_header as u64 > 65_535 {
            stats.too_large += 1;
            outcome.status.invalid = true;
            if let Some(slot) = slot {
                self.release(slot);
            }
            return outcome;
        }
        let slot = match slot {
            Some(slot) => slot,
            None if self.slots.len() >= self.limits.max_datagrams => {
                stats.no_room += 1;
                return outcome;
            }
            None => self.open(key, pkt.ts_nanos),
        };
        let Some(d) = self.slots.get_mut(slot) else { return outcome };
        if d.pieces.len() >= self.limits.max_fragments {
            stats.too_many_fragments += 1;
            outcome.status.invalid = true;
            self.release(slot);
            return outcome;
        }
        if self.bytes + frag.data.len() > self.limits.max_bytes {
            stats.no_room += 1;
            self.release(slot);
            return outcome;
        }
        if frag.offset == 0 && d.header.is_empty() {
            d.header.extend_from_slice(frag.header);
            d.next_header_at = frag.next_header_at;
            d.proto = frag.proto;
            if frag.more && frag.data.len() < transport_header_len(frag.proto) {
                outcome.status.tiny = true;
                d.status.tiny = true;
                stats.tiny_first += 1;
            }
        }
        let (offset, len) = (frag.offset, frag.data.len() as u32);
        if !frag.more {
            match d.total {
                None => d.total = Some(offset + len),
                // Two last fragments that disagree on the length: keep the first.
                Some(total) if total != offset + len => outcome.status.overlap = true,
                Some(_) => {}
            }
        }
        let mut overlapped = false;
        for p in &d.pieces {
            let (lo, hi) = (offset.max(p.offset), (offset + len).min(p.offset + p.len));
            if lo >= hi {
                continue;
            }
            overlapped = true;
            let old = d.store.get((p.at + lo - p.offset) as usize..(p.at + hi - p.offset) as usize);
            let new = frag.data.get((lo - offset) as usize..(hi - offset) as usize);
            if old != new {
                outcome.status.overlap = true;
            }
        }
        stats.overlaps += u64::from(overlapped);
        if outcome.status.overlap {
            d.status.overlap = true;
            stats.overlap_conflicts += 1;
        }
        let at = d.store.len() as u32;
        d.store.extend_from_slice(frag.data);
        self.bytes += frag.data.len();
        let pos = d.pieces.partition_point(|p| p.offset <= offset);
        d.pieces.insert(pos, Piece { offset, len, at });
        if let Some(total) = d.total.filter(|&t| !d.header.is_empty() && covers(&d.pieces, t)) {
            outcome.complete = Some(FragStatus { reassembled: true, ..d.status });
            assemble(d, total, &mut self.out);
            stats.reassembled += 1;
            self.release(slot);
        }
        outcome
    }

    /// The last completed datagram (a raw IPv4 or IPv6 packet), lent out so
    /// the engine can decode it while it borrows itself mutably; give it
    /// back with [`Defrag::restore`] to reuse its buffer.
    pub fn take_datagram(&mut self) -> Vec<u8> {
        std::mem::take(&mut self.out)
    }

    /// Takes back the buffer [`Defrag::take_datagram`] lent.
    pub fn restore(&mut self, buf: Vec<u8>) {
        self.out = buf;
    }

    /// The bytes of the datagram last rebuilt (once given back with
    /// [`Defrag::restore`]), until the next one is rebuilt.
    pub fn last_datagram(&self) -> &[u8] {
        &self.out
    }

    fn open(&mut self, key: Key, ts: i64) -> usize {
        let slot = self.slots.insert(key);
        if let Some(d) = self.slots.get_mut(slot) {
            d.key = Some(key);
            d.first_ts = ts;
        }
        self.next_expiry = self.next_expiry.min(ts.saturating_add(self.limits.timeout_nanos));
        slot
    }

    fn release(&mut self, slot: usize) {
        let pooled = self.slots.freed();
        let Some(d) = self.slots.get_mut(slot) else { return };
        let Some(key) = d.key.take() else { return };
        self.bytes -= d.store.len();
        if pooled >= POOL || d.store.capacity() > KEEP_CAPACITY {
            *d = Datagram::default();
        } else {
            d.pieces.clear();
            d.store.clear();
            d.header.clear();
            d.total = None;
            d.status = FragStatus::default();
        }
        self.slots.remove(&key);
    }

    /// Gives up every datagram older than the timeout at packet time `now`.
    fn expire(&mut self, now: i64, stats: &mut DefragStats) {
        let timeout = self.limits.timeout_nanos;
        let mut next = i64::MAX;
        for slot in 0..self.slots.capacity() {
            let Some(d) = self.slots.get(slot).filter(|d| d.key.is_some()) else { continue };
            let expiry = d.first_ts.saturating_add(timeout);
            if now >= expiry {
                stats.timeouts += 1;
                self.release(slot);
            } else {
                next = next.min(expiry);
            }
        }
        self.next_expiry = next;
    }
}

/// Shortest first fragment that holds its transport header (RFC 1858: a
/// TCP header split over two fragments hides its flags from filters).
fn transport_header_len(proto: u8) -> usize {
    match proto {
        6 => 20,
        17 | 1 | 58 => 8,
        _ => 0,
    }
}

/// True if `pieces` (sorted by offset) leave no gap in `0..total`.
fn covers(pieces: &[Piece], total: u32) -> bool {
    let mut reach = 0;
    for p in pieces {
        if p.offset > reach {
            return false;
        }
        reach = reach.max(p.offset + p.len);
        if reach >= total {
            return true;
        }
    }
    reach >= total
}

/// Writes the datagram into `out`: header, then the pieces, the higher start
/// first so the lower start (and, at equal starts, the earlier) overwrites it.
fn assemble(d: &Datagram, total: u32, out: &mut Vec<u8>) {
    out.clear();
    out.extend_from_slice(&d.header);
    let hl = d.header.len();
    out.resize(hl + total as usize, 0);
    for p in d.pieces.iter().rev() {
        let end = (p.offset + p.len).min(total);
        if p.offset >= end {
            continue;
        }
        let n = (end - p.offset) as usize;
        let src = d.store.get(p.at as usize..p.at as usize + n);
        let dst = out.get_mut(hl + p.offset as usize..hl + p.offset as usize + n);
        if let (Some(src), Some(dst)) = (src, dst) {
            dst.copy_from_slice(src);
        }
    }
    let len = out.len();
    let Some(h) = out.get_mut(..hl) else { return };
    if h.first().is_some_and(|b| b >> 4 == 4) {
        put_u16(h, 2, len as u16);
        put_u16(h, 6, 0);
        put_u16(h, 10, 0);
        let sum = ipv4_checksum(h);
        put_u16(h, 10, sum);
    } else {
        put_u16(h, 4, (len - 40) as u16);
        if let Some(b) = h.get_mut(d.next_header_at) {
            *b = d.proto;
        }
    }
}

fn put_u16(buf: &mut [u8], at: usize, value: u16) {
    if let Some(slot) = buf.get_mut(at..at + 2) {
        slot.copy_from_slice(&value.to_be_bytes());
    }
}

fn ipv4_checksum(header: &[u8]) -> u16 {
    let word = |c: &[u8]| u32::from(u16::from_be_bytes([*c.first().unwrap_or(&0), *c.get(1).unwrap_or(&0)]));
    let mut sum: u32 = header.chunks(2).map(word).sum();
    while sum > 0xffff {
        sum = (sum & 0xffff) + (sum >> 16);
    }
    !(sum as u16)
}

#[cfg(test)]
mod tests {
    use super::*;

    const SEC: i64 = 1_000_000_000;

    /// An IPv4 fragment of datagram `id` (ICMP) from 10.0.0.1 to 10.0.0.2.
    fn v4(id: u16, offset: u32, more: bool, data: &[u8]) -> Vec<u8> {
        let total = (20 + data.len()) as u16;
        let flags = (offset / 8) as u16 | if more { 0x2000 } else { 0 };
        let mut ip = vec![0x45, 0, 0, 0, 0, 0, 0, 0, 64, 1, 0, 0, 10, 0, 0, 1, 10, 0, 0, 2];
        ip[2..4].copy_from_slice(&total.to_be_bytes());
        ip[4..6].copy_from_slice(&id.to_be_bytes());
        ip[6..8].copy_from_slice(&flags.to_be_bytes());
        ip.extend_from_slice(data);
        ip
    }

    /// An IPv6 fragment (hop-by-hop header first, then Fragment, then ICMPv6 data).
    fn v6(id: u32, offset: u32, more: bool, data: &[u8]) -> Vec<u8> {
        let mut ip = vec![0x60, 0, 0, 0, 0, 0, 0, 64];
        ip.extend_from_slice(&[0xfd; 16]);
        ip.extend_from_slice(&[0xfe; 16]);
        ip.extend_from_slice(&[44, 0, 1, 4, 0, 0, 0, 0]);
        let fo = (offset as u16 & 0xfff8) | u16::from(more);
        ip.extend_from_slice(&[58, 0]);
        ip.extend_from_slice(&fo.to_be_bytes());
        ip.extend_from_slice(&id.to_be_bytes());
        ip.extend_from_slice(data);
        let len = (ip.len() - 40) as u16;
        ip[4..6].copy_from_slice(&len.to_be_bytes());
        ip
    }

    struct Run {
        defrag: Defrag,
        stats: DefragStats,
    }

    impl Run {
        fn new(limits: DefragLimits) -> Run {
            Run { defrag: Defrag::new(limits), stats: DefragStats::default() }
        }

        /// Feeds one raw IP fragment at `ts`; the datagram's bytes if it completed one.
        fn feed(&mut self, ip: &[u8], ts: i64) -> (FragStatus, Option<Vec<u8>>) {
            let pkt = Packet::decode(101, ip, 1, ts, ip.len() as u32);
            let frag = pkt.fragment.expect("a fragment");
            let out = self.defrag.insert(&pkt, &frag, &mut self.stats);
            (out.status, out.complete.map(|_| self.defrag.take_datagram()))
        }
    }

    fn payload(n: usize) -> Vec<u8> {
        (0..n).map(|i| (i * 7 + 3) as u8).collect()
    }

    #[test]
    fn in_order_and_out_of_order_fragments_rebuild_the_datagram() {
        let data = payload(64);
        for order in [[0, 1, 2], [2, 0, 1], [1, 2, 0]] {
            let mut run = Run::new(DefragLimits::default());
            let frags = [v4(7, 0, true, &data[..24]), v4(7, 24, true, &data[24..48]), v4(7, 48, false, &data[48..])];
            let mut done = None;
            for (i, &k) in order.iter().enumerate() {
                let (_, whole) = run.feed(&frags[k], i as i64);
                assert_eq!(whole.is_some(), i == 2, "order {order:?}");
                done = whole.or(done);
            }
            let whole = done.unwrap();
            let pkt = Packet::decode(101, &whole, 1, 0, whole.len() as u32);
            assert_eq!(pkt.fragment, None);
            assert_eq!(pkt.ip().unwrap().total_len, 84);
            assert_eq!(ipv4_checksum(&whole[..20]), 0, "the rebuilt header's checksum is right");
            assert_eq!(pkt.payload, &data[8..], "ICMP payload after the 8-byte header");
            assert_eq!((run.stats.reassembled, run.defrag.in_flight(), run.defrag.bytes()), (1, 0, 0));
        }
    }

    #[test]
    fn ipv6_fragments_behind_extension_headers() {
        let data = payload(100);
        let mut run = Run::new(DefragLimits::default());
        assert!(run.feed(&v6(0xabcd, 48, false, &data[48..]), 0).1.is_none());
        let (_, whole) = run.feed(&v6(0xabcd, 0, true, &data[..48]), 1);
        let whole = whole.unwrap();
        assert_eq!(whole.len(), 40 + 8 + 100, "the Fragment header is gone, hop-by-hop stays");
        assert_eq!(whole[6], 0, "the fixed header still names hop-by-hop");
        assert_eq!(whole[40], 58, "hop-by-hop now names ICMPv6");
        let pkt = Packet::decode(101, &whole, 1, 0, whole.len() as u32);
        assert!(matches!(pkt.transport, crate::decode::Transport::Icmp6(_)));
        assert_eq!(pkt.payload, &data[8..]);
    }

    #[test]
    fn overlap_policy_is_bsd() {
        // The lower start wins; at equal starts the first to arrive wins.
        let (a, b) = ([b'A'; 24], [b'B'; 24]);
        /// Fragments (offset, bytes, more) in arrival order, and the payload kept.
        type Case<'x> = (&'x [(u32, &'x [u8], bool)], &'x [u8]);
        let cases: [Case<'_>; 3] = [
            // Old [0,24) A, new [16,40) B: A keeps 16..24.
            (&[(0, &a, true), (16, &b, false)], b"AAAAAAAAAAAAAAAAAAAAAAAABBBBBBBBBBBBBBBB"),
            // Old [16,40) B, new [0,24) A: the new one starts lower and wins 16..24.
            (&[(16, &b, false), (0, &a, true)], b"AAAAAAAAAAAAAAAAAAAAAAAABBBBBBBBBBBBBBBB"),
            // Same start: the first (B) wins where both are.
            (&[(8, &b, false), (8, &a[..16], true), (0, &a[..8], true)], b"AAAAAAAABBBBBBBBBBBBBBBBBBBBBBBB"),
        ];
        for (frags, want) in cases {
            let mut run = Run::new(DefragLimits::default());
            let mut got = None;
            let mut conflicts = 0;
            for &(offset, data, more) in frags {
                let (status, whole) = run.feed(&v4(1, offset, more, data), 0);
                conflicts += u32::from(status.overlap);
                got = whole.or(got);
            }
            let got = got.expect("complete");
            assert_eq!(&got[20..], want);
            assert_eq!(conflicts, 1, "the overlapping fragment is flagged");
            assert_eq!(run.stats.overlap_conflicts, 1);
        }
    }

    #[test]
    fn identical_overlap_is_not_a_conflict() {
        let data = payload(48);
        let mut run = Run::new(DefragLimits::default());
        run.feed(&v4(2, 0, true, &data[..32]), 0);
        let (status, whole) = run.feed(&v4(2, 16, false, &data[16..]), 0);
        assert!(!status.overlap && whole.is_some());
        assert_eq!((run.stats.overlaps, run.stats.overlap_conflicts), (1, 0));
    }

    #[test]
    fn limits_give_up_and_count() {
        let limits = DefragLimits { max_datagrams: 2, max_bytes: 100, max_fragments: 3, timeout_nanos: 60 * SEC };
        let mut run = Run::new(limits);
        // Too many fragments.
        for i in 0..4 {
            let (status, _) = run.feed(&v4(1, i * 8, true, &[0; 8]), 0);
            assert_eq!(status.invalid, i == 3, "only the fragment too many is invalid");
        }
        assert_eq!((run.stats.too_many_fragments, run.defrag.in_flight()), (1, 0));
        // Too many datagrams.
        for id in 10..13 {
            run.feed(&v4(id, 8, true, &[0; 8]), 0);
        }
        assert_eq!((run.stats.no_room, run.defrag.in_flight()), (1, 2));
        // Too many bytes: 16 held, 96 more is over 100 (the sensor's limit, not the packet's fault).
        let (status, _) = run.feed(&v4(10, 16, true, &[0; 96]), 0);
        assert!(!status.invalid);
        assert_eq!((run.stats.no_room, run.defrag.in_flight(), run.defrag.bytes()), (2, 1, 8));
        // Beyond 65,535 bytes (ping of death).
        let (status, _) = run.feed(&v4(11, 65_528, false, &[0; 16]), 0);
        assert!(status.invalid);
        assert_eq!((run.stats.too_large, run.defrag.in_flight()), (1, 0), "its datagram is dropped too");
    }

    #[test]
    fn datagrams_time_out_on_packet_time() {
        let mut run = Run::new(DefragLimits::default());
        run.feed(&v4(1, 0, true, &[1; 8]), 0);
        run.feed(&v4(2, 0, true, &[1; 8]), 30 * SEC);
        run.feed(&v4(3, 0, true, &[1; 8]), 61 * SEC);
        assert_eq!((run.stats.timeouts, run.defrag.in_flight()), (1, 2));
        // The rest of datagram 1 arrives too late: it starts afresh and does not complete.
        assert!(run.feed(&v4(1, 8, false, &[1; 8]), 62 * SEC).1.is_none());
        assert_eq!(run.stats.reassembled, 0);
    }

    #[test]
    fn tiny_first_fragment_is_flagged() {
        let mut run = Run::new(DefragLimits::default());
        let (status, _) = run.feed(&v4(5, 0, true, &[8, 0, 0, 0]), 0);
        assert!(status.tiny);
        let (status, _) = run.feed(&v4(6, 0, true, &[8; 8]), 0);
        assert!(!status.tiny, "an ICMP header fits in 8 bytes");
        assert_eq!(run.stats.tiny_first, 1);
    }

    #[test]
    fn buffers_are_reused() {
        let data = payload(3000);
        let mut run = Run::new(DefragLimits::default());
        for round in 0..3u16 {
            run.feed(&v4(round, 0, true, &data[..1480]), 0);
            let (_, whole) = run.feed(&v4(round, 1480, false, &data[1480..]), 0);
            run.defrag.restore(whole.unwrap());
        }
        assert_eq!((run.defrag.slots.capacity(), run.stats.reassembled), (1, 3), "one slot, reused");
    }
}
