//! Scenarios for what ferret used not to look at (issue 11, items 4 and 5):
//! IP fragments and DNS off port 53, each labelled per packet like
//! [`super::evasions`].
//!
//! Tunnels: [`fragmented_icmp_tunnel`], [`fragmented_icmp6_tunnel`],
//! [`overlapping_fragments`], [`unreassemblable_fragments`],
//! [`dns_tunnel_alt_port`]. Benign:
//! [`benign_udp_and_fragments`]. [`frag_evasions`] returns them all.
//!
//! Fragments are cut as a host's IP layer cuts them (RFC 791, RFC 8200
//! §4.5): every fragment but the last carries a multiple of 8 bytes, IPv4
//! fragments fill an Ethernet MTU of 1500 bytes, IPv6 ones the minimum MTU
//! of 1280 (what a host falls back to), with a Fragment header.

use std::net::{Ipv4Addr, Ipv6Addr};

use super::super::frame::{dns_query, dns_response, fragment, fragments, icmp_echo, icmpv6_echo, udp};
use super::super::payload;
use super::super::rng::Rng;
use super::super::timeline::Timeline;
use super::super::Scenario;
use super::evasions::{base32_label, office_host, txt_rdata, Background, RESOLVER, SEC, START, TYPE_TXT};
use super::talk::{ephemeral_port, MS, TYPE_A};

/// Where these scenarios sit in time: two days after [`super::evasions`].
const DAY: i64 = START + 2 * 24 * 3600 * SEC;
const TYPE_DNSKEY: u16 = 48;

/// Pushes every fragment of `frame` (cut for `mtu`), labelled tunnel or not, the first after `gap`.
fn push_fragments(tl: &mut Timeline, frame: &[u8], mtu: usize, id: u32, tunnel: bool, gap: i64) {
    for (i, frag) in fragments(frame, mtu, id).into_iter().enumerate() {
        let gap = if i == 0 { gap } else { tl.rng.range_i64(20_000, 200_000) };
        if tunnel {
            tl.push_tunnel(gap, "fragment (tunnel)", |_| frag);
        } else {
            tl.push_frame(gap, "fragment", frag);
        }
    }
}

/// An ICMP tunnel that sends 2,000 encrypted bytes per echo, more than one
/// Ethernet frame holds, so every request and reply travels in two IPv4
/// fragments: 10.20.0.91 and 203.0.113.91 exchange 40 requests and replies,
/// each reply carrying the server's own data. Before reassembly the
/// fragments were only counted (`ip_fragment`). Tunnel: every fragment.
/// Caught by `payload.pattern == random` (7100001) on the rebuilt requests.
pub fn fragmented_icmp_tunnel() -> Scenario {
    let mut tl = Timeline::new(DAY, 0xf4a9);
    let mut bg = Background::new();
    let (client, server) = (office_host(91), Ipv4Addr::new(203, 0, 113, 91));
    for seq in 0..40u16 {
        bg.step(&mut tl, 100 * MS, 400 * MS);
        let data = payload::random(2000, u64::from(seq) + 0x9100);
        let request = icmp_echo(client, server, false, 0x0b0b, seq, &data);
        push_fragments(&mut tl, &request, 1500, 0x9100 + u32::from(seq), true, 300 * MS);
        let answer = payload::random(2000, u64::from(seq) + 0x9200);
        let reply = icmp_echo(server, client, true, 0x0b0b, seq, &answer);
        push_fragments(&mut tl, &reply, 1500, 0x9200 + u32::from(seq), true, 30 * MS);
    }
    tl.finish("fragmented_icmp_tunnel")
}

