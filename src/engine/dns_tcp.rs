//! DNS over TCP: each direction of a connection to or from port 53 put back
//! in order, and every whole length-prefixed message taken out of it
//! (RFC 1035 §4.2.2, RFC 7766 §8), so a message split across segments (even
//! inside its 2-byte length prefix) and messages pipelined several to a
//! segment are each matched once, whole.
//!
//! A stream is one direction of a connection (source, destination and their
//! ports). It follows sequence numbers: a SYN sets the first byte expected;
//! a stream first seen on a data segment starts there (mid-stream pickup).
//! Data already taken (a retransmission, or the old part of a segment that
//! overlaps) is dropped; the bytes of the incomplete message wait in the
//! stream's buffer for the next segment.
//!
//! **Out of order: held, then put back.** A segment that starts beyond the
//! next byte expected is held (a copy, in the stream) while the data before
//! it is missing; when that data comes, the held segments are put back in
//! order and their messages come out as if the segments had arrived in
//! order (a tunnel client that sends its segments out of order, or a network
//! that reorders them, hides nothing). A stream holds at most
//! `max_held_segments` segments and `max_held_bytes` bytes, none starting
//! more than `max_held_bytes` ahead. Past those bounds, or at FIN, the
//! missing data is taken as lost: the gap is counted, the incomplete message
//! dropped, and the stream *resynchronises* from the first held segment: it
//! waits for a segment that starts like a message (a length of at least a
//! header, then a DNS header with at most one question, a known opcode and
//! the Z bit clear) and skips the others. Resolvers write each message with
//! one call, so a segment that starts a message comes soon. A segment that
//! arrives after its data was taken as lost is old data and is dropped. A
//! stream picked up mid-stream starts resynchronising too (and holds
//! nothing while it does), so only a stream seen from its SYN (or from a
//! segment that starts like a message) yields messages that may not parse:
//! a length prefix under 12 bytes is one, matched as a malformed message
//! (`dns.malformed`, what flags other protocols on port 53), after which the
//! stream resynchronises.
//!
//! **Bounds.** At most `max_streams` streams (4,096), each holding at most
//! one incomplete message (a length prefix and up to 65,535 bytes) and its
//! held segments (32 segments, 64 KiB); the buffers of all streams hold at
//! most `max_bytes` (32 MiB, counted as allocated capacity); a stream idle for `timeout` of packet time (60 s) is
//! forgotten; FIN frees its direction, RST both. A new stream beyond
//! `max_streams`, or a buffer growing past `max_bytes`, evicts the streams
//! seen least recently (a linear scan, only when a bound is hit). Every such
//! event is counted in [`DnsTcpStats`]. A freed stream's buffer is kept for
//! the next stream when it is small ([`KEEP_CAPACITY`]), and the messages
//! are handed out in one buffer the engine lends and gives back, so steady
//! DNS over TCP in order allocates nothing once warm (a held out-of-order
//! segment is a copy). Only TCP segments to or from
//! port 53 get here, and only when some rule reads a DNS field.

use std::net::IpAddr;

use crate::decode::{Packet, Transport};

use super::slots::Slots;

/// The DNS header that follows the length prefix.
const HEADER_LEN: usize = 12;
/// TCP flags.
const FIN: u8 = 0x01;
const SYN: u8 = 0x02;
const RST: u8 = 0x04;

/// A freed stream's buffer is kept for the next stream up to this capacity.
pub const KEEP_CAPACITY: usize = 4096;

/// Bounds of the reassembler.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct DnsTcpLimits {
    /// Streams (directions of connections) followed at once.
    pub max_streams: usize,
    /// Longest message kept (without its prefix); a longer one is skipped.
    pub max_message: usize,
    /// Bytes all streams' buffers may hold (allocated capacity).
    pub max_bytes: usize,
    /// How long (packet time, ns) a stream may stay silent.
    pub timeout_nanos: i64,
    /// Out-of-order segments one stream holds while the data before them is missing.
    pub max_held_segments: usize,
    /// Bytes of out-of-order segments one stream holds, and how far ahead of
    /// the next byte expected a segment may start to be held.
    pub max_held_bytes: usize,
}

impl Default for DnsTcpLimits {
    fn default() -> Self {
        DnsTcpLimits {
            max_streams: 4096,
            max_message: 65_535,
            max_bytes: 32 << 20,
            timeout_nanos: 60_000_000_000,
            max_held_segments: 32,
            max_held_bytes: 64 << 10,
        }
    }
}

