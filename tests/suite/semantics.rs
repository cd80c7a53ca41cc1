//! The rule language's meaning, pinned: every operator, each protocol group,
//! headers and lists, `pass`, and a packet matching several rules.

use crate::common;

use std::sync::Arc;

use ferret::decode::Packet;
use ferret::engine::Engine;
use ferret_synth::frame;

fn ip(s: &str) -> std::net::Ipv4Addr {
    s.parse().unwrap()
}

/// Sids of the rules in `rules_text` that alert on `frame`.
fn fired(rules_text: &str, frame: &[u8]) -> Vec<u64> {
    let mut engine = Engine::new(common::rules(rules_text));
    let pkt = Packet::decode(1, frame, 1, 1_700_000_000_000_000_000, frame.len() as u32);
    let mut sids = Vec::new();
    engine.process(&pkt, &mut |a| sids.push(a.rule().unwrap().sid));
    sids
}

fn matches(proto: &str, cond: &str, frame: &[u8]) -> bool {
    let text = format!("alert {proto} any any -> any any {{\n  id 1\n  when {cond}\n}}\n");
    !fired(&text, frame).is_empty()
}

fn ping(len: usize) -> Vec<u8> {
    frame::icmp_echo(ip("10.0.0.1"), ip("10.0.0.2"), false, 0x1234, 7, &vec![0x41; len])
}

fn dns(qname: &str, qtype: u16) -> Vec<u8> {
    frame::udp(ip("10.0.0.1"), ip("10.0.0.53"), 40000, 53, &frame::dns_query(9, qname, qtype))
}

#[test]
fn numeric_comparisons() {
    let p = ping(100);
    for (cond, want) in [
        ("payload.len == 100", true),
        ("payload.len != 100", false),
        ("payload.len < 100", false),
        ("payload.len <= 100", true),
        ("payload.len > 99", true),
        ("payload.len >= 101", false),
        ("payload.len in [1, 100, 7]", true),
        ("payload.len not in [1, 100]", false),
        ("payload.len in 50..100", true),
        ("payload.len in 101..200", false),
        ("payload.len in [1..10, 90..110]", true),
        ("payload.len > 0.09KiB", true),
        ("icmp.type == echo-request and icmp.code == 0", true),
        ("icmp.id == 0x1234 and icmp.seq == 7", true),
        ("ip.ttl == 64 and ip.version == 4 and ip.proto == icmp", true),
        ("ip.len == 128", true),
        ("pkt.len == 142", true),
        ("payload.entropy == 0", true),
        ("payload.entropy.norm < 0.01", true),
    ] {
        assert_eq!(matches("icmp", cond, &p), want, "{cond}");
    }
}

#[test]
fn boolean_logic_and_precedence() {
    let p = ping(100);
    for (cond, want) in [
        ("true", true),
        ("false", false),
        ("not false", true),
        ("payload.len == 1 or payload.len == 100", true),
        ("payload.len == 1 or payload.len == 100 and false", false),
        ("(payload.len == 1 or payload.len == 100) and true", true),
        ("not (payload.len == 100)", false),
        ("not payload.len == 1", true),
    ] {
        assert_eq!(matches("icmp", cond, &p), want, "{cond}");
    }
}

