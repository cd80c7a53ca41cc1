//! What the hot path allocates, counted by a global allocator wrapper (the
//! claim ARCHITECTURE.md states under Performance):
//! - reading, decoding and matching a packet that raises no alert, creates
//!   no state key and grows no key's window buffer performs zero heap
//!   allocations (a key's window lives in its table slot while it holds one
//!   bucket; its second moves it to a ring on the heap, which then grows a
//!   few times at most, to 32 buckets: a few packets per key in its life,
//!   counted apart);
//! - a packet that creates state keys (a new source for a `by src` clause, a
//!   new echo request) allocates, on average over a pass, at most
//!   [`ALLOCS_PER_NEW_KEY`] times per key created: the key's window buffer and
//!   the tables' amortized growth, which stops at `max_entries`;
//! - on a table already full, creating a key allocates nothing: the new key
//!   takes over the evicted key's slot and state.
//!
//! The quiet-packet claim holds also with the flow table EVE output turns on
//! (`Engine::track_flows`).

mod common;

use ferret::capture::PacketReader;
use ferret::decode::Packet;
use ferret::engine::Engine;

#[path = "common/counting_alloc.rs"]
mod counting_alloc;

use counting_alloc::allocations;

/// Most allocations per state key created, on average over a pass.
const ALLOCS_PER_NEW_KEY: f64 = 2.0;

#[test]
fn matching_a_packet_without_alerts_allocates_nothing() {
    // One test, run twice: the allocation counter is global to the test binary.
    for flows in [false, true] {
        quiet_packets_allocate_nothing(flows);
    }
}

fn quiet_packets_allocate_nothing(flows: bool) {
    let mut bytes = Vec::new();
    ferret_synth::scenario::office(3000, 9).write_pcap(&mut bytes, false).unwrap();
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
    let mut growing_packets = 0u64;
    let mut reader = PacketReader::new(&bytes).unwrap();
    loop {
        // Counting keys allocates (a Vec of table stats): outside the measured span.
        let (keys_before, grown_before) = (keys_inserted(&engine), buffers_grown(&engine));
        let before = allocations();
        let Some(raw) = reader.next() else { break };
        let raw = raw.unwrap();
        let pkt = Packet::decode(raw.link_type, raw.data, 1, raw.ts_nanos, raw.orig_len);
        let mut alerted = false;
        engine.process(&pkt, &mut |_| alerted = true);
        let after = allocations();
        // The replay starts over in packet time, so an echo stream's sequence
        // number goes back and rule 7100014 keys its pair anew: that packet
        // creates state and is judged by the test below.
        if alerted || keys_inserted(&engine) != keys_before {
            continue;
        }
        if buffers_grown(&engine) != grown_before {
            // A known key's window took its second bucket (moving from the
            // table's slot to a ring) or its ring doubled: a few times per
            // key in its life, counted apart.
            growing_packets += 1;
            continue;
        }
        quiet_packets += 1;
        allocs_on_quiet += after - before;
    }
    assert!(growing_packets * 20 < quiet_packets, "{growing_packets} packets grew a key's buffers");
    assert!(quiet_packets > 2500, "the capture should be mostly quiet: {quiet_packets}");
    assert_eq!(allocs_on_quiet, 0, "allocations while matching {quiet_packets} quiet packets (flows: {flows})");
}

/// Echo requests from `n` sources never seen before (each with its own echo id),
/// starting at source number `first`.
fn fresh_sources(first: u32, n: u32) -> Vec<u8> {
    let packets = (0..n)
        .map(|i| {
            let src = std::net::Ipv4Addr::from(0x0a00_0000 + first + i);
            let frame = ferret_synth::frame::icmp_echo(src, [192, 168, 1, 1].into(), false, i as u16, 1, b"abcdefgh");
            let ts_nanos = 1_700_000_000_000_000_000 + i64::from(first + i) * 1_000_000;
            ferret_synth::SynthPacket { ts_nanos, link_type: 1, frame, tunnel: false, note: "" }
        })
        .collect();
    let mut bytes = Vec::new();
    ferret_synth::Scenario { name: "fresh", packets }.write_pcap(&mut bytes, true).unwrap();
    bytes
}

fn keys_inserted(engine: &Engine) -> u64 {
    engine.table_stats().iter().map(|t| t.inserted).sum()
}

