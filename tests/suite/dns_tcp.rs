//! DNS over TCP end to end: every message of a stream is matched exactly
//! once by the rules that read DNS fields, however the segments cut the
//! stream, and every segment exactly once by the other rules.

use crate::common;

use common::*;
use ferret_synth::scenario;

/// One rule per scope: DNS queries and responses (read per message), and
/// TCP data to or from port 53 (read per segment).
const RULES: &str = r#"
alert dns any any -> any 53 { id 1 msg "query {dns.qname}" when not dns.is_response }
alert dns any 53 -> any any { id 2 msg "response" when dns.is_response }
alert tcp any any <> any 53 { id 3 msg "segment" when payload.len > 0 }
alert dns any any <> any 53 { id 4 msg "split" when dns.tcp.reassembled }
"#;

fn count(alerts: &[ferret::engine::alert::Alert], sid: u64) -> usize {
    alerts.iter().filter(|a| a.rule().is_some_and(|r| r.sid == sid)).count()
}

#[test]
fn every_message_of_the_tunnel_is_matched_once_and_every_segment_once() {
    let s = scenario::dns_tcp_tunnel();
    let tcp_data_segments = s
        .packets
        .iter()
        .filter(|p| {
            let pkt = ferret::decode::Packet::decode(p.link_type, &p.frame, 1, p.ts_nanos, p.frame.len() as u32);
            pkt.is_tcp() && !pkt.payload.is_empty()
        })
        .count();
    let (alerts, engine) = scan_bytes(rules(RULES), &capture_bytes(&s, Format::PcapMicros));
    let t = engine.stats().dns_tcp;
    // 2 connections of 60 queries, each answered.
    assert_eq!(count(&alerts, 1), 120, "{t:?}");
    assert_eq!(count(&alerts, 2), 120, "{t:?}");
    assert_eq!(count(&alerts, 3), tcp_data_segments, "one alert per data segment, retransmissions included");
    assert_eq!(t.messages, 240);
    assert_eq!(t.segments as usize, tcp_data_segments);
    assert!(t.retransmitted >= 2, "{t:?}");
    assert_eq!((t.gaps, t.resync_skipped, t.bad_length, t.evicted), (0, 0, 0, 0), "{t:?}");
    assert_eq!(t.closed, 4, "FIN frees both directions of both connections: {t:?}");
    assert_eq!(count(&alerts, 4) as u64, t.split);
    assert!(t.split >= 60, "most queries are split: {t:?}");
    // Every query name once: the tunnel never repeats a name.
    let names: std::collections::BTreeSet<String> =
        alerts.iter().filter(|a| a.rule().is_some_and(|r| r.sid == 1)).map(|a| a.message.clone()).collect();
    assert_eq!(names.len(), 120);
}

#[test]
fn benign_dns_over_tcp_decodes_whole() {
    let s = scenario::benign_dns_over_tcp();
    let (_, engine) = scan_bytes(rules(RULES), &capture_bytes(&s, Format::PcapMicros));
    let t = engine.stats().dns_tcp;
    // 30 truncated-then-TCP lookups, 4 DNSKEY fetches, 10 rounds of 3 pipelined
    // lookups, a zone transfer of 6 messages: queries and answers.
    assert_eq!(t.messages, 2 * 30 + 2 * 4 + 2 * 30 + 1 + 6, "{t:?}");
    assert_eq!(engine.stats().dns_errors, vec![], "every message decodes");
}

#[test]
fn the_summary_and_the_stats_file_count_the_reassembly() {
    let dir = tempfile::tempdir().unwrap();
    std::fs::write(dir.path().join("tcp.pcap"), capture_bytes(&scenario::dns_tcp_tunnel(), Format::PcapMicros))
        .unwrap();
    let out = run_ferret(&["scan", "-q", "--stats", "stats.json", "tcp.pcap"], dir.path(), b"");
    assert!(out.status.code().is_some_and(|c| c == 0 || c == 1), "{}", String::from_utf8_lossy(&out.stderr));
    let err = String::from_utf8_lossy(&out.stderr);
    assert!(err.contains("\ndns over tcp: "), "{err}");
    assert!(err.contains(" segments, 240 messages ("), "{err}");
    let stats: serde_json::Value =
        serde_json::from_str(&std::fs::read_to_string(dir.path().join("stats.json")).unwrap()).unwrap();
    assert_eq!(stats["dns_tcp"]["messages"], 240);
    assert_eq!(stats["dns_tcp"]["gaps"], 0);
    assert!(stats["dns_tcp"]["split"].as_u64().unwrap() >= 60, "{stats}");
}

#[test]
fn segments_sent_out_of_order_hide_no_message() {
    // The tunnel's client segments, each pair of consecutive data segments of
    // one direction sent the other way round (the capture's times kept in
    // order): a client that reorders its writes, or a network that does.
    let mut s = scenario::dns_tcp_tunnel();
    let data_segment = |p: &ferret_synth::SynthPacket| {
        let pkt = ferret::decode::Packet::decode(p.link_type, &p.frame, 1, p.ts_nanos, p.frame.len() as u32);
        (pkt.is_tcp() && !pkt.payload.is_empty()).then(|| pkt.ports())
    };
    let mut swapped = 0;
    let mut i = 0;
    while i + 1 < s.packets.len() {
        let (a, b) = (data_segment(&s.packets[i]), data_segment(&s.packets[i + 1]));
        if a.is_some() && a == b {
            let (x, y) = s.packets.split_at_mut(i + 1);
            std::mem::swap(&mut x[i].frame, &mut y[0].frame);
            swapped += 1;
            i += 2;
        } else {
            i += 1;
        }
    }
    assert!(swapped >= 30, "{swapped} pairs swapped");
    let (alerts, engine) = scan_bytes(rules(RULES), &capture_bytes(&s, Format::PcapMicros));
    let t = engine.stats().dns_tcp;
    assert_eq!(count(&alerts, 1), 120, "every query, as in order: {t:?}");
    assert_eq!(count(&alerts, 2), 120, "{t:?}");
    assert_eq!(t.messages, 240);
    assert!(t.reordered >= 30, "{t:?}");
    assert_eq!((t.gaps, t.resync_skipped), (0, 0), "{t:?}");
}
