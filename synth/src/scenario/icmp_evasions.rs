//! ICMP and IP evasion scenarios (issue 11): data in ICMP headers, quiet
//! one-off carriers, and the benign ICMP that rate rules used to trip on
//! (route traces, monitoring and sweeps), each labelled per packet.
//!
//! Tunnels: [`echo_id_carrier`], [`echo_seq_carrier`],
//! [`icmp_timestamp_carrier`], [`icmp_covert_chat`]. Benign:
//! [`route_traces`], [`ping_sweeps`], [`dhcp_conflict_probes`]. [`icmp_evasions`] returns them all.
//!
//! The benign tools are modelled on their documented behaviour: Linux
//! `traceroute -I` (one id per process, sequence numbers counting up, TTL
//! rising, 3 probes a hop, payload `0x40 0x41 ...`), mtr (one probe per hop
//! per round, zero fill), Windows tracert (id 1, the host-wide sequence
//! counter, 64 zero bytes), fping (one id per run, one sequence counter for
//! every host, 56 zero bytes, 10 ms between targets) and nmap's default host
//! discovery (an empty echo request with a random id, a TCP SYN to 443, a TCP
//! ACK to 80 and an ICMP timestamp request, once per address).

use std::net::Ipv4Addr;

use super::super::frame::{flags, icmp_echo, icmp_error, icmp_message, quote, tcp, with_ttl};
use super::super::payload;
use super::super::timeline::Timeline;
use super::super::Scenario;
use super::talk::{dns_lookup, ping, traceroute, PingKind, Pinger, MS, TYPE_A, US};

/// 2025-03-11 09:00:00 UTC.
const START: i64 = 1_741_683_600 * 1_000_000_000;
const SEC: i64 = 1_000_000_000;

/// The office: 10.30.0.0/24, gateway .1, resolver .2.
const GATEWAY: Ipv4Addr = Ipv4Addr::new(10, 30, 0, 1);
const RESOLVER: Ipv4Addr = Ipv4Addr::new(10, 30, 0, 2);

fn host(last: u8) -> Ipv4Addr {
    Ipv4Addr::new(10, 30, 0, last)
}

/// A little ordinary traffic: a Linux and a Windows host pinging, lookups.
struct Background {
    pingers: [Pinger; 2],
}

impl Background {
    fn new() -> Self {
        Background {
            pingers: [
                Pinger::new(host(10), GATEWAY, PingKind::Linux(56), 0x3101),
                Pinger::new(host(11), RESOLVER, PingKind::Windows, 1),
            ],
        }
    }

    /// One benign exchange (2 packets) after a gap drawn from `lo..=hi` ns.
    fn step(&mut self, tl: &mut Timeline, lo: i64, hi: i64) {
        let gap = tl.rng.range_i64(lo, hi);
        if tl.rng.chance(400) {
            let i = tl.rng.index(self.pingers.len());
            if let Some(p) = self.pingers.get_mut(i) {
                ping(tl, p, gap);
            }
        } else {
            let name = if tl.rng.chance(500) { "intranet.corp.example" } else { "github.com" };
            dns_lookup(tl, host(10), RESOLVER, name, TYPE_A, gap);
        }
    }
}

/// Data in the echo identifier: 10.30.0.81 sends 100 ordinary-looking Linux
/// pings (56-byte timestamp-and-counter payloads, sequence counting up) to
/// 203.0.113.81, two a second, but every request carries two bytes of data in
/// its identifier, so the id changes with every packet, which no ping tool
/// does (one id per process). Each is echoed. Tunnel: the 200 echoes.
/// Caught by distinct ids per host pair (7100013).
pub fn echo_id_carrier() -> Scenario {
    let mut tl = Timeline::new(START, 0x1d1d);
    let mut bg = Background::new();
    let (client, server) = (host(81), Ipv4Addr::new(203, 0, 113, 81));
    for seq in 1..=100u16 {
        bg.step(&mut tl, 50 * MS, 200 * MS);
        let id = tl.rng.next_u64() as u16;
        let gap = tl.rng.range_i64(200 * MS, 400 * MS);
        let mut data = Vec::new();
        tl.push_tunnel(gap, "id carrier request", |ts| {
            data = payload::linux_ping(56, ts - 20 * US);
            icmp_echo(client, server, false, id, seq, &data)
        });
        let rtt = tl.rng.range_i64(20 * MS, 40 * MS);
        tl.push_tunnel(rtt, "id carrier reply", |_| icmp_echo(server, client, true, id, seq, &data));
    }
    tl.finish("echo_id_carrier")
}

