//! Echo correlation: does an ICMP(v6) echo reply carry what its request did?
//!
//! A normal ping's reply echoes the request's payload byte for byte; tunnels
//! such as icmpsh and ptunnel answer with different data, and some channels
//! send replies nobody asked for. The table remembers a hash of each echo
//! request's payload by (source, destination, id, seq) and classifies each
//! reply as echoed, mismatched or unpaired. It is bounded like every state
//! table and only runs when some rule reads `icmp.reply_mismatch`,
//! `icmp.unpaired_reply`, `icmp.seq_jump` or `icmp.ttl_probe`.
//!
//! It also follows each stream of echo requests, keyed by (source,
//! destination, id): every ping tool keeps one id per process and counts its
//! sequence number up by one (Windows by a host-wide counter, so by more when
//! it pings other hosts in between); traceroute, mtr and tracert do the same
//! while raising the TTL. A sequence number that goes back or leaps ahead is
//! data carried in the header (`icmp.seq_jump`); a stream whose low TTL keeps
//! changing is a route trace (`icmp.ttl_probe`).

use std::hash::{Hash, Hasher};
use std::net::IpAddr;

use crate::decode::features::{EchoStatus, Features, StreamStatus};
use crate::engine::state::Window;
use crate::engine::tables::{Footprint, Table, TableLimits, TableStats};

/// A stream's previous request counts only if it came this recently (ns).
pub const STREAM_GAP_NANOS: i64 = 60_000_000_000;
/// Largest step forward a sequence number may take within a stream and still
/// count as a ping's counter: Windows numbers every echo of the host and fping
/// every echo of the run, so pinging 4,000 other hosts in between skips ahead.
pub const MAX_SEQ_STEP: u16 = 4096;
/// Highest TTL a route-trace probe has as seen on the wire (traceroute, mtr
/// and tracert stop at 30 hops by default).
pub const MAX_PROBE_TTL: u8 = 30;

/// What the last request of one (src, dst, id) stream looked like.
#[derive(Clone, Copy, Debug, Default)]
struct Stream {
    /// False until the first request.
    seen: bool,
    seq: u16,
    ttl: u8,
    /// When it was seen.
    at: i64,
    /// When the stream's TTL last changed (`i64::MIN`: never).
    ttl_changed_at: i64,
}

impl Footprint for Stream {
    fn heap_bytes(&self) -> usize {
        0
    }
}

/// Requests seen, by flow and echo id/seq, and request streams by flow and id.
pub struct EchoTable {
    requests: Table<u64>,
    streams: Table<Stream>,
}

fn key(seed: u64, src: IpAddr, dst: IpAddr, id: u16, seq: u16) -> u64 {
    let mut h = crate::engine::tables::keyed_hasher(seed);
    (src, dst, id, seq).hash(&mut h);
    h.finish()
}

fn payload_hash(payload: &[u8]) -> u64 {
    let mut h = crate::engine::tables::state_hasher();
    h.write(payload);
    // Never 0, which marks "no request stored".
    h.finish() | 1
}

impl EchoTable {
    /// An empty table with the run's limits.
    pub fn new(limits: TableLimits) -> EchoTable {
        EchoTable {
            requests: Table::new(0, "echo", limits, Window { nanos: 1 }),
            streams: Table::new(0, "echo streams", limits, Window { nanos: 1 }),
        }
    }

