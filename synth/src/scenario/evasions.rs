//! Evasion scenarios: tunnels built to slip past naive detectors, and benign
//! traffic built to trip them, each labelled per packet.
//!
//! A detector tuned on the incident reports (big payloads, high entropy, long
//! DNS names) misses tunnels that keep their packets ordinary-looking and
//! flags benign traffic that merely looks random. Each scenario here isolates
//! one such case inside a little ordinary office traffic, so a test can say
//! which rule catches it (or that nothing fires) and a failure names the
//! evasion that got through.
//!
//! Tunnels: [`fixed_size_icmp_tunnel`], [`text_exfil_pings`],
//! [`rate_only_icmp_channel`], [`short_label_dns_exfil`],
//! [`txt_null_dns_tunnel`]. Benign: [`large_linux_pings`],
//! [`monitoring_pings`], [`icmp_errors_quoting_encrypted`],
//! [`benign_dns_families`]. [`evasions`] returns them all.

use std::net::{Ipv4Addr, Ipv6Addr};

use super::super::frame::{
    dns_query, dns_response, flags, icmp_echo, icmp_error, icmpv6_message, quote, quote_up_to, tcp_segment, udp,
    with_ttl,
};
use super::super::payload;
use super::super::rng::Rng;
use super::super::timeline::Timeline;
use super::super::Scenario;
use super::talk::{dns_lookup, ping, ping_payload, PingKind, Pinger, MS, TYPE_A, TYPE_AAAA, US};

/// 2025-03-10 10:00:00 UTC.
pub(super) const START: i64 = 1_741_600_800 * 1_000_000_000;
pub(super) const SEC: i64 = 1_000_000_000;

const TYPE_CNAME: u16 = 5;
pub(super) const TYPE_NULL: u16 = 10;
pub(super) const TYPE_PTR: u16 = 12;
pub(super) const TYPE_TXT: u16 = 16;

/// The office the scenarios happen in: 10.20.0.0/24, gateway .1, resolver .2.
const GATEWAY: Ipv4Addr = Ipv4Addr::new(10, 20, 0, 1);
pub(super) const RESOLVER: Ipv4Addr = Ipv4Addr::new(10, 20, 0, 2);

pub(super) fn office_host(last: u8) -> Ipv4Addr {
    Ipv4Addr::new(10, 20, 0, last)
}

const EVERYDAY_NAMES: [&str; 8] = [
    "mail.corp.example",
    "github.com",
    "www.wikipedia.org",
    "outlook.office.com",
    "slack.com",
    "pypi.org",
    "time.cloudflare.com",
    "updates.example.net",
];

/// Ordinary traffic between the scenario's own events: three hosts pinging
/// (Linux, Windows, macOS) and looking up everyday names.
pub(super) struct Background {
    pingers: Vec<Pinger>,
    clients: [Ipv4Addr; 3],
}

impl Background {
    pub(super) fn new() -> Self {
        let clients = [office_host(10), office_host(11), office_host(12)];
        let pingers = vec![
            Pinger::new(clients[0], GATEWAY, PingKind::Linux(56), 0x2101),
            Pinger::new(clients[1], RESOLVER, PingKind::Windows, 1),
            Pinger::new(clients[2], GATEWAY, PingKind::Mac, 0x7c3e),
        ];
        Background { pingers, clients }
    }

    /// One benign exchange (2 packets) after a gap drawn from `lo..=hi` nanoseconds.
    pub(super) fn step(&mut self, tl: &mut Timeline, lo: i64, hi: i64) {
        let gap = tl.rng.range_i64(lo, hi);
        if tl.rng.chance(500) {
            let index = tl.rng.index(self.pingers.len());
            if let Some(pinger) = self.pingers.get_mut(index) {
                ping(tl, pinger, gap);
            }
        } else {
            let client = *tl.rng.pick(&self.clients).unwrap_or(&GATEWAY);
            let name = *tl.rng.pick(&EVERYDAY_NAMES).unwrap_or(&"example.com");
            let qtype = if tl.rng.chance(300) { TYPE_AAAA } else { TYPE_A };
            dns_lookup(tl, client, RESOLVER, name, qtype, gap);
        }
    }
}

