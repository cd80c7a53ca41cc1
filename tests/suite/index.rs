//! The rule index finds exactly the rules the linear walk finds.
//!
//! Over random rule sets (addresses with exclusions, ports, `<>`, numeric
//! bounds, ICMP types, needles, `or`s, negations, tests the index cannot
//! use) and random packets (ICMP, ICMPv6, UDP, DNS, TCP, ARP), the rules that
//! match among the index's candidates are exactly the rules that match among
//! all the rules of the packet's groups, for pass and alert rules alike.

use std::net::{Ipv4Addr, Ipv6Addr};

use ferret::decode::features::Features;
use ferret::decode::Packet;
use ferret::engine::ruleset::RuleSet;
use ferret_synth::frame::{self, arp_request, dns_query, dns_response, icmp_echo, icmpv6_echo, tcp, udp};
use proptest::prelude::*;

const ADDRESSES: [&str; 9] = [
    "any",
    "10.20.1.0/24",
    "10.20.0.0/16",
    "[10.0.0.0/8, !10.20.1.0/24]",
    "!10.20.2.0/24",
    "203.0.113.7",
    "[203.0.113.0/24, 10.20.2.5]",
    "2001:db8::/32",
    "[!10.20.1.0/24, !203.0.113.7]",
];
const PORTS: [&str; 7] = ["any", "53", "443", "1000:2000", "[53, 443]", "!53", "[1:1023, !80]"];
const PROTOS: [&str; 5] = ["ip", "icmp", "udp", "tcp", "dns"];

/// Payload lengths of the generated packets, and the constants rules compare
/// them with: bounds fall on the packets' values as often as between them.
const LENGTHS: [usize; 8] = [0, 2, 16, 30, 32, 56, 64, 100];

/// One test of a condition; `n` picks its constant.
fn test(proto: &str, kind: u8, n: u16) -> String {
    let len = |k: u16| LENGTHS[usize::from(k) % LENGTHS.len()];
    let ttl = [0, 63, 64, 65][usize::from(n % 4)];
    let qlen = [3, 14, 15, 21, 25][usize::from(n % 5)];
    let generic = [
        format!("payload.len > {}", len(n)),
        format!("payload.len <= {}", len(n)),
        format!("payload.len in {}..{}", len(n).min(len(n / 8)), len(n).max(len(n / 8))),
        format!("ip.ttl >= {ttl}"),
        format!("ip.ttl < {ttl}"),
        format!("payload.len >= {}", len(n)),
        format!("payload.len == {}", len(n)),
        format!("payload.entropy > {}", f64::from(n % 80) / 10.0),
        "payload contains \"ab\"".to_string(),
        "payload starts_with \"\\x00\\x01\"".to_string(),
        format!("ip.src in 10.20.{}.0/24", n % 4),
        format!("ip.dst == 203.0.113.{}", n % 10),
        format!("payload.len != {}", len(n)),
        format!("payload.len in [{}, {}, 40..60]", len(n), len(n / 8)),
        format!("(payload.len > {} or payload contains \"xyz\")", len(n)),
        format!("not payload.len > {}", len(n)),
        "payload matches /a.c/".to_string(),
        "payload contains \"\"".to_string(),
        format!("pkt.len == {}", n % 200 + 42),
    ];
    let specific: Vec<String> = match proto {
        "icmp" | "ip" => vec![
            "icmp.type in [echo-request, echo-reply]".into(),
            format!("icmp.code == {}", n % 2),
            format!("icmp.type == {}", n % 10),
        ],
        "dns" => vec![
            "dns.qname contains \"EXA\"".into(),
            format!("dns.qname.len > {qlen}"),
            format!("dns.qname.len <= {qlen}"),
            "dns.qname starts_with \"www\"".into(),
            format!("dns.qtype == {}", n % 3 + 15),
            "dns.qname under [\"example.com\"]".into(),
            "(dns.qname.len < 5 or dns.qname contains \"tun\")".into(),
        ],
        _ => vec![format!("dst.port == {}", [53, 443, 80][usize::from(n % 3)]), format!("src.port < {}", n)],
    };
    let all: Vec<&String> = generic.iter().chain(&specific).collect();
    all[usize::from(kind) % all.len()].clone()
}

type RuleSpec = (u8, u8, u8, u8, u8, u8, bool, Vec<(u8, u16)>);

fn rule_text(i: usize, spec: &RuleSpec) -> String {
    let (action, proto, src, dst, sport, dport, both, tests) = spec;
    let proto = PROTOS[usize::from(*proto) % PROTOS.len()];
    let action = if action % 5 == 0 { "pass" } else { "alert" };
    let ports =
        |p: u8| if matches!(proto, "udp" | "tcp" | "dns") { PORTS[usize::from(p) % PORTS.len()] } else { "any" };
    let when: Vec<String> = tests.iter().map(|(k, n)| test(proto, *k, *n)).collect();
    format!(
        "{action} {proto} {} {} {} {} {} {{ id {} when {} }}\n",
        ADDRESSES[usize::from(*src) % ADDRESSES.len()],
        ports(*sport),
        if *both { "<>" } else { "->" },
        ADDRESSES[usize::from(*dst) % ADDRESSES.len()],
        ports(*dport),
        i + 1,
        when.join(" and "),
    )
}

type PacketSpec = (u8, u8, u8, u16, u16, u16);