/// The same over IPv6: fd00:20::91 and 2001:db8::91 exchange 40 ICMPv6 echo
/// requests and replies of 2,000 random bytes, each cut into two fragments
/// behind a Fragment header. Tunnel: every fragment. Caught by 7100002.
pub fn fragmented_icmp6_tunnel() -> Scenario {
    let mut tl = Timeline::new(DAY + 3600 * SEC, 0xf6a9);
    let mut bg = Background::new();
    let client: Ipv6Addr = "fd00:20::91".parse().unwrap_or(Ipv6Addr::LOCALHOST);
    let server: Ipv6Addr = "2001:db8::91".parse().unwrap_or(Ipv6Addr::LOCALHOST);
    for seq in 0..40u16 {
        bg.step(&mut tl, 100 * MS, 400 * MS);
        let data = payload::random(2000, u64::from(seq) + 0x6100);
        let request = icmpv6_echo(client, server, false, 0x0c0c, seq, &data);
        push_fragments(&mut tl, &request, 1280, 0x6100_0000 + u32::from(seq), true, 300 * MS);
        let answer = payload::random(2000, u64::from(seq) + 0x6200);
        let reply = icmpv6_echo(server, client, true, 0x0c0c, seq, &answer);
        push_fragments(&mut tl, &reply, 1280, 0x6200_0000 + u32::from(seq), true, 30 * MS);
    }
    tl.finish("fragmented_icmp6_tunnel")
}

/// Fragment overlap evasion, as fragroute's `ip_frag` with overlaps or a
/// Scapy script sends it: 10.20.0.92 sends 30 UDP datagrams to
/// 198.51.100.92:4444, each as a first fragment (UDP header and 24 harmless
/// bytes), a second fragment that starts inside the first and brings other
/// bytes for the same place, and a last fragment. A Linux host keeps one
/// version, a sensor with another policy the other. Tunnel: every fragment.
/// Caught by 7100201 on the overlapping fragment.
pub fn overlapping_fragments() -> Scenario {
    let mut tl = Timeline::new(DAY + 2 * 3600 * SEC, 0x0f1a);
    let mut bg = Background::new();
    let (client, server) = (office_host(92), Ipv4Addr::new(198, 51, 100, 92));
    let sport = ephemeral_port(&mut tl);
    for i in 0..30u32 {
        bg.step(&mut tl, 100 * MS, 400 * MS);
        let decoy = b"GET /index.html HTTP/1.0\r\n\r\nHost: www.example.com\r\n\r\n";
        let frame = udp(client, server, sport, 4444, decoy);
        let whole = frame.get(34..).unwrap_or(&[]).to_vec(); // the UDP header and data
        let id = 0x0f00 + i;
        let first = fragment(&frame, id, 0, whole.get(..32).unwrap_or(&[]), true);
        tl.push_tunnel(300 * MS, "fragment (decoy)", |_| first);
        let hidden = payload::random(16, u64::from(i) + 0x0f1a);
        let overlap = fragment(&frame, id, 16, &hidden, true);
        tl.push_tunnel(100_000, "fragment (overlapping, other bytes)", |_| overlap);
        let last = fragment(&frame, id, 32, whole.get(32..).unwrap_or(&[]), false);
        tl.push_tunnel(100_000, "fragment (last)", |_| last);
    }
    tl.finish("overlapping_fragments")
}

/// Fragments no stack sends, because their datagram cannot exist or be
/// useful: 10.20.0.94 sends 198.51.100.94 ten pings of death (an ICMP echo
/// whose last fragment ends past 65,535 bytes, as the 1996 attack and its
/// IPv6 twins build it: fragments of 1,480 bytes, the last one at offset
/// 65,520) and five UDP datagrams of 2,400 bytes cut into 300 fragments of
/// 8 bytes (a tiny-fragment flood that makes a reassembler hold hundreds of
/// pieces). Tunnel: every fragment. Caught by 7100202 on the fragment that
/// makes ferret give the datagram up.
pub fn unreassemblable_fragments() -> Scenario {
    let mut tl = Timeline::new(DAY + 3 * 3600 * SEC, 0x0f2b);
    let mut bg = Background::new();
    let (client, server) = (office_host(94), Ipv4Addr::new(198, 51, 100, 94));
    for i in 0..10u32 {
        bg.step(&mut tl, 100 * MS, 400 * MS);
        let echo = icmp_echo(client, server, false, 0x0d0d, i as u16, &payload::random(1472, u64::from(i)));
        let whole = echo.get(34..).unwrap_or(&[]).to_vec(); // the ICMP header and data
        let id = 0x2b00 + i;
        for (n, offset) in [0usize, 1480, 2960].into_iter().enumerate() {
            let data = if n == 0 { whole.clone() } else { payload::random(1480, u64::from(i) << 8 | n as u64) };
            let frame = fragment(&echo, id, offset, &data, true);
            tl.push_tunnel(if n == 0 { 300 * MS } else { 100_000 }, "fragment (ping of death)", |_| frame);
        }
        let last = fragment(&echo, id, 65_520, &payload::random(100, u64::from(i)), false);
        tl.push_tunnel(100_000, "fragment (past 65,535 bytes)", |_| last);
    }
    let sport = ephemeral_port(&mut tl);
    for i in 0..5u32 {
        bg.step(&mut tl, 100 * MS, 400 * MS);
        let frame = udp(client, server, sport, 5555, &payload::random(2392, u64::from(i) + 0x2b2b));
        let whole = frame.get(34..).unwrap_or(&[]).to_vec();
        let id = 0x2c00 + i;
        for (n, piece) in whole.chunks(8).enumerate() {
            let more = (n + 1) * 8 < whole.len();
            let frag = fragment(&frame, id, n * 8, piece, more);
            tl.push_tunnel(if n == 0 { 300 * MS } else { 2_000 }, "fragment (tiny, one of 300)", |_| frag);
        }
    }
    tl.finish("unreassemblable_fragments")
}