fn buffers_grown(engine: &Engine) -> u64 {
    engine.table_stats().iter().map(|t| t.grown).sum()
}

/// Matches `bytes` (echo requests from new sources) and returns the packets
/// that raised no alert, the keys they created and their allocations, after
/// checking that the pass was mostly quiet and created keys.
fn new_keys(engine: &mut Engine, bytes: &[u8]) -> (u64, u64, u64) {
    let (mut packets, mut keys, mut allocs) = (0u64, 0u64, 0u64);
    for raw in PacketReader::new(bytes).unwrap() {
        let raw = raw.unwrap();
        let pkt = Packet::decode(raw.link_type, raw.data, 1, raw.ts_nanos, raw.orig_len);
        let keys_before = keys_inserted(engine);
        let mut alerted = false;
        let before = allocations();
        engine.process(&pkt, &mut |_| alerted = true);
        let after = allocations();
        if !alerted {
            packets += 1;
            allocs += after - before;
            keys += keys_inserted(engine) - keys_before;
        }
    }
    assert!(packets > 7000, "mostly quiet: {packets}");
    assert!(keys >= packets, "every packet creates at least one key: {keys} keys, {packets} packets");
    (packets, keys, allocs)
}

/// Real traffic brings new keys: rule 1000009 (7100009) keys every echo request.
#[test]
fn creating_state_keys_allocates_a_bounded_amount_per_key() {
    // Small tables, so the measured pass also evicts (the steady state of a flood).
    let limits = ferret::engine::tables::TableLimits { max_entries: 4096, ..Default::default() };
    let mut engine = Engine::with_limits(common::default_rules(), limits);
    // Warm-up over other sources: the tables fill to their bound.
    let warm_up = fresh_sources(0, 6000);
    for raw in PacketReader::new(&warm_up).unwrap() {
        let raw = raw.unwrap();
        let pkt = Packet::decode(raw.link_type, raw.data, 1, raw.ts_nanos, raw.orig_len);
        engine.process(&pkt, &mut |_| {});
    }
    let bytes = fresh_sources(100_000, 8000);
    let (packets, keys, allocs) = new_keys(&mut engine, &bytes);
    let per_key = allocs as f64 / keys as f64;
    {
        use std::io::Write;
        let _ = writeln!(
            std::io::stderr(),
            "new keys: {keys} over {packets} packets, {allocs} allocations, {per_key:.2} per key"
        );
    }
    assert!(per_key <= ALLOCS_PER_NEW_KEY, "{allocs} allocations for {keys} new keys ({per_key:.2} per key)");
}

/// Once a table is full, a new key takes over the slot and the state of the
/// key it evicts (cleared, its small buffers kept), and the map keeps room
/// for twice its keys, so churn never grows it: after a warm-up that fills
/// the tables, packets that create keys and raise no alert allocate nothing.
#[test]
fn new_keys_on_full_tables_allocate_nothing() {
    let max_entries = 4096;
    let limits = ferret::engine::tables::TableLimits { max_entries, ..Default::default() };
    let mut engine = Engine::with_limits(common::default_rules(), limits);
    // Warm-up over other sources: the tables fill to their bound and churn.
    let warm_up = fresh_sources(0, 3 * max_entries as u32);
    for raw in PacketReader::new(&warm_up).unwrap() {
        let raw = raw.unwrap();
        let pkt = Packet::decode(raw.link_type, raw.data, 1, raw.ts_nanos, raw.orig_len);
        engine.process(&pkt, &mut |_| {});
    }
    let inserted_before: Vec<u64> = engine.table_stats().iter().map(|t| t.inserted).collect();
    let bytes = fresh_sources(100_000, 8000);
    let (_, keys, allocs) = new_keys(&mut engine, &bytes);
    // Every table that took keys in the measured pass was full.
    for (t, before) in engine.table_stats().iter().zip(inserted_before) {
        if t.inserted > before {
            assert_eq!(t.entries, max_entries, "{t:?}");
        }
    }
    assert_eq!(allocs, 0, "allocations while creating {keys} keys on full tables");
}