/// What the reassembler did, for the summary and the stats file.
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq, serde::Serialize)]
pub struct DnsTcpStats {
    /// TCP segments with data to or from port 53.
    pub segments: u64,
    /// Messages taken out of the streams and matched.
    pub messages: u64,
    /// Of those, messages whose bytes came in more than one segment (`dns.tcp.reassembled`).
    pub split: u64,
    /// Segments carrying data taken before (retransmissions, overlaps): that data is dropped.
    pub retransmitted: u64,
    /// Segments that started beyond the next byte expected and were held:
    /// put back in order when the data before them came, or taken after a
    /// gap (see `gaps`) when it did not.
    pub reordered: u64,
    /// Times data before held segments was taken as lost, or a segment
    /// started beyond the next byte expected and could not be held.
    pub gaps: u64,
    /// Segments skipped while resynchronising (after a gap, or picked up mid-stream).
    pub resync_skipped: u64,
    /// Length prefixes too small for a DNS header (not DNS): matched as malformed.
    pub bad_length: u64,
    /// Messages longer than the longest kept: skipped.
    pub too_large: u64,
    /// Streams freed by FIN or RST.
    pub closed: u64,
    /// Streams forgotten after the idle timeout.
    pub timeouts: u64,
    /// Streams evicted, least recently seen first: `max_streams` or `max_bytes` reached.
    pub evicted: u64,
}

/// One direction of a connection.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash)]
struct Key {
    src: IpAddr,
    dst: IpAddr,
    sport: u16,
    dport: u16,
}

impl Key {
    fn reversed(self) -> Key {
        Key { src: self.dst, dst: self.src, sport: self.dport, dport: self.sport }
    }
}

#[derive(Debug, Default)]
struct Stream {
    key: Option<Key>,
    /// Sequence number of the next byte expected.
    next_seq: u32,
    last_ts: i64,
    /// The incomplete message: its length prefix first.
    buf: Vec<u8>,
    /// Bytes still to drop (the rest of a message longer than the longest kept).
    skip: usize,
    /// Waiting for a segment that starts like a message.
    resync: bool,
    /// Out-of-order segments (first sequence number, bytes), by sequence number.
    held: Vec<(u32, Vec<u8>)>,
}

/// Where one message is in [`Messages::bytes`].
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct MessageSpan {
    /// Offset of its length prefix.
    pub start: u32,
    /// Length with the prefix.
    pub len: u32,
    /// Its bytes came in more than one segment.
    pub split: bool,
}

/// The messages one segment completed, each with its 2-byte length prefix,
/// in stream order.
#[derive(Debug, Default)]
pub struct Messages {
    /// The messages, one after the other.
    pub bytes: Vec<u8>,
    /// Where each one is.
    pub spans: Vec<MessageSpan>,
}

impl Messages {
    /// Each message (prefix included) and whether it was split across segments.
    pub fn iter(&self) -> impl Iterator<Item = (&[u8], bool)> + '_ {
        self.spans.iter().filter_map(|s| {
            let start = s.start as usize;
            Some((self.bytes.get(start..start + s.len as usize)?, s.split))
        })
    }

    fn clear(&mut self) {
        self.bytes.clear();
        self.spans.clear();
    }
}

/// The reassembler (one per engine, created at the first TCP segment on port 53).
#[derive(Debug)]
pub struct DnsTcp {
    limits: DnsTcpLimits,
    /// The streams by key; freed ones' slots (and small buffers) kept for reuse.
    slots: Slots<Key, Stream>,
    /// Capacity of the live streams' buffers.
    bytes: usize,
    /// No stream can time out before this packet time.
    next_sweep: i64,
    out: Messages,
}

impl DnsTcp {
    /// An empty reassembler.
    pub fn new(limits: DnsTcpLimits) -> DnsTcp {
        DnsTcp { limits, slots: Slots::new(), bytes: 0, next_sweep: i64::MIN, out: Messages::default() }
    }

    /// Streams followed.
    pub fn streams(&self) -> usize {
        self.slots.len()
    }

    /// Bytes the streams' buffers hold (capacity).
    pub fn bytes(&self) -> usize {
        self.bytes
    }

    /// Adds one TCP segment (to or from port 53) and returns how many
    /// messages it completed; [`DnsTcp::take_messages`] has them.
    pub fn insert(&mut self, pkt: &Packet<'_>, stats: &mut DnsTcpStats) -> usize {
        self.out.clear();
        let (Some(ip), Transport::Tcp { src_port, dst_port, flags, seq }) = (pkt.ip(), pkt.transport) else {
            return 0;
        };
        let now = pkt.ts_nanos;
        if now >= self.next_sweep {
            self.sweep(now, stats);
        }
        let key = Key { src: ip.src, dst: ip.dst, sport: src_port, dport: dst_port };
        if flags & RST != 0 {
            // The connection is gone both ways; data on a reset is not delivered.
            for k in [key, key.reversed()] {
                if let Some(slot) = self.slots.find(&k) {
                    stats.closed += 1;
                    self.release(slot);
                }
            }
            return 0;
        }
        let syn = flags & SYN != 0;
        let data = pkt.payload;
        let slot = match self.slots.find(&key) {
            // A new connection on the same ports (a retransmitted SYN leaves it be).
            Some(slot) if syn => {
                if self.slots.get(slot).is_some_and(|s| s.next_seq != seq.wrapping_add(1)) {
                    self.drop_held(slot);
                    if let Some(s) = self.slots.get_mut(slot) {
                        s.restart(seq.wrapping_add(1), false);
                    }
                }
                slot
            }
            Some(slot) => slot,
            None if data.is_empty() && !syn => return 0,
            None => self.open(key, now, stats, if syn { seq.wrapping_add(1) } else { seq }, !syn),
        };
        if !data.is_empty() {
            stats.segments += 1;
            let start = if syn { seq.wrapping_add(1) } else { seq };
            self.feed(slot, now, start, data, stats);
        }
        if flags & FIN != 0 {
            // Nothing more comes: what is still missing is lost.
            self.take_held_as_lost(slot, stats);
            stats.closed += 1;
            self.release(slot);
        }
        self.out.spans.len()
    }