#[test]
fn text_and_bytes_operators() {
    let d = dns("a1B2.Tunnel.example.co.uk", 16);
    for (cond, want) in [
        ("dns.qname == \"a1b2.tunnel.example.co.uk\"", true),
        ("dns.qname contains \"TUNNEL\"", true),
        ("dns.qname starts_with \"a1b2.\"", true),
        ("dns.qname ends_with \".co.uk\"", true),
        ("dns.qname matches /^[a-z0-9]+\\.tunnel\\./", false),
        ("dns.qname matches /^[a-z0-9]+\\.tunnel\\./i", true),
        ("dns.qname in [\"x\", \"A1B2.TUNNEL.EXAMPLE.CO.UK\"]", true),
        ("dns.domain == \"example.co.uk\"", true),
        ("dns.subdomain == \"a1b2.tunnel\"", true),
        ("dns.subdomain.len == 11", true),
        ("dns.qname.len == 25 and dns.labels == 5 and dns.label.maxlen == 7", true),
        ("dns.qtype == TXT and dns.qclass == 1 and not dns.is_response", true),
        ("dns.opcode == QUERY and dns.rcode == NOERROR and dns.id == 9", true),
        ("dns.ancount == 0", true),
        ("src.port == 40000 and dst.port == 53", true),
        ("payload contains \"Tunnel\"", true),
        ("payload contains \"tunnel\"", false),
        ("payload contains \"\\x54unnel\"", true),
    ] {
        assert_eq!(matches("dns", cond, &d), want, "{cond}");
    }
}

#[test]
fn address_tests() {
    let p = ping(10);
    for (cond, want) in [
        ("ip.src == 10.0.0.1", true),
        ("ip.src in 10.0.0.0/8", true),
        ("ip.src in [192.168.0.0/16, 10.0.0.0/30]", true),
        ("ip.dst not in 10.0.0.0/24", false),
        ("ip.dst != 10.0.0.2", false),
    ] {
        assert_eq!(matches("icmp", cond, &p), want, "{cond}");
    }
}

#[test]
fn absent_fields_are_false() {
    let p = ping(10);
    assert!(!matches("ip", "src.port == 0", &p));
    assert!(matches("ip", "not (src.port == 0)", &p));
    let tcp = frame::tcp(ip("10.0.0.1"), ip("10.0.0.2"), 1, 80, 0x02, 1, b"");
    assert!(!matches("ip", "icmp.type == 8", &tcp));
    assert!(matches("tcp", "tcp.flags == SYN", &tcp));
}

/// Regression: `!=` and `not in` were compiled as `not (==)` and `not (in)`,
/// so they held on every packet without the field: `dns.qname != "x"` fired
/// on a TCP SYN. Every form of a test of an absent field is false; `not (...)`
/// says "absent or different".
#[test]
fn negated_tests_of_absent_fields_are_false() {
    let syn = frame::tcp(ip("10.0.0.1"), ip("10.0.0.2"), 1, 80, 0x02, 1, b"");
    let p = ping(10);
    for (cond, packet, want) in [
        ("dns.qname != \"x\"", &syn, false),
        ("dns.qname not in [\"x\", \"y\"]", &syn, false),
        ("not (dns.qname == \"x\")", &syn, true),
        ("not (dns.qname in [\"x\", \"y\"])", &syn, true),
        ("dns.qtype != TXT", &syn, false),
        ("dns.qtype not in [TXT, NULL]", &syn, false),
        ("icmp.type != 8", &syn, false),
        ("icmp.type not in [0, 8]", &syn, false),
        ("icmp.type not in [0..3, 8]", &syn, false),
        ("icmp.type not in 0..3", &syn, false),
        ("not (icmp.type in [0, 8])", &syn, true),
        ("dns.is_response != true", &syn, false),
        ("src.port != 0", &p, false),
        ("src.port not in [1..5, 7]", &p, false),
        ("not (src.port in [1..5, 7])", &p, true),
        // Present fields keep their meaning.
        ("tcp.flags != ACK", &syn, true),
        ("tcp.flags not in [ACK, FIN]", &syn, true),
        ("tcp.flags not in [ACK, 1..3]", &syn, false),
        ("tcp.flags not in [ACK, 3..5]", &syn, true),
        ("ip.dst not in 192.168.0.0/16", &syn, true),
        ("payload not in [\"x\"]", &p, true),
    ] {
        assert_eq!(matches("ip", cond, packet), want, "{cond}");
    }
    // An `ip` rule testing a DNS field with `!=` needs a DNS packet.
    assert!(matches("ip", "dns.qname != \"x.example\"", &dns("a.example", 1)));
}