/// `len` characters of the base32 alphabet (`a-z2-7`), as DNS tunnels encode data.
pub(super) fn base32_label(rng: &mut Rng, len: usize) -> String {
    const ALPHABET: &[u8] = b"abcdefghijklmnopqrstuvwxyz234567";
    (0..len).map(|_| char::from(*rng.pick(ALPHABET).unwrap_or(&b'a'))).collect()
}

/// `len` lowercase hex digits.
pub(super) fn hex_label(rng: &mut Rng, len: usize) -> String {
    (0..len).map(|_| char::from_digit(rng.below(16) as u32, 16).unwrap_or('0')).collect()
}

/// TXT record data: one character-string of `text` (cut to 255 bytes).
pub(super) fn txt_rdata(text: &[u8]) -> Vec<u8> {
    let text = text.get(..255).unwrap_or(text);
    let mut out = vec![u8::try_from(text.len()).unwrap_or(u8::MAX)];
    out.extend_from_slice(text);
    out
}

/// A DNS query and its answer of `qtype` with `rdata`, both labelled tunnel (2 packets).
fn tunnel_lookup(tl: &mut Timeline, client: Ipv4Addr, name: &str, qtype: u16, rdata: &[u8], gap: i64) {
    let id = tl.rng.next_u64() as u16;
    let sport = u16::try_from(tl.rng.range(32_768, 60_999)).unwrap_or(40_000);
    let query = udp(client, RESOLVER, sport, 53, &dns_query(id, name, qtype));
    tl.push_tunnel(gap, "dns tunnel query", |_| query);
    let response = udp(RESOLVER, client, 53, sport, &dns_response(id, name, qtype, &[(qtype, rdata)]));
    let latency = tl.rng.range_i64(8 * MS, 60 * MS);
    tl.push_tunnel(latency, "dns tunnel response", |_| response);
}

/// An ICMP tunnel that sends exactly 64 encrypted bytes per echo, so its
/// payload entropy stays near 5.7 bits/byte (below any fixed 5.8 threshold):
/// 10.20.0.15 and 203.0.113.66 exchange 90 requests and replies about once a
/// second, each reply carrying the server's own data. Tunnel: every echo
/// between them. Caught by `payload.pattern == random` (7100001) and by
/// replies that do not echo their requests (7100005).
pub fn fixed_size_icmp_tunnel() -> Scenario {
    let mut tl = Timeline::new(START, 0x6464);
    let mut bg = Background::new();
    let (client, server) = (office_host(15), Ipv4Addr::new(203, 0, 113, 66));
    for seq in 1..=90u16 {
        bg.step(&mut tl, 50 * MS, 400 * MS);
        let up = payload::random(64, tl.rng.next_u64());
        let down = payload::random(64, tl.rng.next_u64());
        let gap = tl.rng.range_i64(300 * MS, 900 * MS);
        tl.push_tunnel(gap, "icmp tunnel request", |_| icmp_echo(client, server, false, 0x3b1d, seq, &up));
        let rtt = tl.rng.range_i64(20 * MS, 60 * MS);
        tl.push_tunnel(rtt, "icmp tunnel reply", |_| icmp_echo(server, client, true, 0x3b1d, seq, &down));
    }
    tl.finish("fixed_size_icmp_tunnel")
}

/// Plain-text exfiltration in pings sized like a Linux ping: 10.20.0.23
/// sends a document in 56-byte text chunks to 198.51.100.77, one per second,
/// 40 requests echoed back verbatim. Text scores about 4 bits/byte, less
/// than an ordinary Linux ping. Tunnel: the 80 echoes. Caught by changing
/// text payloads (7100008).
pub fn text_exfil_pings() -> Scenario {
    let mut tl = Timeline::new(START + 3600 * SEC, 0x7e47);
    let mut bg = Background::new();
    let (client, server) = (office_host(23), Ipv4Addr::new(198, 51, 100, 77));
    let document = payload::text(56 * 40, 0xd0c);
    for (seq, chunk) in (1u16..).zip(document.chunks(56)) {
        bg.step(&mut tl, 100 * MS, 500 * MS);
        let gap = tl.rng.range_i64(300 * MS, 600 * MS);
        tl.push_tunnel(gap, "icmp exfil request", |_| icmp_echo(client, server, false, 0x0f11, seq, chunk));
        let rtt = tl.rng.range_i64(15 * MS, 40 * MS);
        tl.push_tunnel(rtt, "icmp exfil reply", |_| icmp_echo(server, client, true, 0x0f11, seq, chunk));
    }
    tl.finish("text_exfil_pings")
}