    /// The messages the last segment completed, lent out so the engine can
    /// match them while it borrows itself mutably; give them back with
    /// [`DnsTcp::restore`] to reuse the buffers.
    pub fn take_messages(&mut self) -> Messages {
        std::mem::take(&mut self.out)
    }

    /// Takes back what [`DnsTcp::take_messages`] lent.
    pub fn restore(&mut self, messages: Messages) {
        self.out = messages;
    }

    /// The messages the last segment completed (once given back with
    /// [`DnsTcp::restore`]), until the next segment.
    pub fn last_messages(&self) -> &Messages {
        &self.out
    }

    /// Adds the bytes of one segment starting at sequence number `start`:
    /// held if it starts beyond the next byte expected (and the stream can
    /// hold it), taken in order otherwise, and then every held segment the
    /// stream has caught up with.
    fn feed(&mut self, slot: usize, now: i64, start: u32, data: &[u8], stats: &mut DnsTcpStats) {
        let Some(s) = self.slots.get_mut(slot) else { return };
        s.last_ts = now;
        let ahead = start.wrapping_sub(s.next_seq) as i32;
        if ahead > 0 && !s.resync {
            if self.hold(slot, start, ahead.unsigned_abs() as usize, data) {
                stats.reordered += 1;
                if self.bytes > self.limits.max_bytes {
                    self.make_room(Some(slot), stats);
                }
                return;
            }
            // Too many held, or too far ahead: what is missing is taken as lost.
            self.take_held_as_lost(slot, stats);
        }
        self.feed_in_order(slot, start, data, stats);
        self.take_held_in_order(slot, stats);
    }

    /// Holds a copy of an out-of-order segment, `ahead` bytes beyond the
    /// next byte expected; false if the stream's bounds do not allow it.
    fn hold(&mut self, slot: usize, start: u32, ahead: usize, data: &[u8]) -> bool {
        let limits = self.limits;
        let Some(s) = self.slots.get_mut(slot) else { return false };
        let held: usize = s.held.iter().map(|(_, d)| d.len()).sum();
        if s.held.len() >= limits.max_held_segments
            || held + data.len() > limits.max_held_bytes
            || ahead + data.len() > limits.max_held_bytes
        {
            return false;
        }
        let at = s.held.partition_point(|&(seq, _)| (seq.wrapping_sub(start) as i32) <= 0);
        let copy = data.to_vec();
        self.bytes += copy.capacity();
        s.held.insert(at, (start, copy));
        true
    }

    /// Takes the held segments the stream has caught up with, in order.
    fn take_held_in_order(&mut self, slot: usize, stats: &mut DnsTcpStats) {
        loop {
            let Some(s) = self.slots.get_mut(slot) else { return };
            let next = s.next_seq;
            if s.held.first().is_none_or(|&(seq, _)| (seq.wrapping_sub(next) as i32) > 0) {
                return;
            }
            let (start, data) = s.held.remove(0);
            self.bytes -= data.capacity();
            self.feed_in_order(slot, start, &data, stats);
        }
    }

    /// The data before the held segments is lost: takes them in order, the
    /// first after a gap (the stream resynchronises there).
    fn take_held_as_lost(&mut self, slot: usize, stats: &mut DnsTcpStats) {
        let Some(s) = self.slots.get_mut(slot) else { return };
        let held = std::mem::take(&mut s.held);
        for (start, data) in held {
            self.bytes -= data.capacity();
            self.feed_in_order(slot, start, &data, stats);
        }
    }

    /// Forgets the held segments.
    fn drop_held(&mut self, slot: usize) {
        let Some(s) = self.slots.get_mut(slot) else { return };
        for (_, data) in s.held.drain(..) {
            self.bytes -= data.capacity();
        }
    }