/// Data in the echo sequence number: 10.30.0.82 keeps one identifier, as a
/// ping does, but its sequence numbers are two bytes of data each, so they
/// jump back and forth instead of counting up. 100 Linux-style pings to
/// 203.0.113.82, two a second, echoed. Tunnel: the 200 echoes. Caught by
/// sequence jumps within the (src, dst, id) stream (7100014).
pub fn echo_seq_carrier() -> Scenario {
    let mut tl = Timeline::new(START + 3600 * SEC, 0x5e95);
    let mut bg = Background::new();
    let (client, server) = (host(82), Ipv4Addr::new(203, 0, 113, 82));
    for _ in 0..100 {
        bg.step(&mut tl, 50 * MS, 200 * MS);
        let seq = tl.rng.next_u64() as u16;
        let gap = tl.rng.range_i64(200 * MS, 400 * MS);
        let mut data = Vec::new();
        tl.push_tunnel(gap, "seq carrier request", |ts| {
            data = payload::linux_ping(56, ts - 20 * US);
            icmp_echo(client, server, false, 0x2b4c, seq, &data)
        });
        let rtt = tl.rng.range_i64(20 * MS, 40 * MS);
        tl.push_tunnel(rtt, "seq carrier reply", |_| icmp_echo(server, client, true, 0x2b4c, seq, &data));
    }
    tl.finish("echo_seq_carrier")
}

/// Data in ICMP timestamp and address-mask requests, which nothing uses any
/// more: 10.30.0.83 sends 30 timestamp requests (type 13) to 203.0.113.83
/// with 12 bytes of data in the three timestamp fields and the id/seq, then
/// 10 address-mask requests (type 17) with 4 bytes of data in the mask; the
/// server answers each (types 14 and 18) with its own data. Tunnel: the 80
/// messages. Caught by repeated timestamp/information/mask requests (7100015).
pub fn icmp_timestamp_carrier() -> Scenario {
    let mut tl = Timeline::new(START + 2 * 3600 * SEC, 0x7157);
    let mut bg = Background::new();
    let (client, server) = (host(83), Ipv4Addr::new(203, 0, 113, 83));
    for i in 0..40u16 {
        bg.step(&mut tl, 100 * MS, 300 * MS);
        let (request, reply, len) = if i < 30 { (13, 14, 12) } else { (17, 18, 4) };
        let rest = (tl.rng.next_u64() as u32).to_be_bytes();
        let up = payload::random(len, tl.rng.next_u64());
        let down = payload::random(len, tl.rng.next_u64());
        let gap = tl.rng.range_i64(400 * MS, 1_500 * MS);
        tl.push_tunnel(gap, "icmp info request carrier", |_| icmp_message(client, server, request, 0, rest, &up));
        let rtt = tl.rng.range_i64(20 * MS, 40 * MS);
        tl.push_tunnel(rtt, "icmp info reply carrier", |_| icmp_message(server, client, reply, 0, rest, &down));
    }
    tl.finish("icmp_timestamp_carrier")
}