/// A DNS tunnel on a port nobody watches for DNS: 10.20.0.93 sends 120
/// queries for base32 names under `t.d4t4.example` straight to its server at
/// 198.51.100.93, UDP port 8053 (the first 60) and 443 (the rest, where QUIC
/// is expected), A and TXT, and the server answers. Before, DNS fields
/// existed only on port 53. Tunnel: those 240 packets. Caught by long encoded
/// names (7100101), now that DNS is recognised by its shape on any UDP port.
pub fn dns_tunnel_alt_port() -> Scenario {
    let mut tl = Timeline::new(DAY + 3 * 3600 * SEC, 0x8053);
    let mut bg = Background::new();
    let (client, server) = (office_host(93), Ipv4Addr::new(198, 51, 100, 93));
    let mut labels = Rng::new(0x8054);
    for i in 0..120u32 {
        if i % 4 == 0 {
            bg.step(&mut tl, 20 * MS, 80 * MS);
        }
        let port = if i < 60 { 8053 } else { 443 };
        let name = format!("{}.{}.t.d4t4.example", base32_label(&mut labels, 48), base32_label(&mut labels, 16));
        let id = tl.rng.next_u64() as u16;
        let sport = ephemeral_port(&mut tl);
        let (qtype, rdata) = match i % 2 {
            0 => (TYPE_A, vec![198, 51, 100, (i % 250) as u8 + 1]),
            _ => (TYPE_TXT, txt_rdata(base32_label(&mut labels, 180).as_bytes())),
        };
        let query = udp(client, server, sport, port, &dns_query(id, &name, qtype));
        let gap = tl.rng.range_i64(200 * MS, 600 * MS);
        tl.push_tunnel(gap, "dns tunnel query (off port 53)", |_| query);
        let response = udp(server, client, port, sport, &dns_response(id, &name, qtype, &[(qtype, &rdata)]));
        let latency = tl.rng.range_i64(20 * MS, 80 * MS);
        tl.push_tunnel(latency, "dns tunnel response (off port 53)", |_| response);
    }
    tl.finish("dns_tunnel_alt_port")
}

/// A QUIC Initial (long header, version 1, 8-byte connection ids, padded to
/// 1,200 bytes as RFC 9000 §14.1 requires) or a 1-RTT packet (short header),
/// the rest random as QUIC's header and payload protection leave it.
fn quic_packet(rng: &mut Rng, initial: bool) -> Vec<u8> {
    let seed = rng.next_u64();
    if initial {
        let mut p = vec![0xc3, 0, 0, 0, 1, 8];
        p.extend_from_slice(&payload::random(8, seed));
        p.push(8);
        p.extend_from_slice(&payload::random(8, seed ^ 1));
        p.extend_from_slice(&[0x00, 0x44, 0x9e]); // no token; length 1182 as a 2-byte varint
        p.extend_from_slice(&payload::random(1200 - p.len(), seed ^ 2));
        p
    } else {
        let len = rng.range(40, 1350) as usize;
        let mut p = payload::random(len, seed);
        if let Some(b) = p.first_mut() {
            *b = 0x40 | (*b & 0x3f);
        }
        p
    }
}