    /// Takes one segment's bytes at the next byte expected; a segment that
    /// starts beyond it is a gap (the stream resynchronises there).
    fn feed_in_order(&mut self, slot: usize, start: u32, data: &[u8], stats: &mut DnsTcpStats) {
        let Some(s) = self.slots.get_mut(slot) else { return };
        let end = start.wrapping_add(data.len() as u32);
        // Signed distance in sequence space (RFC 793 arithmetic, modulo 2^32).
        let ahead = start.wrapping_sub(s.next_seq) as i32;
        let mut data = data;
        if ahead > 0 {
            stats.gaps += 1;
            s.restart(start, true);
        } else if ahead < 0 {
            stats.retransmitted += 1;
            let old = ahead.unsigned_abs() as usize;
            match data.get(old..) {
                Some(new) if !new.is_empty() => data = new,
                _ => return,
            }
        }
        s.next_seq = end;
        if s.resync {
            // Only a segment's first byte can be known to start a message.
            if ahead < 0 || !starts_like_a_message(data) {
                stats.resync_skipped += 1;
                return;
            }
            s.resync = false;
        }
        let held_before = !s.buf.is_empty() || s.skip > 0;
        let dropped = s.skip.min(data.len());
        s.skip -= dropped;
        data = data.get(dropped..).unwrap_or_default();
        let capacity = s.buf.capacity();
        s.buf.extend_from_slice(data);
        self.bytes += s.buf.capacity() - capacity;
        let taken = take_messages(s, self.limits.max_message, held_before, &mut self.out, stats);
        s.buf.drain(..taken);
        if self.bytes > self.limits.max_bytes {
            self.make_room(Some(slot), stats);
        }
    }

    fn open(&mut self, key: Key, now: i64, stats: &mut DnsTcpStats, next_seq: u32, resync: bool) -> usize {
        if self.slots.len() >= self.limits.max_streams {
            self.evict_oldest(None, stats);
        }
        let slot = self.slots.insert(key);
        if let Some(s) = self.slots.get_mut(slot) {
            s.key = Some(key);
            s.last_ts = now;
            s.restart(next_seq, resync);
            self.bytes += s.buf.capacity();
        }
        slot
    }

    fn release(&mut self, slot: usize) {
        self.drop_held(slot);
        let Some(s) = self.slots.get_mut(slot) else { return };
        let Some(key) = s.key.take() else { return };
        self.bytes -= s.buf.capacity();
        if s.buf.capacity() > KEEP_CAPACITY {
            s.buf = Vec::new();
        }
        s.restart(0, false);
        self.slots.remove(&key);
    }

    /// Evicts the least recently seen streams (never `keep`) until the buffers fit `max_bytes`.
    fn make_room(&mut self, keep: Option<usize>, stats: &mut DnsTcpStats) {
        while self.bytes > self.limits.max_bytes && self.evict_oldest(keep, stats) {}
    }

    /// Evicts the least recently seen stream other than `keep`; false if there is none.
    fn evict_oldest(&mut self, keep: Option<usize>, stats: &mut DnsTcpStats) -> bool {
        let oldest = self
            .slots
            .values()
            .filter(|&(i, s)| s.key.is_some() && Some(i) != keep)
            .min_by_key(|(_, s)| s.last_ts)
            .map(|(i, _)| i);
        let Some(slot) = oldest else { return false };
        stats.evicted += 1;
        self.release(slot);
        true
    }

    /// Forgets the streams idle for the timeout at packet time `now`; the
    /// next sweep comes an eighth of the timeout later (a stream may outlive
    /// its timeout by that much).
    fn sweep(&mut self, now: i64, stats: &mut DnsTcpStats) {
        let timeout = self.limits.timeout_nanos;
        for slot in 0..self.slots.capacity() {
            let idle = self.slots.get(slot).is_some_and(|s| s.key.is_some() && now - s.last_ts >= timeout);
            if idle {
                stats.timeouts += 1;
                self.release(slot);
            }
        }
        self.next_sweep = now.saturating_add((timeout / 8).max(1));
    }
}

impl Stream {
    /// Starts over at sequence number `next_seq`, holding nothing.
    fn restart(&mut self, next_seq: u32, resync: bool) {
        self.next_seq = next_seq;
        self.buf.clear();
        self.skip = 0;
        self.resync = resync;
    }
}

/// One message out of a stream as a packet: the headers of the `segment`
/// that completed it, the `message` (with its length prefix) as payload,
/// whole (not snapped: a cut segment is never reassembled). What the engine
/// matches, and what a report or a profile measures.
pub fn message_packet<'m>(segment: &Packet<'m>, message: &'m [u8]) -> Packet<'m> {
    Packet { payload: message, cap_len: segment.wire_len, fragment: None, ..*segment }
}

/// Copies every whole message at the start of `s.buf` to `out` and returns
/// how many bytes of the buffer they (and anything dropped) took.
/// `held_before`: the buffer held bytes before this segment's, so the first
/// message out of it was split.
fn take_messages(
    s: &mut Stream,
    max_message: usize,
    held_before: bool,
    out: &mut Messages,
    stats: &mut DnsTcpStats,
) -> usize {
    let mut at = 0;
    let mut split = held_before;
    while let Some(prefix) = s.buf.get(at..).and_then(|rest| rest.first_chunk::<2>()) {
        let len = usize::from(u16::from_be_bytes(*prefix));
        let available = s.buf.len() - at;
        if len < HEADER_LEN {
            // Not DNS: the prefix alone is matched (a malformed message),
            // then the stream looks for a message boundary again.
            stats.bad_length += 1;
            push(out, prefix, split, stats);
            s.resync = true;
            return s.buf.len();
        }
        if len > max_message {
            stats.too_large += 1;
            let taken = available.min(2 + len);
            s.skip = 2 + len - taken;
            at += taken;
            split = false;
            continue;
        }
        let Some(message) = s.buf.get(at..at + 2 + len) else { break };
        push(out, message, split, stats);
        at += 2 + len;
        split = false;
    }
    at
}

