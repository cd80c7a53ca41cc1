//! The two incident reports ferret was built for, rebuilt packet for packet.
//!
//! Each report lists the alerts an analyst saw (payload length and entropy,
//! DNS names, packet numbers). These scenarios reproduce exactly those
//! tunnel packets at exactly those packet numbers, inside benign traffic of
//! the kinds that must not raise alerts, so end-to-end tests can assert the
//! report line for line.

use super::super::frame::{dns_query, dns_response, icmp_echo, udp};
use super::super::payload::{name_with_entropy, with_entropy};
use super::super::timeline::{Pinned, Timeline};
use super::super::Scenario;
use super::talk::{
    arp_exchange, arp_probe, dns_lookup, http_exchange, ping, PingKind, Pinger, HTTP_PACKETS, MS, TYPE_A, US,
};
use std::net::Ipv4Addr;

const NANOS_PER_SEC: i64 = 1_000_000_000;

/// 2025-04-05 20:55:00 UTC, the start of the first report's window.
pub(crate) const REPORT_ICMP_START: i64 = 1_743_886_500 * NANOS_PER_SEC;
/// 2025-04-12 14:03:00 UTC, the start of the second report's capture.
pub(crate) const REPORT_DNS_ICMP_START: i64 = 1_744_466_580 * NANOS_PER_SEC;

/// First report: tunnel echo requests as (packet number, payload length, entropy).
pub(crate) const REPORT_ICMP_TUNNEL: [(u64, usize, f64); 5] =
    [(18, 159, 6.78), (57, 70, 5.85), (100, 233, 7.13), (125, 496, 7.65), (130, 528, 7.58)];

/// Second report: tunnel DNS names as (query number, response number, length, entropy).
pub(crate) const REPORT_DNS_NAMES: [(u64, u64, usize, f64); 4] =
    [(41, 42, 26, 3.84), (97, 99, 28, 3.53), (226, 227, 25, 4.00), (281, 282, 32, 3.80)];

/// Second report: 128-byte tunnel pings as (request number, reply number, entropy).
pub(crate) const REPORT_PINGS: [(u64, u64, f64); 7] = [
    (60, 61, 6.48),
    (130, 131, 6.48),
    (158, 159, 6.49),
    (190, 192, 6.58),
    (253, 254, 6.46),
    (266, 267, 6.43),
    (290, 291, 6.53),
];

/// Domain of the second report's tunnel names.
pub(crate) const TUNNEL_DOMAIN: &str = "t-exfil.net";

const REPORT_ICMP_PACKETS: usize = 150;
const REPORT_DNS_ICMP_PACKETS: usize = 300;

/// Short, ordinary names (at most 20 characters) for benign lookups.
const NORMAL_NAMES: [&str; 10] = [
    "example.com",
    "www.debian.org",
    "github.com",
    "api.github.com",
    "deb.debian.org",
    "ntp.ubuntu.com",
    "www.google.com",
    "mail.example.org",
    "time.cloudflare.com",
    "www.wikipedia.org",
];

fn v4(last: u8, net: [u8; 3]) -> Ipv4Addr {
    Ipv4Addr::new(net[0], net[1], net[2], last)
}

/// The first incident report: 192.168.1.4 sends five ICMP echo requests with
/// high-entropy payloads (no replies) to 192.168.1.6 as packets 18, 57, 100,
/// 125 and 130 of 150, between 20:55:00 and 20:55:08 UTC on 2025-04-05;
/// everything else is benign (Linux 56-byte, Windows 32-byte and 48-byte
/// pings with replies, ARP, an HTTP fetch, short DNS lookups via 192.168.1.1).
pub fn report_icmp() -> Scenario {
    const NET: [u8; 3] = [192, 168, 1];
    let mut tl = Timeline::new(REPORT_ICMP_START + 140 * MS, 0x0405_2055);
    let pins = REPORT_ICMP_TUNNEL
        .iter()
        .zip(1u16..)
        .map(|(&(number, len, entropy), seq)| {
            let data = with_entropy(len, entropy, 0x1c4d + u64::from(seq));
            let frame = icmp_echo(v4(4, NET), v4(6, NET), false, 0x4d21, seq, &data);
            let gap = 9 * MS + i64::from(seq) * 3 * MS;
            Pinned { number, gap, frame, note: "icmp tunnel request" }
        })
        .collect();
    tl.pin(pins);

    let gateway = v4(1, NET);
    let mut pingers = [
        Pinger::new(v4(3, NET), gateway, PingKind::Linux(56), 0x0c41),
        Pinger::new(v4(10, NET), v4(3, NET), PingKind::Windows, 1),
        Pinger::new(v4(23, NET), v4(5, NET), PingKind::Linux(48), 0x3f07),
        Pinger::new(v4(5, NET), v4(23, NET), PingKind::Linux(56), 0x51aa),
    ];
    let clients = [v4(3, NET), v4(4, NET), v4(5, NET), v4(10, NET), v4(23, NET)];
    let mut fetched = false;
    while tl.room(REPORT_ICMP_PACKETS) > 0 {
        let room = tl.room(REPORT_ICMP_PACKETS);
        let gap = tl.rng.range_i64(15 * MS, 60 * MS);
        let roll = tl.rng.below(100);
        let client = *tl.rng.pick(&clients).unwrap_or(&gateway);
        if room < 2 {
            arp_probe(&mut tl, gateway, client, gap);
        } else if !fetched && room >= HTTP_PACKETS && tl.len() > 60 {
            http_exchange(&mut tl, v4(4, NET), Ipv4Addr::new(198, 51, 100, 80), "www.example.com", gap);
            fetched = true;
        } else if roll < 60 {
            let index = tl.rng.index(pingers.len());
            if let Some(pinger) = pingers.get_mut(index) {
                ping(&mut tl, pinger, gap);
            }
        } else if roll < 78 {
            let name = *tl.rng.pick(&NORMAL_NAMES).unwrap_or(&"example.com");
            dns_lookup(&mut tl, client, gateway, name, TYPE_A, gap);
        } else {
            arp_exchange(&mut tl, client, gateway, gap);
        }
    }
    tl.finish("report_icmp")
}