/// A rate-only channel: 10.20.0.31 sends ordinary 56-byte Linux ping
/// payloads to 203.0.113.9 at 2000 per second for 2 seconds (the data is in
/// which sequence numbers are sent and when), and only 1 in 100 is answered.
/// Every packet looks like a ping; only the rate gives it away. Tunnel: the
/// 4000 requests and their 40 replies. Caught by the echo rate per host pair (7100004).
pub fn rate_only_icmp_channel() -> Scenario {
    let mut tl = Timeline::new(START + 2 * 3600 * SEC, 0x2a7e);
    let mut bg = Background::new();
    let (client, server) = (office_host(31), Ipv4Addr::new(203, 0, 113, 9));
    for _ in 0..10 {
        bg.step(&mut tl, 100 * MS, 300 * MS);
    }
    for i in 0..4000u16 {
        if i % 200 == 0 {
            bg.step(&mut tl, 100 * US, 100 * US);
        }
        let seq = i.wrapping_mul(7).wrapping_add(u16::from(tl.rng.byte() & 3));
        let mut data = Vec::new();
        tl.push_tunnel(500 * US, "icmp rate channel request", |ts| {
            data = ping_payload(PingKind::Linux(56), ts - 20 * US);
            icmp_echo(client, server, false, 0x5151, seq, &data)
        });
        if i % 100 == 0 {
            tl.push_tunnel(200 * US, "icmp rate channel reply", |_| {
                icmp_echo(server, client, true, 0x5151, seq, &data)
            });
        }
    }
    for _ in 0..10 {
        bg.step(&mut tl, 100 * MS, 300 * MS);
    }
    tl.finish("rate_only_icmp_channel")
}

/// DNS exfiltration that keeps names short (21 characters, well under any
/// length threshold): 10.20.0.44 asks for 400 unique 8-character base32
/// labels under `cdn-sync.net`, four a second, as A records. Tunnel: the 400
/// queries and their answers. Caught by distinct subdomains per domain (7100102).
pub fn short_label_dns_exfil() -> Scenario {
    let mut tl = Timeline::new(START + 3 * 3600 * SEC, 0x5107);
    let mut bg = Background::new();
    let client = office_host(44);
    let mut labels = Rng::new(0xe1f);
    for i in 0..400u32 {
        if i % 8 == 0 {
            bg.step(&mut tl, 20 * MS, 80 * MS);
        }
        let name = format!("{}.cdn-sync.net", base32_label(&mut labels, 8));
        let answer = [198, 51, 100, (i % 200) as u8 + 1];
        let gap = tl.rng.range_i64(150 * MS, 250 * MS);
        tunnel_lookup(&mut tl, client, &name, TYPE_A, &answer, gap);
    }
    tl.finish("short_label_dns_exfil")
}

/// A tunnel fetching its data in TXT and NULL records with names kept under
/// 25 characters: 10.20.0.52 alternates TXT queries for 9-character base32
/// labels under `t.relay-io.org` with NULL queries (iodine's default), 60 of
/// each in two minutes, answered with base64 text and raw bytes. Tunnel: the
/// 240 packets. Caught by data record types per domain (7100103) and repeated
/// NULL queries (7100104).
pub fn txt_null_dns_tunnel() -> Scenario {
    let mut tl = Timeline::new(START + 4 * 3600 * SEC, 0x7a7);
    let mut bg = Background::new();
    let client = office_host(52);
    let mut labels = Rng::new(0x9d1);
    for i in 0..120u32 {
        if i % 4 == 0 {
            bg.step(&mut tl, 20 * MS, 80 * MS);
        }
        let name = format!("{}.t.relay-io.org", base32_label(&mut labels, 9));
        let gap = tl.rng.range_i64(400 * MS, 1_200 * MS);
        if i % 2 == 0 {
            let text = base64ish(&payload::random(90, tl.rng.next_u64()));
            tunnel_lookup(&mut tl, client, &name, TYPE_TXT, &txt_rdata(&text), gap);
        } else {
            let data = payload::random(200, tl.rng.next_u64());
            tunnel_lookup(&mut tl, client, &name, TYPE_NULL, &data, gap);
        }
    }
    tl.finish("txt_null_dns_tunnel")
}