/// A quiet carrier: one echo exchange each. 10.30.0.84 sends a single ping
/// to 198.51.100.84 whose payload is a line of plain text (a covert chat
/// message), echoed; 10.30.0.85 sends a single ping to 198.51.100.85 whose
/// 40-byte payload is a small binary record (no ping tool's fill), echoed.
/// Neither is random, large or repeated. Tunnel: the 4 echoes. Caught by a
/// payload that is no ping tool's fill (7100012).
pub fn icmp_covert_chat() -> Scenario {
    let mut tl = Timeline::new(START + 3 * 3600 * SEC, 0xc4a7);
    let mut bg = Background::new();
    for _ in 0..30 {
        bg.step(&mut tl, 100 * MS, 500 * MS);
    }
    let (a, b) = (host(84), Ipv4Addr::new(198, 51, 100, 84));
    let chat = b"ok. drop is at the usual place, 21:00, bring the second key".to_vec();
    tl.push_tunnel(300 * MS, "covert chat request", |_| icmp_echo(a, b, false, 0x0444, 1, &chat));
    tl.push_tunnel(25 * MS, "covert chat reply", |_| icmp_echo(b, a, true, 0x0444, 1, &chat));
    for _ in 0..30 {
        bg.step(&mut tl, 100 * MS, 500 * MS);
    }
    let (c, d) = (host(85), Ipv4Addr::new(198, 51, 100, 85));
    let record: Vec<u8> = [
        &[0x01, 0x00, 0x02, 0x7f, 0x00, 0x00, 0x00, 0x2a][..],
        b"\x13\x37\xc0\xde\x00\x10\x00\x00\x5a\x5a\x01\x02\x03\x04\xfe\xed",
        &[0; 6],
        &[0x99],
        &[0; 9],
    ]
    .concat();
    tl.push_tunnel(300 * MS, "binary record request", |_| icmp_echo(c, d, false, 0x0555, 1, &record));
    tl.push_tunnel(25 * MS, "binary record reply", |_| icmp_echo(d, c, true, 0x0555, 1, &record));
    for _ in 0..30 {
        bg.step(&mut tl, 100 * MS, 500 * MS);
    }
    tl.finish("icmp_covert_chat")
}

/// The routers between the office and 203.0.113.50, 11 hops.
fn routers() -> Vec<Ipv4Addr> {
    (0..11u8).map(|i| if i == 0 { GATEWAY } else { Ipv4Addr::new(198, 51, 100, 100 + i) }).collect()
}

