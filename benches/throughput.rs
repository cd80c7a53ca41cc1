//! Packets per second over one generated capture of 1,000,000 packets
//! (`synth::scenario::bench_mix`: mostly TCP/UDP, ~10% DNS, ~10% ICMP), at
//! each stage of the pipeline, so every number is a ratio against the stage
//! before it, measured in the same run:
//!
//! - `read`: pcap records as borrowed slices (the baseline);
//! - `read_decode`: + `Packet::decode`;
//! - `scan_default`: + the engine with the default rules;
//! - `scan_stateless` / `scan_stateful`: the same conditions without and with
//!   threshold, rate and distinct clauses that fire on every match, so both
//!   raise the same alerts and the ratio is the cost of state.
//!
//! Run: `cargo bench --bench throughput` (set `FERRET_BENCH_PACKETS` to change the size).

use std::sync::Arc;

use criterion::{criterion_group, criterion_main, Criterion, Throughput};
use ferret::capture::writer::{PcapOptions, PcapWriter};
use ferret::capture::PacketReader;
use ferret::decode::Packet;
use ferret::engine::ruleset::RuleSet;
use ferret::engine::Engine;

fn capture(n: usize) -> Vec<u8> {
    let mut w = PcapWriter::new(Vec::new(), PcapOptions::default()).unwrap();
    for p in ferret_synth::scenario::bench_mix(n, 7) {
        w.write_packet(p.ts_nanos, &p.frame, p.frame.len() as u32).unwrap();
    }
    w.into_inner()
}

fn rules(text: &str) -> Arc<RuleSet> {
    Arc::new(ferret::load::compile_texts(vec![("bench.rules".into(), text.into())], &[]).unwrap())
}

const CONDITIONS: [&str; 3] = [
    "alert icmp any any -> any any { id 1  when payload.len > 16",
    "alert ip any any -> any any { id 2  when ip.ttl > 0",
    "alert dns any any -> any any { id 3  when dns.qname.len > 0",
];
/// Clauses that fire on every match, so both rule sets raise the same alerts
/// and the difference between them is the cost of keeping state.
const CLAUSES: [&str; 3] = [
    "threshold 1 within 10s by pair }",
    "rate > 0/s by src }",
    "distinct dns.subdomain > 0 within 60s by src, dns.domain }",
];

fn scan(bytes: &[u8], rules: &Arc<RuleSet>) -> u64 {
    let mut engine = Engine::new(Arc::clone(rules));
    let mut alerts = 0u64;
    for (i, raw) in PacketReader::new(bytes).unwrap().enumerate() {
        let raw = raw.unwrap();
        let pkt = Packet::decode(raw.link_type, raw.data, i as u64 + 1, raw.ts_nanos, raw.orig_len);
        engine.process(&pkt, &mut |_| alerts += 1);
    }
    alerts
}

fn pipeline(c: &mut Criterion) {
    let n: usize = std::env::var("FERRET_BENCH_PACKETS").ok().and_then(|s| s.parse().ok()).unwrap_or(1_000_000);
    let bytes = capture(n);
    let defaults = Arc::new(ferret::load::load(&[ferret::load::RuleSource::Defaults], &[]).unwrap());
    let stateless = rules(&CONDITIONS.map(|c| format!("{c} }}\n")).concat());
    let stateful = rules(&CONDITIONS.iter().zip(CLAUSES).map(|(c, s)| format!("{c}  {s}\n")).collect::<String>());

    let mut g = c.benchmark_group("pipeline");
    g.throughput(Throughput::Elements(n as u64)).sample_size(10);
    g.bench_function("read", |b| {
        b.iter(|| PacketReader::new(&bytes).unwrap().map(|r| r.unwrap().data.len()).sum::<usize>())
    });
    g.bench_function("read_decode", |b| {
        b.iter(|| {
            let mut payload = 0usize;
            for raw in PacketReader::new(&bytes).unwrap() {
                let raw = raw.unwrap();
                payload += Packet::decode(raw.link_type, raw.data, 1, raw.ts_nanos, raw.orig_len).payload.len();
            }
            payload
        })
    });
    g.bench_function("scan_default", |b| b.iter(|| scan(&bytes, &defaults)));
    g.bench_function("scan_stateless", |b| b.iter(|| scan(&bytes, &stateless)));
    g.bench_function("scan_stateful", |b| b.iter(|| scan(&bytes, &stateful)));

    // Issue 4: the same rules with fixed thresholds, and with thresholds scoped
    // by 256 networks (one /24 each of 10.20.0.0/16, where the generated hosts live).
    let fixed = rules(SCOPED_RULES);
    let scoped = Arc::new(
        ferret::load::compile_with(vec![("bench.rules".into(), SCOPED_RULES.into())], &networks(256)).unwrap(),
    );
    g.bench_function("scan_fixed_thresholds", |b| b.iter(|| scan(&bytes, &fixed)));
    g.bench_function("scan_network_scoped", |b| b.iter(|| scan(&bytes, &scoped)));
    g.finish();
}

const SCOPED_RULES: &str = "
var ICMP_ENTROPY = 5.8
var DNS_ENTROPY = 3.5
alert icmp any any -> any any { id 1  when payload.len > 64 and payload.entropy > $ICMP_ENTROPY }
alert dns any any -> any any { id 2  when dns.qname.len > 24 and dns.qname.entropy > $DNS_ENTROPY }
alert ip any any -> any any { id 3  when ip.ttl < 2 and payload.entropy > $ICMP_ENTROPY }
";

fn networks(n: u16) -> ferret::engine::compile::VarLayers {
    use ferret::engine::compile::{NetworkVars, VarLayers};
    use ferret::rules::ast::{IpNet, Value, ValueKind};
    let num = |v| Value { kind: ValueKind::Number(v), span: Default::default() };
    VarLayers {
        networks: (0..n)
            .map(|i| NetworkVars {
                name: format!("net{i}"),
                nets: vec![IpNet { addr: std::net::Ipv4Addr::new(10, 20, (i % 256) as u8, 0).into(), prefix: 24 }],
                vars: vec![("ICMP_ENTROPY".into(), num(7.0)), ("DNS_ENTROPY".into(), num(4.0))],
            })
            .collect(),
        ..VarLayers::default()
    }
}

criterion_group!(benches, pipeline);
criterion_main!(benches);