fn v4(n: u8) -> Ipv4Addr {
    [
        Ipv4Addr::new(10, 20, 1, 9),
        Ipv4Addr::new(10, 20, 2, 5),
        Ipv4Addr::new(10, 9, 0, 1),
        Ipv4Addr::new(203, 0, 113, 7),
        Ipv4Addr::new(203, 0, 113, 3),
        Ipv4Addr::new(192, 168, 1, 1),
    ][usize::from(n) % 6]
}

fn frame_of(spec: &PacketSpec) -> Vec<u8> {
    let (kind, a, b, len, p1, p2) = *spec;
    let size = LENGTHS[usize::from(len / 4) % LENGTHS.len()];
    let payload: Vec<u8> = match len % 4 {
        0 => ferret_synth::payload::random(size, u64::from(len)),
        1 => b"\x00\x01abcxyz-tunnel".iter().copied().cycle().take(size).collect(),
        2 => ferret_synth::payload::text(size, u64::from(len)),
        _ => ferret_synth::payload::zeros(size),
    };
    let port = |p: u16| [53, 443, 80, 1500, 40000, 22][usize::from(p) % 6];
    let names = ["www.example.com", "a1b2c3.tunnel.exa.org", "x.y", "WWW.EXAMPLE.NET"];
    let name = names[usize::from(len) % names.len()];
    match kind % 7 {
        0 => icmp_echo(v4(a), v4(b), len % 2 == 0, 1, p1, &payload),
        1 => icmpv6_echo(Ipv6Addr::new(0x2001, 0xdb8, 0, 0, 0, 0, 0, 1), Ipv6Addr::LOCALHOST, false, 1, 2, &payload),
        2 => udp(v4(a), v4(b), port(p1), port(p2), &payload),
        3 => udp(v4(a), v4(b), port(p1), 53, &dns_query(p2, name, [1, 16, 15][usize::from(len % 3)])),
        4 => udp(v4(a), v4(b), 53, port(p2), &dns_response(p2, name, 1, &[(1, &[1, 2, 3, 4])])),
        5 => tcp(v4(a), v4(b), port(p1), port(p2), frame::flags::ACK, 1, &payload),
        _ => arp_request(v4(a), v4(b)),
    }
}

fn matching(set: &RuleSet, pkt: &Packet<'_>, candidates: &[u32]) -> Vec<u32> {
    let mut f = Features::new(pkt);
    candidates.iter().copied().filter(|&i| set.rule(i).is_some_and(|r| r.matches(&mut f))).collect()
}

proptest! {
    #![proptest_config(ProptestConfig { cases: 200, ..ProptestConfig::default() })]

    #[test]
    fn index_finds_exactly_what_the_walk_finds(
        rules in prop::collection::vec(
            (any::<u8>(), any::<u8>(), any::<u8>(), any::<u8>(), any::<u8>(), any::<u8>(), any::<bool>(),
             prop::collection::vec((any::<u8>(), any::<u16>()), 1..4)),
            1..40),
        packets in prop::collection::vec(
            (any::<u8>(), any::<u8>(), any::<u8>(), any::<u16>(), any::<u16>(), any::<u16>()), 1..30),
    ) {
        let text: String = rules.iter().enumerate().map(|(i, r)| rule_text(i, r)).collect();
        let set = ferret::load::compile_texts(vec![("p.rules".into(), text.clone())], &[])
            .unwrap_or_else(|e| panic!("{e:?}\n{text}"));
        let (mut walked, mut found) = (Vec::new(), Vec::new());
        for spec in &packets {
            let frame = frame_of(spec);
            let pkt = Packet::decode(1, &frame, 1, 0, frame.len() as u32);
            for pass in [true, false] {
                set.walk(&pkt, pass, &mut walked);
                let mut f = Features::new(&pkt);
                set.candidates(&mut f, pass, &mut found);
                prop_assert!(found.iter().all(|i| walked.contains(i)), "a candidate outside the packet's groups");
                prop_assert_eq!(
                    matching(&set, &pkt, &found),
                    matching(&set, &pkt, &walked),
                    "pass {} packet {:?}\n{}", pass, spec, text
                );
            }
        }
    }
}

#[test]
fn the_index_narrows_a_large_rule_set() {
    // 1,000 rules on distinct /24s: a packet meets the few filed under its addresses.
    let text: String = (0..1000)
        .map(|i| {
            format!(
                "alert icmp 10.{}.{}.0/24 any -> any any {{ id {} when payload.len > 8 }}\n",
                i / 256,
                i % 256,
                i + 1
            )
        })
        .collect();
    let set = ferret::load::compile_texts(vec![("n.rules".into(), text)], &[]).unwrap();
    let frame = icmp_echo(Ipv4Addr::new(10, 1, 2, 3), Ipv4Addr::new(10, 9, 9, 9), false, 1, 1, &[7; 64]);
    let pkt = Packet::decode(1, &frame, 1, 0, frame.len() as u32);
    let mut found = Vec::new();
    set.candidates(&mut Features::new(&pkt), false, &mut found);
    assert_eq!(found, [258], "10.1.2.0/24 is rule 259, index 258");
    let mut explained = String::new();
    set.explain(&mut explained).unwrap();
    assert!(explained.contains("    src addresses: 1000 prefixes (1 IPv4 and 0 IPv6 lengths probed)\n"), "{explained}");
    assert!(explained.contains("    index: src in 10.1.2.0/24\n"), "{explained}");
}