/// The flow table EVE turns on: once full, a packet of a new flow takes over
/// the entry of the least recently seen one and its index word, so a flood of
/// new flows allocates nothing (and the table holds exactly its bound).
#[test]
fn new_flows_on_a_full_flow_table_allocate_nothing() {
    let max_entries = 4096;
    let limits = ferret::engine::tables::TableLimits { max_entries, ..Default::default() };
    let mut flows = ferret::engine::flows::FlowTable::new(limits);
    let mut observe = |bytes: &[u8]| {
        let (mut packets, mut allocs) = (0u64, 0u64);
        for raw in PacketReader::new(bytes).unwrap() {
            let raw = raw.unwrap();
            let pkt = Packet::decode(raw.link_type, raw.data, 1, raw.ts_nanos, raw.orig_len);
            let before = allocations();
            let seen = flows.observe(&pkt).unwrap();
            allocs += allocations() - before;
            assert_eq!(flows.info(&seen, &pkt).unwrap().pkts_toserver, 1, "a new flow");
            packets += 1;
        }
        (packets, allocs)
    };
    let (_, warm_up_allocs) = observe(&fresh_sources(0, 2 * max_entries as u32));
    assert!(warm_up_allocs > 0, "filling the table allocates");
    let (packets, allocs) = observe(&fresh_sources(100_000, 8000));
    assert_eq!(packets, 8000);
    assert_eq!(flows.len(), max_entries);
    assert_eq!(allocs, 0, "allocations while creating {packets} flows on a full table");
}

/// Fragmented UDP (NFS-style 4 KB reads in 3 fragments, 20 datagrams in
/// flight at a time) and fragmented Linux pings: after a warm-up pass, in
/// which the reassembler's datagram slots, buffers and map grow, putting
/// fragments back together and matching the rebuilt datagrams allocates
/// nothing (packets that raise an alert or create a state key, as the
/// rebuilt pings do in the echo table, are left out as above).
#[test]
fn reassembling_fragments_allocates_nothing_once_warm() {
    let (server, client) = (std::net::Ipv4Addr::new(10, 0, 0, 98), std::net::Ipv4Addr::new(10, 0, 0, 97));
    let mut packets = Vec::new();
    let mut ts_nanos = 1_700_000_000_000_000_000i64;
    for round in 0..50u32 {
        let mut batch = Vec::new();
        for k in 0..20u32 {
            let id = round * 20 + k;
            let data = ferret_synth::payload::random(4000, u64::from(id));
            let frame = ferret_synth::frame::udp(server, client, 2049, 800, &data);
            batch.push(ferret_synth::frame::fragments(&frame, 1500, id));
        }
        let ping = ferret_synth::payload::linux_ping(3000, ts_nanos);
        let echo = ferret_synth::frame::icmp_echo(client, server, false, 7, round as u16, &ping);
        batch.push(ferret_synth::frame::fragments(&echo, 1500, 60_000 + round));
        // Interleave the datagrams' fragments: first fragments, then the rest.
        for i in 0..3 {
            for frags in &batch {
                if let Some(frame) = frags.get(i) {
                    ts_nanos += 100_000;
                    packets.push(ferret_synth::SynthPacket {
                        ts_nanos,
                        link_type: 1,
                        frame: frame.clone(),
                        tunnel: false,
                        note: "",
                    });
                }
            }
        }
    }
    let (engine, quiet, allocs) = twice_with_the_default_rules("fragments", packets);
    let d = engine.stats().defrag;
    assert_eq!(d.reassembled, 2 * 50 * 21, "every datagram rebuilt, in both passes: {d:?}");
    assert!(quiet > 2900, "mostly quiet: {quiet}");
    assert_eq!(allocs, 0, "allocations while reassembling {quiet} quiet fragments");
}

