//! A busy office network: lots of hosts, all benign, for false-positive tests.
//!
//! Rules that only ever meet tunnels look better than they are; this mix
//! carries the traffic that trips naive detectors (CDN host names with
//! random-looking labels, zero-filled traceroute probes, ICMP errors quoting
//! other packets, IPv6 pings), none of which is a tunnel.

use super::super::rng::Rng;
use super::super::timeline::Timeline;
use super::super::Scenario;
use super::talk::{
    arp_exchange, arp_probe, dns_lookup, http_exchange, ping, ping6, traceroute, traceroute_packets, PingKind, Pinger,
    HTTP_PACKETS, MS, TYPE_A, TYPE_AAAA,
};
use std::net::{Ipv4Addr, Ipv6Addr};

/// 2025-03-03 09:00:00 UTC, a Monday morning.
const OFFICE_START: i64 = 1_740_992_400 * 1_000_000_000;
const HOSTS: usize = 40;

const SHORT_NAMES: [&str; 8] = [
    "mail.corp.lan",
    "intranet.corp.lan",
    "github.com",
    "www.bbc.co.uk",
    "outlook.office.com",
    "slack.com",
    "zoom.us",
    "pypi.org",
];

const CDN_NAMES: [&str; 6] = [
    "e6858.dscx.akamaiedge.net",
    "d1oc2rajp1n9nb.cloudfront.net",
    "r4---sn-4g5ednsz.googlevideo.com",
    "fonts.gstatic.com",
    "scontent-ams2-1.xx.fbcdn.net",
    "a1887.dscq.akamai.net",
];

/// Routers a traceroute from the office crosses (gateway, ISP, transit).
const ROUTERS: [Ipv4Addr; 3] =
    [Ipv4Addr::new(10, 1, 0, 1), Ipv4Addr::new(198, 51, 100, 1), Ipv4Addr::new(203, 0, 113, 1)];

/// `n_packets` packets of benign office traffic among hosts of 10.1.0.0/16:
/// DNS (short and CDN names, A and AAAA) via 10.1.0.2, HTTP fetches,
/// Linux/Windows/macOS pings with replies, traceroutes (zero payloads,
/// time-exceeded errors), ARP and ICMPv6 echo. Deterministic by `seed`.
pub fn office(n_packets: usize, seed: u64) -> Scenario {
    let mut tl = Timeline::new(OFFICE_START, seed);
    let mut host_rng = Rng::new(seed ^ 0x0ff1ce);
    let hosts: Vec<Ipv4Addr> = (0..HOSTS)
        .map(|_| {
            let third = host_rng.below(4) as u8;
            let fourth = 10 + host_rng.below(240) as u8;
            Ipv4Addr::new(10, 1, third, fourth)
        })
        .collect();
    let gateway = ROUTERS[0];
    let resolver = Ipv4Addr::new(10, 1, 0, 2);
    let mut pingers: Vec<Pinger> = hosts
        .iter()
        .zip(1u16..)
        .map(|(&host, i)| {
            let kind = match i % 3 {
                0 => PingKind::Windows,
                1 => PingKind::Linux(56),
                _ => PingKind::Mac,
            };
            let target = if i % 2 == 0 { gateway } else { resolver };
            Pinger::new(host, target, kind, 0x1000 + i * 97)
        })
        .collect();
    let mut ping6_seq = 1u16;
    while tl.room(n_packets) > 0 {
        let room = tl.room(n_packets);
        let gap = tl.rng.range_i64(MS / 4, 18 * MS);
        let host = tl.rng.pick(&hosts).copied().unwrap_or(gateway);
        let roll = tl.rng.below(100);
        if room < 2 {
            arp_probe(&mut tl, gateway, host, gap);
        } else if roll < 35 {
            let cdn = tl.rng.chance(400);
            let names: &[&str] = if cdn { &CDN_NAMES } else { &SHORT_NAMES };
            let name = tl.rng.pick(names).copied().unwrap_or("example.com");
            let qtype = if tl.rng.chance(250) { TYPE_AAAA } else { TYPE_A };
            dns_lookup(&mut tl, host, resolver, name, qtype, gap);
        } else if roll < 55 && room >= HTTP_PACKETS {
            let server = Ipv4Addr::new(203, 0, 113, 20 + tl.rng.below(40) as u8);
            http_exchange(&mut tl, host, server, "www.example.com", gap);
        } else if roll < 75 {
            let index = tl.rng.index(pingers.len());
            if let Some(pinger) = pingers.get_mut(index) {
                ping(&mut tl, pinger, gap);
            }
        } else if roll < 80 && room >= traceroute_packets(ROUTERS.len()) {
            traceroute(&mut tl, host, Ipv4Addr::new(203, 0, 113, 50), &ROUTERS, gap);
        } else if roll < 88 {
            let (a, b) = (v6_host(host), v6_host(gateway));
            ping6(&mut tl, a, b, ping6_seq, gap);
            ping6_seq = ping6_seq.wrapping_add(1);
        } else {
            arp_exchange(&mut tl, host, gateway, gap);
        }
    }
    tl.finish("office")
}

/// The IPv6 address an office host uses: 2001:db8:10:1::<third>:<fourth>.
fn v6_host(v4: Ipv4Addr) -> Ipv6Addr {
    let [_, _, third, fourth] = v4.octets();
    Ipv6Addr::new(0x2001, 0x0db8, 0x10, 0x1, 0, 0, u16::from(third), u16::from(fourth))
}