/// Base64 text of `data` (standard alphabet, no padding).
fn base64ish(data: &[u8]) -> Vec<u8> {
    const ALPHABET: &[u8] = b"ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789+/";
    data.chunks(3)
        .flat_map(|c| {
            let n = c.iter().fold(0u32, |acc, &b| (acc << 8) | u32::from(b)) << (8 * (3 - c.len()));
            (0..=c.len()).map(move |i| ALPHABET.get(((n >> (18 - 6 * i)) & 63) as usize).copied().unwrap_or(b'A'))
        })
        .collect()
}

/// Benign: large diagnostic pings left running. `ping -s 1000` and `-s 1472`
/// from Linux (a timestamp then a counter: near 8 bits/byte, yet nothing
/// random), `ping -s 1000` from macOS and `ping -l 1000` from Windows (its
/// alphabet, repeated), one a second for two minutes each, all answered.
/// Nothing here is a tunnel.
pub fn large_linux_pings() -> Scenario {
    let mut tl = Timeline::new(START + 5 * 3600 * SEC, 0x1000);
    let mut bg = Background::new();
    let mut pingers = [
        Pinger::new(office_host(60), GATEWAY, PingKind::Linux(1000), 0x4e20),
        Pinger::new(office_host(61), Ipv4Addr::new(198, 51, 100, 10), PingKind::Linux(1472), 0x4e21),
        Pinger::new(office_host(62), GATEWAY, PingKind::Mac, 0x4e22),
        Pinger::new(office_host(63), RESOLVER, PingKind::Windows, 1),
    ];
    for _second in 0..120 {
        for (i, pinger) in pingers.iter_mut().enumerate() {
            let gap = tl.rng.range_i64(50 * MS, 200 * MS);
            match i {
                // The ping tools' own sizes: Linux `-s 1000` and `-s 1472`.
                0 | 1 => ping(&mut tl, pinger, gap),
                // macOS `-s 1000` (stamped a moment before sending) and Windows `-l 1000`.
                2 => {
                    let data = payload::macos_ping(1000, tl.now() + gap - 30 * US);
                    big_ping(&mut tl, pinger, &data, gap);
                }
                _ => big_ping(&mut tl, pinger, &payload::windows_ping(1000), gap),
            }
        }
        bg.step(&mut tl, 50 * MS, 200 * MS);
    }
    tl.finish("large_linux_pings")
}

/// An echo request with `data` and its verbatim reply (2 benign packets).
fn big_ping(tl: &mut Timeline, pinger: &mut Pinger, data: &[u8], gap: i64) {
    let Pinger { src, dst, id, seq, .. } = pinger.clone();
    tl.push_frame(gap, "large ping request", icmp_echo(src, dst, false, id, seq, data));
    let rtt = tl.rng.range_i64(200 * US, 2 * MS);
    tl.push_frame(rtt, "large ping reply", icmp_echo(dst, src, true, id, seq, data));
    pinger.seq = seq.wrapping_add(1);
}

