//! DNS over TCP end to end: every message of a stream is matched exactly
//! once by the rules that read DNS fields, however the segments cut the
//! stream, and every segment exactly once by the other rules.

mod common;

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