fn push(out: &mut Messages, message: &[u8], split: bool, stats: &mut DnsTcpStats) {
    let start = out.bytes.len() as u32;
    out.bytes.extend_from_slice(message);
    out.spans.push(MessageSpan { start, len: message.len() as u32, split });
    stats.messages += 1;
    stats.split += u64::from(split);
}

/// True if `data` starts like a DNS-over-TCP message: a length of at least
/// a header, then a header with one question, a known opcode (query,
/// inverse query, status, notify, update) and the Z bit clear, and a
/// question that decodes as far as the segment (or the length) goes.
/// Messages without a question (the later messages of a zone transfer)
/// never resynchronise a stream; the next one with a question does.
fn starts_like_a_message(data: &[u8]) -> bool {
    let word = |at: usize| data.get(at..at + 2).and_then(|b| b.first_chunk::<2>()).map(|b| u16::from_be_bytes(*b));
    let (Some(len), Some(flags), Some(qdcount)) = (word(0), word(4), word(6)) else { return false };
    let len = usize::from(len);
    let header_ok = len >= HEADER_LEN && qdcount == 1 && matches!((flags >> 11) & 0xf, 0 | 1 | 2 | 4 | 5);
    let message = data.get(2..(2 + len).min(data.len())).unwrap_or_default();
    header_ok && flags & 0x0040 == 0 && crate::decode::dns::parse_cut(message).is_ok()
}

#[cfg(test)]
mod tests {
    use super::*;
    use ferret_synth::frame::{dns_query, dns_tcp, flags, tcp};
    use proptest::prelude::*;
    use std::net::Ipv4Addr;

    const SEC: i64 = 1_000_000_000;
    const CLIENT: Ipv4Addr = Ipv4Addr::new(10, 0, 0, 1);
    const SERVER: Ipv4Addr = Ipv4Addr::new(10, 0, 0, 53);
    const ISN: u32 = 0xffff_ff00; // wraps around inside the tests

    /// Framed queries for `a0.example`, `a1.example`, ... (ids 0, 1, ...).
    fn stream(n: u16) -> Vec<u8> {
        (0..n).flat_map(|i| dns_tcp(&dns_query(i, &format!("a{i}.example"), 1))).collect()
    }

    /// A reassembler and what it counted, fed frames one at a time.
    struct Run {
        dns: DnsTcp,
        stats: DnsTcpStats,
        ts: i64,
    }

    impl Run {
        fn new(limits: DnsTcpLimits) -> Run {
            Run { dns: DnsTcp::new(limits), stats: DnsTcpStats::default(), ts: 1_700_000_000 * SEC }
        }

        /// Feeds one frame; returns the ids of the messages it completed and whether each was split.
        fn frame(&mut self, frame: &[u8]) -> Vec<(u16, bool)> {
            self.ts += 1_000_000;
            let pkt = Packet::decode(1, frame, 1, self.ts, frame.len() as u32);
            self.dns.insert(&pkt, &mut self.stats);
            let out = self.dns.take_messages();
            let id = |m: &[u8]| m.get(2..4).map_or(u16::MAX, |b| u16::from_be_bytes([b[0], b[1]]));
            let ids = out.iter().map(|(m, split)| (id(m), split)).collect();
            self.dns.restore(out);
            ids
        }

        /// A client segment at stream offset `at` (0 = the first byte after the SYN).
        fn client(&mut self, at: usize, data: &[u8]) -> Vec<(u16, bool)> {
            let seq = ISN.wrapping_add(1).wrapping_add(at as u32);
            self.frame(&tcp(CLIENT, SERVER, 40000, 53, flags::ACK | flags::PSH, seq, data))
        }

        fn syn(&mut self) {
            self.frame(&tcp(CLIENT, SERVER, 40000, 53, flags::SYN, ISN, &[]));
        }
    }

    /// The offsets where segments of a stream of `len` bytes start (and the
    /// end): 0, the `cuts` inside the stream, `len`; sorted, no repeats.
    fn cut_points(len: usize, cuts: Vec<usize>) -> Vec<usize> {
        let mut points: Vec<usize> = cuts.into_iter().filter(|&c| c < len).collect();
        points.extend([0, len]);
        points.sort_unstable();
        points.dedup();
        points
    }

    fn ids(range: std::ops::Range<u16>) -> Vec<(u16, bool)> {
        range.map(|i| (i, false)).collect()
    }