/// Benign: a monitoring server (10.20.0.5) pinging 15 devices every 15
/// seconds for 5 minutes with the patterned payloads such tools use: 0xAA
/// fills, Cisco's 0xABCD, `ping -p ff00` after a timestamp, zeros (fping),
/// BusyBox's 4-byte timestamp and zeros, a Go ping library's timestamp plus
/// tracker with 0x01 padding, and its 24-byte timestamp plus random tracker,
/// each answered. Nothing here is a tunnel. (A custom text banner, which this
/// scenario sent before issue 11, is no tool's fill: rule 7100012 flags it at
/// low severity, and a `pass` rule is the tuning.)
pub fn monitoring_pings() -> Scenario {
    let mut tl = Timeline::new(START + 6 * 3600 * SEC, 0x0a0a);
    let mut bg = Background::new();
    let monitor = office_host(5);
    let devices: Vec<Ipv4Addr> = (100..115).map(office_host).collect();
    let mut seqs = [0u16; 15];
    for round in 0..20 {
        let round_start = START + 6 * 3600 * SEC + round * 15 * SEC;
        while tl.now() < round_start {
            bg.step(&mut tl, 400 * MS, 1_500 * MS);
        }
        for (i, (&device, seq)) in devices.iter().zip(seqs.iter_mut()).enumerate() {
            *seq = seq.wrapping_add(1);
            let data = monitor_payload(i, tl.now());
            let gap = tl.rng.range_i64(5 * MS, 20 * MS);
            let id = 0x6d00 + i as u16;
            tl.push_frame(gap, "monitoring ping request", icmp_echo(monitor, device, false, id, *seq, &data));
            let rtt = tl.rng.range_i64(300 * US, 3 * MS);
            tl.push_frame(rtt, "monitoring ping reply", icmp_echo(device, monitor, true, id, *seq, &data));
        }
    }
    tl.finish("monitoring_pings")
}

/// The payload the monitor sends to device `i` at `ts`.
fn monitor_payload(i: usize, ts: i64) -> Vec<u8> {
    // A Go ping library's default: a timestamp and the pinger's random 16-byte id.
    const TRACKER: [u8; 16] =
        [0x9c, 0x41, 0xe2, 0x07, 0x5b, 0xd3, 0x18, 0xaf, 0x66, 0x2e, 0xf1, 0x8a, 0x34, 0xc9, 0x70, 0x0d];
    match i % 7 {
        6 => [&ts.to_be_bytes()[..], &TRACKER[..]].concat(),
        0 => vec![0xaa; 64],
        1 => [0xab, 0xcd].repeat(50),
        2 => {
            let mut p = [0xff, 0x00].repeat(500);
            overwrite(&mut p, &payload::linux_ping(16, ts));
            p
        }
        3 => payload::zeros(56),
        // BusyBox ping: a 4-byte timestamp, then zeros.
        4 => {
            let mut p = vec![0; 56];
            overwrite(&mut p, &(ts as u32).to_be_bytes());
            p
        }
        _ => {
            let mut p = vec![0x01; 56];
            overwrite(&mut p, &ts.to_be_bytes());
            overwrite(p.get_mut(8..).unwrap_or_default(), &[0x5e, 0x1c, 0x0f, 0x33, 0x9a, 0x42, 0x07, 0xd4]);
            p
        }
    }
}

fn overwrite(out: &mut [u8], prefix: &[u8]) {
    out.iter_mut().zip(prefix).for_each(|(d, s)| *d = *s);
}