/// The second incident report (hosts 172.20.10.x, 300 packets): 172.20.10.9
/// resolves four tunnel names under `t-exfil.net` via 172.20.10.1, of
/// (length, entropy) (26, 3.84), (28, 3.53), (25, 4.00), (32, 3.80), each
/// query answered; 172.20.10.2 pings 172.20.10.9 with 128-byte payloads of
/// entropy 6.48 (twice), 6.49, 6.58, 6.46, 6.43 and 6.53, each answered with
/// the same payload. All 22 of those packets are tunnel packets, among them
/// numbers 226 and 254. The rest is benign (short lookups, Linux pings, HTTP, ARP).
pub fn report_dns_icmp() -> Scenario {
    const NET: [u8; 3] = [172, 20, 10];
    let resolver = v4(1, NET);
    let mut tl = Timeline::new(REPORT_DNS_ICMP_START + 210 * MS, 0x0412_1403);
    let mut pins = Vec::new();
    for (i, &(query_no, response_no, len, entropy)) in (0u64..).zip(&REPORT_DNS_NAMES) {
        let name = name_with_entropy(len, entropy, TUNNEL_DOMAIN, 0x7e5 + i)
            .unwrap_or_else(|| format!("fallback.{TUNNEL_DOMAIN}"));
        let id = 0x5a00 | (i as u16);
        let sport = 51_000 + (i as u16) * 7;
        let query = udp(v4(9, NET), resolver, sport, 53, &dns_query(id, &name, TYPE_A));
        let answer = [198, 51, 100, 99 - i as u8];
        let response = dns_response(id, &name, TYPE_A, &[(TYPE_A, &answer)]);
        let response = udp(resolver, v4(9, NET), 53, sport, &response);
        pins.push(Pinned { number: query_no, gap: 35 * MS, frame: query, note: "dns tunnel query" });
        let gap = if response_no == query_no + 1 { 21 * MS } else { 4 * MS };
        pins.push(Pinned { number: response_no, gap, frame: response, note: "dns tunnel response" });
    }
    for (seq, &(request_no, reply_no, entropy)) in (1u16..).zip(&REPORT_PINGS) {
        let data = with_entropy(128, entropy, 0x2a17_0000 + u64::from(seq));
        let (a, b) = (v4(2, NET), v4(9, NET));
        let request = icmp_echo(a, b, false, 0x2a17, seq, &data);
        let reply = icmp_echo(b, a, true, 0x2a17, seq, &data);
        pins.push(Pinned { number: request_no, gap: 47 * MS, frame: request, note: "icmp tunnel request" });
        let gap = if reply_no == request_no + 1 { 640 * US } else { 300 * US };
        pins.push(Pinned { number: reply_no, gap, frame: reply, note: "icmp tunnel reply" });
    }
    tl.pin(pins);

    let mut pingers = [
        Pinger::new(v4(3, NET), resolver, PingKind::Linux(56), 0x1b2c),
        Pinger::new(v4(5, NET), v4(7, NET), PingKind::Linux(56), 0x0e91),
        Pinger::new(v4(12, NET), resolver, PingKind::Linux(56), 0x77d0),
    ];
    let clients = [v4(3, NET), v4(4, NET), v4(5, NET), v4(7, NET), v4(9, NET), v4(12, NET)];
    let mut fetches = 0;
    while tl.room(REPORT_DNS_ICMP_PACKETS) > 0 {
        let room = tl.room(REPORT_DNS_ICMP_PACKETS);
        let gap = tl.rng.range_i64(20 * MS, 140 * MS);
        let roll = tl.rng.below(100);
        let client = *tl.rng.pick(&clients).unwrap_or(&resolver);
        if room < 2 {
            arp_probe(&mut tl, resolver, client, gap);
        } else if fetches < 3 && room >= HTTP_PACKETS && roll < 8 {
            let server = Ipv4Addr::new(203, 0, 113, 10 + fetches);
            http_exchange(&mut tl, client, server, "updates.example.net", gap);
            fetches += 1;
        } else if roll < 50 {
            let index = tl.rng.index(pingers.len());
            if let Some(pinger) = pingers.get_mut(index) {
                ping(&mut tl, pinger, gap);
            }
        } else if roll < 82 {
            let name = *tl.rng.pick(&NORMAL_NAMES).unwrap_or(&"example.com");
            dns_lookup(&mut tl, client, resolver, name, TYPE_A, gap);
        } else {
            arp_exchange(&mut tl, client, resolver, gap);
        }
    }
    tl.finish("report_dns_icmp")
}