/// Benign: route traces to one target (203.0.113.50, 12 hops away). Linux
/// `traceroute -I` from 10.30.0.40 (3 probes per TTL, sent 16 at a time,
/// payload `0x40 0x41 ...`), mtr from 10.30.0.41 for two minutes (a round of
/// TTL 1-12 probes every second, zero fill: 12 echo requests a second to one
/// host), Windows tracert from 10.30.0.42 (3 probes per TTL). Every probe
/// below the target's distance is answered by a router's time exceeded.
/// Nothing here is a tunnel.
pub fn route_traces() -> Scenario {
    let mut tl = Timeline::new(START + 4 * 3600 * SEC, 0x7ace);
    let mut bg = Background::new();
    let target = Ipv4Addr::new(203, 0, 113, 50);
    let hops = routers();
    for _ in 0..10 {
        bg.step(&mut tl, 100 * MS, 300 * MS);
    }
    // traceroute -I: probes for TTL 1..=12, 3 each, 16 in flight, then the answers.
    let (tracer, id) = (host(40), 0x6a3f);
    let data: Vec<u8> = (0..32u8).map(|i| 0x40 + (i & 0x3f)).collect();
    let mut seq = 1u16;
    let mut sent = Vec::new();
    for ttl in 1..=12u8 {
        for _ in 0..3 {
            let probe = with_ttl(&icmp_echo(tracer, target, false, id, seq, &data), ttl);
            tl.push_frame(50 * US, "traceroute -I probe", probe.clone());
            sent.push((ttl, seq, probe));
            seq += 1;
        }
    }
    for (ttl, seq, probe) in sent {
        let gap = tl.rng.range_i64(100 * US, 2 * MS);
        match hops.get(usize::from(ttl) - 1) {
            Some(&router) => {
                let quoted = quote(&with_ttl(&probe, 1));
                tl.push_frame(gap, "icmp time exceeded", icmp_error(router, tracer, 11, 0, &quoted));
            }
            None => tl.push_frame(gap, "traceroute -I reply", icmp_echo(target, tracer, true, id, seq, &data)),
        }
    }
    // mtr: one probe per hop per round, every second, for two minutes.
    let (mtr, id) = (host(41), 0x4d54);
    let zeros = payload::zeros(36);
    let mut seq = 33_000u16;
    for round in 0..120 {
        if round % 4 == 0 {
            bg.step(&mut tl, 10 * MS, 30 * MS);
        }
        for ttl in 1..=12u8 {
            let probe = with_ttl(&icmp_echo(mtr, target, false, id, seq, &zeros), ttl);
            let gap = tl.rng.range_i64(60 * MS, 80 * MS);
            tl.push_frame(gap, "mtr probe", probe.clone());
            let rtt = tl.rng.range_i64(MS, 3 * MS) * i64::from(ttl);
            match hops.get(usize::from(ttl) - 1) {
                Some(&router) => {
                    let quoted = quote(&with_ttl(&probe, 1));
                    tl.push_frame(rtt, "icmp time exceeded", icmp_error(router, mtr, 11, 0, &quoted));
                }
                None => tl.push_frame(rtt, "mtr reply", icmp_echo(target, mtr, true, id, seq, &zeros)),
            }
            seq = seq.wrapping_add(1);
        }
    }
    // Windows tracert: 3 probes per hop, one after the other.
    for _ in 0..3 {
        let gap = tl.rng.range_i64(20 * MS, 60 * MS);
        traceroute(&mut tl, host(42), target, &hops, gap);
    }
    for _ in 0..10 {
        bg.step(&mut tl, 100 * MS, 300 * MS);
    }
    tl.finish("route_traces")
}

/// Benign: many hosts pinged from one. A monitoring server (10.30.0.5) runs
/// fping over 300 devices (10.31.0.0/23) every 30 seconds for 3 minutes, and
/// in loop mode (`fping -l -p 1000`) over 40 devices of 10.32.0.0/24 for
/// 30 seconds; an administrator's host (10.30.0.6) runs nmap's default host
/// discovery (`nmap -sn`) over 10.33.0.0/24. About 1 in 3 addresses of the
/// sweep answers. Nothing here is a tunnel.
pub fn ping_sweeps() -> Scenario {
    let mut tl = Timeline::new(START + 5 * 3600 * SEC, 0x5ee9);
    let mut bg = Background::new();
    let monitor = host(5);
    let zeros = payload::zeros(56);
    let devices: Vec<Ipv4Addr> =
        (0..300u16).map(|i| Ipv4Addr::new(10, 31, (i / 250) as u8, (i % 250) as u8 + 1)).collect();
    let mut seq = 0u16;
    for round in 0..6 {
        let round_start = START + 5 * 3600 * SEC + round * 30 * SEC;
        while tl.now() < round_start {
            bg.step(&mut tl, 500 * MS, 2_000 * MS);
        }
        for &device in &devices {
            fping_one(&mut tl, monitor, device, 0x7a11, seq, &zeros, 10 * MS);
            seq = seq.wrapping_add(1);
        }
    }
    // fping -l -p 1000 over 40 devices: every device once a second.
    let looped: Vec<Ipv4Addr> = (1..=40).map(|i| Ipv4Addr::new(10, 32, 0, i)).collect();
    for _ in 0..30 {
        for &device in &looped {
            fping_one(&mut tl, monitor, device, 0x7a12, seq, &zeros, 24 * MS);
            seq = seq.wrapping_add(1);
        }
        bg.step(&mut tl, 10 * MS, 20 * MS);
    }
    // nmap -sn over a /24.
    let admin = host(6);
    for last in 1..=254u8 {
        let target = Ipv4Addr::new(10, 33, 0, last);
        let id = tl.rng.next_u64() as u16;
        let up = last % 3 == 0;
        tl.push_frame(2 * MS, "nmap echo request", icmp_echo(admin, target, false, id, 0, &[]));
        tl.push_frame(
            50 * US,
            "nmap syn 443",
            tcp(admin, target, 61_234, 443, flags::SYN, 0x1000 + u32::from(last), &[]),
        );
        tl.push_frame(50 * US, "nmap ack 80", tcp(admin, target, 61_234, 80, flags::ACK, 0, &[]));
        tl.push_frame(50 * US, "nmap timestamp request", icmp_message(admin, target, 13, 0, [0, 0, 0, 0], &[0; 12]));
        if up {
            tl.push_frame(400 * US, "nmap echo reply", icmp_echo(target, admin, true, id, 0, &[]));
            let stamp = [0, 0, 0, 0, 0x02, 0x1a, 0x3c, 0x10, 0x02, 0x1a, 0x3c, 0x10];
            tl.push_frame(30 * US, "timestamp reply", icmp_message(target, admin, 14, 0, [0, 0, 0, 0], &stamp));
        }
    }
    for _ in 0..10 {
        bg.step(&mut tl, 100 * MS, 300 * MS);
    }
    tl.finish("ping_sweeps")
}

