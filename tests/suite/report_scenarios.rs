//! The incident reports' scenarios, rebuilt by `synth`, give exactly the
//! reports' detections with the default rules, from pcap and pcapng alike.

use crate::common;

use std::collections::BTreeMap;

use common::*;
use ferret_synth::scenario::{report_dns_icmp, report_icmp};

#[test]
fn report_icmp_gives_exactly_the_five_detections() {
    let scenario = report_icmp();
    for format in [Format::PcapMicros, Format::PcapNanos, Format::Pcapng] {
        let alerts = scan_scenario(default_rules(), &scenario, format);
        assert_eq!(
            hits(&alerts),
            vec![(18, 7100001), (57, 7100001), (100, 7100001), (125, 7100001), (130, 7100001)],
            "{format:?}"
        );
        let messages: Vec<&str> = alerts.iter().map(|a| a.message.as_str()).collect();
        assert_eq!(
            messages,
            [
                "Potential ICMP tunneling detected (byte length=159, entropy=6.78)",
                "Potential ICMP tunneling detected (byte length=70, entropy=5.85)",
                "Potential ICMP tunneling detected (byte length=233, entropy=7.13)",
                "Potential ICMP tunneling detected (byte length=496, entropy=7.65)",
                "Potential ICMP tunneling detected (byte length=528, entropy=7.58)",
            ]
        );
        for a in &alerts {
            assert_eq!(a.src.map(|ip| ip.to_string()).as_deref(), Some("192.168.1.4"));
            assert_eq!(a.dst.map(|ip| ip.to_string()).as_deref(), Some("192.168.1.6"));
            assert_eq!(a.icmp, Some((8, 0)));
        }
    }
}

#[test]
fn report_icmp_ground_truth_matches_alerts() {
    let scenario = report_icmp();
    let alerts = scan_scenario(default_rules(), &scenario, Format::PcapMicros);
    let alerted: Vec<u64> = alerts.iter().map(|a| a.packet).collect();
    assert_eq!(alerted, scenario.tunnel_packet_numbers());
}

#[test]
fn report_dns_icmp_detection_table_matches_the_report() {
    let scenario = report_dns_icmp();
    for format in [Format::PcapMicros, Format::Pcapng] {
        let alerts = scan_scenario(default_rules(), &scenario, format);
        let mut table: BTreeMap<&str, usize> = BTreeMap::new();
        for a in &alerts {
            *table.entry(a.message.as_str()).or_default() += 1;
        }
        let expected: BTreeMap<&str, usize> = [
            ("Potential DNS tunneling detected (length=26, entropy=3.84)", 1),
            ("Potential DNS tunneling detected (length=28, entropy=3.53)", 1),
            ("Potential DNS tunneling detected (length=25, entropy=4.00)", 1),
            ("Potential DNS tunneling detected (length=32, entropy=3.80)", 1),
            ("Potential ICMP tunneling detected (byte length=128, entropy=6.48)", 4),
            ("Potential ICMP tunneling detected (byte length=128, entropy=6.49)", 2),
            ("Potential ICMP tunneling detected (byte length=128, entropy=6.58)", 2),
            ("Potential ICMP tunneling detected (byte length=128, entropy=6.46)", 2),
            ("Potential ICMP tunneling detected (byte length=128, entropy=6.43)", 2),
            ("Potential ICMP tunneling detected (byte length=128, entropy=6.53)", 2),
        ]
        .into_iter()
        .collect();
        assert_eq!(table, expected, "{format:?}");
        let numbers: Vec<u64> = alerts.iter().map(|a| a.packet).collect();
        assert!(numbers.contains(&226) && numbers.contains(&254), "{numbers:?}");
        // The DNS responses repeat their query's name; 7100101 judges queries only.
        let flagged: Vec<u64> = (1u64..)
            .zip(&scenario.packets)
            .filter(|(_, p)| p.tunnel && p.note != "dns tunnel response")
            .map(|(n, _)| n)
            .collect();
        assert_eq!(numbers, flagged);
    }
}