#[test]
fn protocol_groups_select_packets() {
    let all = "
        alert ip any any -> any any { id 1 }
        alert icmp any any -> any any { id 2 }
        alert icmp6 any any -> any any { id 3 }
        alert tcp any any -> any any { id 4 }
        alert udp any any -> any any { id 5 }
        alert dns any any -> any any { id 6 }
        alert arp any any -> any any { id 7 }
        alert udp any any -> any 53 { id 8 }
        alert udp any any -> any 5353 { id 9 }
    ";
    assert_eq!(fired(all, &ping(8)), vec![1, 2]);
    let v6 = frame::icmpv6_echo("fe80::1".parse().unwrap(), "fe80::2".parse().unwrap(), false, 1, 1, b"x");
    assert_eq!(fired(all, &v6), vec![1, 3]);
    assert_eq!(fired(all, &frame::tcp(ip("1.1.1.1"), ip("2.2.2.2"), 5, 80, 2, 0, b"")), vec![1, 4]);
    assert_eq!(fired(all, &dns("example.com", 1)), vec![1, 5, 6, 8]);
    assert_eq!(fired(all, &frame::arp_request(ip("10.0.0.1"), ip("10.0.0.2"))), vec![7]);
}

#[test]
fn headers_lists_negation_and_direction() {
    let rules = "
        var NETS = [10.0.0.0/8, !10.9.0.0/16]
        alert udp $NETS any -> any 53 { id 1 }
        alert udp any any -> $NETS any { id 2 }
        alert udp any any <> 10.0.0.53 [53, 1000:2000] { id 3 }
        alert udp 10.0.0.53 any -> any any { id 4 }
        alert udp !10.0.0.1 any -> any any { id 5 }
        alert udp any ![40000, 53] -> any any { id 6 }
        alert udp any 39000: -> any :100 { id 7 }
    ";
    assert_eq!(fired(rules, &dns("x.com", 1)), vec![1, 2, 3, 7]);
    let reply = frame::udp(ip("10.0.0.53"), ip("10.9.0.1"), 53, 40000, &frame::dns_query(1, "x.com", 1));
    assert_eq!(fired(rules, &reply), vec![3, 4, 5]);
}

#[test]
fn pass_rules_suppress_alerts_on_the_packet() {
    let rules = "
        alert icmp any any -> any any { id 1 }
        alert ip any any -> any any { id 2 }
        pass icmp 10.0.0.1 any -> any any { id 3  when payload.len == 100 }
    ";
    assert!(fired(rules, &ping(100)).is_empty());
    assert_eq!(fired(rules, &ping(99)), vec![1, 2]);
}

#[test]
fn several_rules_fire_in_load_order() {
    let rules = "
        alert icmp any any -> any any { id 30  msg \"c\" }
        alert ip any any -> any any { id 10  when ip.ttl > 1 }
        alert icmp any any -> any any { id 20  when payload.len > 1 }
    ";
    assert_eq!(fired(rules, &ping(100)), vec![30, 10, 20]);
}

#[test]
fn messages_interpolate_fields() {
    let rules = r#"alert ip any any -> any any {
        id 1
        msg "len={payload.len} e={payload.entropy:.3} {src}->{dst} type={icmp.type} q={dns.qname} {{x}}"
    }"#;
    let rules = common::rules(rules);
    let f = ping(40);
    let pkt = Packet::decode(1, &f, 1, 0, f.len() as u32);
    let mut engine = Engine::new(Arc::clone(&rules));
    let mut msgs = Vec::new();
    engine.process(&pkt, &mut |a| msgs.push(a.message));
    assert_eq!(msgs, ["len=40 e=0.000 10.0.0.1->10.0.0.2 type=8 q=- {x}"]);
}

