//! The hot path allocates nothing: reading, decoding and matching a packet
//! that raises no alert performs zero heap allocations (counted by a global
//! allocator wrapper), once state for its keys exists.

mod common;

use std::alloc::{GlobalAlloc, Layout, System};
use std::sync::atomic::{AtomicU64, Ordering};

use ferret::capture::PacketReader;
use ferret::decode::Packet;
use ferret::engine::Engine;

struct Counting;

static ALLOCS: AtomicU64 = AtomicU64::new(0);

// SAFETY: defers to the system allocator; only counts calls.
unsafe impl GlobalAlloc for Counting {
    unsafe fn alloc(&self, layout: Layout) -> *mut u8 {
        ALLOCS.fetch_add(1, Ordering::Relaxed);
        // SAFETY: same contract as the caller's.
        unsafe { System.alloc(layout) }
    }
    unsafe fn dealloc(&self, ptr: *mut u8, layout: Layout) {
        // SAFETY: same contract as the caller's.
        unsafe { System.dealloc(ptr, layout) }
    }
    unsafe fn realloc(&self, ptr: *mut u8, layout: Layout, new_size: usize) -> *mut u8 {
        ALLOCS.fetch_add(1, Ordering::Relaxed);
        // SAFETY: same contract as the caller's.
        unsafe { System.realloc(ptr, layout, new_size) }
    }
}

#[global_allocator]
static GLOBAL: Counting = Counting;

#[test]
fn matching_a_packet_without_alerts_allocates_nothing() {
    let mut bytes = Vec::new();
    ferret::synth::scenario::office(3000, 9).write_pcap(&mut bytes, false).unwrap();
    let counted = ALLOCS.load(Ordering::Relaxed);
    let mut engine = Engine::new(common::default_rules());
    assert!(ALLOCS.load(Ordering::Relaxed) > counted, "the counting allocator is live");
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
        let before = ALLOCS.load(Ordering::Relaxed);
        let Some(raw) = reader.next() else { break };
        let raw = raw.unwrap();
        let pkt = Packet::decode(raw.link_type, raw.data, 1, raw.ts_nanos, raw.orig_len);
        let mut alerted = false;
        engine.process(&pkt, &mut |_| alerted = true);
        let after = ALLOCS.load(Ordering::Relaxed);
        if !alerted {
            quiet_packets += 1;
            allocs_on_quiet += after - before;
        }
    }
    assert!(quiet_packets > 2500, "the capture should be mostly quiet: {quiet_packets}");
    assert_eq!(allocs_on_quiet, 0, "allocations while matching {quiet_packets} quiet packets");
}