/// Benign: ICMP errors quoting encrypted traffic. The gateway answers
/// WireGuard-like UDP datagrams (random payloads) with port unreachable,
/// quoting the whole datagram up to 548 bytes as Linux does; routers answer
/// TLS segments sent with a low TTL with time exceeded; an IPv6 router sends
/// packet too big quoting 1232 bytes of an encrypted QUIC datagram. 60 of each.
/// The quoted bytes are random, and nothing here is a tunnel.
pub fn icmp_errors_quoting_encrypted() -> Scenario {
    let mut tl = Timeline::new(START + 7 * 3600 * SEC, 0xe770);
    let mut bg = Background::new();
    let vpn_client = office_host(70);
    let vpn_server = Ipv4Addr::new(198, 51, 100, 200);
    let web = Ipv4Addr::new(203, 0, 113, 80);
    let router = Ipv4Addr::new(198, 51, 100, 1);
    let v6_client = Ipv6Addr::new(0x2001, 0xdb8, 0x20, 0, 0, 0, 0, 0x71);
    let v6_server = Ipv6Addr::new(0x2001, 0xdb8, 0xffff, 0, 0, 0, 0, 0x443);
    let v6_router = Ipv6Addr::new(0x2001, 0xdb8, 0x20, 0, 0, 0, 0, 1);
    for i in 0..60u16 {
        bg.step(&mut tl, 100 * MS, 400 * MS);
        // Port unreachable quoting a whole encrypted datagram.
        let datagram = udp(vpn_client, vpn_server, 51_820, 51_820, &payload::random(300, tl.rng.next_u64()));
        let quoted = quote_up_to(&datagram, 548);
        let gap = tl.rng.range_i64(10 * MS, 50 * MS);
        tl.push_frame(gap, "encrypted udp datagram", datagram);
        tl.push_frame(2 * MS, "icmp port unreachable", icmp_error(GATEWAY, vpn_client, 3, 3, &quoted));
        // Time exceeded for a TLS segment with a low TTL (traceroute over TCP).
        let record = payload::random(400, tl.rng.next_u64());
        let segment = tcp_segment(vpn_client, web, (44_000 + i, 443), flags::PSH | flags::ACK, (1000, 1), &record);
        let low_ttl = with_ttl(&segment, 2);
        let quoted = quote_up_to(&with_ttl(&low_ttl, 1), 548);
        let gap = tl.rng.range_i64(10 * MS, 50 * MS);
        tl.push_frame(gap, "tls segment, low ttl", low_ttl);
        tl.push_frame(3 * MS, "icmp time exceeded", icmp_error(router, vpn_client, 11, 0, &quoted));
        let short = quote(&segment);
        tl.push_frame(MS, "icmp time exceeded (short quote)", icmp_error(router, vpn_client, 11, 0, &short));
        // ICMPv6 packet too big quoting an encrypted QUIC datagram.
        let quic = ipv6_udp_bytes(v6_client, v6_server, 50_000 + i, 443, &payload::random(1300, tl.rng.next_u64()));
        let quoted = quic.get(..1232).unwrap_or(&quic);
        let mtu = 1280u32.to_be_bytes();
        let too_big = icmpv6_message(v6_router, v6_client, 2, 0, mtu, quoted);
        let gap = tl.rng.range_i64(10 * MS, 50 * MS);
        tl.push_frame(gap, "icmpv6 packet too big", too_big);
    }
    tl.finish("icmp_errors_quoting_encrypted")
}

/// The bytes of an IPv6 UDP packet (header, UDP header, payload), as a quote.
fn ipv6_udp_bytes(src: Ipv6Addr, dst: Ipv6Addr, sport: u16, dport: u16, data: &[u8]) -> Vec<u8> {
    let udp_len = u16::try_from(data.len() + 8).unwrap_or(u16::MAX);
    let mut out = vec![0x60, 0, 0, 0];
    out.extend_from_slice(&udp_len.to_be_bytes());
    out.extend_from_slice(&[17, 60]);
    out.extend_from_slice(&src.octets());
    out.extend_from_slice(&dst.octets());
    out.extend_from_slice(&sport.to_be_bytes());
    out.extend_from_slice(&dport.to_be_bytes());
    out.extend_from_slice(&udp_len.to_be_bytes());
    out.extend_from_slice(&[0x5c, 0x11]);
    out.extend_from_slice(data);
    out
}