#[test]
fn ordinary_pings_are_not_flagged() {
    // 32, 48 and 56-byte payloads from Windows, BSD and Linux pings.
    use ferret_synth::{frame, payload, Scenario, SynthPacket};
    let a = "10.0.0.1".parse().unwrap();
    let b = "10.0.0.2".parse().unwrap();
    let payloads =
        [payload::windows_ping(32), payload::macos_ping(48, 0), payload::linux_ping(56, 1_700_000_000_000_000_000)];
    let packets = payloads
        .iter()
        .enumerate()
        .flat_map(|(i, p)| {
            [false, true].map(|reply| SynthPacket {
                ts_nanos: i as i64 * 1_000_000_000,
                link_type: 1,
                frame: frame::icmp_echo(a, b, reply, 1, i as u16, p),
                tunnel: false,
                note: "ping",
            })
        })
        .collect();
    let alerts = scan_scenario(default_rules(), &Scenario { name: "pings", packets }, Format::PcapMicros);
    assert!(alerts.is_empty(), "{:?}", hits(&alerts));
}

/// Scans `bytes` with the default rules on `threads` threads, a report's
/// collector watching: the engine afterwards, and what was collected.
fn collect(bytes: &[u8], threads: usize) -> (ferret::engine::Engine, ferret::report::collect::Collected) {
    use ferret::scan::{scan_threads, Input, VecSink};
    let mut engine = ferret::engine::Engine::new(default_rules());
    let mut alerts = VecSink::default();
    let mut collector = ferret::report::collect::Collector::new(false);
    let source = ferret::capture::Source::from_bytes("x.pcap", bytes.to_vec());
    let inputs = vec![Input::opened(source)];
    scan_threads(&mut engine, inputs, &mut [&mut alerts], &mut collector, &mut (), |_, _| {}, threads).unwrap();
    (engine, collector.finish())
}

/// A fragmented ICMP tunnel: the report's ICMP sample holds the rebuilt
/// echo payloads the rules flagged (not only the unfragmented ICMP), on one
/// thread and on two, while the fragments themselves count under Other.
#[test]
fn a_fragmented_tunnel_shows_in_the_report_sample() {
    let bytes = capture_bytes(&ferret_synth::scenario::fragmented_icmp_tunnel(), Format::PcapMicros);
    for threads in [1, 2] {
        let (engine, got) = collect(&bytes, threads);
        let icmp = &got.inspected.icmp;
        let reassembled = engine.stats().defrag.reassembled;
        assert!(reassembled >= 40, "{reassembled} datagrams");
        assert!(icmp.flagged >= reassembled, "threads {threads}: {icmp:?}");
        let big: Vec<_> = icmp.points.iter().filter(|p| p.flagged() && p.length() > 1480).collect();
        assert!(!big.is_empty(), "the rebuilt payloads, longer than any fragment, are sampled");
        assert!(big.iter().all(|p| p.entropy() > 7.5));
        assert_eq!(got.protocols.other, engine.stats().defrag.fragments, "fragments count under Other");
    }
}

/// A DNS-over-TCP tunnel: the report's DNS sample holds every message the
/// engine took out of the streams (most split across segments), not the
/// segments, on one thread and on two.
#[test]
fn a_segmented_dns_tunnel_shows_in_the_report_sample() {
    let bytes = capture_bytes(&ferret_synth::scenario::dns_tcp_tunnel(), Format::PcapMicros);
    for threads in [1, 2] {
        let (engine, got) = collect(&bytes, threads);
        let t = engine.stats().dns_tcp;
        assert_eq!(t.messages, 240);
        let dns = &got.inspected.dns;
        assert!(dns.seen >= t.messages, "threads {threads}: {} seen, {t:?}", dns.seen);
        // Every message has a question: one point each (the sample keeps them all).
        let long = dns.points.iter().filter(|p| p.length() > 40).count();
        assert!(long >= 120, "threads {threads}: {long} tunnel names of {} points", dns.points.len());
    }
}
