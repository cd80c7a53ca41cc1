//! Ground-truth checks of every scenario: packet numbers, lengths and
//! entropies as the reports state them, valid frames, determinism.

use super::reports::{REPORT_DNS_ICMP_START, REPORT_DNS_NAMES, REPORT_ICMP_START, REPORT_ICMP_TUNNEL, REPORT_PINGS};
use super::*;
use crate::frame::tests::assert_valid_headers;
use crate::payload::rounds_to;
use crate::{Scenario, SynthPacket};
use etherparse::{NetHeaders, PacketHeaders, TransportHeader};
use ferret::decode::entropy::shannon;
use std::collections::BTreeMap;

const SEC: i64 = 1_000_000_000;

/// What a packet is, decoded with etherparse and a hand-written DNS reader.
#[derive(Debug, PartialEq)]
enum Seen {
    Echo { request: bool, id: u16, seq: u16, data: Vec<u8> },
    Dns { name: String, response: bool, qdcount: u16, ancount: u16 },
    Other,
}

fn decode(frame: &[u8]) -> Seen {
    let headers = PacketHeaders::from_ethernet_slice(frame).unwrap();
    assert_valid_headers(&headers);
    let payload = headers.payload.slice();
    match &headers.transport {
        Some(TransportHeader::Icmpv4(icmp)) => {
            use etherparse::Icmpv4Type::{EchoReply, EchoRequest};
            match icmp.icmp_type {
                EchoRequest(e) => Seen::Echo { request: true, id: e.id, seq: e.seq, data: payload.to_vec() },
                EchoReply(e) => Seen::Echo { request: false, id: e.id, seq: e.seq, data: payload.to_vec() },
                _ => Seen::Other,
            }
        }
        Some(TransportHeader::Udp(udp)) if udp.source_port == 53 || udp.destination_port == 53 => decode_dns(payload),
        _ => Seen::Other,
    }
}

/// Reads the header counts and the (uncompressed) question name of a DNS message.
fn decode_dns(msg: &[u8]) -> Seen {
    let qdcount = u16::from_be_bytes([msg[4], msg[5]]);
    let ancount = u16::from_be_bytes([msg[6], msg[7]]);
    let mut labels = Vec::new();
    let mut at = 12;
    while msg[at] != 0 {
        let len = usize::from(msg[at]);
        assert!(len <= 63);
        labels.push(String::from_utf8(msg[at + 1..at + 1 + len].to_vec()).unwrap());
        at += 1 + len;
    }
    let question_end = at + 5;
    if ancount > 0 {
        assert_eq!(msg[question_end..question_end + 2], [0xc0, 0x0c], "answer points at question");
    } else {
        assert_eq!(msg.len(), question_end);
    }
    Seen::Dns { name: labels.join("."), response: msg[2] & 0x80 != 0, qdcount, ancount }
}

fn assert_common(s: &Scenario, total: usize) {
    assert_eq!(s.packets.len(), total);
    assert!(s.packets.windows(2).all(|w| w[0].ts_nanos <= w[1].ts_nanos), "time goes forward");
    assert!(s.packets.iter().all(|p| p.link_type == 1));
}

/// What a simple detector would report: (kind, length, entropy in hundredths) -> count,
/// for ICMP echo payloads over 64 bytes and DNS names over 20 characters.
fn alert_lines(s: &Scenario) -> BTreeMap<(&'static str, usize, i64), usize> {
    let mut lines = BTreeMap::new();
    for p in &s.packets {
        let key = match decode(&p.frame) {
            Seen::Echo { data, .. } if data.len() > 64 => ("icmp", data.len(), hundredths(&data)),
            Seen::Dns { name, .. } if name.len() > 20 => ("dns", name.len(), hundredths(name.as_bytes())),
            _ => continue,
        };
        *lines.entry(key).or_insert(0) += 1;
    }
    lines
}

fn hundredths(data: &[u8]) -> i64 {
    (shannon(data) * 100.0).round() as i64
}

fn flagged(s: &Scenario) -> Vec<&SynthPacket> {
    s.packets.iter().filter(|p| p.tunnel).collect()
}