    #[test]
    fn split_inside_the_length_prefix() {
        let s = stream(2);
        let mut r = Run::new(DnsTcpLimits::default());
        r.syn();
        assert_eq!(r.client(0, &s[..1]), []);
        assert_eq!(r.client(1, &s[1..]), [(0, true), (1, false)]);
        assert_eq!(r.stats.messages, 2);
        assert_eq!(r.stats.split, 1);
    }

    #[test]
    fn split_inside_the_body() {
        let s = stream(1);
        let mut r = Run::new(DnsTcpLimits::default());
        r.syn();
        assert_eq!(r.client(0, &s[..20]), []);
        assert_eq!(r.client(20, &s[20..25]), []);
        assert_eq!(r.client(25, &s[25..]), [(0, true)]);
    }

    #[test]
    fn pipelined_messages_come_out_in_order() {
        let s = stream(3);
        let mut r = Run::new(DnsTcpLimits::default());
        r.syn();
        assert_eq!(r.client(0, &s), ids(0..3));
    }

    #[test]
    fn retransmissions_and_overlaps_are_taken_once() {
        let s = stream(3);
        let mut r = Run::new(DnsTcpLimits::default());
        r.syn();
        let cut = s.len() / 2;
        let first = r.client(0, &s[..cut]);
        assert_eq!(r.client(0, &s[..cut]), [], "an exact retransmission");
        // A repacketized retransmission: old bytes, then new ones.
        let second = r.client(cut - 7, &s[cut - 7..]);
        assert_eq!([first, second].concat(), [ids(0..1), vec![(1, true), (2, false)]].concat());
        assert_eq!(r.client(0, &s), [], "everything again");
        assert_eq!(r.stats.retransmitted, 3);
        assert_eq!(r.stats.messages, 3);
    }

    #[test]
    fn out_of_order_segments_are_held_and_put_back_in_order() {
        let s = stream(3);
        let len = s.len() / 3; // each message framed has the same length
        let mut r = Run::new(DnsTcpLimits::default());
        r.syn();
        // The stream in four segments, sent last first.
        let cuts = [0, len / 2, len + 3, 2 * len + 1, s.len()];
        for k in (1..4).rev() {
            assert_eq!(r.client(cuts[k], &s[cuts[k]..cuts[k + 1]]), [], "segment {k} is held");
        }
        assert_eq!(r.stats.reordered, 3);
        assert!(r.dns.bytes() > 0);
        assert_eq!(r.client(0, &s[..cuts[1]]), [(0, true), (1, true), (2, true)]);
        assert_eq!((r.stats.gaps, r.stats.messages, r.stats.retransmitted), (0, 3, 0));
        // A held segment sent twice: the copy is old data once the first is taken.
        let mut r = Run::new(DnsTcpLimits::default());
        r.syn();
        assert_eq!(r.client(len, &s[len..]), []);
        assert_eq!(r.client(len, &s[len..]), []);
        assert_eq!(r.client(0, &s[..len]), ids(0..3));
        assert_eq!(r.stats.retransmitted, 1);
    }

    #[test]
    fn missing_data_is_taken_as_lost_past_the_held_bounds() {
        let s = stream(4);
        let len = s.len() / 4;
        let mut r = Run::new(DnsTcpLimits { max_held_segments: 1, ..DnsTcpLimits::default() });
        r.syn();
        assert_eq!(r.client(0, &s[..len + 5]), ids(0..1));
        // Bytes len+5 .. 2*len-3 are lost; the next segment starts inside message 1: held.
        assert_eq!(r.client(2 * len - 3, &s[2 * len - 3..2 * len + 4]), []);
        assert_eq!((r.stats.reordered, r.stats.gaps), (1, 0));
        // Another one cannot be held: the missing bytes are lost. The held
        // segment starts inside a message (skipped); the next one starts
        // beyond it again (a second gap) and like a message: back in step.
        assert_eq!(r.client(3 * len, &s[3 * len..]), [(3, false)]);
        assert_eq!((r.stats.gaps, r.stats.resync_skipped), (2, 1));
        // The late segment is old data now.
        assert_eq!(r.client(len + 5, &s[len + 5..2 * len - 3]), []);
        assert_eq!(r.stats.retransmitted, 1);
        assert_eq!(r.dns.bytes(), r.dns.slots.values().map(|(_, s)| s.buf.capacity()).sum::<usize>());
        // Too far ahead to hold (beyond max_held_bytes): lost at once.
        let mut r = Run::new(DnsTcpLimits { max_held_bytes: len, ..DnsTcpLimits::default() });
        r.syn();
        assert_eq!(r.client(2 * len, &s[2 * len..]), ids(2..4));
        assert_eq!((r.stats.reordered, r.stats.gaps), (0, 1));
    }

    #[test]
    fn fin_takes_what_is_still_missing_as_lost() {
        let s = stream(3);
        let len = s.len() / 3;
        let mut r = Run::new(DnsTcpLimits::default());
        r.syn();
        assert_eq!(r.client(len, &s[len..2 * len]), []);
        let fin = tcp(
            CLIENT,
            SERVER,
            40000,
            53,
            flags::ACK | flags::FIN,
            ISN.wrapping_add(1 + 2 * len as u32),
            &s[2 * len..],
        );
        assert_eq!(r.frame(&fin), ids(1..3), "the held segment starts a message");
        assert_eq!((r.stats.gaps, r.stats.closed), (1, 1));
        assert_eq!(r.dns.bytes(), 0);
    }

