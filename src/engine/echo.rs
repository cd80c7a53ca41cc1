//! Echo correlation: does an ICMP(v6) echo reply carry what its request did?
//!
//! A normal ping's reply echoes the request's payload byte for byte; tunnels
//! such as icmpsh and ptunnel answer with different data, and some channels
//! send replies nobody asked for. The table remembers a hash of each echo
//! request's payload by (source, destination, id, seq) and classifies each
//! reply as echoed, mismatched or unpaired. It is bounded like every state
//! table and only runs when some rule reads `icmp.reply_mismatch` or
//! `icmp.unpaired_reply`.

use std::hash::{Hash, Hasher};
use std::net::IpAddr;

use crate::decode::features::{EchoStatus, Features};
use crate::engine::state::Window;
use crate::engine::tables::{Table, TableLimits, TableStats};

/// Requests seen, by flow and echo id/seq.
pub struct EchoTable {
    requests: Table<u64>,
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
        EchoTable { requests: Table::new(0, "echo", limits, Window { nanos: 1 }) }
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
            return;
        }
        let status = match self.requests.get(key(self.requests.seed, ip.dst, ip.src, id, seq), pkt.ts_nanos) {
            Some(&stored) if stored == payload_hash(pkt.payload) => EchoStatus::Echoed,
            Some(_) => EchoStatus::Mismatch,
            None => EchoStatus::Unpaired,
        };
        f.set_echo(status);
    }

    /// The table's counters.
    pub fn stats(&self) -> TableStats {
        self.requests.stats.clone()
    }
}
