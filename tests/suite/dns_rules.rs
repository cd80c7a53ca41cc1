//! The built-in DNS rules on traffic shaped like a tunnel's: which packets they
//! judge and how many alerts a busy tunnel raises.

use crate::common;

use common::*;
use ferret_synth::{frame, Scenario, SynthPacket};

const S: i64 = 1_000_000_000;
const T0: i64 = 1_744_466_580 * S;

fn ip(s: &str) -> std::net::Ipv4Addr {
    s.parse().unwrap()
}

/// A hex label of 48 characters, as dnscat2 and hex-encoding exfiltration write them (not 32
/// or 40: one MD5 or SHA-1 digest in a label is a hash lookup, alphabet `ident`).
fn hex_label(seed: u64) -> String {
    let mut x = seed.wrapping_mul(0x9e37_79b9_7f4a_7c15) | 1;
    (0..48)
        .map(|_| {
            x ^= x << 13;
            x ^= x >> 7;
            x ^= x << 17;
            char::from_digit((x % 16) as u32, 16).unwrap()
        })
        .collect()
}

/// Regression: 7100101 judged queries and responses alike (a response repeats
/// the question, so each answered query alerted twice) and had no `limit`, so a
/// tunnel raised one alert per packet. It now judges queries only, at most 5
/// alerts per source and domain a minute; the rest are counted as held back.
#[test]
fn dns_name_rule_judges_queries_and_is_limited_per_source_and_domain() {
    let (client, resolver) = (ip("10.0.0.5"), ip("10.0.0.53"));
    let mut packets = Vec::new();
    for i in 0..40u16 {
        let name = format!("{}.t-exfil.net", hex_label(u64::from(i) + 1));
        let at = T0 + i64::from(i) * S / 2;
        let query = frame::udp(client, resolver, 40_000 + i, 53, &frame::dns_query(i, &name, 1));
        let response =
            frame::udp(resolver, client, 53, 40_000 + i, &frame::dns_response(i, &name, 1, &[(1, &[192, 0, 2, 1])]));
        for (ts, frame) in [(at, query), (at + S / 100, response)] {
            packets.push(SynthPacket { ts_nanos: ts, link_type: 1, frame, tunnel: true, note: "" });
        }
    }
    let rules = default_rules();
    let bytes = capture_bytes(&Scenario { name: "dns-tunnel", packets }, Format::PcapNanos);
    let (alerts, engine) = scan_bytes(rules.clone(), &bytes);
    let name_alerts: Vec<_> = alerts.iter().filter(|a| a.rule().map(|r| r.sid) == Some(7100101)).collect();
    // Queries are the odd packet numbers; the first five of the minute alert.
    let numbers: Vec<u64> = name_alerts.iter().map(|a| a.packet).collect();
    assert_eq!(numbers, vec![1, 3, 5, 7, 9]);
    let index = rules.rules().iter().position(|r| r.sid == 7100101).unwrap();
    assert_eq!(engine.stats().limited_by_rule[index], 35, "the other queries are counted as held back");
}

/// `dns.qname.len` counts the dotted name without the root's trailing dot, as
/// Suricata's `dns.query` and Wireshark's `dns.qry.name.len` do: 15 for
/// `www.example.com` (whose wire form is 17 bytes), 0 for the root.
#[test]
fn qname_len_leaves_out_the_root_dot() {
    let rules = rules(
        r#"alert dns any any -> any any { id 1 msg "fifteen" when dns.qname.len == 15 and dns.qname == "www.example.com" }
           alert dns any any -> any any { id 2 msg "root" when dns.qname.len == 0 and dns.labels == 0 }"#,
    );
    let (client, resolver) = (ip("10.0.0.5"), ip("10.0.0.53"));
    let packets = [(1, "www.example.com"), (2, "")]
        .into_iter()
        .map(|(i, name)| SynthPacket {
            ts_nanos: T0 + i64::from(i) * S,
            link_type: 1,
            frame: frame::udp(client, resolver, 40_000 + i, 53, &frame::dns_query(i, name, 2)),
            tunnel: false,
            note: "",
        })
        .collect();
    let bytes = capture_bytes(&Scenario { name: "qname-len", packets }, Format::PcapNanos);
    assert_eq!(hits(&scan_bytes(rules, &bytes).0), vec![(1, 1), (2, 2)]);
}