#[test]
fn payload_shape_fields() {
    let (a, b) = (ip("10.0.0.1"), ip("10.0.0.2"));
    let echo = |data: &[u8]| frame::icmp_echo(a, b, false, 1, 1, data);
    let linux = echo(&ferret_synth::payload::linux_ping(1000, 1_700_000_000_000_000_000));
    let windows = echo(&ferret_synth::payload::windows_ping(32));
    let random = echo(&ferret_synth::payload::random(64, 3));
    let text = echo(b"Lorem ipsum dolor sit amet, consectetur adipiscing elit");
    let inner = frame::icmp_echo(a, b, false, 9, 9, &ferret_synth::payload::linux_ping(56, 0));
    let tunnelled = echo(&inner[14..]);
    for (frame, cond, want) in [
        (&linux, "payload.pattern == incrementing", true),
        (&linux, "payload.pattern in [zeros, repeating, incrementing]", true),
        (&linux, "payload.entropy > 7.9", true),
        (&windows, "payload.pattern == incrementing and payload.printable == 1", true),
        (&random, "payload.pattern == random and payload.entropy < 6", true),
        (&text, "payload.pattern == text and payload.printable == 1", true),
        (&tunnelled, "payload.pattern == ip", true),
        (&ping(10), "payload.pattern == repeating", true),
        (&ping(0), "payload.pattern == empty and payload.printable == 0", true),
        (&linux, "icmp.is_error", false),
    ] {
        assert_eq!(matches("icmp", cond, frame), want, "{cond}");
    }
    let exceeded = frame::icmp_error(b, a, 11, 0, &frame::quote(&random));
    assert!(matches("icmp", "icmp.is_error and payload.pattern == ip", &exceeded));
    assert!(!matches("ip", "icmp.is_error", &dns("example.com", 1)), "absent outside ICMP");
}

#[test]
fn dns_name_alphabet_and_under() {
    for (qname, cond, want) in [
        ("j9sede5jje0azz.t-exfil.net", "dns.subdomain.alphabet == alnum", true),
        ("546b03f5aa.example.com", "dns.subdomain.alphabet == hex", true),
        ("mail2.example.com", "dns.subdomain.alphabet == text", true),
        ("example.com", "dns.subdomain.alphabet == empty", true),
        ("hvOBgA1kQ2Aa.example.com", "dns.subdomain.alphabet == alnum", true),
        ("hvOBgA1k+Q2Aa=.example.com", "dns.subdomain.alphabet in [base64, raw]", true),
        ("a.b.Example.CO.uk", "dns.qname under [\"example.co.uk\"]", true),
        ("example.co.uk", "dns.qname under [\"example.co.uk\"]", true),
        ("badexample.co.uk", "dns.qname under [\"example.co.uk\"]", false),
        ("x.tunnel.example.co.uk", "dns.qname under [\"*.Tunnel.example.co.uk.\", \"other.net\"]", true),
        ("x.example.co.uk", "dns.qname under [\"co.uk\"]", true),
        ("x.example.co.uk", "dns.qname under []", false),
        ("x.example.co.uk", "dns.domain under [\"example.co.uk\"]", true),
    ] {
        assert_eq!(matches("dns", cond, &dns(qname, 1)), want, "{qname}: {cond}");
    }
}

#[test]
fn word_valued_fields_show_words() {
    let rules = r#"alert ip any any -> any any {
        id 1
        msg "{payload.pattern} {payload.printable:.2} {dns.subdomain.alphabet}"
    }"#;
    let rules = common::rules(rules);
    let f = ping(40);
    let pkt = Packet::decode(1, &f, 1, 0, f.len() as u32);
    let mut engine = Engine::new(Arc::clone(&rules));
    let mut alerts = Vec::new();
    engine.process(&pkt, &mut |a| alerts.push(a));
    assert_eq!(alerts[0].message, "repeating 1.00 -");
    let measured: Vec<String> = alerts[0].measured.iter().map(|(n, v)| format!("{n}={v:?}")).collect();
    assert!(measured.contains(&"payload.pattern=Text(\"repeating\")".to_string()), "{measured:?}");
}