#[test]
fn report_icmp_matches_the_report() {
    let s = report_icmp();
    assert_common(&s, 150);
    assert_eq!(s.tunnel_packet_numbers(), vec![18, 57, 100, 125, 130]);
    for (packet, &(_, len, entropy)) in flagged(&s).iter().zip(&REPORT_ICMP_TUNNEL) {
        match decode(&packet.frame) {
            Seen::Echo { request: true, id, data, .. } => {
                assert_eq!(data.len(), len);
                assert!(rounds_to(shannon(&data), entropy));
                assert_eq!(id, 0x4d21);
            }
            other => panic!("not an echo request: {other:?}"),
        }
        assert_eq!(packet.frame[26..34], [192, 168, 1, 4, 192, 168, 1, 6]);
    }
    // The capture lies inside 20:55:00-20:55:08 UTC.
    let window = REPORT_ICMP_START..REPORT_ICMP_START + 8 * SEC;
    assert!(s.packets.iter().all(|p| window.contains(&p.ts_nanos)));
    // The tunnel requests are never answered.
    let replies_to_tunnel =
        s.packets.iter().filter(|p| matches!(decode(&p.frame), Seen::Echo { request: false, id: 0x4d21, .. })).count();
    assert_eq!(replies_to_tunnel, 0);
    let expected: BTreeMap<_, _> =
        REPORT_ICMP_TUNNEL.iter().map(|&(_, len, e)| (("icmp", len, (e * 100.0) as i64), 1)).collect();
    assert_eq!(alert_lines(&s), expected);
}

#[test]
fn report_icmp_benign_traffic_is_ordinary() {
    let s = report_icmp();
    let mut sizes = std::collections::BTreeSet::new();
    let mut requests = Vec::new();
    let mut replies = Vec::new();
    let mut notes = std::collections::BTreeSet::new();
    for p in s.packets.iter().filter(|p| !p.tunnel) {
        notes.insert(p.note);
        match decode(&p.frame) {
            Seen::Echo { request, id, seq, data } => {
                assert!(data.len() <= 64);
                sizes.insert(data.len());
                if request {
                    requests.push((id, seq, data))
                } else {
                    replies.push((id, seq, data))
                }
            }
            Seen::Dns { name, qdcount, ancount, response } => {
                assert!(name.len() <= 20, "{name}");
                assert_eq!(qdcount, 1);
                assert_eq!(ancount, u16::from(response));
            }
            Seen::Other => {}
        }
    }
    assert_eq!(sizes.into_iter().collect::<Vec<_>>(), vec![32, 48, 56]);
    assert_eq!(requests, replies, "every benign ping is answered with the same payload");
    for note in ["arp request", "arp reply", "dns query", "dns response", "http request", "tcp syn"] {
        assert!(notes.contains(note), "missing {note}");
    }
}

#[test]
fn report_dns_icmp_matches_the_report() {
    let s = report_dns_icmp();
    assert_common(&s, 300);
    let mut want: Vec<u64> = REPORT_DNS_NAMES.iter().flat_map(|&(q, r, _, _)| [q, r]).collect();
    want.extend(REPORT_PINGS.iter().flat_map(|&(q, r, _)| [q, r]));
    want.sort_unstable();
    assert_eq!(s.tunnel_packet_numbers(), want);
    assert!(want.contains(&226) && want.contains(&254));
    let window = REPORT_DNS_ICMP_START..REPORT_DNS_ICMP_START + 120 * SEC;
    assert!(s.packets.iter().all(|p| window.contains(&p.ts_nanos)));

    let mut expected = BTreeMap::new();
    for &(_, _, len, e) in &REPORT_DNS_NAMES {
        expected.insert(("dns", len, (e * 100.0).round() as i64), 2);
    }
    for &(_, _, e) in &REPORT_PINGS {
        *expected.entry(("icmp", 128, (e * 100.0).round() as i64)).or_insert(0) += 2;
    }
    assert_eq!(expected.get(&("icmp", 128, 648)), Some(&4));
    assert_eq!(alert_lines(&s), expected);

    // Every tunnel packet is one of the expected kinds, queries answered by the same name.
    let mut names = BTreeMap::new();
    for p in flagged(&s) {
        match decode(&p.frame) {
            Seen::Dns { name, response, ancount, .. } => {
                assert!(name.ends_with(".t-exfil.net"));
                assert_eq!(ancount, u16::from(response));
                *names.entry(name).or_insert(0) += 1;
            }
            Seen::Echo { data, .. } => assert_eq!(data.len(), 128),
            Seen::Other => panic!("unexpected tunnel packet {}", p.note),
        }
    }
    assert_eq!(names.len(), 4);
    assert!(names.values().all(|&n| n == 2));
}

