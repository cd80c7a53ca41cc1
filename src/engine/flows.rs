//! Flows, as Suricata counts them for EVE: one id per flow for both
//! directions, and packets and bytes each way.
//!
//! A flow is the unordered 5-tuple (protocol, both addresses, both ports;
//! ICMP flows have no ports, so all ICMP between two hosts is one flow, as in
//! Suricata). The first packet seen decides which side is the client
//! (`toserver`). The table is a bounded [`Table`] like every state table: at
//! most `max_entries` flows, the least recently seen evicted when full, flows
//! idle for `idle` of packet time forgotten (the next packet starts a new flow
//! with a new id). Counting a packet of a known flow allocates nothing.

use std::hash::{Hash, Hasher};
use std::net::IpAddr;

use crate::decode::Packet;
use crate::engine::state::Window;
use crate::engine::tables::{keyed_hasher, state_hasher, Footprint, Table, TableLimits};

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
    /// The client is the lower endpoint of the key (see [`endpoints`]).
    client_is_low: bool,
    pkts: [u64; 2],
    bytes: [u64; 2],
    passed: bool,
}

/// The flows of a run.
pub struct FlowTable {
    flows: Table<FlowState>,
}

type Endpoint = (IpAddr, Option<u16>);

/// The packet's endpoints, lower first, and whether the source is the lower one.
fn endpoints(pkt: &Packet<'_>) -> Option<(u8, Endpoint, Endpoint, bool)> {
    let ip = pkt.ip()?;
    let ports = pkt.ports();
    let src = (ip.src, ports.map(|p| p.0));
    let dst = (ip.dst, ports.map(|p| p.1));
    Some(if src <= dst { (ip.proto, src, dst, true) } else { (ip.proto, dst, src, false) })
}

impl FlowTable {
    /// An empty table bounded by `limits`.
    pub fn new(limits: TableLimits) -> FlowTable {
        FlowTable { flows: Table::new(0, "flow", limits, Window { nanos: 1 }) }
    }

    /// Counts `pkt` in its flow and returns the flow's counters (None for packets without IP).
    pub fn observe(&mut self, pkt: &Packet<'_>) -> Option<FlowInfo> {
        let (proto, low, high, src_is_low) = endpoints(pkt)?;
        // Seeded per run: flow keys are map keys an attacker must not steer.
        let mut h = keyed_hasher(self.flows.seed);
        (proto, low, high).hash(&mut h);
        let key = h.finish();
        let ts = pkt.ts_nanos;
        let wire = u64::from(pkt.wire_len);
        Some(self.flows.update(key, ts, |flow| {
            if flow.id == 0 {
                let mut h = state_hasher();
                (key, ts).hash(&mut h);
                *flow = FlowState {
                    id: (h.finish() & ID_MASK).max(1),
                    start_nanos: ts,
                    client_is_low: src_is_low,
                    ..FlowState::default()
                };
            }
            let to_server = src_is_low == flow.client_is_low;
            let side = usize::from(!to_server);
            let first_in_direction = flow.pkts.get(side) == Some(&0);
            if let (Some(p), Some(b)) = (flow.pkts.get_mut(side), flow.bytes.get_mut(side)) {
                *p += 1;
                *b += wire;
            }
            let (client, server) = if flow.client_is_low { (low, high) } else { (high, low) };
            let [pkts_toserver, pkts_toclient] = flow.pkts;
            let [bytes_toserver, bytes_toclient] = flow.bytes;
            FlowInfo {
                id: flow.id,
                start_nanos: flow.start_nanos,
                client,
                server,
                pkts_toserver,
                bytes_toserver,
                pkts_toclient,
                bytes_toclient,
                to_server,
                first_in_direction,
                passed: flow.passed,
                key,
            }
        }))
    }

    /// Marks the flow `key` (from [`FlowInfo::key`]) passed: later packets of
    /// it, both ways, raise no alerts.
    pub fn pass(&mut self, key: u64, ts: i64) {
        if self.flows.get(key, ts).is_some() {
            self.flows.update(key, ts, |flow| flow.passed = true);
        }
    }
}

impl Footprint for FlowState {
    fn heap_bytes(&self) -> usize {
        0
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use ferret_synth::frame;

    fn udp(src: [u8; 4], sport: u16, dst: [u8; 4], dport: u16) -> Vec<u8> {
        frame::udp(src.into(), dst.into(), sport, dport, b"hello")
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
        assert_eq!((b.pkts_toserver, b.pkts_toclient), (1, 1));
        assert_eq!((b.bytes_toserver, b.bytes_toclient), (q.len() as u64, r.len() as u64));
        assert_eq!(b.start_nanos, 1_000);
        assert_eq!(b.client.1, Some(5555));
        assert_eq!(b.server.1, Some(53));
    }
}