#[test]
fn shape_words_and_under_are_checked() {
    let bad = |cond: &str| {
        let text = format!("alert ip any any -> any any {{\n  id 1\n  when {cond}\n}}\n");
        ferret::load::compile_texts(vec![("t.rules".into(), text)], &[]).unwrap_err().problems.concat()
    };
    assert!(bad("payload.pattern == noise").contains("unknown value 'noise' for payload.pattern"));
    assert!(bad("dns.subdomain.alphabet == random").contains("unknown value 'random' for dns.subdomain.alphabet"));
    assert!(bad("payload under [\"x\"]").contains("'under' cannot be used on payload"));
    assert!(bad("dns.qname under 5").contains("expected a quoted string or a list of them"));
}

#[test]
fn ip_rules_needing_icmp_or_dns_fields_are_filed_by_what_they_need() {
    let rules = "
        alert ip any any -> any any { id 1  when icmp.type == echo-request or icmp.type == 128 }
        alert ip any any -> any any { id 2  when not icmp.type == 0 }
        alert ip any any -> any any { id 3  when dns.qtype == A and ip.ttl > 0 }
        alert ip any any -> any any { id 4  when icmp.type == 8 or ip.ttl > 0 }
    ";
    let v6 = frame::icmpv6_echo("fe80::1".parse().unwrap(), "fe80::2".parse().unwrap(), false, 1, 1, b"x");
    let tcp = frame::tcp(ip("1.1.1.1"), ip("2.2.2.2"), 5, 80, 2, 0, b"");
    // Filed under icmp and icmp6, rule 1 still sees both kinds of echo request, once each.
    assert_eq!(fired(rules, &ping(8)), vec![1, 2, 4]);
    assert_eq!(fired(rules, &v6), vec![1, 2, 4]);
    // `not` and `or` keep rules 2 and 4 in the ip group: they match TCP too.
    assert_eq!(fired(rules, &tcp), vec![2, 4]);
    assert_eq!(fired(rules, &dns("example.com", 1)), vec![2, 3, 4]);
    let explained = {
        let set = common::rules(rules);
        let mut s = String::new();
        set.explain(&mut s).unwrap();
        s
    };
    assert!(explained.contains("(an ip rule filed here: its condition needs icmp fields)"), "{explained}");
    assert!(explained.contains("(an ip rule filed here: its condition needs dns fields)"), "{explained}");
}

/// Regression: resolvers randomise the case of the names they send (DNS 0x20,
/// draft-vixie-dnsext-dns0x20), and a tunnel can do it on purpose. Case carries
/// no meaning in DNS (RFC 4343), yet it raised name entropy and turned a hex
/// name into base64. Names are measured case-folded.
#[test]
fn dns_0x20_mixed_case_measures_like_lower_case() {
    let lower = "546b03f50000000000a6023ed4df184d.5a03b5b1.example.com";
    let mixed = "546B03f50000000000A6023eD4Df184D.5A03b5B1.ExAmPlE.CoM";
    for name in [lower, mixed] {
        let d = dns(name, 16);
        assert!(matches("dns", "dns.subdomain.alphabet == hex", &d), "{name}");
        for (field, part) in [
            ("dns.qname.entropy", lower),
            ("dns.subdomain.entropy", "546b03f50000000000a6023ed4df184d.5a03b5b1"),
            ("dns.domain.entropy", "example.com"),
        ] {
            let h = ferret::decode::entropy::shannon(part.as_bytes());
            let cond = format!("{field} > {} and {field} < {}", h - 1e-9, h + 1e-9);
            assert!(matches("dns", &cond, &d), "{name}: {field} should be {h}");
        }
    }
    // Letters and digits interleaved in mixed case are base32/36-like, not base64.
    assert!(matches("dns", "dns.subdomain.alphabet == alnum", &dns("k3X9q2M7w8.tunnel.example.com", 16)));
}