#[test]
fn report_dns_icmp_pings_are_echoed_verbatim() {
    let s = report_dns_icmp();
    let mut requests = BTreeMap::new();
    let mut replies = BTreeMap::new();
    for p in &s.packets {
        if let Seen::Echo { request, id, seq, data } = decode(&p.frame) {
            if !p.tunnel {
                assert_eq!(data.len(), 56, "benign pings are Linux defaults");
            }
            let map = if request { &mut requests } else { &mut replies };
            map.insert((id, seq), data);
        }
    }
    assert_eq!(requests, replies);
    let benign_names: Vec<String> = s
        .packets
        .iter()
        .filter(|p| !p.tunnel)
        .filter_map(|p| match decode(&p.frame) {
            Seen::Dns { name, .. } => Some(name),
            _ => None,
        })
        .collect();
    assert!(benign_names.len() > 20);
    assert!(benign_names.iter().all(|n| n.len() <= 20));
}

#[test]
fn reports_are_deterministic() {
    assert_eq!(report_icmp(), report_icmp());
    assert_eq!(report_dns_icmp(), report_dns_icmp());
}

#[test]
fn office_is_benign_varied_and_seeded() {
    let s = office(1500, 7);
    assert_common(&s, 1500);
    assert!(s.tunnel_packet_numbers().is_empty());
    let mut notes = std::collections::BTreeSet::new();
    let mut v6 = 0;
    for p in &s.packets {
        notes.insert(p.note);
        let headers = PacketHeaders::from_ethernet_slice(&p.frame).unwrap();
        assert_valid_headers(&headers);
        if matches!(headers.net, Some(NetHeaders::Ipv6(..))) {
            v6 += 1;
        }
        if let Some(NetHeaders::Ipv4(ip, _)) = &headers.net {
            let inside = ip.source[..2] == [10, 1] || ip.destination[..2] == [10, 1];
            assert!(inside, "office traffic touches 10.1.0.0/16");
        }
    }
    assert!(v6 > 0);
    for note in [
        "dns query",
        "linux ping request",
        "windows ping reply",
        "macos ping request",
        "traceroute probe",
        "icmp time exceeded",
        "arp reply",
        "http response",
        "linux ping6 reply",
    ] {
        assert!(notes.contains(note), "missing {note}");
    }
    assert_eq!(office(300, 7), office(300, 7));
    assert_ne!(office(300, 7), office(300, 8));
    assert_eq!(office(1, 1).packets.len(), 1);
    assert!(office(0, 1).packets.is_empty());
}

#[test]
fn office_zero_payload_probes_get_time_exceeded() {
    let s = office(3000, 3);
    let exceeded: Vec<_> = s.packets.iter().filter(|p| p.note == "icmp time exceeded").collect();
    assert!(!exceeded.is_empty());
    for p in exceeded {
        assert_eq!(p.frame[34..36], [11, 0]);
        // Quoted header: TTL 1 as the router saw it, then the echo header.
        assert_eq!(p.frame[42] >> 4, 4);
        assert_eq!(p.frame[42 + 8], 1);
        assert_eq!(p.frame[42 + 20], 8);
    }
}

#[test]
fn bench_mix_streams_the_advertised_mix() {
    let n = 20_000;
    let mut counts = BTreeMap::new();
    let mut tunnels = 0;
    let mut last = i64::MIN;
    let mix = bench_mix(n, 99);
    assert_eq!(mix.len(), n);
    for (i, p) in mix.enumerate() {
        *counts.entry(p.note).or_insert(0usize) += 1;
        tunnels += usize::from(p.tunnel);
        assert!(p.ts_nanos > last);
        last = p.ts_nanos;
        if i % 97 == 0 {
            assert_valid_headers(&PacketHeaders::from_ethernet_slice(&p.frame).unwrap());
        }
        if p.tunnel {
            match decode(&p.frame) {
                Seen::Echo { request: true, data, .. } => assert!(shannon(&data) > 6.6),
                other => panic!("tunnel packet is {other:?}"),
            }
        }
    }
    assert!((5..=45).contains(&tunnels), "{tunnels}");
    let share = |note: &str| counts.get(note).copied().unwrap_or(0) as f64 / n as f64;
    assert!((0.08..0.12).contains(&share("dns")));
    assert!((0.08..0.12).contains(&share("ping")));
    assert!(share("tcp") + share("udp") > 0.75);
    let a: Vec<_> = bench_mix(500, 1).collect();
    let b: Vec<_> = bench_mix(500, 1).collect();
    assert_eq!(a, b);
    assert_ne!(a, bench_mix(500, 2).collect::<Vec<_>>());
}