    #[test]
    fn mid_stream_pickup_waits_for_a_message_start() {
        let s = stream(3);
        let len = s.len() / 3;
        let mut r = Run::new(DnsTcpLimits::default());
        assert_eq!(r.client(5, &s[5..len + 3]), [], "no SYN seen, starts inside a message");
        assert_eq!(r.client(len + 3, &s[len + 3..2 * len]), []);
        assert_eq!(r.client(2 * len, &s[2 * len..]), [(2, false)]);
        assert_eq!(r.stats.resync_skipped, 2);
    }

    #[test]
    fn a_length_prefix_too_small_is_a_malformed_message() {
        let mut r = Run::new(DnsTcpLimits::default());
        r.syn();
        let garbage = [0u8, 5, 1, 2, 3, 4, 5, 6, 7];
        r.client(0, &garbage);
        let out = r.dns.take_messages();
        let messages: Vec<_> = out.iter().map(|(m, _)| m.to_vec()).collect();
        assert_eq!(messages, [vec![0u8, 5]]);
        assert!(matches!(crate::decode::dns::parse_tcp(&messages[0]), Err(crate::decode::dns::DnsError::BadTcpLength)));
        r.dns.restore(out);
        assert_eq!(r.stats.bad_length, 1);
        // Resynchronising: a segment that starts like a message is taken.
        let s = stream(1);
        assert_eq!(r.client(garbage.len(), &s), ids(0..1));
    }

    #[test]
    fn fin_frees_its_direction_and_rst_both() {
        let s = stream(2);
        let mut r = Run::new(DnsTcpLimits::default());
        r.syn();
        r.client(0, &s[..10]);
        let reply = tcp(SERVER, CLIENT, 53, 40000, flags::ACK | flags::PSH, 7, &s[..10]);
        r.frame(&reply);
        assert_eq!(r.dns.streams(), 2);
        let fin = tcp(CLIENT, SERVER, 40000, 53, flags::ACK | flags::FIN, ISN.wrapping_add(11), &s[10..s.len() / 2]);
        assert_eq!(r.frame(&fin), ids(0..1).into_iter().map(|(i, _)| (i, true)).collect::<Vec<_>>());
        assert_eq!(r.dns.streams(), 1);
        r.frame(&tcp(SERVER, CLIENT, 53, 40000, flags::RST, 17, &[]));
        assert_eq!(r.dns.streams(), 0);
        assert_eq!(r.stats.closed, 2);
        assert_eq!(r.dns.bytes(), 0);
    }

    #[test]
    fn idle_streams_time_out() {
        let s = stream(1);
        let mut r = Run::new(DnsTcpLimits::default());
        r.syn();
        r.client(0, &s[..10]);
        r.ts += 61 * SEC;
        // The rest arrives after the timeout: the stream is gone, picked up again mid-message.
        assert_eq!(r.client(10, &s[10..]), []);
        assert_eq!(r.stats.timeouts, 1);
        assert_eq!(r.stats.resync_skipped, 1);
    }

    #[test]
    fn the_oldest_streams_are_evicted_at_the_bounds() {
        let s = stream(1);
        let limits = DnsTcpLimits { max_streams: 4, ..DnsTcpLimits::default() };
        let mut r = Run::new(limits);
        for port in 0..10u16 {
            r.frame(&tcp(CLIENT, SERVER, 30000 + port, 53, flags::SYN, 1, &[]));
            r.frame(&tcp(CLIENT, SERVER, 30000 + port, 53, flags::ACK, 2, &s[..10]));
        }
        assert_eq!(r.dns.streams(), 4);
        assert_eq!(r.stats.evicted, 6);
        // The newest streams were kept: their messages complete.
        assert_eq!(r.frame(&tcp(CLIENT, SERVER, 30009, 53, flags::ACK, 12, &s[10..])), [(0, true)]);
        assert_eq!(r.frame(&tcp(CLIENT, SERVER, 30000, 53, flags::ACK, 12, &s[10..])), []);
        // A byte bound that holds about one buffer: a second stream evicts the first.
        let limits = DnsTcpLimits { max_bytes: 100, ..DnsTcpLimits::default() };
        let mut r = Run::new(limits);
        for port in 0..2u16 {
            r.frame(&tcp(CLIENT, SERVER, 30000 + port, 53, flags::SYN, 1, &[]));
            let partial: Vec<u8> = [0u8, 200].into_iter().chain([0; 88]).collect();
            r.frame(&tcp(CLIENT, SERVER, 30000 + port, 53, flags::ACK, 2, &partial));
        }
        assert_eq!(r.dns.streams(), 1);
        assert_eq!(r.stats.evicted, 1);
        assert!(r.dns.bytes() <= 100, "{} bytes", r.dns.bytes());
    }