    /// Records a request or classifies a reply, setting the packet's echo status.
    pub fn observe(&mut self, f: &mut Features<'_, '_>) {
        let pkt = f.packet();
        let (Some(ip), Some(icmp)) = (pkt.ip(), pkt.icmp()) else { return };
        let (Some(id), Some(seq)) = (icmp.id, icmp.seq) else { return };
        let is_request = matches!(icmp.icmp_type, 8 | 128);
        if is_request {
            let (k, hash) = (key(self.requests.seed, ip.src, ip.dst, id, seq), payload_hash(pkt.payload));
            self.requests.update(k, pkt.ts_nanos, |stored| *stored = hash);
            let k = key(self.streams.seed, ip.src, ip.dst, id, 0);
            let (ts, ttl) = (pkt.ts_nanos, ip.ttl);
            let status = self.streams.update(k, ts, |stream| follow(stream, seq, ttl, ts));
            f.set_stream(status);
            return;
        }
        let status = match self.requests.get(key(self.requests.seed, ip.dst, ip.src, id, seq), pkt.ts_nanos) {
            Some(&stored) if stored == payload_hash(pkt.payload) => EchoStatus::Echoed,
            Some(_) => EchoStatus::Mismatch,
            None => EchoStatus::Unpaired,
        };
        f.set_echo(status);
    }

    /// The tables' counters (requests, then streams).
    pub fn stats(&self) -> [TableStats; 2] {
        [self.requests.stats.clone(), self.streams.stats.clone()]
    }
}

/// Judges request `seq` (TTL `ttl`, at `ts`) against its stream's previous
/// request, then makes it the stream's last.
fn follow(stream: &mut Stream, seq: u16, ttl: u8, ts: i64) -> StreamStatus {
    let recent = stream.seen && ts.saturating_sub(stream.at) <= STREAM_GAP_NANOS;
    let step = seq.wrapping_sub(stream.seq);
    // A repeat (step 0) is 7100009's business; going back or leaping ahead is not a counter.
    let seq_jump = recent && step > MAX_SEQ_STEP;
    if !recent {
        stream.ttl_changed_at = i64::MIN;
    } else if ttl != stream.ttl {
        stream.ttl_changed_at = ts;
    }
    let ttl_probe = ttl <= MAX_PROBE_TTL
        && stream.ttl_changed_at != i64::MIN
        && ts.saturating_sub(stream.ttl_changed_at) <= STREAM_GAP_NANOS;
    *stream = Stream { seen: true, seq, ttl, at: ts, ttl_changed_at: stream.ttl_changed_at };
    StreamStatus { seq_jump, ttl_probe }
}

#[cfg(test)]
mod tests {
    use super::*;

    const S: i64 = 1_000_000_000;

    fn run(requests: &[(u16, u8, i64)]) -> Vec<(bool, bool)> {
        let mut stream = Stream::default();
        requests
            .iter()
            .map(|&(seq, ttl, ts)| {
                let s = follow(&mut stream, seq, ttl, ts);
                (s.seq_jump, s.ttl_probe)
            })
            .collect()
    }

    #[test]
    fn counters_are_not_jumps() {
        let ping: Vec<_> = (0..10u16).map(|i| (65_530u16.wrapping_add(i), 64, i64::from(i) * S)).collect();
        assert!(run(&ping).iter().all(|&(jump, probe)| !jump && !probe));
        // Windows' host-wide counter skips the echoes sent to other hosts.
        assert_eq!(run(&[(10, 128, 0), (60, 128, S), (170, 128, 2 * S)]), [(false, false); 3]);
        // A new run after a long pause starts over.
        assert_eq!(run(&[(500, 64, 0), (1, 64, 120 * S)]), [(false, false); 2]);
    }

    #[test]
    fn random_or_backward_sequences_jump() {
        assert_eq!(
            run(&[(100, 64, 0), (40_000, 64, S), (12, 64, 2 * S)]),
            [(false, false), (true, false), (true, false)]
        );
    }

    #[test]
    fn rising_low_ttls_are_probes() {
        let trace: Vec<_> = (1..=12u8).map(|ttl| (u16::from(ttl), ttl, i64::from(ttl) * S / 10)).collect();
        let got = run(&trace);
        assert_eq!(got[0], (false, false));
        assert!(got[1..].iter().all(|&(jump, probe)| !jump && probe));
        // A TTL that changes but stays high (a tunnel alternating 64 and 63) is not a trace.
        assert_eq!(run(&[(1, 64, 0), (2, 63, S)]), [(false, false); 2]);
    }
}