/// Benign: a DHCP server checking that an address is free before it leases
/// it (RFC 2131 section 2.2 says a server should probe a reused address,
/// "e.g., with an ICMP echo request"). ISC dhcpd and VMware's DHCP service
/// send one echo request per address, sequence 0, an id of their own, and the
/// 20 bytes that follow the header in BSD's `struct icmp` (whatever the
/// buffer held: small counters, a pointer); a free address does not answer.
/// The server (10.30.0.3) leases 12 addresses over 10 minutes, and probes two
/// of them again after a conflict.
pub fn dhcp_conflict_probes() -> Scenario {
    let mut tl = Timeline::new(START + 6 * 3600 * SEC, 0xd4c9);
    let mut bg = Background::new();
    let server = host(3);
    for lease in 0..14u8 {
        for _ in 0..8 {
            bg.step(&mut tl, 2 * SEC, 6 * SEC);
        }
        let offered = host(100 + lease % 12);
        let word = (tl.rng.next_u64() as u32).to_le_bytes();
        let junk: Vec<u8> =
            [&[0x0d, 0, 0, 0, 0x0d, 0, 0, 0, 0x0d, 0, 0, 0][..], &word, &[0xb0, 0xd2, 0x68, 0x00]].concat();
        let id = tl.rng.next_u64() as u16;
        tl.push_frame(50 * MS, "dhcp conflict probe", with_ttl(&icmp_echo(server, offered, false, id, 0, &junk), 16));
        if lease >= 12 {
            // The address answers: it is taken, the server marks it abandoned.
            tl.push_frame(600 * US, "conflict reply", icmp_echo(offered, server, true, id, 0, &junk));
        }
    }
    tl.finish("dhcp_conflict_probes")
}

/// One fping echo (request after `gap`, reply when the device is up).
fn fping_one(tl: &mut Timeline, from: Ipv4Addr, to: Ipv4Addr, id: u16, seq: u16, data: &[u8], gap: i64) {
    tl.push_frame(gap, "fping request", icmp_echo(from, to, false, id, seq, data));
    let [_, _, _, last] = to.octets();
    if last % 7 != 0 {
        let rtt = tl.rng.range_i64(300 * US, 2 * MS);
        tl.push_frame(rtt, "fping reply", icmp_echo(to, from, true, id, seq, data));
    }
}

/// Every ICMP/IP evasion scenario: the tunnels, then the benign ones.
pub fn icmp_evasions() -> Vec<Scenario> {
    vec![
        echo_id_carrier(),
        echo_seq_carrier(),
        icmp_timestamp_carrier(),
        icmp_covert_chat(),
        route_traces(),
        ping_sweeps(),
        dhcp_conflict_probes(),
    ]
}