    #[test]
    fn a_message_longer_than_the_limit_is_skipped() {
        let s = stream(3);
        let len = s.len() / 3;
        let mut r = Run::new(DnsTcpLimits { max_message: len - 3, ..DnsTcpLimits::default() });
        r.syn();
        assert_eq!(r.client(0, &s[..len + 4]), []);
        assert_eq!(r.client(len + 4, &s[len + 4..]), []);
        assert_eq!(r.stats.too_large, 3);
        let mut r = Run::new(DnsTcpLimits { max_message: len, ..DnsTcpLimits::default() });
        r.syn();
        assert_eq!(r.client(0, &s), ids(0..3));
    }

    proptest! {
        /// Any cutting of a stream of N messages into segments (some sent
        /// twice) yields exactly those N messages, in order, each once.
        #[test]
        fn any_segmentation_yields_every_message_once(
            n in 1u16..12,
            cuts in proptest::collection::vec(1usize..400, 0..30),
            repeat in proptest::collection::vec(any::<bool>(), 30),
        ) {
            let s = stream(n);
            let points = cut_points(s.len(), cuts);
            let mut r = Run::new(DnsTcpLimits::default());
            r.syn();
            let mut got = Vec::new();
            for (i, w) in points.windows(2).enumerate() {
                got.extend(r.client(w[0], &s[w[0]..w[1]]).into_iter().map(|(id, _)| id));
                if repeat.get(i).copied().unwrap_or(false) {
                    got.extend(r.client(w[0], &s[w[0]..w[1]]).into_iter().map(|(id, _)| id));
                }
            }
            prop_assert_eq!(got, (0..n).collect::<Vec<_>>());
            prop_assert_eq!(r.stats.messages, u64::from(n));
        }

        /// Hostile traffic (random sequence numbers, flags, lengths and
        /// ports, on tight bounds): nothing panics, the bytes counted are
        /// the bytes held, and a stream holds no more than its bounds.
        #[test]
        fn random_segments_keep_the_byte_count_true(
            segments in proptest::collection::vec(
                (0u16..4, any::<u32>(), 0usize..200, 0u8..32, any::<bool>()),
                1..120,
            ),
        ) {
            let limits = DnsTcpLimits {
                max_streams: 3,
                max_bytes: 2048,
                max_held_segments: 4,
                max_held_bytes: 512,
                ..DnsTcpLimits::default()
            };
            let mut r = Run::new(limits);
            let s = stream(8);
            for (port, seq, len, flags, near) in segments {
                // Half the segments land near the stream's start, so some are in order.
                let seq = if near { ISN.wrapping_add(seq % 300) } else { seq };
                let at = (seq as usize) % s.len();
                let data = &s[at..(at + len).min(s.len())];
                r.frame(&tcp(CLIENT, SERVER, 40000 + port, 53, flags, seq, data));
                let held: usize = r
                    .dns
                    .slots
                    .values()
                    .filter(|(_, st)| st.key.is_some())
                    .map(|(_, st)| st.buf.capacity() + st.held.iter().map(|(_, d)| d.capacity()).sum::<usize>())
                    .sum();
                prop_assert_eq!(r.dns.bytes(), held);
                for (_, st) in r.dns.slots.values() {
                    prop_assert!(st.held.len() <= 4);
                    prop_assert!(st.held.iter().map(|(_, d)| d.len()).sum::<usize>() <= 512);
                }
                prop_assert!(r.dns.streams() <= 3);
            }
        }

        /// The same, with the segments sent in any order: every message
        /// comes out once, in stream order, and nothing is taken as lost.
        #[test]
        fn any_order_of_segments_yields_every_message_once(
            n in 1u16..12,
            cuts in proptest::collection::vec(1usize..400, 0..30),
            order in proptest::collection::vec(any::<u64>(), 31),
        ) {
            let s = stream(n);
            let points = cut_points(s.len(), cuts);
            let mut segments: Vec<(usize, usize)> = points.windows(2).map(|w| (w[0], w[1])).collect();
            // A shuffle: each segment sorted by a random key of its own.
            let keys: Vec<u64> = order.iter().zip(0u64..).map(|(k, i)| k ^ i).collect();
            let mut keyed: Vec<(u64, (usize, usize))> = segments.drain(..).zip(&keys).map(|(seg, &k)| (k, seg)).collect();
            keyed.sort_unstable();
            segments.extend(keyed.into_iter().map(|(_, seg)| seg));
            let mut r = Run::new(DnsTcpLimits::default());
            r.syn();
            let mut got = Vec::new();
            for (from, to) in segments {
                got.extend(r.client(from, &s[from..to]).into_iter().map(|(id, _)| id));
            }
            prop_assert_eq!(got, (0..n).collect::<Vec<_>>());
            prop_assert_eq!(r.stats.gaps, 0);
            prop_assert_eq!(r.dns.bytes(), r.dns.slots.values().map(|(_, s)| s.buf.capacity()).sum::<usize>());
        }
    }
}
