//! Stateful clauses pinned at their edges: exactly N and N+1 matches, just
//! inside and just outside the window, out-of-order timestamps, keys, limits,
//! distinct counts and echo correlation — all through the scan path.

use crate::common;

use common::*;
use ferret_synth::{frame, Scenario, SynthPacket};

const S: i64 = 1_000_000_000;
const T0: i64 = 1_700_000_000 * S;

fn ip(s: &str) -> std::net::Ipv4Addr {
    s.parse().unwrap()
}

fn pkt(ts: i64, frame: Vec<u8>) -> SynthPacket {
    SynthPacket { ts_nanos: T0 + ts, link_type: 1, frame, tunnel: false, note: "" }
}

fn ping_at(ts: i64, src: &str, dst: &str) -> SynthPacket {
    pkt(ts, frame::icmp_echo(ip(src), ip(dst), false, 1, 1, b"abcdefgh"))
}

fn run(rules: &str, packets: Vec<SynthPacket>) -> Vec<ferret::engine::alert::Alert> {
    scan_scenario(common::rules(rules), &Scenario { name: "t", packets }, Format::PcapNanos)
}

fn numbers(alerts: &[ferret::engine::alert::Alert]) -> Vec<u64> {
    alerts.iter().map(|a| a.packet).collect()
}

const THRESHOLD: &str = "alert icmp any any -> any any { id 1  threshold 3 within 10s by src }";

#[test]
fn threshold_fires_from_the_nth_match_within_the_window() {
    // Exactly N = 3 inside the window: the third fires.
    let a = run(
        THRESHOLD,
        vec![
            ping_at(0, "10.0.0.1", "10.0.0.9"),
            ping_at(S, "10.0.0.1", "10.0.0.9"),
            ping_at(2 * S, "10.0.0.1", "10.0.0.9"),
        ],
    );
    assert_eq!(numbers(&a), vec![3]);
    let r = a[0].state.as_ref().unwrap();
    assert_eq!((r.clause, r.key.as_str(), r.count, r.first_packet, r.last_packet), ("threshold", "10.0.0.1", 3, 1, 3));
    assert_eq!(r.window_nanos, 10 * S as u64);
    // N - 1 matches: nothing.
    assert!(run(THRESHOLD, vec![ping_at(0, "10.0.0.1", "10.0.0.9"), ping_at(S, "10.0.0.1", "10.0.0.9")]).is_empty());
    // N + 1: the third and the fourth fire (detection_filter semantics).
    let four = (0..4).map(|i| ping_at(i * S, "10.0.0.1", "10.0.0.9")).collect();
    assert_eq!(numbers(&run(THRESHOLD, four)), vec![3, 4]);
}

#[test]
fn threshold_window_edges() {
    // Third match 1 ns inside the 10 s window of the first: fires.
    let inside = vec![
        ping_at(0, "10.0.0.1", "10.0.0.9"),
        ping_at(5 * S, "10.0.0.1", "10.0.0.9"),
        ping_at(10 * S - 1, "10.0.0.1", "10.0.0.9"),
    ];
    assert_eq!(numbers(&run(THRESHOLD, inside)), vec![3]);
    // Exactly 10 s later: the first has left the window (t - T, t].
    let outside = vec![
        ping_at(0, "10.0.0.1", "10.0.0.9"),
        ping_at(5 * S, "10.0.0.1", "10.0.0.9"),
        ping_at(10 * S, "10.0.0.1", "10.0.0.9"),
    ];
    assert!(run(THRESHOLD, outside).is_empty());
}

#[test]
fn threshold_keys_separate_hosts() {
    let packets = vec![
        ping_at(0, "10.0.0.1", "10.0.0.9"),
        ping_at(S, "10.0.0.2", "10.0.0.9"),
        ping_at(2 * S, "10.0.0.1", "10.0.0.9"),
        ping_at(3 * S, "10.0.0.2", "10.0.0.9"),
        ping_at(4 * S, "10.0.0.2", "10.0.0.9"),
    ];
    assert_eq!(numbers(&run(THRESHOLD, packets.clone())), vec![5]);
    let by_dst = "alert icmp any any -> any any { id 1  threshold 3 within 10s by dst }";
    assert_eq!(numbers(&run(by_dst, packets)), vec![3, 4, 5]);
}