/// DNS over TCP: 20 connections to port 53 at a time, each a handshake, two
/// queries written as a lone byte of the first length prefix then the rest
/// (the second query pipelined behind the first), both answers in one
/// segment, and FIN both ways; 50 rounds of them. After a warm-up pass, in
/// which the reassembler's slots, buffers and index grow, following the
/// streams, taking the messages out and matching each allocates nothing
/// (packets that raise an alert or create a state key are left out as above).
#[test]
fn reassembling_dns_over_tcp_allocates_nothing_once_warm() {
    use ferret_synth::frame::{dns_query, dns_response, dns_tcp, flags, tcp_segment};
    let (client, server) = (std::net::Ipv4Addr::new(10, 0, 0, 97), std::net::Ipv4Addr::new(10, 0, 0, 53));
    let mut packets = Vec::new();
    let mut ts_nanos = 1_700_000_000_000_000_000i64;
    let names = ["github.com", "www.wikipedia.org", "slack.com", "pypi.org"];
    for round in 0..50u32 {
        let mut conns = Vec::new();
        for k in 0..20u16 {
            let sport = 40_000 + k;
            let (c, s) = (round * 100_000 + u32::from(k) * 1000, 7_000_000 + u32::from(k));
            let name = names[usize::from(k) % names.len()];
            let (q1, q2) = (dns_query(k, name, 1), dns_query(k + 1, name, 28));
            let queries = [dns_tcp(&q1), dns_tcp(&q2)].concat();
            let answers = [
                dns_tcp(&dns_response(k, name, 1, &[(1, &[192, 0, 2, 1][..])])),
                dns_tcp(&dns_response(
                    k + 1,
                    name,
                    28,
                    &[(28, &[0x20, 1, 0x0d, 0xb8, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 1][..])],
                )),
            ]
            .concat();
            let q_end = c + 1 + queries.len() as u32;
            let to =
                |f: u8, seq: u32, ack: u32, data: &[u8]| tcp_segment(client, server, (sport, 53), f, (seq, ack), data);
            let from =
                |f: u8, seq: u32, ack: u32, data: &[u8]| tcp_segment(server, client, (53, sport), f, (seq, ack), data);
            let ack = flags::ACK;
            conns.push(vec![
                to(flags::SYN, c, 0, &[]),
                from(flags::SYN | ack, s, c + 1, &[]),
                to(ack | flags::PSH, c + 1, s + 1, &queries[..1]),
                to(ack | flags::PSH, c + 2, s + 1, &queries[1..]),
                from(ack | flags::PSH, s + 1, q_end, &answers),
                to(ack | flags::FIN, q_end, s + 1 + answers.len() as u32, &[]),
                from(ack | flags::FIN, s + 1 + answers.len() as u32, q_end + 1, &[]),
            ]);
        }
        for i in 0..7 {
            for frames in &conns {
                ts_nanos += 100_000;
                let frame = frames[i].clone();
                packets.push(ferret_synth::SynthPacket { ts_nanos, link_type: 1, frame, tunnel: false, note: "" });
            }
        }
    }
    let (engine, quiet, allocs) = twice_with_the_default_rules("dns over tcp", packets);
    let t = engine.stats().dns_tcp;
    assert_eq!(t.messages, 2 * 50 * 20 * 4, "every message taken out, in both passes: {t:?}");
    assert_eq!(t.split, 2 * 50 * 20, "the first query of each connection was split: {t:?}");
    assert!(quiet > 6000, "mostly quiet: {quiet}");
    assert_eq!(allocs, 0, "allocations while reassembling {quiet} quiet DNS-over-TCP segments");
}

/// Matches `packets` with the default rules twice, the second time 1,000 s
/// later in packet time, and counts the packets of the second pass that
/// raised no alert, created no state key and grew no key's buffers, and
/// what they allocated.
fn twice_with_the_default_rules(name: &'static str, packets: Vec<ferret_synth::SynthPacket>) -> (Engine, u64, u64) {
    let mut bytes = Vec::new();
    ferret_synth::Scenario { name, packets }.write_pcap(&mut bytes, true).unwrap();
    let mut engine = Engine::new(common::default_rules());
    for raw in PacketReader::new(&bytes).unwrap() {
        let raw = raw.unwrap();
        let pkt = Packet::decode(raw.link_type, raw.data, 1, raw.ts_nanos, raw.orig_len);
        engine.process(&pkt, &mut |_| {});
    }
    let (mut quiet, mut allocs) = (0u64, 0u64);
    for raw in PacketReader::new(&bytes).unwrap() {
        let raw = raw.unwrap();
        let pkt = Packet::decode(raw.link_type, raw.data, 1, raw.ts_nanos + 1_000_000_000_000, raw.orig_len);
        let (keys_before, grown_before) = (keys_inserted(&engine), buffers_grown(&engine));
        let mut alerted = false;
        let before = allocations();
        engine.process(&pkt, &mut |_| alerted = true);
        let after = allocations();
        if !alerted && keys_inserted(&engine) == keys_before && buffers_grown(&engine) == grown_before {
            quiet += 1;
            allocs += after - before;
        }
    }
    (engine, quiet, allocs)
}