#[test]
fn link_type_scenarios_carry_the_same_packets() {
    let all = link_types();
    let types: Vec<u32> = all.iter().map(|(lt, _, _)| *lt).collect();
    assert_eq!(types, vec![0, 1, 1, 1, 12, 14, 101, 108, 113, 228, 229, 276]);
    for (link_type, name, s) in &all {
        assert_eq!(s.name, *name);
        assert_eq!(s.packets.len(), 3, "{name}");
        assert_eq!(s.tunnel_packet_numbers(), vec![3], "{name}");
        for p in &s.packets {
            assert_eq!(p.link_type, *link_type);
            let sliced = match (*link_type, *name) {
                (1, _) => etherparse::SlicedPacket::from_ethernet(&p.frame),
                (113, _) => etherparse::SlicedPacket::from_linux_sll(&p.frame),
                (0 | 108, _) => etherparse::SlicedPacket::from_ip(&p.frame[4..]),
                (276, _) => etherparse::SlicedPacket::from_ip(&p.frame[20..]),
                _ => etherparse::SlicedPacket::from_ip(&p.frame),
            }
            .unwrap();
            let payload_len = match sliced.transport {
                Some(etherparse::TransportSlice::Icmpv4(icmp)) => icmp.payload().len(),
                Some(etherparse::TransportSlice::Icmpv6(icmp)) => icmp.payload().len(),
                other => panic!("{name}: {other:?}"),
            };
            assert_eq!(payload_len, if p.tunnel { 200 } else { 56 }, "{name}");
        }
        let mut out = Vec::new();
        s.write_pcap(&mut out, false).unwrap();
        assert_eq!(out[20..24], link_type.to_le_bytes());
    }
    let names: std::collections::BTreeSet<_> = all.iter().map(|(_, n, _)| *n).collect();
    assert_eq!(names.len(), all.len(), "names are unique");
}

/// Reads a little-endian classic pcap back into (ts_nanos, frame) records.
fn read_pcap(bytes: &[u8], nanos: bool) -> Vec<(i64, Vec<u8>)> {
    let u32_at = |at: usize| u32::from_le_bytes(bytes[at..at + 4].try_into().unwrap());
    let mut records = Vec::new();
    let mut at = 24;
    while at < bytes.len() {
        let frac = i64::from(u32_at(at + 4)) * if nanos { 1 } else { 1000 };
        let ts = i64::from(u32_at(at)) * SEC + frac;
        let len = u32_at(at + 8) as usize;
        assert_eq!(u32_at(at + 12) as usize, len);
        records.push((ts, bytes[at + 16..at + 16 + len].to_vec()));
        at += 16 + len;
    }
    records
}

#[test]
fn report_pcaps_read_back() {
    for s in [report_icmp(), report_dns_icmp()] {
        let mut out = Vec::new();
        s.write_pcap(&mut out, true).unwrap();
        let records = read_pcap(&out, true);
        assert_eq!(records.len(), s.packets.len());
        for (record, packet) in records.iter().zip(&s.packets) {
            assert_eq!(record.0, packet.ts_nanos);
            assert_eq!(record.1, packet.frame);
        }
        let mut micros = Vec::new();
        s.write_pcap(&mut micros, false).unwrap();
        let records = read_pcap(&micros, false);
        assert_eq!(records[0].0, s.packets[0].ts_nanos / 1000 * 1000);
    }
}

/// If tcpdump or tshark is installed, it must read the report captures
/// without complaint; otherwise the check is skipped with a notice on the
/// uncaptured stderr, or fails when `FERRET_REQUIRE_TSHARK` is set (CI installs tshark).
#[test]
fn external_readers_accept_the_captures() {
    let dir = tempfile::tempdir().unwrap();
    let mut tshark_ran = false;
    for s in [report_icmp(), report_dns_icmp()] {
        let path = dir.path().join(format!("{}.pcap", s.name));
        s.write_pcap(std::fs::File::create(&path).unwrap(), false).unwrap();
        let ng_path = dir.path().join(format!("{}.pcapng", s.name));
        s.write_pcapng(std::fs::File::create(&ng_path).unwrap()).unwrap();
        for file in [&path, &ng_path] {
            if let Ok(out) = std::process::Command::new("tcpdump").arg("-nn").arg("-vv").arg("-r").arg(file).output() {
                assert!(out.status.success(), "{}", String::from_utf8_lossy(&out.stderr));
                let text = String::from_utf8_lossy(&out.stdout);
                assert!(!text.contains("bad cksum") && !text.contains("incorrect"), "{text}");
                let packets = text.lines().filter(|l| !l.starts_with(' ') && !l.starts_with('\t')).count();
                assert_eq!(packets, s.packets.len());
            }
            if let Ok(out) = std::process::Command::new("tshark").arg("-r").arg(file).output() {
                tshark_ran = true;
                assert!(out.status.success(), "{}", String::from_utf8_lossy(&out.stderr));
                assert_eq!(String::from_utf8_lossy(&out.stdout).lines().count(), s.packets.len());
            }
        }
    }
    if !tshark_ran {
        use std::io::Write;
        assert!(std::env::var_os("FERRET_REQUIRE_TSHARK").is_none(), "FERRET_REQUIRE_TSHARK is set, but no tshark ran");
        let why = "SKIPPED external_readers_accept_the_captures: no tshark (set FERRET_REQUIRE_TSHARK=1 to make this a failure)";
        let _ = writeln!(std::io::stderr(), "{why}");
    }
}

