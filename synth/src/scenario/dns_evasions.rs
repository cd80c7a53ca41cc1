//! DNS evasion scenarios: tunnels that hide behind what the DNS rules forgive
//! (allowlisted suffixes, reverse-lookup zones, underscore service labels,
//! machine-made label shapes), and benign traffic built from those shapes,
//! each labelled per packet like [`super::evasions`].
//!
//! Tunnels: [`allowlisted_suffix_dns_tunnel`], [`reverse_name_dns_tunnel`]. [`dns_evasions`] returns them all.

use std::net::Ipv4Addr;

use super::super::frame::{dns_query, dns_response, udp};
use super::super::payload;
use super::super::rng::Rng;
use super::super::timeline::Timeline;
use super::super::Scenario;
use super::evasions::{
    base32_label, hex_label, office_host, txt_rdata, Background, RESOLVER, SEC, START, TYPE_NULL, TYPE_PTR, TYPE_TXT,
};
use super::talk::{ephemeral_port, MS, TYPE_A};

/// Where these scenarios sit in time: a day after [`super::evasions`].
const DAY: i64 = START + 24 * 3600 * SEC;

/// A query from `client` straight to `server` and the server's answer of
/// `qtype` with `rdata`, both labelled tunnel (2 packets).
fn direct_lookup(
    tl: &mut Timeline,
    (client, server): (Ipv4Addr, Ipv4Addr),
    name: &str,
    qtype: u16,
    rdata: &[u8],
    gap: i64,
) {
    let id = tl.rng.next_u64() as u16;
    let sport = ephemeral_port(tl);
    let query = udp(client, server, sport, 53, &dns_query(id, name, qtype));
    tl.push_tunnel(gap, "dns tunnel query", |_| query);
    let response = udp(server, client, 53, sport, &dns_response(id, name, qtype, &[(qtype, rdata)]));
    let latency = tl.rng.range_i64(20 * MS, 80 * MS);
    tl.push_tunnel(latency, "dns tunnel response", |_| response);
}

/// Tunnels whose names sit under allowlisted suffixes but which talk straight
/// to their own server on port 53, where no CDN answers: 10.20.0.81 sends 120
/// queries for base32 names under `d3k1x.cloudfront.net` to 198.51.100.53
/// (A, TXT and NULL), and 10.20.0.82 sends 120 hex names under `sync.local`
/// (unicast `.local` on port 53, which mDNS never uses) to 203.0.113.53.
/// Tunnel: those 480 packets. Caught by long encoded names (7100101), unique
/// subdomains (7100102) and NULL queries (7100104), none silenced by the name
/// allowlist off the path to the site's resolvers.
pub fn allowlisted_suffix_dns_tunnel() -> Scenario {
    let mut tl = Timeline::new(DAY, 0xa11);
    let mut bg = Background::new();
    let cdn = (office_host(81), Ipv4Addr::new(198, 51, 100, 53));
    let local = (office_host(82), Ipv4Addr::new(203, 0, 113, 53));
    let mut labels = Rng::new(0xc0f);
    for i in 0..120u32 {
        if i % 4 == 0 {
            bg.step(&mut tl, 20 * MS, 80 * MS);
        }
        let name = format!("{}.{}.d3k1x.cloudfront.net", base32_label(&mut labels, 40), base32_label(&mut labels, 12));
        let gap = tl.rng.range_i64(200 * MS, 600 * MS);
        match i % 3 {
            0 => direct_lookup(&mut tl, cdn, &name, TYPE_A, &[198, 51, 100, (i % 250) as u8 + 1], gap),
            1 => {
                let text = hex_label(&mut labels, 120);
                direct_lookup(&mut tl, cdn, &name, TYPE_TXT, &txt_rdata(text.as_bytes()), gap);
            }
            _ => {
                let data = payload::random(180, tl.rng.next_u64());
                direct_lookup(&mut tl, cdn, &name, TYPE_NULL, &data, gap);
            }
        }
        let name = format!("{}.{}.sync.local", hex_label(&mut labels, 48), hex_label(&mut labels, 16));
        let gap = tl.rng.range_i64(200 * MS, 600 * MS);
        direct_lookup(&mut tl, local, &name, TYPE_A, &[203, 0, 113, (i % 250) as u8 + 1], gap);
    }
    tl.finish("allowlisted_suffix_dns_tunnel")
}

/// A tunnel in PTR-looking names: 10.20.0.84 asks the resolver for 150 PTR
/// records of names made of four 7-character hex labels under `in-addr.arpa`
/// (`a3f09c1.77be2d0.c0ffee1.5d2e0b9.in-addr.arpa`), which a rule trusting
/// short labels in reverse zones passes, two a second. Tunnel: the 150
/// queries and their answers. Caught by reverse-zone names that are not
/// addresses (7100105).
pub fn reverse_name_dns_tunnel() -> Scenario {
    let mut tl = Timeline::new(DAY + 3600 * SEC, 0x9e7);
    let mut bg = Background::new();
    let client = office_host(84);
    let mut labels = Rng::new(0x1a2);
    for i in 0..150u32 {
        if i % 5 == 0 {
            bg.step(&mut tl, 20 * MS, 80 * MS);
        }
        let parts: Vec<String> = (0..4).map(|_| hex_label(&mut labels, 7)).collect();
        let name = format!("{}.in-addr.arpa", parts.join("."));
        let mut answer = vec![u8::try_from(name.len()).unwrap_or(63).min(63)];
        answer.extend(name.bytes().take(63));
        answer.push(0);
        let gap = tl.rng.range_i64(300 * MS, 700 * MS);
        direct_lookup(&mut tl, (client, RESOLVER), &name, TYPE_PTR, &answer, gap);
    }
    tl.finish("reverse_name_dns_tunnel")
}

/// Every DNS evasion scenario: the tunnels, then the benign ones.
pub fn dns_evasions() -> Vec<Scenario> {
    vec![allowlisted_suffix_dns_tunnel(), reverse_name_dns_tunnel()]
}