/// Benign UDP that DNS recognised by shape and reassembly must leave alone:
/// browsers talking QUIC to 142.250.0.94:443 (Initials and 1-RTT packets,
/// random after their first bytes), a VoIP call (RTP on 16384, 20 ms of Opus
/// per packet), large DNSSEC answers from the resolver (DNSKEY sets of 3 KB,
/// fragmented), NFS over UDP reads of 8 KB (fragmented) and Linux pings of
/// 3,000 bytes (`ping -s 3000`, fragmented both ways). Raises nothing.
pub fn benign_udp_and_fragments() -> Scenario {
    let mut tl = Timeline::new(DAY + 4 * 3600 * SEC, 0xbe9);
    let mut bg = Background::new();
    let mut rng = Rng::new(0xbe90);
    let (browser, google) = (office_host(94), Ipv4Addr::new(142, 250, 0, 94));
    let (phone, peer) = (office_host(95), Ipv4Addr::new(10, 20, 0, 96));
    let (nfs_client, nfs_server) = (office_host(97), office_host(98));
    let quic_port = ephemeral_port(&mut tl);
    let (mut rtp_seq, mut rtp_ts) = (rng.next_u64() as u16, rng.next_u64() as u32);
    for i in 0..300u32 {
        bg.step(&mut tl, 10 * MS, 40 * MS);
        match i % 6 {
            0 | 1 => {
                let up = quic_packet(&mut rng, i % 30 == 0);
                tl.push_frame(5 * MS, "quic", udp(browser, google, quic_port, 443, &up));
                let down = quic_packet(&mut rng, i % 30 == 0);
                tl.push_frame(15 * MS, "quic", udp(google, browser, 443, quic_port, &down));
            }
            2 | 3 => {
                let mut rtp = vec![0x80, 111];
                rtp.extend_from_slice(&rtp_seq.to_be_bytes());
                rtp.extend_from_slice(&rtp_ts.to_be_bytes());
                rtp.extend_from_slice(&0x1234_5678u32.to_be_bytes());
                rtp.extend_from_slice(&payload::random(rng.range(60, 160) as usize, rng.next_u64()));
                (rtp_seq, rtp_ts) = (rtp_seq.wrapping_add(1), rtp_ts.wrapping_add(960));
                tl.push_frame(20 * MS, "rtp", udp(phone, peer, 16384, 16384, &rtp));
            }
            4 => {
                let client = office_host(10 + (i % 3) as u8);
                let id = rng.next_u64() as u16;
                let sport = ephemeral_port(&mut tl);
                let query = udp(client, RESOLVER, sport, 53, &dns_query(id, "example.org", TYPE_DNSKEY));
                tl.push_frame(10 * MS, "dnssec query", query);
                let keys: Vec<Vec<u8>> = (0..10).map(|_| payload::random(260, rng.next_u64())).collect();
                let answers: Vec<(u16, &[u8])> = keys.iter().map(|k| (TYPE_DNSKEY, k.as_slice())).collect();
                let response =
                    udp(RESOLVER, client, 53, sport, &dns_response(id, "example.org", TYPE_DNSKEY, &answers));
                push_fragments(&mut tl, &response, 1500, 0x5000 + i, false, 20 * MS);
            }
            _ if i % 12 == 5 => {
                let read = payload::random(8192 + 120, rng.next_u64());
                let reply = udp(nfs_server, nfs_client, 2049, 800, &read);
                push_fragments(&mut tl, &reply, 1500, 0x6000 + i, false, 5 * MS);
            }
            _ => {
                let data = payload::linux_ping(3000, tl.now());
                let request = icmp_echo(nfs_client, RESOLVER, false, 0x4d2, (i / 12) as u16, &data);
                push_fragments(&mut tl, &request, 1500, 0x7000 + i, false, 900 * MS);
                let reply = icmp_echo(RESOLVER, nfs_client, true, 0x4d2, (i / 12) as u16, &data);
                push_fragments(&mut tl, &reply, 1500, 0x7100 + i, false, MS);
            }
        }
    }
    tl.finish("benign_udp_and_fragments")
}

/// Every scenario of this module: the tunnels, then the benign one.
pub fn frag_evasions() -> Vec<Scenario> {
    vec![
        fragmented_icmp_tunnel(),
        fragmented_icmp6_tunnel(),
        overlapping_fragments(),
        unreassemblable_fragments(),
        dns_tunnel_alt_port(),
        benign_udp_and_fragments(),
    ]
}