#[test]
fn evasion_scenarios_are_valid_labelled_and_seeded() {
    let all = evasions();
    let names: Vec<&str> = all.iter().map(|s| s.name).collect();
    assert_eq!(
        names,
        [
            "fixed_size_icmp_tunnel",
            "text_exfil_pings",
            "rate_only_icmp_channel",
            "short_label_dns_exfil",
            "txt_null_dns_tunnel",
            "large_linux_pings",
            "monitoring_pings",
            "icmp_errors_quoting_encrypted",
            "benign_dns_families",
        ]
    );
    for (i, s) in all.iter().enumerate() {
        assert!(s.packets.windows(2).all(|w| w[0].ts_nanos <= w[1].ts_nanos), "{}: time goes forward", s.name);
        assert!(s.packets.iter().all(|p| p.link_type == 1));
        for p in &s.packets {
            let headers = PacketHeaders::from_ethernet_slice(&p.frame).unwrap();
            assert_valid_headers(&headers);
        }
        let tunnels = s.tunnel_packet_numbers().len();
        let benign = s.packets.len() - tunnels;
        if i < 5 {
            assert!(tunnels >= 40 && benign >= 20, "{}: {tunnels} tunnel, {benign} benign packets", s.name);
        } else {
            assert_eq!(tunnels, 0, "{}", s.name);
        }
    }
    assert_eq!(fixed_size_icmp_tunnel(), fixed_size_icmp_tunnel());
    assert_eq!(benign_dns_families(), benign_dns_families());
}

#[test]
fn evasion_payloads_are_what_they_claim() {
    // Fixed-size tunnel: 64-byte payloads that stay under 6 bits/byte.
    for p in fixed_size_icmp_tunnel().packets.iter().filter(|p| p.tunnel) {
        let Seen::Echo { data, .. } = decode(&p.frame) else { panic!("{}", p.note) };
        assert_eq!(data.len(), 64);
        assert!(shannon(&data) < 6.0);
    }
    // Text exfiltration: printable 56-byte chunks near 4 bits/byte.
    for p in text_exfil_pings().packets.iter().filter(|p| p.tunnel) {
        let Seen::Echo { data, .. } = decode(&p.frame) else { panic!("{}", p.note) };
        assert_eq!(data.len(), 56);
        assert!(data.iter().all(|b| b.is_ascii_graphic() || *b == b' '));
        assert!(shannon(&data) < 5.0);
    }
    // Rate-only channel: 4000 ordinary Linux pings in about 2 seconds, 1% answered.
    let rate = rate_only_icmp_channel();
    let (mut requests, mut replies, mut first, mut last) = (0, 0, i64::MAX, 0);
    for p in rate.packets.iter().filter(|p| p.tunnel) {
        let Seen::Echo { request, data, .. } = decode(&p.frame) else { panic!("{}", p.note) };
        assert_eq!(data.len(), 56);
        if request {
            requests += 1;
            first = first.min(p.ts_nanos);
            last = last.max(p.ts_nanos);
        } else {
            replies += 1;
        }
    }
    assert_eq!((requests, replies), (4000, 40));
    assert!(last - first < 3 * SEC);
    // Short-label exfiltration: 400 unique names of at most 21 characters.
    let names: std::collections::BTreeSet<String> = short_label_dns_exfil()
        .packets
        .iter()
        .filter(|p| p.tunnel)
        .filter_map(|p| match decode(&p.frame) {
            Seen::Dns { name, .. } => Some(name),
            _ => None,
        })
        .collect();
    assert_eq!(names.len(), 400);
    assert!(names.iter().all(|n| n.len() <= 21 && n.ends_with(".cdn-sync.net")));
}
