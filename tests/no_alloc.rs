//! The hot path allocates nothing: reading, decoding and matching a packet
//! that raises no alert performs zero heap allocations (counted by a global
//! allocator wrapper), once state for its keys exists; also with the flow
//! table EVE output turns on (`Engine::track_flows`).

mod common;

use ferret::capture::PacketReader;
use ferret::decode::Packet;
use ferret::engine::Engine;

#[path = "common/counting_alloc.rs"]
mod counting_alloc;

use counting_alloc::allocations;

#[test]
fn matching_a_packet_without_alerts_allocates_nothing() {
    // One test, run twice: the allocation counter is global to the test binary.
    for flows in [false, true] {
        quiet_packets_allocate_nothing(flows);
    }
}

fn quiet_packets_allocate_nothing(flows: bool) {
    let mut bytes = Vec::new();
    ferret::synth::scenario::office(3000, 9).write_pcap(&mut bytes, false).unwrap();
    let counted = allocations();
    let mut engine = Engine::new(common::default_rules());
    assert!(allocations() > counted, "the counting allocator is live");
    if flows {
        engine.track_flows();
    }
    // Warm-up: state tables meet their keys, caches fill.
    for raw in PacketReader::new(&bytes).unwrap() {
        let raw = raw.unwrap();
        let pkt = Packet::decode(raw.link_type, raw.data, 1, raw.ts_nanos, raw.orig_len);
        engine.process(&pkt, &mut |_| {});
    }
    let mut quiet_packets = 0u64;
    let mut allocs_on_quiet = 0u64;
    let mut reader = PacketReader::new(&bytes).unwrap();
    loop {
        let before = allocations();
        let Some(raw) = reader.next() else { break };
        let raw = raw.unwrap();
        let pkt = Packet::decode(raw.link_type, raw.data, 1, raw.ts_nanos, raw.orig_len);
        let mut alerted = false;
        engine.process(&pkt, &mut |_| alerted = true);
        let after = allocations();
        if !alerted {
            quiet_packets += 1;
            allocs_on_quiet += after - before;
        }
    }
    assert!(quiet_packets > 2500, "the capture should be mostly quiet: {quiet_packets}");
    assert_eq!(allocs_on_quiet, 0, "allocations while matching {quiet_packets} quiet packets (flows: {flows})");
}
