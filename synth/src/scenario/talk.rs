//! Benign conversations shared by the scenarios: pings with replies, DNS
//! lookups, ARP, a small HTTP exchange and traceroute.
//!
//! Detection rules are judged as much on what they leave alone as on what
//! they catch, so the benign traffic mimics what real hosts send (iputils,
//! Windows and macOS ping payloads, resolver latencies, TCP handshakes).

use super::super::frame::{
    arp_reply, arp_request, dns_query, dns_response, flags, icmp_echo, icmp_error, icmpv6_echo, quote, tcp_segment,
    udp, with_ttl,
};
use super::super::payload;
use super::super::timeline::Timeline;
use std::net::{Ipv4Addr, Ipv6Addr};

/// One millisecond in nanoseconds.
pub(crate) const MS: i64 = 1_000_000;
/// One microsecond in nanoseconds.
pub(crate) const US: i64 = 1_000;

/// DNS record type A.
pub(crate) const TYPE_A: u16 = 1;
/// DNS record type AAAA.
pub(crate) const TYPE_AAAA: u16 = 28;

/// Which ping implementation a host runs (decides payload and TTL).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(crate) enum PingKind {
    /// iputils with `-s len` (56 by default).
    Linux(usize),
    /// Windows ping.exe: 32 bytes of `abcdefghijklmnopqrstuvw...`, TTL 128.
    Windows,
    /// macOS ping: 56 bytes with a big-endian 8-byte timestamp.
    Mac,
}

/// A host pinging another: its tool, ICMP identifier and next sequence number.
#[derive(Debug, Clone)]
pub(crate) struct Pinger {
    pub src: Ipv4Addr,
    pub dst: Ipv4Addr,
    pub kind: PingKind,
    pub id: u16,
    pub seq: u16,
}

impl Pinger {
    /// A pinger starting at sequence 1 (Windows starts wherever its counter is).
    pub fn new(src: Ipv4Addr, dst: Ipv4Addr, kind: PingKind, id: u16) -> Self {
        Self { src, dst, kind, id, seq: 1 }
    }
}

/// Echo request after `gap`, then its reply after a LAN round trip (2 packets).
pub(crate) fn ping(tl: &mut Timeline, pinger: &mut Pinger, gap: i64) {
    let Pinger { src, dst, kind, id, seq } = pinger.clone();
    let (request_note, reply_note) = match kind {
        PingKind::Linux(_) => ("linux ping request", "linux ping reply"),
        PingKind::Windows => ("windows ping request", "windows ping reply"),
        PingKind::Mac => ("macos ping request", "macos ping reply"),
    };
    let mut data = Vec::new();
    tl.push(gap, request_note, |ts| {
        // The tool reads the clock a few microseconds before the frame is captured.
        data = ping_payload(kind, ts - 25 * US);
        let request = icmp_echo(src, dst, false, id, seq, &data);
        if kind == PingKind::Windows {
            with_ttl(&request, 128)
        } else {
            request
        }
    });
    let rtt = tl.rng.range_i64(180 * US, 1_900 * US);
    tl.push_frame(rtt, reply_note, icmp_echo(dst, src, true, id, seq, &data));
    pinger.seq = seq.wrapping_add(1);
}

/// ICMPv6 echo request and reply with an iputils payload (2 packets).
pub(crate) fn ping6(tl: &mut Timeline, src: Ipv6Addr, dst: Ipv6Addr, seq: u16, gap: i64) {
    let id = 0x6000 | (seq >> 4);
    let mut data = Vec::new();
    tl.push(gap, "linux ping6 request", |ts| {
        data = payload::linux_ping(56, ts - 25 * US);
        icmpv6_echo(src, dst, false, id, seq, &data)
    });
    let rtt = tl.rng.range_i64(150 * US, 1_200 * US);
    tl.push_frame(rtt, "linux ping6 reply", icmpv6_echo(dst, src, true, id, seq, &data));
}

/// The payload a ping tool of `kind` sends at `ts`.
pub(crate) fn ping_payload(kind: PingKind, ts: i64) -> Vec<u8> {
    match kind {
        PingKind::Linux(len) => payload::linux_ping(len, ts),
        PingKind::Windows => payload::windows_ping(32),
        PingKind::Mac => payload::macos_ping(56, ts),
    }
}

/// A UDP DNS query and the resolver's answer (2 packets).
pub(crate) fn dns_lookup(tl: &mut Timeline, client: Ipv4Addr, resolver: Ipv4Addr, name: &str, qtype: u16, gap: i64) {
    let id = tl.rng.next_u64() as u16;
    let sport = ephemeral_port(tl);
    let rdata = answer_for(name, qtype);
    let query = udp(client, resolver, sport, 53, &dns_query(id, name, qtype));
    tl.push_frame(gap, "dns query", query);
    let latency = tl.rng.range_i64(2 * MS, 38 * MS);
    let response = dns_response(id, name, qtype, &[(qtype, &rdata)]);
    tl.push_frame(latency, "dns response", udp(resolver, client, 53, sport, &response));
}

/// A deterministic answer inside the documentation ranges (RFC 5737 / 3849).
pub(crate) fn answer_for(name: &str, qtype: u16) -> Vec<u8> {
    let hash = name.bytes().fold(0x811c_9dc5u32, |h, b| (h ^ u32::from(b)).wrapping_mul(0x0100_0193));
    let [a, b, c, _] = hash.to_be_bytes();
    if qtype == TYPE_AAAA {
        let mut v6 = [0u8; 16];
        v6[..4].copy_from_slice(&[0x20, 0x01, 0x0d, 0xb8]);
        v6[14] = b;
        v6[15] = c;
        v6.to_vec()
    } else {
        let prefix = if a & 1 == 0 { [198, 51, 100] } else { [203, 0, 113] };
        vec![prefix[0], prefix[1], prefix[2], c.max(1)]
    }
}