/// Benign: DNS name families that look like tunnels. A mail server
/// (10.20.0.25) checks 300 reversed client IPs against blocklists
/// (zen.spamhaus.org, bl.spamcop.net, b.barracudacentral.org), looks up 60
/// attachment hashes (MD5 under malware.hash.cymru.com), fetches DKIM keys
/// (`selector._domainkey.domain`, including Amazon SES's random-looking
/// selectors), DMARC and SPF records of 40 sending domains, and resolves 200
/// PTR names (in-addr.arpa and ip6.arpa). A web server (10.20.0.26) checks
/// `_acme-challenge` TXT records for 15 names of its certificate.
/// Workstations resolve CDN and cloud names with random-looking labels
/// (CloudFront, Akamai, googlevideo, S3 and Azure blob storage). Nothing
/// here is a tunnel.
pub fn benign_dns_families() -> Scenario {
    let mut tl = Timeline::new(START + 8 * 3600 * SEC, 0xd25);
    let mut bg = Background::new();
    let mail = office_host(25);
    let web = office_host(26);
    let mut names = Rng::new(0xfa3);
    let blocklists = ["zen.spamhaus.org", "bl.spamcop.net", "b.barracudacentral.org"];
    let senders: Vec<String> = (0..40).map(|i| format!("sender{i}-mail.example")).collect();
    let cdn_templates = [
        "{b}.cloudfront.net",
        "e{n}.dscx.akamaiedge.net",
        "r4---sn-{b}.googlevideo.com",
        "{b}.s3.us-east-1.amazonaws.com",
        "{h}.blob.core.windows.net",
        "{b}-{n}.execute-api.eu-west-1.amazonaws.com",
    ];
    for i in 0..300usize {
        if i % 3 == 0 {
            bg.step(&mut tl, 20 * MS, 100 * MS);
        }
        let gap = tl.rng.range_i64(30 * MS, 200 * MS);
        let [a, b, c, d] = names.next_u64().to_le_bytes()[..4].try_into().unwrap_or([192, 0, 2, 1]);
        let reversed = format!("{d}.{c}.{b}.{a}");
        let list = nth(&blocklists, i);
        dns_lookup(&mut tl, mail, RESOLVER, &format!("{reversed}.{list}"), TYPE_A, gap);
        match i % 5 {
            0 => {
                let name = format!("{}.malware.hash.cymru.com", hex_label(&mut names, 32));
                dns_lookup(&mut tl, mail, RESOLVER, &name, TYPE_TXT, gap / 2);
            }
            1 => {
                let sender = nth(&senders, i / 5);
                let name = if i % 2 == 0 {
                    format!("{}._domainkey.amazonses.com", base32_label(&mut names, 32))
                } else {
                    format!("selector{}._domainkey.{sender}", 1 + i % 2)
                };
                dns_lookup(&mut tl, mail, RESOLVER, &name, TYPE_TXT, gap / 2);
                dns_lookup(&mut tl, mail, RESOLVER, &format!("_dmarc.{sender}"), TYPE_TXT, gap / 3);
                dns_lookup(&mut tl, mail, RESOLVER, &sender, TYPE_TXT, gap / 3);
            }
            2 => {
                let ptr = format!("{reversed}.in-addr.arpa");
                dns_lookup(&mut tl, mail, RESOLVER, &ptr, TYPE_PTR, gap / 2);
            }
            3 => {
                let nibbles: Vec<String> = (0..32).map(|_| format!("{:x}", names.below(16))).collect();
                let ptr = format!("{}.ip6.arpa", nibbles.join("."));
                dns_lookup(&mut tl, mail, RESOLVER, &ptr, TYPE_PTR, gap / 2);
            }
            _ => {
                let template = nth(&cdn_templates, i / 5);
                let name = template
                    .replace("{b}", &base32_label(&mut names, 14))
                    .replace("{h}", &hex_label(&mut names, 24))
                    .replace("{n}", &names.range(1000, 99_999).to_string());
                let client = *tl.rng.pick(&bg.clients).unwrap_or(&GATEWAY);
                let qtype = if i % 2 == 0 { TYPE_A } else { TYPE_CNAME };
                dns_lookup(&mut tl, client, RESOLVER, &name, qtype, gap / 2);
            }
        }
        if i % 20 == 0 {
            let host = format!("_acme-challenge.{}.shop.example.org", nth(&ACME_HOSTS, i / 20));
            dns_lookup(&mut tl, web, RESOLVER, &host, TYPE_TXT, gap / 2);
        }
    }
    tl.finish("benign_dns_families")
}

/// The names on the web server's certificate.
const ACME_HOSTS: [&str; 15] =
    ["www", "api", "cdn", "img", "m", "shop", "pay", "auth", "static", "beta", "eu", "us", "admin", "docs", "status"];

/// Item `i` of a list, cycling (the default for an empty list).
pub(super) fn nth<T: Clone + Default>(items: &[T], i: usize) -> T {
    items.get(i % items.len().max(1)).cloned().unwrap_or_default()
}

/// Every evasion scenario: the five tunnels, then the four benign ones.
pub fn evasions() -> Vec<Scenario> {
    vec![
        fixed_size_icmp_tunnel(),
        text_exfil_pings(),
        rate_only_icmp_channel(),
        short_label_dns_exfil(),
        txt_null_dns_tunnel(),
        large_linux_pings(),
        monitoring_pings(),
        icmp_errors_quoting_encrypted(),
        benign_dns_families(),
    ]
}
