//! A streaming packet generator for throughput benchmarks.
//!
//! Benchmarks need millions of packets without holding them in memory or
//! spending their time generating them, so payloads are sliced from pools
//! made once, and each packet costs one frame build. The mix is weighted like
//! an enterprise uplink: mostly TCP and UDP, some DNS and ICMP, and a rare
//! high-entropy ICMP packet so the tunnel path is exercised too.

use super::super::frame::{dns_query, dns_response, flags, icmp_echo, tcp_segment, udp};
use super::super::payload;
use super::super::rng::Rng;
use super::super::SynthPacket;
use super::talk::{answer_for, TYPE_A};
use std::net::Ipv4Addr;

/// 2025-04-01 00:00:00 UTC.
const BENCH_START: i64 = 1_743_465_600 * 1_000_000_000;
const POOL_LEN: usize = 4096;

const NAMES: [&str; 6] =
    ["example.com", "www.debian.org", "github.com", "cdn.example.net", "api.example.org", "ntp.org"];

/// Iterator behind [`bench_mix`].
#[derive(Debug, Clone)]
pub struct BenchMix {
    rng: Rng,
    left: usize,
    clock: i64,
    random_pool: Vec<u8>,
    text_pool: Vec<u8>,
    seq: u32,
}

/// `n_packets` packets streamed one at a time: about 45% TCP, 35% UDP, 10%
/// DNS, 10% ICMP echo (Linux and Windows payloads), of which 0.1% of all
/// packets are tunnel-like ICMP echo requests with 200-1000 random bytes
/// (`tunnel == true`). Deterministic by `seed`; timestamps 2 to 40 us apart.
pub fn bench_mix(n_packets: usize, seed: u64) -> BenchMix {
    let mut rng = Rng::new(seed);
    let random_pool = payload::random(POOL_LEN, rng.next_u64());
    let text_pool = payload::text(POOL_LEN, rng.next_u64());
    BenchMix { rng, left: n_packets, clock: BENCH_START, random_pool, text_pool, seq: 0 }
}

impl Iterator for BenchMix {
    type Item = SynthPacket;

    fn next(&mut self) -> Option<SynthPacket> {
        self.left = self.left.checked_sub(1)?;
        self.clock += self.rng.range_i64(2_000, 40_000);
        self.seq = self.seq.wrapping_add(1);
        let roll = self.rng.below(1000);
        let (frame, tunnel, note) = match roll {
            0 => (self.tunnel_icmp(), true, "icmp tunnel request"),
            1..=99 => (self.ping(), false, "ping"),
            100..=199 => (self.dns(), false, "dns"),
            200..=649 => (self.tcp(), false, "tcp"),
            _ => (self.udp(), false, "udp"),
        };
        Some(SynthPacket { ts_nanos: self.clock, link_type: 1, frame, tunnel, note })
    }

    fn size_hint(&self) -> (usize, Option<usize>) {
        (self.left, Some(self.left))
    }
}

impl ExactSizeIterator for BenchMix {}

impl BenchMix {
    fn host(&mut self) -> Ipv4Addr {
        let n = self.rng.next_u64();
        let [a, b, ..] = n.to_le_bytes();
        Ipv4Addr::new(10, 20, a, b.max(2))
    }

    fn server(&mut self) -> Ipv4Addr {
        Ipv4Addr::new(203, 0, 113, self.rng.byte().max(1))
    }

    fn slice<'a>(pool: &'a [u8], rng: &mut Rng, max_len: usize) -> &'a [u8] {
        let len = rng.index(max_len.min(pool.len()) + 1);
        let start = rng.index(pool.len() - len + 1);
        pool.get(start..start + len).unwrap_or(&[])
    }

    fn tcp(&mut self) -> Vec<u8> {
        let (client, server) = (self.host(), self.server());
        let sport = 32_768 + (self.rng.next_u64() as u16 & 0x3fff);
        let to_server = self.rng.chance(400);
        let pool = if self.rng.chance(500) { &self.random_pool } else { &self.text_pool };
        let data = Self::slice(pool, &mut self.rng, 1400);
        let (src, dst, ports) = if to_server { (client, server, (sport, 443)) } else { (server, client, (443, sport)) };
        let seq_ack = (self.seq.wrapping_mul(1460), self.seq.wrapping_mul(977));
        tcp_segment(src, dst, ports, flags::ACK | flags::PSH, seq_ack, data)
    }

    fn udp(&mut self) -> Vec<u8> {
        let (client, server) = (self.host(), self.server());
        let sport = 32_768 + (self.rng.next_u64() as u16 & 0x3fff);
        let data = Self::slice(&self.random_pool, &mut self.rng, 1200);
        udp(client, server, sport, 443, data)
    }

    fn dns(&mut self) -> Vec<u8> {
        let client = self.host();
        let resolver = Ipv4Addr::new(10, 20, 0, 53);
        let name = self.rng.pick(&NAMES).copied().unwrap_or("example.com");
        let id = self.seq as u16;
        let sport = 32_768 + (id & 0x3fff);
        if self.rng.chance(500) {
            udp(client, resolver, sport, 53, &dns_query(id, name, TYPE_A))
        } else {
            let answer = answer_for(name, TYPE_A);
            let message = dns_response(id, name, TYPE_A, &[(TYPE_A, &answer)]);
            udp(resolver, client, 53, sport, &message)
        }
    }

    fn ping(&mut self) -> Vec<u8> {
        let (a, b) = (self.host(), self.host());
        let seq = self.seq as u16;
        let reply = self.rng.chance(500);
        let data = if self.rng.chance(300) { payload::windows_ping(32) } else { payload::linux_ping(56, self.clock) };
        icmp_echo(a, b, reply, 0x0b0b, seq, &data)
    }

    fn tunnel_icmp(&mut self) -> Vec<u8> {
        let (a, b) = (self.host(), self.server());
        let len = 200 + self.rng.index(801);
        let start = self.rng.index(POOL_LEN - len + 1);
        let data = self.random_pool.get(start..start + len).unwrap_or(&[]);
        icmp_echo(a, b, false, 0x7a7a, self.seq as u16, data)
    }
}