#[test]
fn pair_is_unordered_and_flow_is_ordered() {
    let packets = vec![
        ping_at(0, "10.0.0.1", "10.0.0.2"),
        ping_at(S, "10.0.0.2", "10.0.0.1"),
        ping_at(2 * S, "10.0.0.1", "10.0.0.2"),
    ];
    let pair = "alert icmp any any -> any any { id 1  threshold 3 within 10s by pair }";
    let a = run(pair, packets.clone());
    assert_eq!(numbers(&a), vec![3]);
    assert_eq!(a[0].state.as_ref().unwrap().key, "10.0.0.1 <-> 10.0.0.2");
    let flow = "alert icmp any any -> any any { id 1  threshold 2 within 10s by flow }";
    assert_eq!(numbers(&run(flow, packets)), vec![3]);
}

#[test]
fn out_of_order_timestamps_count_at_the_newest_time() {
    // The second packet is stamped 20 s before the first; it counts at t=20 s.
    let packets = vec![
        ping_at(20 * S, "10.0.0.1", "10.0.0.9"),
        ping_at(0, "10.0.0.1", "10.0.0.9"),
        ping_at(29 * S, "10.0.0.1", "10.0.0.9"),
    ];
    assert_eq!(numbers(&run(THRESHOLD, packets)), vec![3]);
}

#[test]
fn rate_fires_above_the_rate() {
    let rule = "alert icmp any any -> any any { id 1  rate > 3/s by src }";
    // 3 in one second is not above 3/s; the 4th within the second is.
    let packets: Vec<_> = (0..5).map(|i| ping_at(i * 200_000_000, "10.0.0.1", "10.0.0.9")).collect();
    let a = run(rule, packets);
    assert_eq!(numbers(&a), vec![4, 5]);
    let r = a[0].state.as_ref().unwrap();
    assert_eq!(r.clause, "rate");
    assert_eq!(r.rate_per_sec, Some(4.0));
    // Spread over time at exactly 3/s: never above.
    let steady: Vec<_> = (0..30).map(|i| ping_at(i * S / 3, "10.0.0.1", "10.0.0.9")).collect();
    assert!(run(rule, steady).is_empty());
    // The per-window form: 10 per 10 s.
    let rule10 = "alert icmp any any -> any any { id 1  rate > 10/10s by src }";
    let burst: Vec<_> = (0..11).map(|i| ping_at(i * (S / 2), "10.0.0.1", "10.0.0.9")).collect();
    assert_eq!(numbers(&run(rule10, burst)), vec![11]);
}

#[test]
fn limit_caps_alerts_per_key_per_window() {
    let rule = "alert icmp any any -> any any { id 1  limit 2 per 10s by src }";
    let packets: Vec<_> = (0..6).map(|i| ping_at(i * 3 * S, "10.0.0.1", "10.0.0.9")).collect();
    // t = 0, 3, 6, 9, 12, 15: two alerts per 10 s window: 0, 3, then 12 (0 has left), 15 (3 has left at 13).
    assert_eq!(numbers(&run(rule, packets)), vec![1, 2, 5, 6]);
    let both = "alert icmp any any -> any any { id 1  threshold 2 within 10s by src  limit 1 per 60s by src }";
    let packets: Vec<_> = (0..6).map(|i| ping_at(i * S, "10.0.0.1", "10.0.0.9")).collect();
    assert_eq!(numbers(&run(both, packets)), vec![2]);
}

fn dns_at(ts: i64, src: &str, qname: &str) -> SynthPacket {
    pkt(ts, frame::udp(ip(src), ip("10.0.0.53"), 40000, 53, &frame::dns_query(1, qname, 1)))
}

#[test]
fn distinct_counts_values_per_key() {
    let rule = "alert dns any any -> any any { id 1  distinct dns.subdomain > 3 within 60s by src, dns.domain }";
    let mut packets = vec![
        dns_at(0, "10.0.0.1", "a.evil.com"),
        dns_at(S, "10.0.0.1", "b.evil.com"),
        dns_at(2 * S, "10.0.0.1", "A.evil.com"), // same subdomain, other case
        dns_at(3 * S, "10.0.0.1", "c.evil.com"),
        dns_at(4 * S, "10.0.0.1", "x.other.com"), // other domain: other key
        dns_at(5 * S, "10.0.0.2", "d.evil.com"),  // other host: other key
        dns_at(6 * S, "10.0.0.1", "d.evil.com"),  // 4th distinct: fires
    ];
    let a = run(rule, packets.clone());
    assert_eq!(numbers(&a), vec![7]);
    let r = a[0].state.as_ref().unwrap();
    assert_eq!((r.clause, r.count, r.first_packet), ("distinct", 4, 1));
    assert_eq!(r.key, "10.0.0.1, dns.domain=evil.com");
    // Outside the window the old values are gone.
    packets.push(dns_at(100 * S, "10.0.0.1", "e.evil.com"));
    assert_eq!(numbers(&run(rule, packets)), vec![7]);
}

