//! Collecting for a report allocates nothing per packet once the reservoirs
//! are full: counting protocols, sampling ICMP payloads and DNS names (with
//! their entropy and DNS decoding) all run without the heap.

use ferret::capture::PacketReader;
use ferret::decode::Packet;
use ferret::report::collect::{Collector, SAMPLED_POINTS};
use ferret::scan::PacketObserver;

#[path = "common/counting_alloc.rs"]
mod counting_alloc;

use counting_alloc::allocations;

#[test]
fn collecting_allocates_nothing_once_the_reservoirs_are_full() {
    let mut bytes = Vec::new();
    let mut w = ferret::capture::writer::PcapWriter::new(&mut bytes, Default::default()).unwrap();
    for p in ferret_synth::scenario::bench_mix(100_000, 5) {
        w.write_packet(p.ts_nanos, &p.frame, p.frame.len() as u32).unwrap();
    }
    drop(w);
    let mut collector = Collector::new(false);
    collector.start_file(0, "bench.pcap");
    let pass = |collector: &mut Collector| {
        let mut allocs = 0;
        for (number, raw) in (1..).zip(PacketReader::new(&bytes).unwrap()) {
            let raw = raw.unwrap();
            let pkt = Packet::decode(raw.link_type, raw.data, number, raw.ts_nanos, raw.orig_len);
            let before = allocations();
            collector.packet(&raw, &pkt, 0);
            allocs += allocations() - before;
        }
        allocs
    };
    // The first pass fills the reservoirs (about 10,000 ICMP and DNS packets each).
    let filling = pass(&mut collector);
    assert!(filling > 0, "the counting allocator is live: the reservoirs grew");
    let allocs = pass(&mut collector);
    let collected = collector.finish();
    let (icmp, dns) = (&collected.inspected.icmp, &collected.inspected.dns);
    assert!(
        icmp.seen > 2 * SAMPLED_POINTS as u64 && dns.seen > 2 * SAMPLED_POINTS as u64,
        "{} {}",
        icmp.seen,
        dns.seen
    );
    assert_eq!(icmp.points.len(), SAMPLED_POINTS);
    assert_eq!(allocs, 0, "allocations while collecting 100,000 packets with full reservoirs");
}