/// ARP request and the target's reply (2 packets).
pub(crate) fn arp_exchange(tl: &mut Timeline, asker: Ipv4Addr, target: Ipv4Addr, gap: i64) {
    tl.push_frame(gap, "arp request", arp_request(asker, target));
    let delay = tl.rng.range_i64(40 * US, 400 * US);
    tl.push_frame(delay, "arp reply", arp_reply(target, asker));
}

/// An unanswered ARP request (1 packet), used to fill the last slot.
pub(crate) fn arp_probe(tl: &mut Timeline, asker: Ipv4Addr, target: Ipv4Addr, gap: i64) {
    tl.push_frame(gap, "arp request", arp_request(asker, target));
}

/// Packets in one [`http_exchange`].
pub(crate) const HTTP_PACKETS: usize = 9;

/// A short plain-HTTP fetch: handshake, GET, response, ACK, FIN exchange (9 packets).
pub(crate) fn http_exchange(tl: &mut Timeline, client: Ipv4Addr, server: Ipv4Addr, host: &str, gap: i64) {
    let sport = ephemeral_port(tl);
    let (c_isn, s_isn) = (tl.rng.next_u64() as u32, tl.rng.next_u64() as u32);
    let rtt = tl.rng.range_i64(400 * US, 25 * MS);
    let request = format!("GET / HTTP/1.1\r\nHost: {host}\r\nUser-Agent: curl/8.5.0\r\nAccept: */*\r\n\r\n");
    let body_len = 200 + tl.rng.index(600);
    let seed = tl.rng.next_u64();
    let body = payload::text(body_len, seed);
    let mut response =
        format!("HTTP/1.1 200 OK\r\nContent-Type: text/plain; charset=utf-8\r\nContent-Length: {body_len}\r\n\r\n")
            .into_bytes();
    response.extend_from_slice(&body);

    let c = |f: u8, seq: u32, ack: u32, data: &[u8]| tcp_segment(client, server, (sport, 80), f, (seq, ack), data);
    let s = |f: u8, seq: u32, ack: u32, data: &[u8]| tcp_segment(server, client, (80, sport), f, (seq, ack), data);
    let (c1, s1) = (c_isn.wrapping_add(1), s_isn.wrapping_add(1));
    let c2 = c1.wrapping_add(request.len() as u32);
    let s2 = s1.wrapping_add(response.len() as u32);
    let ack = flags::ACK;
    tl.push_frame(gap, "tcp syn", c(flags::SYN, c_isn, 0, &[]));
    tl.push_frame(rtt, "tcp syn-ack", s(flags::SYN | ack, s_isn, c1, &[]));
    tl.push_frame(30 * US, "tcp ack", c(ack, c1, s1, &[]));
    tl.push_frame(60 * US, "http request", c(flags::PSH | ack, c1, s1, request.as_bytes()));
    tl.push_frame(rtt + 2 * MS, "http response", s(flags::PSH | ack, s1, c2, &response));
    tl.push_frame(40 * US, "tcp ack", c(ack, c2, s2, &[]));
    tl.push_frame(300 * US, "tcp fin", c(flags::FIN | ack, c2, s2, &[]));
    tl.push_frame(rtt, "tcp fin", s(flags::FIN | ack, s2, c2.wrapping_add(1), &[]));
    tl.push_frame(30 * US, "tcp ack", c(ack, c2.wrapping_add(1), s2.wrapping_add(1), &[]));
}

/// Packets in a [`traceroute`] through `hops` routers.
pub(crate) fn traceroute_packets(hops: usize) -> usize {
    2 * (hops + 1)
}

/// Windows-tracert-style probes (ICMP echo, 64 zero bytes, TTL 1, 2, ...)
/// answered by each router's time-exceeded error, then by the target's reply.
/// Windows numbers echo requests from one system-wide counter, so each run
/// starts wherever that counter stands (drawn at random here).
pub(crate) fn traceroute(tl: &mut Timeline, src: Ipv4Addr, target: Ipv4Addr, routers: &[Ipv4Addr], gap: i64) {
    let id = 1;
    let zeros = payload::zeros(64);
    let counter = u16::try_from(tl.rng.below(60_000)).unwrap_or(0x100);
    let mut next_gap = gap;
    for (ttl, &router) in (1u8..).zip(routers) {
        let seq = counter + u16::from(ttl);
        let probe = with_ttl(&icmp_echo(src, target, false, id, seq, &zeros), ttl);
        let quoted = quote(&with_ttl(&probe, 1)); // as the router received it
        tl.push_frame(next_gap, "traceroute probe", probe);
        let delay = tl.rng.range_i64(MS / 2, 12 * MS) * i64::from(ttl);
        tl.push_frame(delay, "icmp time exceeded", icmp_error(router, src, 11, 0, &quoted));
        next_gap = tl.rng.range_i64(MS, 5 * MS);
    }
    let final_ttl = u8::try_from(routers.len() + 1).unwrap_or(u8::MAX);
    let seq = counter + u16::from(final_ttl);
    let probe = with_ttl(&icmp_echo(src, target, false, id, seq, &zeros), final_ttl);
    tl.push_frame(next_gap, "traceroute probe", probe);
    let delay = tl.rng.range_i64(5 * MS, 40 * MS);
    tl.push_frame(delay, "traceroute reply", icmp_echo(target, src, true, id, seq, &zeros));
}

/// A Linux-range ephemeral port (32768..=60999).
pub(crate) fn ephemeral_port(tl: &mut Timeline) -> u16 {
    u16::try_from(tl.rng.range(32_768, 60_999)).unwrap_or(40_000)
}