#[test]
fn distinct_beyond_the_exact_set_is_estimated() {
    let rule =
        "alert dns any any -> any any { id 1  distinct dns.subdomain > 500 within 60s by src  limit 1 per 60s by src }";
    let packets: Vec<_> = (0..1000).map(|i| dns_at(i * 1_000_000, "10.0.0.1", &format!("q{i}.evil.com"))).collect();
    let a = run(rule, packets);
    assert_eq!(a.len(), 1);
    // HyperLogLog estimate: fires near the 501st value (3.3% standard error).
    assert!((440..=560).contains(&a[0].packet), "fired at {}", a[0].packet);
}

fn echo(ts: i64, src: &str, dst: &str, reply: bool, seq: u16, data: &[u8]) -> SynthPacket {
    pkt(ts, frame::icmp_echo(ip(src), ip(dst), reply, 7, seq, data))
}

#[test]
fn echo_correlation_flags_mismatched_and_unpaired_replies() {
    let rules = "
        alert icmp any any -> any any { id 1  when icmp.reply_mismatch }
        alert icmp any any -> any any { id 2  when icmp.unpaired_reply }
    ";
    let packets = vec![
        echo(0, "10.0.0.1", "10.0.0.2", false, 1, b"hello"),
        echo(1, "10.0.0.2", "10.0.0.1", true, 1, b"hello"), // echoed: fine
        echo(2, "10.0.0.1", "10.0.0.2", false, 2, b"hello"),
        echo(3, "10.0.0.2", "10.0.0.1", true, 2, b"secret"), // mismatch
        echo(4, "10.0.0.2", "10.0.0.1", true, 3, b"hello"),  // no request seq 3
        echo(5, "10.0.0.3", "10.0.0.1", true, 1, b"hello"),  // other pair: unpaired
    ];
    let a = run(rules, packets);
    assert_eq!(hits(&a), vec![(4, 1), (5, 2), (6, 2)]);
    // ICMPv6 works the same way.
    let v6 = |ts, src: &str, dst: &str, reply, data: &[u8]| {
        pkt(ts, frame::icmpv6_echo(src.parse().unwrap(), dst.parse().unwrap(), reply, 1, 1, data))
    };
    let rules6 = "alert icmp6 any any -> any any { id 1  when icmp.reply_mismatch or icmp.unpaired_reply }";
    let a = run(rules6, vec![v6(0, "fe80::1", "fe80::2", false, b"x"), v6(1, "fe80::2", "fe80::1", true, b"y")]);
    assert_eq!(numbers(&a), vec![2]);
}

/// State keys are hashed with a random seed per table (so spoofed sources
/// cannot be picked to collide); what a scan reports must not depend on it.
#[test]
fn two_scans_with_different_hash_seeds_give_identical_alerts() {
    let rules = "alert icmp any any -> any any { id 1  distinct payload.len > 140 within 60s by dst }\n\
                 alert icmp any any -> any any { id 2  threshold 2 within 10s by src  limit 1 per 60s by src }\n\
                 alert icmp any any -> any any { id 3  rate > 2/s by pair }\n";
    let packets: Vec<SynthPacket> = (0..3000u32)
        .map(|i| {
            // 50 sources fit the tables; 100 (source, destination) pairs do not.
            let src = std::net::Ipv4Addr::from(0x0a00_0000 + i % 50);
            let dst = std::net::Ipv4Addr::from(0xc0a8_0000 + i % 2);
            let payload = vec![b'a'; (i % 300) as usize];
            pkt(i64::from(i) * S / 100, frame::icmp_echo(src, dst, false, 1, i as u16, &payload))
        })
        .collect();
    let bytes = capture_bytes(&Scenario { name: "seeds", packets }, Format::PcapNanos);
    // Small tables, so eviction takes part too.
    let limits = ferret::engine::tables::TableLimits { max_entries: 64, ..Default::default() };
    let (first, _) = scan_bytes_with(common::rules(rules), &bytes, limits);
    let (second, _) = scan_bytes_with(common::rules(rules), &bytes, limits);
    assert!(first.len() > 10, "{}", first.len());
    for sid in [1, 2] {
        assert!(first.iter().any(|a| a.rule().is_some_and(|r| r.sid == sid)), "rule {sid} fired");
    }
    assert_eq!(format!("{first:?}"), format!("{second:?}"));
}
